"""The DuckDB writer's merge semantics on a real DuckDB file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from deltastore.dburl import DatabaseURL
from deltastore.errors import EXIT_DATA, ConfigError, DataError
from deltastore.extract.warehouse import Batch, RejectRow, TableLoad, open_warehouse
from deltastore.extract.warehouse.duckdb import DuckDBWarehouse
from deltastore.schemas import table

PRODUCTS = table("new_store", "products")
CARTS = table("new_store", "carts")


def product(i: int, price: float = 10.0) -> tuple[Any, ...]:
    return (i, f"Product {i}", price, "desc", "jewelery", f"https://img.test/{i}.jpg", 4.5, 10)


def batch(n: int) -> Batch:
    return Batch(f"batch-{n}", dt.datetime(2025, 1, n, 2, 0))


def load(t: Any, rows: int, snapshot: bool = True, **extra: Any) -> TableLoad:
    return TableLoad(t, "store-api", snapshot, rows, 0, None, dt.datetime(2025, 1, 1), 0.1,
                     **extra)


@pytest.fixture
def warehouse(tmp_path: Path) -> Any:
    wh = open_warehouse(DatabaseURL.parse(f"duckdb://{tmp_path / 'wh.duckdb'}"))
    assert isinstance(wh, DuckDBWarehouse)
    wh.ensure_tables([PRODUCTS, CARTS])
    yield wh
    wh.close()


def merge(wh: DuckDBWarehouse, n: int, rows: list[tuple[Any, ...]], snapshot: bool = True,
          **extra: Any) -> tuple[int, int, int]:
    wh.start_stage(PRODUCTS)
    wh.stage_rows(PRODUCTS, rows)
    [counts] = wh.commit(batch(n), [load(PRODUCTS, len(rows), snapshot, **extra)], [])
    return counts.inserted, counts.updated, counts.deleted


def contents(wh: DuckDBWarehouse) -> list[tuple[Any, ...]]:
    return wh.connection.execute(
        "SELECT id, price, _batch_id, _loaded_at, _deleted_at FROM new_store.products ORDER BY id"
    ).fetchall()


def test_upsert_keeps_unchanged_rows_and_marks_vanished_ones(warehouse: DuckDBWarehouse) -> None:
    assert merge(warehouse, 1, [product(1), product(2), product(3)]) == (3, 0, 0)
    before = contents(warehouse)
    assert merge(warehouse, 2, [product(1), product(2), product(3)]) == (0, 0, 0)
    assert contents(warehouse) == before  # same `_loaded_at` and `_batch_id`

    assert merge(warehouse, 3, [product(1), product(2, price=12.5), product(4)]) == (1, 1, 1)
    rows = {r[0]: r for r in contents(warehouse)}
    assert rows[1][2] == "batch-1"
    assert rows[2][1:4] == (pytest.approx(12.5), "batch-3", dt.datetime(2025, 1, 3, 2, 0))
    assert rows[3][4] == dt.datetime(2025, 1, 3, 2, 0) and rows[3][2] == "batch-1"
    assert rows[4][2] == "batch-3"

    # A row that comes back is revived: counted as updated, `_deleted_at` cleared.
    assert merge(warehouse, 4, [product(1), product(2, 12.5), product(3), product(4)]) == \
        (0, 1, 0)
    assert {r[0]: r[4] for r in contents(warehouse)}[3] is None


def test_incremental_loads_never_mark_deletions(warehouse: DuckDBWarehouse) -> None:
    merge(warehouse, 1, [product(1), product(2)])
    assert merge(warehouse, 2, [product(2, 99.0)], snapshot=False) == (0, 1, 0)
    assert all(r[4] is None for r in contents(warehouse))


def test_rejected_but_present_rows_are_not_marked_deleted(warehouse: DuckDBWarehouse) -> None:
    merge(warehouse, 1, [product(1), product(2), product(3)])
    counts = merge(warehouse, 2, [product(1)], protect_column="id", protected=(2,))
    assert counts == (0, 0, 1)
    assert [(r[0], r[4] is not None) for r in contents(warehouse)] == \
        [(1, False), (2, False), (3, True)]


def test_a_failing_table_rolls_back_every_table_of_the_commit(
        warehouse: DuckDBWarehouse) -> None:
    merge(warehouse, 1, [product(1)])
    before = contents(warehouse)
    state_before = warehouse.connection.execute("SELECT count(*) FROM meta.load_state").fetchone()
    warehouse.start_stage(PRODUCTS)
    warehouse.stage_rows(PRODUCTS, [product(1, 5.0), product(7)])
    warehouse.start_stage(CARTS)  # the same cart twice: the primary key rejects it
    warehouse.stage_rows(CARTS, [(1, 1, "2025-01-01 00:00:00"), (1, 2, "2025-01-01 00:00:00")])
    with pytest.raises(DataError, match="ConstraintException.*rolled back") as caught:
        warehouse.commit(batch(2), [load(PRODUCTS, 2), load(CARTS, 2)],
                         [RejectRow("store-api", "new_store.products", "9", "bad", "{}")])
    assert caught.value.exit_code == EXIT_DATA  # a duplicate key: fix the data, not retried
    assert contents(warehouse) == before
    assert warehouse.connection.execute("SELECT count(*) FROM meta.load_state").fetchone() == \
        state_before
    assert warehouse.connection.execute("SELECT count(*) FROM meta.rejects").fetchone() == (0,)


def test_load_state_and_rejects_are_written_with_the_merge(warehouse: DuckDBWarehouse) -> None:
    warehouse.start_stage(PRODUCTS)
    warehouse.stage_rows(PRODUCTS, [product(1)])
    the_load = TableLoad(PRODUCTS, "store-api", True, 2, 1, None, dt.datetime(2025, 1, 1), 0.5)
    warehouse.commit(batch(1), [the_load],
                     [RejectRow("store-api", "new_store.products", "2", "`price` ...", '{"id":2}')])
    state = warehouse.connection.execute(
        "SELECT batch_id, source, table_name, rows_read, rows_inserted, rows_rejected, seconds, "
        "status FROM meta.load_state").fetchall()
    assert state[0][:6] == ("batch-1", "store-api", "new_store.products", 2, 1, 1)
    assert state[0][6] >= 0.5 and state[0][7] == "ok"
    assert warehouse.connection.execute(
        "SELECT record_key, payload FROM meta.rejects").fetchall() == [("2", '{"id":2}')]


def test_ndjson_landing_files_are_ingested_with_the_contract_types(
        warehouse: DuckDBWarehouse, tmp_path: Path) -> None:
    path = tmp_path / "carts.ndjson"
    rows = [{"id": 1, "user_id": 3, "date": "2025-03-02 06:18:43"},
            {"id": 2, "user_id": 4, "date": "2025-03-02 07:00:00.5"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert warehouse.stage_ndjson(CARTS, path) == 2
    warehouse.commit(batch(1), [load(CARTS, 2)], [])
    assert warehouse.connection.execute("SELECT id, date FROM new_store.carts ORDER BY id"
                                        ).fetchall() == [
        (1, dt.datetime(2025, 3, 2, 6, 18, 43)), (2, dt.datetime(2025, 3, 2, 7, 0, 0, 500000))]


def test_a_table_that_drifted_from_the_contract_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA new_store; CREATE TABLE new_store.carts (id BIGINT, user_id BIGINT)")
    con.close()
    wh = open_warehouse(DatabaseURL.parse(f"duckdb://{path}"))
    try:
        with pytest.raises(ConfigError, match="`new_store.carts`.*migrate or drop"):
            wh.ensure_tables([CARTS])
    finally:
        wh.close()


def test_sqlite_is_not_a_warehouse(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must be `duckdb"):
        open_warehouse(DatabaseURL.parse(f"sqlite://{tmp_path / 'w.db'}"))


def test_a_locked_warehouse_is_waited_for_then_opened(tmp_path: Path) -> None:
    import subprocess
    import sys

    from deltastore.errors import TransientError

    path = tmp_path / "locked.duckdb"
    url = DatabaseURL.parse(f"duckdb://{path}")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('locked', flush=True); time.sleep(1.5)", str(path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(TransientError, match="opening .* failed .*IOException"):
            DuckDBWarehouse(url, lock_wait_seconds=0)
        DuckDBWarehouse(url, lock_wait_seconds=30).close()  # opens once the holder is gone
    finally:
        holder.wait(timeout=30)


def test_two_connections_creating_the_tables_at_once_both_succeed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`deltastore run` extracts both sources at once in one process: both writers create
    `meta.load_state` on a new warehouse together, and DuckDB aborts one with a write-write
    conflict. The loser tries again and finds the table."""
    import threading

    from deltastore.extract.warehouse import duckdb as duckdb_writer

    seen: list[str] = []
    real_sleep = duckdb_writer.time.sleep
    monkeypatch.setattr(duckdb_writer.time, "sleep",
                        lambda s: (seen.append("retried"), real_sleep(s)))
    for attempt in range(30):  # the conflict needs the two creates to overlap
        url = DatabaseURL.parse(f"duckdb://{tmp_path / f'race{attempt}.duckdb'}")
        writers = [open_warehouse(url), open_warehouse(url)]
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def create(wh: Any, start: threading.Barrier, errors: list[BaseException]) -> None:
            start.wait()
            try:
                wh.ensure_tables([PRODUCTS, CARTS])
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=create, args=(wh, start, errors)) for wh in writers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for wh in writers:
            wh.close()
        assert errors == []
        if seen:
            break
    assert seen, "the two creates never overlapped in 30 tries"
