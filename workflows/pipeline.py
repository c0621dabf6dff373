"""The pipeline, defined once: both ``deltastore run`` and the Argo WorkflowTemplate read it.

A step is a ``deltastore`` sub-command; business logic never lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from deltastore.schemas import OLD_STORE_TABLES

RetryClass = Literal["transient", "never"]
# Run options a step may accept; each maps to a CLI option of its sub-command.
RunOption = Literal["run_date", "full_refresh", "dbt_select"]
OPTION_FLAGS: dict[str, str] = {
    "run_date": "--run-date",
    "full_refresh": "--full-refresh",
    "dbt_select": "--select",
}


@dataclass(frozen=True)
class FanOut:
    """On Argo the step runs once per item, one pod each, at most ``parallelism`` at once,
    so a large table neither blocks nor forces a retry of the others; ``deltastore run``
    runs the command once for every item."""

    flag: str                      # the CLI option that takes one item, e.g. `--table`
    items: tuple[str, ...]
    parallelism: int


@dataclass(frozen=True)
class Step:
    name: str                      # DNS-1123 label: the Argo task name and the local step name
    command: tuple[str, ...]       # argv after `deltastore`
    depends: tuple[str, ...]       # names of steps that must succeed first
    retry: RetryClass              # "transient": retried on exit code 1 only
    title: str                     # shown in the local run summary
    options: tuple[RunOption, ...] = ()
    skip_parameter: str | None = None  # workflow parameter that skips this step when "true"
    fan_out: FanOut | None = None
    # Runs only when asked: on Argo its skip parameter defaults to "true", and `deltastore
    # run` leaves it out unless `--only` names it.
    opt_in: bool = False

    def argv(self, run_date: str = "", full_refresh: bool = False,
             dbt_select: str = "") -> list[str]:
        """The concrete command for a local run with these option values."""
        args = list(self.command)
        values = {"run_date": run_date, "full_refresh": full_refresh, "dbt_select": dbt_select}
        for option in self.options:
            value = values[option]
            if option == "full_refresh":
                if value:
                    args.append(OPTION_FLAGS[option])
            elif value:
                args += [OPTION_FLAGS[option], str(value)]
        return args


PIPELINE: tuple[Step, ...] = (
    # Read-only pre-flight of every endpoint (logins, tables, grants): exit 2 with the fix.
    Step("doctor", ("doctor",), (), "never", "Pre-flight checks of every endpoint",
         skip_parameter="skip-doctor", opt_in=True),
    Step("extract-store-api", ("extract", "--source", "store-api"), ("doctor",), "transient",
         "Extract the web store API", ("full_refresh",)),
    Step("extract-legacy-db", ("extract", "--source", "legacy-db"), ("doctor",), "transient",
         "Extract the legacy database", ("full_refresh",),
         fan_out=FanOut("--table", tuple(t.name for t in OLD_STORE_TABLES), parallelism=4)),
    Step("source-freshness", ("freshness",), ("extract-store-api", "extract-legacy-db"),
         "never", "Check source freshness"),
    Step("dbt-build", ("build",), ("source-freshness",), "transient",
         "dbt build: models, snapshots, tests", ("run_date", "full_refresh", "dbt_select")),
    Step("sync", ("sync",), ("dbt-build",), "transient",
         "Sync marts to Azure SQL", skip_parameter="skip-sync"),
    Step("slo-report", ("slo",), ("sync",), "never", "Report slow dbt nodes"),
)


def step(name: str) -> Step:
    for s in PIPELINE:
        if s.name == name:
            return s
    raise KeyError(name)


def execution_order(steps: tuple[Step, ...] = PIPELINE) -> list[Step]:
    """Steps in a dependency-respecting order (stable: definition order breaks ties)."""
    done: set[str] = set()
    ordered: list[Step] = []
    pending = list(steps)
    while pending:
        ready = [s for s in pending if all(d in done for d in s.depends)]
        if not ready:
            raise ValueError("pipeline has a dependency cycle or an unknown dependency")
        for s in ready:
            ordered.append(s)
            done.add(s.name)
            pending.remove(s)
    return ordered
