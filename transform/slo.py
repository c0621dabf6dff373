"""The run-time SLO check: which dbt nodes took longer than allowed.

Reads the latest timing of every node of the project from the builds ``deltastore build``
recorded in the warehouse (``transform.build_log``), so it can run as its own pipeline step
in a pod that shares no files with the build, and a build run layer by layer (one
``deltastore build`` per layer) is judged as a whole; ``--run-results`` reads a dbt
``run_results.json`` instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from deltastore.errors import ConfigError, DataError
from deltastore.settings import Settings
from deltastore.transform.build_log import last_build, latest_node_states

DEFAULT_MAX_SECONDS = 300.0


@dataclass(frozen=True)
class NodeTiming:
    unique_id: str
    status: str
    seconds: float


@dataclass(frozen=True)
class SloReport:
    source: str                          # where the timings come from, for the report
    max_seconds: float
    nodes: tuple[NodeTiming, ...]        # every node of the run, slowest first

    @property
    def slow(self) -> tuple[NodeTiming, ...]:
        return tuple(n for n in self.nodes if n.seconds > self.max_seconds)

    @property
    def total_seconds(self) -> float:
        return sum(n.seconds for n in self.nodes)

    def lines(self, top: int = 5) -> list[str]:
        """A short report: a summary, each breach, and the slowest nodes for context."""
        out = [f"dbt SLO: {len(self.nodes)} nodes, {self.total_seconds:.1f}s in total, "
               f"limit {self.max_seconds:g}s per node ({self.source})"]
        if self.slow:
            out += [f"BREACH {n.seconds:8.1f}s  {n.unique_id} ({n.status})" for n in self.slow]
        else:
            out.append("no node exceeded the limit")
        out += [f"slowest {n.seconds:7.2f}s  {n.unique_id}" for n in self.nodes[:top]]
        return out


def slo_report(settings: Settings, max_seconds: float = DEFAULT_MAX_SECONDS,
               run_results: Path | None = None) -> SloReport:
    """The SLO report of the last recorded build, or of ``run_results`` when given."""
    if run_results is not None:
        return check_slo(run_results, max_seconds)
    _check_limit(max_seconds)
    states = [s for s in latest_node_states(settings) or [] if s.status is not None]
    if states:
        times = [s.built_at for s in states if s.built_at is not None]
        span = f"{min(times):%Y-%m-%d %H:%M} to {max(times):%Y-%m-%d %H:%M}" if times else "?"
        timings = [NodeTiming(s.unique_id, str(s.status), s.seconds) for s in states]
        return _report(f"latest run of each node, builds of {span} recorded in "
                       f"`{settings.warehouse_url}`", max_seconds, timings)
    build = last_build(settings)  # recorded before the project's nodes were
    if build is None:
        raise ConfigError(f"no dbt build recorded in `{settings.warehouse_url}`; run "
                          "`deltastore build` first (or pass `--run-results PATH`)")
    timings = [NodeTiming(n.unique_id, n.status, n.seconds) for n in build.nodes]
    return _report(f"build of {build.built_at} recorded in `{settings.warehouse_url}`",
                   max_seconds, timings)


def _check_limit(max_seconds: float) -> None:
    if max_seconds <= 0:
        raise ConfigError(f"--max-seconds: `{max_seconds:g}` must be above 0")


def _report(source: str, max_seconds: float, timings: list[NodeTiming]) -> SloReport:
    timings.sort(key=lambda n: (-n.seconds, n.unique_id))
    return SloReport(source, float(max_seconds), tuple(timings))


def check_slo(run_results: Path, max_seconds: float = DEFAULT_MAX_SECONDS) -> SloReport:
    """Read ``run_results`` and list the nodes slower than ``max_seconds``."""
    _check_limit(max_seconds)
    try:
        data = json.loads(Path(run_results).read_text())
    except FileNotFoundError:
        raise ConfigError(f"`{run_results}` does not exist; run `deltastore build` first "
                          "(it writes run_results.json under DELTASTORE_DATA_DIR/dbt/target)"
                          ) from None
    except json.JSONDecodeError as exc:
        raise DataError(f"`{run_results}` is not valid JSON ({exc}); run the build again") from None
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise DataError(f"`{run_results}` has no `results` list; is it a dbt run_results.json?")
    timings = [
        NodeTiming(str(r.get("unique_id", "?")), str(r.get("status", "?")),
                   float(r.get("execution_time") or 0.0))
        for r in results if isinstance(r, dict)
    ]
    return _report(str(run_results), max_seconds, timings)
