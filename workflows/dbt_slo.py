"""The run-time SLO check: which dbt nodes of the last run took longer than allowed.

Reads dbt's ``run_results.json`` (written by every ``deltastore build``), so it needs no
database and can run as its own pipeline step after the build.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from extract.errors import ConfigError, DataError

DEFAULT_MAX_SECONDS = 300.0


@dataclass(frozen=True)
class NodeTiming:
    unique_id: str
    status: str
    seconds: float


@dataclass(frozen=True)
class SloReport:
    run_results: Path
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
               f"limit {self.max_seconds:g}s per node ({self.run_results})"]
        if self.slow:
            out += [f"BREACH {n.seconds:8.1f}s  {n.unique_id} ({n.status})" for n in self.slow]
        else:
            out.append("no node exceeded the limit")
        out += [f"slowest {n.seconds:7.2f}s  {n.unique_id}" for n in self.nodes[:top]]
        return out


def check_slo(run_results: Path, max_seconds: float = DEFAULT_MAX_SECONDS) -> SloReport:
    """Read ``run_results`` and list the nodes slower than ``max_seconds``."""
    if max_seconds <= 0:
        raise ConfigError(f"--max-seconds: `{max_seconds:g}` must be above 0")
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
    timings.sort(key=lambda n: (-n.seconds, n.unique_id))
    return SloReport(Path(run_results), float(max_seconds), tuple(timings))
