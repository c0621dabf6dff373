"""What a sync tells: a line per mart, the total, and the metrics files.

The last line is always ``sync: wrote W of R rows (P %) in S s``: W counts the rows the
target received (inserted, updated and deleted rows of a delta; every row of a mart
rewritten or swapped in), R the rows of all marts now published.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from deltastore.metrics import MART_ROWS, ROWS_WRITTEN, write_gauges
from deltastore.settings import Settings
from deltastore.sync.statements import MART_SCHEMA


@dataclass
class TableSyncResult:
    table: str
    rows: int
    source_checksum: int
    target_checksum: int
    seconds: float
    action: str = "swap"
    reason: str = ""
    written: int | None = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def checksum_match(self) -> bool:
        return self.source_checksum == self.target_checksum

    def line(self) -> str:
        verdict = "checksum match" if self.checksum_match else "CHECKSUM MISMATCH"
        what = {
            "keep": "unchanged",
            "delta": (f"+{self.inserted:,} ~{self.updated:,} -{self.deleted:,} of "
                      f"{self.rows:,} rows"),
            "rewrite": f"rewritten, {self.rows:,} rows",
            "swap": f"swapped in, {self.rows:,} rows",
        }.get(self.action, self.action)
        if self.action == "keep":
            what += f", {self.rows:,} rows"
        why = f" ({self.reason})" if self.reason else ""
        return (f"  {MART_SCHEMA}.{self.table}: {what}{why}, {verdict} "
                f"({self.target_checksum:#x}), {self.seconds:.2f} s")


def written_rows(results: Sequence[TableSyncResult]) -> int:
    return sum(r.written or 0 for r in results)


def summary_line(results: Sequence[TableSyncResult], seconds: float) -> str:
    written = written_rows(results)
    total = sum(r.rows for r in results)
    share = 100 * written / total if total else 0.0
    return f"sync: wrote {written:,} of {total:,} rows ({share:.2f} %) in {seconds:.2f} s"


def report_sync(settings: Settings, results: Sequence[TableSyncResult], seconds: float,
                echo: Callable[[str], object]) -> None:
    """Print the per-mart lines and the total; write the row-count and rows-written gauges."""
    for result in results:
        echo(result.line())
    changed = [r for r in results if r.action != "keep"]
    echo(f"sync: {len(changed)} of {len(results)} marts written "
         f"({', '.join(sorted({r.action for r in changed})) or 'none'}), "
         f"{len(results) - len(changed)} unchanged")
    write_gauges(settings, MART_ROWS, "deltastore_mart_rows",
                 "Rows in each published mart after the last sync.", "mart",
                 {r.table: r.rows for r in results})
    write_gauges(settings, ROWS_WRITTEN, "deltastore_sync_rows_written",
                 "Rows the last sync wrote to each published mart (inserted, updated and "
                 "deleted; every row of a mart published whole).", "mart",
                 {r.table: r.written or 0 for r in results})
    echo(summary_line(results, seconds))
