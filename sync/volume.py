"""The volume guard: refuse to publish a mart that lost most of its rows.

dbt's tests check each row; none notices that yesterday's 40,000 orders became 900 because
an extract read a half-empty source. Before the swap, each mart's new row count is
compared with the version currently published: a fall by more than
``DELTASTORE_SYNC_MAX_DROP`` (a share, default 0.5) or a mart that had rows becoming empty
stops the sync with exit 3, naming the marts and the figures; ``--force`` publishes anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from deltastore.errors import DataError


@dataclass(frozen=True)
class Drop:
    table: str
    published: int
    new: int

    def text(self) -> str:
        share = 1 - self.new / self.published
        return f"`{self.table}` {self.published:,} -> {self.new:,} rows (-{share:.0%})"


def volume_drops(published: Mapping[str, int], new: Mapping[str, int],
                 max_drop: float) -> list[Drop]:
    """Marts whose row count falls by more than ``max_drop``, or to zero, against the
    published version (a mart not published yet cannot drop)."""
    drops = []
    for table, rows in sorted(new.items()):
        before = published.get(table)
        if not before:
            continue
        if rows == 0 or (before - rows) / before > max_drop:
            drops.append(Drop(table, before, rows))
    return drops


def check_volume(published: Mapping[str, int], new: Mapping[str, int], max_drop: float,
                 force: bool, echo: Callable[[str], object]) -> None:
    """Raise DataError when a mart lost too many rows, unless ``force`` (then say so)."""
    drops = volume_drops(published, new, max_drop)
    if not drops:
        return
    listing = "; ".join(d.text() for d in drops)
    limit = f"more than {max_drop:.0%} of their published rows, or all of them"
    if force:
        echo(f"volume guard overridden (--force): {listing}")
        return
    raise DataError(
        f"volume guard: {len(drops)} mart(s) would lose {limit}: {listing}. Nothing was "
        "published. Check the extract and the build (a half-read source?); if the drop is "
        "real, rerun with `deltastore sync --force` or raise DELTASTORE_SYNC_MAX_DROP"
    )
