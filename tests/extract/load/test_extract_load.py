"""`run_extract` end to end: the demo store on loopback, a demo legacy SQLite DB, DuckDB."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
import requests
from extract_load_helpers import dump_warehouse
from extract_load_helpers import warehouse_query as query

from deltastore.dburl import DatabaseURL
from deltastore.errors import TransientError
from deltastore.extract.demo.legacy_data import generate_legacy_db
from deltastore.extract.demo.store_server import DemoStore, Fault
from deltastore.extract.load import TableResult, run_extract
from deltastore.retry import RetryPolicy
from deltastore.schemas import ALL_TABLES, OLD_STORE_TABLES
from deltastore.settings import Settings

FAST = RetryPolicy(attempts=3, max_seconds=5, base_delay=0.01, max_delay=0.05)
STORE_SCALE = 0.05  # 10 products, 50 users, 500 carts
MakeSettings = Callable[..., Settings]


def by_table(results: list[TableResult]) -> dict[str, TableResult]:
    return {r.table: r for r in results}


def changes(results: list[TableResult]) -> dict[str, tuple[int, int, int]]:
    return {r.table: (r.inserted, r.updated, r.deleted) for r in results}


def test_full_load_of_all_twelve_raw_tables(make_settings: MakeSettings, data_dir: Path) -> None:
    with DemoStore(scale=STORE_SCALE, seed=42) as store:
        results = run_extract(make_settings(store.url), "all", retry=FAST, page_size=7)
        carts = requests.get(f"{store.url}/carts", timeout=10).json()
        password = requests.get(f"{store.url}/users/1", timeout=10).json()["password"]
    assert [r.table for r in results] == [t.qualified_name for t in ALL_TABLES]
    assert all(r.rows_read > 0 and r.inserted == r.rows_read for r in results)
    assert all(r.updated == r.deleted == r.rejected == 0 for r in results)

    legacy = sqlite3.connect(data_dir / "legacy.db")
    expected = {t.qualified_name: legacy.execute(f"SELECT count(*) FROM {t.name}").fetchone()[0]
                for t in OLD_STORE_TABLES}
    expected |= {"new_store.products": 10, "new_store.users": 50, "new_store.carts": 500,
                 "new_store.cart_items": sum(len({p["productId"] for p in c["products"]})
                                             for c in carts)}
    landed = {t.qualified_name: query(data_dir, f"SELECT count(*) FROM {t.qualified_name}")[0][0]
              for t in ALL_TABLES}
    assert landed == expected

    watermarks = dict(query(data_dir, "SELECT table_name, watermark FROM meta.load_state "
                                      "WHERE watermark IS NOT NULL"))
    assert watermarks == {
        t.qualified_name: legacy.execute(f"SELECT max(updated_at) FROM {t.name}").fetchone()[0]
        for t in OLD_STORE_TABLES if t.watermark}
    assert query(data_dir, "SELECT count(*), min(status), max(status) FROM meta.load_state") == \
        [(12, "ok", "ok")]
    users = query(data_dir, "SELECT * FROM new_store.users")
    assert password not in repr(users)
    assert list((data_dir / "landing").iterdir()) == []  # landing files go once loaded


def test_running_twice_leaves_identical_tables_and_reports_no_changes(
        make_settings: MakeSettings, data_dir: Path) -> None:
    with DemoStore(scale=STORE_SCALE, seed=42) as store:
        settings = make_settings(store.url)
        run_extract(settings, "all", retry=FAST)
        before = dump_warehouse(data_dir / "warehouse.duckdb")
        again = run_extract(settings, "all", retry=FAST)
    after = dump_warehouse(data_dir / "warehouse.duckdb")
    assert set(changes(again).values()) == {(0, 0, 0)}
    assert all(r.rows_read > 0 for r in again if r.table.startswith("new_store"))
    for name in before:
        if not name.startswith("meta."):
            assert after[name] == before[name], name
    assert len(after["meta.load_state"]) == 24


def test_incremental_load_updates_exactly_the_changed_rows(make_settings: MakeSettings,
                                                           data_dir: Path) -> None:
    settings = make_settings(legacy_lookback_seconds="0")
    run_extract(settings, "legacy-db")
    with sqlite3.connect(data_dir / "legacy.db") as legacy:
        # The window overlaps: rows at the saved watermark are read again (and not changed).
        at_max = {name: legacy.execute(f"SELECT count(*) FROM {name} WHERE updated_at = "
                                       f"(SELECT max(updated_at) FROM {name})").fetchone()[0]
                  for name in ("customers", "orders", "products")}
        legacy.execute("UPDATE customers SET email = 'moved@example.test', "
                       "updated_at = '2026-06-01 00:00:00' WHERE customer_id IN (3, 5, 8)")
        legacy.execute("UPDATE orders SET updated_at = '2026-06-01 00:00:00', "
                       "total_price = total_price + 1 WHERE order_id = 2")
    second = by_table(run_extract(settings, "legacy-db"))
    assert (second["old_store.customers"].rows_read, *changes(list(second.values()))[
        "old_store.customers"]) == (3 + at_max["customers"], 0, 3, 0)
    assert (second["old_store.orders"].rows_read, second["old_store.orders"].updated) == (
        1 + at_max["orders"], 1)
    assert second["old_store.products"].rows_read == at_max["products"]
    assert all((r.inserted, r.updated, r.deleted) == (0, 0, 0) for r in second.values()
               if r.table not in ("old_store.customers", "old_store.orders"))
    changed = query(data_dir, "SELECT customer_id FROM old_store.customers WHERE _loaded_at = "
                              "(SELECT max(_loaded_at) FROM old_store.customers) ORDER BY 1")
    assert changed == [(3,), (5,), (8,)]
    assert query(data_dir, "SELECT watermark FROM meta.load_state WHERE table_name = "
                           "'old_store.customers' ORDER BY started_at DESC LIMIT 1") == \
        [("2026-06-01 00:00:00",)]

    full = by_table(run_extract(settings, "legacy-db", full_refresh=True))
    with sqlite3.connect(data_dir / "legacy.db") as legacy:
        customers = legacy.execute("SELECT count(*) FROM customers").fetchone()[0]
    assert full["old_store.customers"].rows_read == customers > 3  # every row read again...
    assert set(changes(list(full.values())).values()) == {(0, 0, 0)}  # ...and none changed


def test_a_product_missing_from_the_snapshot_is_marked_deleted(make_settings: MakeSettings,
                                                               data_dir: Path) -> None:
    with DemoStore(scale=STORE_SCALE, seed=42) as big:
        run_extract(make_settings(big.url), "store-api", retry=FAST)
    with DemoStore(scale=0.01, seed=42) as small:  # the same first 4 products, 10 users
        second = by_table(run_extract(make_settings(small.url), "store-api", retry=FAST))
    assert changes(list(second.values()))["new_store.products"] == (0, 0, 6)
    assert second["new_store.users"].deleted == 40
    batch_time = query(data_dir, "SELECT max(_loaded_at) FROM new_store.carts")[0][0]
    assert query(data_dir, "SELECT id, _deleted_at FROM new_store.products ORDER BY id") == \
        [(i, None) for i in range(1, 5)] + [(i, batch_time) for i in range(5, 11)]

    with DemoStore(scale=STORE_SCALE, seed=42) as big:  # they come back
        third = by_table(run_extract(make_settings(big.url), "store-api", retry=FAST))
    assert changes(list(third.values()))["new_store.products"] == (0, 6, 0)
    assert query(data_dir, "SELECT count(*) FROM new_store.products WHERE _deleted_at IS NULL"
                 ) == [(10,)]


def test_a_500_is_retried_and_the_load_succeeds(make_settings: MakeSettings) -> None:
    with DemoStore(scale=0.01, faults=[Fault("/products", "500", times=2)]) as store:
        results = by_table(run_extract(make_settings(store.url), "store-api", retry=FAST))
        assert [p for p in store.requests if p.startswith("/products")] == \
            ["/products?limit=5000&offset=0"] * 3
    assert results["new_store.products"].inserted == 4


def test_a_429_waits_for_retry_after_before_asking_again(make_settings: MakeSettings) -> None:
    with DemoStore(scale=0.01, faults=[Fault("/users", "429", retry_after=0.5)]) as store:
        started = time.monotonic()
        results = by_table(run_extract(make_settings(store.url), "store-api", retry=FAST))
        elapsed = time.monotonic() - started
        assert [p for p in store.requests if p.startswith("/users")] == \
            ["/users?limit=5000&offset=0"] * 2
    assert elapsed >= 0.5  # a lower bound only: the client waited as it was told
    assert results["new_store.users"].inserted == 10


def test_a_malformed_record_lands_in_rejects_and_the_others_load(make_settings: MakeSettings,
                                                                 data_dir: Path) -> None:
    with DemoStore(scale=STORE_SCALE, faults=[Fault("/products", "badrecord")]) as store:
        results = by_table(run_extract(make_settings(store.url), "store-api", retry=FAST))
    products = results["new_store.products"]
    assert (products.rows_read, products.inserted, products.rejected) == (10, 9, 1)
    [(table_name, key, reason, payload)] = query(
        data_dir, "SELECT table_name, record_key, reason, payload FROM meta.rejects")
    assert (table_name, key) == ("new_store.products", "1")
    assert "`price`" in reason and json.loads(payload)["price"] == "abc"
    assert query(data_dir, "SELECT rows_rejected FROM meta.load_state "
                           "WHERE table_name = 'new_store.products'") == [(1,)]
    assert query(data_dir, "SELECT min(id), count(*) FROM new_store.products") == [(2, 9)]


def test_a_duckdb_legacy_database_is_read_the_same_way(make_settings: MakeSettings,
                                                       data_dir: Path) -> None:
    legacy = data_dir / "legacy.duckdb"
    generate_legacy_db(DatabaseURL.parse(f"duckdb://{legacy}"), scale=0.02, seed=42)
    settings = make_settings(legacy_db_url=f"duckdb://{legacy}", legacy_lookback_seconds="0")
    first = run_extract(settings, "legacy-db")
    assert all(r.rows_read == r.inserted > 0 for r in first)
    second = by_table(run_extract(settings, "legacy-db"))
    # The datetime watermark round-trips: only the rows at the saved one are read again.
    with duckdb.connect(str(legacy), read_only=True) as con:
        at_max = con.execute("SELECT count(*) FROM customers WHERE updated_at = "
                             "(SELECT max(updated_at) FROM customers)").fetchone()
    assert (second["old_store.customers"].rows_read,) == at_max
    assert set(changes(list(second.values())).values()) == {(0, 0, 0)}


def test_a_rejected_user_is_kept_without_its_password(make_settings: MakeSettings,
                                                      data_dir: Path) -> None:
    with DemoStore(scale=0.01, faults=[Fault("/users", "badrecord")]) as store:
        results = by_table(run_extract(make_settings(store.url), "store-api", retry=FAST))
        password = requests.get(f"{store.url}/users/1", timeout=10).json()["password"]
    assert results["new_store.users"].rejected == 1
    [(reason, payload)] = query(data_dir, "SELECT reason, payload FROM meta.rejects")
    assert reason == "`id` is missing"
    assert "password" not in json.loads(payload) and password not in payload
    assert json.loads(payload)["username"]  # the rest of the record is kept


def test_unwritable_landing_files_fail_the_load_with_a_clear_message(
        make_settings: MakeSettings, data_dir: Path) -> None:
    (data_dir / "landing").write_text("a file where the landing folder should be")
    with DemoStore(scale=0.01) as store, \
            pytest.raises(TransientError, match="cannot write landing files in `.*landing/"):
        run_extract(make_settings(store.url), "store-api", retry=FAST)
    assert not (data_dir / "warehouse.duckdb").exists()


@pytest.mark.mssql
def test_extract_into_a_real_sql_server_is_idempotent(make_settings: MakeSettings) -> None:
    """Runs in GitHub Actions' SQL Server job (DELTASTORE_TEST_MSSQL_URL)."""
    import os

    from deltastore.db import connect
    from deltastore.schemas import LOAD_STATE, REJECTS

    overrides = {"warehouse_url": os.environ["DELTASTORE_TEST_MSSQL_URL"],
                 "warehouse_password": os.environ.get("DELTASTORE_TEST_MSSQL_PASSWORD", "")}
    with DemoStore(scale=0.01, faults=[Fault("/products", "badrecord")]) as store:
        settings = make_settings(store.url, **overrides)
        con = connect(settings.warehouse_url, autocommit=True)
        for t in (*ALL_TABLES, LOAD_STATE, REJECTS):  # start from an empty warehouse
            con.cursor().execute(f"DROP TABLE IF EXISTS [{t.schema}].[{t.name}]")
        con.close()
        first = by_table(run_extract(settings, "all", retry=FAST))
        second = by_table(run_extract(settings, "all", retry=FAST))
    assert all(r.inserted == r.rows_read - r.rejected > 0 for r in first.values())
    assert first["new_store.products"].rejected == 1
    assert second["new_store.products"].inserted == 1  # the record rejected the first time
    assert all((r.inserted, r.updated, r.deleted) == (0, 0, 0) for r in second.values()
               if r.table != "new_store.products")
    assert second["old_store.customers"].rows_read == 0  # incremental through the watermark


def test_sqlite_read_as_arrow_gives_the_same_rows_as_row_by_row(
        make_settings: MakeSettings, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo legacy SQLite file goes to DuckDB as Arrow batches (ADBC's SQLite driver);
    loading it again row by row (DB-API tuples) changes nothing: every value is equal."""
    from deltastore.extract.sources.legacy_db import LegacyReader

    settings = make_settings(batch_size="500")
    arrow = by_table(run_extract(settings, "legacy-db", full_refresh=True))
    assert all(r.inserted == r.rows_read > 0 for r in arrow.values())
    monkeypatch.setattr(LegacyReader, "reads_arrow", property(lambda self: False))
    rows = by_table(run_extract(settings, "legacy-db", full_refresh=True))
    assert {t: (r.rows_read, r.inserted, r.updated, r.deleted) for t, r in rows.items()} == {
        t: (r.rows_read, 0, 0, 0) for t, r in arrow.items()}
    # The watermarks the two readings saved are the same.
    saved = query(data_dir, "SELECT table_name, list(DISTINCT watermark) FROM meta.load_state "
                            "WHERE watermark IS NOT NULL GROUP BY table_name")
    assert saved and all(len(marks) == 1 for _, marks in saved)


def test_a_sqlite_column_whose_type_changes_is_read_row_by_row(
        make_settings: MakeSettings, data_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    """SQLite lets a column hold an integer in one row and text in the next; the Arrow
    reader takes each column's type from its first values, so the table is staged again
    row by row (and DuckDB's cast decides, as before)."""
    legacy = sqlite3.connect(data_dir / "legacy.db")
    # `rating` without a declared type (no affinity), so SQLite keeps '5' as text.
    [create] = legacy.execute("SELECT sql FROM sqlite_master WHERE name = 'reviews'").fetchone()
    assert "`rating` INTEGER" in create
    legacy.executescript(f"""ALTER TABLE reviews RENAME TO reviews_before;
        {create.replace("`rating` INTEGER", "`rating`")};
        INSERT INTO reviews SELECT * FROM reviews_before; DROP TABLE reviews_before;""")
    last = legacy.execute("SELECT max(review_id) FROM reviews").fetchone()[0]
    legacy.execute("UPDATE reviews SET rating = '5' WHERE review_id = ?", (last,))
    legacy.commit()
    assert legacy.execute("SELECT DISTINCT typeof(rating) FROM reviews ORDER BY 1").fetchall() \
        == [("integer",), ("text",)]
    legacy.close()
    results = by_table(run_extract(make_settings(batch_size="5"), "legacy-db",
                                   full_refresh=True))
    reviews = results["old_store.reviews"]
    assert reviews.rows_read == reviews.inserted > 5  # the text is past the first batch
    assert "old_store.reviews" in caplog.text and "row by row" in caplog.text
    assert query(data_dir, f"SELECT rating FROM old_store.reviews WHERE review_id = {last}") \
        == [(5,)]


def test_sqlite_keys_of_mixed_types_are_read_row_by_row(
        make_settings: MakeSettings, data_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The keys that find deletions are read as Arrow too; a key column holding integers
    and text is read again row by row, and no order is taken for deleted."""
    settings = make_settings(batch_size="5")
    run_extract(settings, "legacy-db")
    legacy = sqlite3.connect(data_dir / "legacy.db")
    [create] = legacy.execute("SELECT sql FROM sqlite_master WHERE name = 'orders'").fetchone()
    declared = next(part for part in create.split(",") if "`order_id`" in part).strip()
    untyped = create.replace(declared, declared.replace(" INTEGER", "", 1))
    assert untyped != create, create
    legacy.executescript(f"""ALTER TABLE orders RENAME TO orders_before; {untyped};
        INSERT INTO orders SELECT * FROM orders_before; DROP TABLE orders_before;""")
    last = legacy.execute("SELECT max(order_id) FROM orders").fetchone()[0]
    legacy.execute("UPDATE orders SET order_id = CAST(order_id AS TEXT) WHERE order_id = ?",
                   (last,))
    legacy.commit()
    assert legacy.execute("SELECT DISTINCT typeof(order_id) FROM orders ORDER BY 1").fetchall() \
        == [("integer",), ("text",)]
    legacy.close()
    orders = by_table(run_extract(settings, "legacy-db"))["old_store.orders"]
    assert "old_store.orders" in caplog.text and "keys row by row" in caplog.text
    assert orders.deleted == 0
    assert query(data_dir, "SELECT count(*) FROM old_store.orders WHERE _deleted_at IS NOT NULL"
                 ) == [(0,)]
