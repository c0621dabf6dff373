"""The CLI's per-table summary and the throttled progress messages."""

from __future__ import annotations

from deltastore.extract.load import Progress, TableResult, format_summary


def test_summary_has_one_aligned_line_per_table_with_rows_per_second() -> None:
    text = format_summary([
        TableResult("new_store.products", "store-api", 2000, 1990, 5, 3, 2, 0.5),
        TableResult("old_store.order_items", "legacy-db", 0, 0, 0, 0, 0, 0.0),
    ])
    lines = text.splitlines()
    assert lines[0].split() == ["table", "rows", "inserted", "updated", "deleted", "rejected",
                                "seconds", "rows/s"]
    assert lines[1].split() == ["new_store.products", "2,000", "1,990", "5", "3", "2", "0.50",
                                "4,000"]
    assert lines[2].split()[-1] == "0"
    assert len({len(line) for line in lines}) == 1


def test_progress_is_throttled_unless_forced() -> None:
    said: list[str] = []
    progress = Progress(said.append, interval=3600)
    progress.rows("old_store.orders", 50_000)
    progress("legacy-db: reading", force=True)
    assert said == ["legacy-db: reading"]
    eager = Progress(said.append, interval=0)
    eager.rows("old_store.orders", 50_000)
    assert said[-1] == "old_store.orders: 50,000 rows read"
