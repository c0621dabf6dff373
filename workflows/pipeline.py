"""The pipeline, defined once: both ``deltastore run`` and the Argo WorkflowTemplate read it.

A step is a ``deltastore`` sub-command; business logic never lives here. What differs
between steps on Argo (deadline, size, the secret keys it may read, special handling) is
data on the step, so the Argo code never asks for a step by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from deltastore.schemas import OLD_STORE_TABLES

RetryClass = Literal["transient", "never"]
# The keys of the chart's Secret (deltastore/settings.py declares them as secret settings).
LEGACY_DB_PASSWORD = "DELTASTORE_LEGACY_DB_PASSWORD"
WAREHOUSE_PASSWORD = "DELTASTORE_WAREHOUSE_PASSWORD"
SYNC_TARGET_PASSWORD = "DELTASTORE_SYNC_TARGET_PASSWORD"
NOTIFY_WEBHOOK_URL = "DELTASTORE_NOTIFY_WEBHOOK_URL"
# Run options a step may accept; each maps to a CLI option of its sub-command.
RunOption = Literal["run_date", "full_refresh", "dbt_select", "verify_whole_tables"]
OPTION_FLAGS: dict[str, str] = {
    "run_date": "--run-date",
    "full_refresh": "--full-refresh",
    "dbt_select": "--select",
    "verify_whole_tables": "--verify-whole-tables",
}
SWITCHES = ("full_refresh", "verify_whole_tables")  # flags without a value


@dataclass(frozen=True)
class FanOut:
    """On Argo the step runs once per item, one pod each, at most ``parallelism`` at once,
    so a large table neither blocks nor forces a retry of the others; ``deltastore run``
    runs the command once for every item."""

    flag: str                      # the CLI option that takes one item, e.g. `--table`
    items: tuple[str, ...]
    parallelism: int

    @property
    def label(self) -> str:
        """What an item is, e.g. `table`: the label of its pods' metrics."""
        return self.flag.removeprefix("--")


@dataclass(frozen=True)
class Step:
    name: str                      # DNS-1123 label: the Argo task name and the local step name
    command: tuple[str, ...]       # argv after `deltastore`
    depends: tuple[str, ...]       # names of steps that must succeed first
    retry: RetryClass              # "transient": retried on exit code 1 (and lost pods)
    title: str                     # shown in the local run summary
    options: tuple[RunOption, ...] = ()
    skip_parameter: str | None = None  # workflow parameter that skips this step when "true"
    fan_out: FanOut | None = None
    # Runs only when asked: on Argo its skip parameter defaults to "true", and `deltastore
    # run` leaves it out unless `--only` names it.
    opt_in: bool = False
    # On Argo:
    deadline_seconds: int = 3600   # the pod's activeDeadlineSeconds
    light: bool = False            # the small CPU/memory of RenderOptions.light_*
    secrets: tuple[str, ...] = ()  # keys of the Secret the command reads, and no others
    # Writes the warehouse while another step may too: the demo's one DuckDB file admits
    # one writer at a time, so there the step holds a mutex.
    concurrent_writer: bool = False
    # A dbt build: may run layer by layer (--dbt-granularity layer), exports dbt's
    # artifacts when an artifact repository is set, and on an Argo retry builds only what
    # failed in the attempt before (`deltastore build --retry-failed`).
    dbt_build: bool = False

    def argv(self, run_date: str = "", full_refresh: bool = False,
             dbt_select: str = "", verify_whole_tables: bool = False) -> list[str]:
        """The concrete command for a local run with these option values."""
        args = list(self.command)
        values = {"run_date": run_date, "full_refresh": full_refresh, "dbt_select": dbt_select,
                  "verify_whole_tables": verify_whole_tables}
        for option in self.options:
            value = values[option]
            if option in SWITCHES:
                if value:
                    args.append(OPTION_FLAGS[option])
            elif value:
                args += [OPTION_FLAGS[option], str(value)]
        return args


PIPELINE: tuple[Step, ...] = (
    # Read-only pre-flight of every endpoint (logins, tables, grants): exit 2 with the fix.
    Step("doctor", ("doctor",), (), "never", "Pre-flight checks of every endpoint",
         skip_parameter="skip-doctor", opt_in=True, deadline_seconds=600, light=True,
         secrets=(LEGACY_DB_PASSWORD, WAREHOUSE_PASSWORD, SYNC_TARGET_PASSWORD)),
    Step("extract-store-api", ("extract", "--source", "store-api"), ("doctor",), "transient",
         "Extract the web store API", ("full_refresh",),
         secrets=(WAREHOUSE_PASSWORD,), concurrent_writer=True),
    Step("extract-legacy-db", ("extract", "--source", "legacy-db"), ("doctor",), "transient",
         "Extract the legacy database", ("full_refresh",),
         fan_out=FanOut("--table", tuple(t.name for t in OLD_STORE_TABLES), parallelism=4),
         secrets=(LEGACY_DB_PASSWORD, WAREHOUSE_PASSWORD), concurrent_writer=True),
    Step("source-freshness", ("freshness",), ("extract-store-api", "extract-legacy-db"),
         "never", "Check source freshness", deadline_seconds=900,
         secrets=(WAREHOUSE_PASSWORD,)),
    # Daily: only the nodes whose inputs changed since their last build (transform/changed.py).
    Step("dbt-build", ("build", "--changed-only"), ("source-freshness",), "transient",
         "dbt build: models, snapshots, tests",
         ("run_date", "full_refresh", "dbt_select", "verify_whole_tables"),
         deadline_seconds=3 * 3600, secrets=(WAREHOUSE_PASSWORD,), dbt_build=True),
    Step("sync", ("sync",), ("dbt-build",), "transient",
         "Sync marts to Azure SQL", skip_parameter="skip-sync",
         secrets=(WAREHOUSE_PASSWORD, SYNC_TARGET_PASSWORD)),
    # It reads the node timings dbt-build recorded in the warehouse.
    Step("slo-report", ("slo",), ("sync",), "never", "Report slow dbt nodes",
         deadline_seconds=600, light=True, secrets=(WAREHOUSE_PASSWORD,)),
)

# Steps only the Argo templates run; the local runner needs none of them.
# The exit handler: it reads the workflow's outcome from Argo and posts it to the webhook.
NOTIFY = Step("notify", ("notify",), (), "transient", "Report the outcome",
              deadline_seconds=300, light=True, secrets=(NOTIFY_WEBHOOK_URL,))
# Demo: the first task waits for the chart's demo-data Job to finish the legacy DB, so no
# run (scheduled or submitted right after `helm install`) starts on missing data.
DEMO_DATA_TIMEOUT_SECONDS = 600
DEMO_DATA_READY = Step("demo-data-ready",
                       ("demo-data", "wait", f"--timeout={DEMO_DATA_TIMEOUT_SECONDS}"), (),
                       "transient", "Wait for the demo data", deadline_seconds=900,
                       light=True)
# Demo: the dashboards, rendered from the sync target once the sync is done (or skipped).
DASHBOARDS = Step("dashboards", ("dashboards",), ("sync",), "never", "Render the dashboards",
                  deadline_seconds=900, light=True, secrets=(SYNC_TARGET_PASSWORD,))
# Backfill: the list of days, as JSON, for the per-day loop.
BACKFILL_DAYS = Step("backfill-days", ("workflows", "backfill-days"), (), "never",
                     "List the days to rebuild", deadline_seconds=300, light=True)
ARGO_ONLY_STEPS = (NOTIFY, DEMO_DATA_READY, DASHBOARDS, BACKFILL_DAYS)


def step(name: str) -> Step:
    for s in PIPELINE:
        if s.name == name:
            return s
    raise KeyError(name)


def downstream_of(name: str, steps: tuple[Step, ...] = PIPELINE) -> set[str]:
    """Names of the steps that depend on step ``name``, directly or through others."""
    found: set[str] = set()
    for candidate in execution_order(steps):
        if any(d == name or d in found for d in candidate.depends):
            found.add(candidate.name)
    return found


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


# What the freshness schedule runs on its own, between daily runs.
FRESHNESS_STEP = step("source-freshness")
