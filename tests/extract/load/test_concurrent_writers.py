"""Change capture under concurrent writes: nothing committed during an extract is lost.

A writer process inserts, updates and deletes rows of the legacy SQLite database (WAL mode,
so it commits while the extract reads) the whole time an extract runs, giving every new or
changed row an `updated_at` equal to the table's current maximum: the case a `>` watermark
misses. After one more extract with no full refresh, the warehouse's live rows must equal
the source's rows exactly, value by value.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import random
import sqlite3
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from deltastore.extract.load import run_extract
from deltastore.extract.sources.legacy_db import LegacyReader
from deltastore.schemas import OLD_STORE_TABLES, Table
from deltastore.settings import Settings

MakeSettings = Callable[..., Settings]


def _normal(logical: str, value: Any) -> Any:
    """One value as both databases agree on it (SQLite keeps text and floats)."""
    if value is None:
        return None
    if logical == "timestamp":
        moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
        return moment.replace(tzinfo=None)
    if logical == "money":
        return Decimal(str(value)).quantize(Decimal("0.01"))
    if logical == "int":
        return int(value)
    return value


def _rows(table: Table, raw: list[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
    return {tuple(_normal(t, v) for (_, t), v in zip(table.columns, row, strict=True))
            for row in raw}


def source_rows(legacy: Path, table: Table) -> set[tuple[Any, ...]]:
    with sqlite3.connect(legacy) as con:
        raw = con.execute(f"SELECT {', '.join(table.column_names)} FROM {table.name}").fetchall()
    return _rows(table, raw)


def live_rows(warehouse: Path, table: Table) -> set[tuple[Any, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        raw = con.execute(f"SELECT {', '.join(table.column_names)} FROM "
                          f"{table.qualified_name} WHERE _deleted_at IS NULL").fetchall()
    return _rows(table, raw)


OPERATIONS = ("insert", "update", "delete")


class Writer:
    """Another process inserting, updating and deleting rows until stopped; one commit per
    change. (A process, as the old store's application is: two SQLite libraries in one
    process must not open the same file, and the extract reads with ADBC's own copy.)"""

    def __init__(self, legacy: Path, seed: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.stop = context.Event()
        self._counts = context.Array("i", len(OPERATIONS))
        self._errors = context.Queue()
        self._process = context.Process(target=write_changes, daemon=True, args=(
            str(legacy), seed, self.stop, self._counts, self._errors))

    def start(self) -> None:
        self._process.start()

    def join(self, timeout: float) -> None:
        self._process.join(timeout)

    def wait_until_writing(self, timeout: float = 60) -> None:
        """Until every kind of change has been made once (a new process takes a moment)."""
        deadline = time.monotonic() + timeout
        while min(self.counts.values()) == 0 and self._process.is_alive():
            assert time.monotonic() < deadline, "the writer process made no changes"
            time.sleep(0.02)

    @property
    def counts(self) -> dict[str, int]:
        return dict(zip(OPERATIONS, self._counts[:], strict=True))

    @property
    def error(self) -> str | None:
        return None if self._errors.empty() else str(self._errors.get(timeout=5))


def write_changes(legacy: str, seed: int, stop: Any, counts: Any, errors: Any) -> None:
    try:
        rng = random.Random(seed)
        con = sqlite3.connect(legacy, timeout=30)
        while not stop.is_set():
            op = change(con, rng, rng.choice(OLD_STORE_TABLES))
            con.commit()
            if op is not None:
                counts[OPERATIONS.index(op)] += 1
        con.close()
    except BaseException as exc:  # surfaced by the test
        errors.put(repr(exc))


def change(con: sqlite3.Connection, rng: random.Random, table: Table) -> str | None:
    [key] = table.primary_key
    keys = [k for (k,) in con.execute(f"SELECT {key} FROM {table.name}")]
    if not keys:
        return None
    victim = rng.choice(keys)
    op = rng.choice(OPERATIONS)
    # Equal to the current maximum: what a `> watermark` read never sees again.
    newest = f"(SELECT max({table.watermark}) FROM {table.name})" if table.watermark else ""
    if op == "insert":
        values = [("?" if c == key else newest if c == table.watermark else c)
                  for c in table.column_names]
        con.execute(f"INSERT INTO {table.name} ({', '.join(table.column_names)}) "
                    f"SELECT {', '.join(values)} FROM {table.name} WHERE {key} = ?",
                    (max(keys) + 1, victim))
    elif op == "update":
        column, logical = next((c, t) for c, t in table.columns[1:]
                               if t in ("text", "int", "money"))
        change = f"{column} || '*'" if logical == "text" else f"{column} + 1"
        stamp = f", {table.watermark} = {newest}" if table.watermark else ""
        con.execute(f"UPDATE {table.name} SET {column} = {change}{stamp} "
                    f"WHERE {key} = ?", (victim,))
    else:
        con.execute(f"DELETE FROM {table.name} WHERE {key} = ?", (victim,))
    return op


@pytest.mark.parametrize("lookback", ["0", "300"])
def test_rows_written_during_an_extract_all_reach_the_warehouse(
        make_settings: MakeSettings, data_dir: Path, lookback: str) -> None:
    legacy = data_dir / "legacy.db"
    with sqlite3.connect(legacy) as con:
        con.execute("PRAGMA journal_mode=WAL")  # readers and the writer do not block
    settings = make_settings(batch_size="7", legacy_lookback_seconds=lookback)
    run_extract(settings, "legacy-db")

    for seed in (1, 2):
        writer = Writer(legacy, seed)
        writer.start()
        writer.wait_until_writing()
        try:
            during = run_extract(settings, "legacy-db")
        finally:
            writer.stop.set()
            writer.join(timeout=30)
        assert writer.error is None, writer.error
        assert min(writer.counts.values()) > 0, writer.counts
        assert all(r.rows_read >= 0 for r in during)

    # One more ordinary (incremental) extract picks up what changed after the reads.
    after = run_extract(settings, "legacy-db")
    assert {r.table for r in after} == {t.qualified_name for t in OLD_STORE_TABLES}
    warehouse = data_dir / "warehouse.duckdb"
    for table in OLD_STORE_TABLES:
        source = source_rows(legacy, table)
        live = live_rows(warehouse, table)
        assert live == source, (table.name, sorted(source - live)[:3], sorted(live - source)[:3])


@pytest.mark.parametrize("arrow", [True, False], ids=["arrow-keys", "row-keys"])
def test_deletes_are_marked_on_an_incremental_run(make_settings: MakeSettings,
                                                  data_dir: Path, arrow: bool,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Deletions are found by the keys the source still has: read as Arrow batches from
    SQLite (ADBC), or as rows (any other source)."""
    if not arrow:
        monkeypatch.setattr(LegacyReader, "reads_arrow", property(lambda self: False))
    settings = make_settings()
    run_extract(settings, "legacy-db")
    with sqlite3.connect(data_dir / "legacy.db") as con:
        con.execute("DELETE FROM customers WHERE customer_id IN (2, 4)")
        con.execute("DELETE FROM orders WHERE order_id = 7")
    second = {r.table: r for r in run_extract(settings, "legacy-db")}
    assert second["old_store.customers"].deleted == 2
    assert second["old_store.orders"].deleted == 1
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        gone = con.execute("SELECT customer_id FROM old_store.customers "
                           "WHERE _deleted_at IS NOT NULL ORDER BY 1").fetchall()
    assert gone == [(2,), (4,)]
    third = {r.table: r for r in run_extract(settings, "legacy-db")}
    assert all(r.deleted == 0 for r in third.values())  # marked once, not again
