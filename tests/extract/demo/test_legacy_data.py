"""The demo legacy database, generated for real into SQLite / DuckDB files in tmp_path."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from deltastore.dburl import DatabaseURL
from deltastore.errors import ConfigError
from deltastore.extract.demo import DEMO_END_DATE, DEMO_START_DATE, legacy_data
from deltastore.extract.demo.legacy_data import generate_legacy_db
from deltastore.extract.demo.legacy_records import (
    CARRIERS,
    CATEGORIES,
    PAYMENT_METHODS,
    SHIPMENT_STATUSES,
    TRANSACTION_STATUSES,
    US_STATES,
    legacy_counts,
)
from deltastore.schemas import OLD_STORE_TABLES

SMALL = 0.02   # 200 customers, 300 orders: shapes, dirt, reruns
MEDIUM = 0.2   # 3,000 orders: distributions


def sqlite_url(path: Path) -> DatabaseURL:
    return DatabaseURL.parse(f"sqlite:///{path}")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[sqlite3.Connection, dict]]:
    path = tmp_path_factory.mktemp("legacy") / "small.db"
    counts = generate_legacy_db(sqlite_url(path), scale=SMALL, seed=42)
    conn = sqlite3.connect(path)
    yield conn, counts
    conn.close()


@pytest.fixture(scope="module")
def medium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    path = tmp_path_factory.mktemp("legacy") / "medium.db"
    generate_legacy_db(sqlite_url(path), scale=MEDIUM, seed=42)
    conn = sqlite3.connect(path)
    yield conn
    conn.close()


def scalar(conn: sqlite3.Connection, sql: str) -> Any:
    return conn.execute(sql).fetchone()[0]


def column(conn: sqlite3.Connection, sql: str) -> list:
    return [row[0] for row in conn.execute(sql)]


def dump(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as conn:
        return {t.name: conn.execute(f'select * from "{t.name}" order by 1').fetchall()
                for t in OLD_STORE_TABLES}


def test_tables_columns_and_primary_keys_match_the_contract(small: tuple) -> None:
    conn, _ = small
    for table in OLD_STORE_TABLES:
        info = conn.execute(f'pragma table_info("{table.name}")').fetchall()
        assert [row[1] for row in info] == table.column_names
        assert [row[1] for row in info if row[5]] == list(table.primary_key)
    tables = column(conn, "select name from sqlite_master where type = 'table' order by name")
    assert tables == sorted(t.name for t in OLD_STORE_TABLES)


def test_row_counts_follow_the_scale(small: tuple, medium: sqlite3.Connection) -> None:
    conn, counts = small
    assert legacy_counts(1) == {"customers": 10_000, "products": 2_000, "suppliers": 100,
                                "orders": 15_000, "reviews": 1_100}
    for table, rows in counts.items():
        assert scalar(conn, f'select count(*) from "{table}"') == rows
    assert counts["customers"] == 200 and counts["products"] == 40
    assert counts["suppliers"] == 2 and counts["reviews"] == 22
    assert counts["orders"] == counts["payment"] == counts["shipments"] == 300
    # ~20,000 items per 15,000 orders.
    items_per_order = scalar(medium, "select 1.0 * count(*) / count(distinct order_id) "
                                     "from order_items")
    assert 1.25 < items_per_order < 1.45
    assert scalar(medium, "select count(*) from orders") == 3000


def test_rows_reference_each_other(medium: sqlite3.Connection) -> None:
    checks = {
        "orders without a customer": "select count(*) from orders where customer_id not in "
                                     "(select customer_id from customers)",
        "items without an order": "select count(*) from order_items where order_id not in "
                                  "(select order_id from orders)",
        "items without a product": "select count(*) from order_items where product_id not in "
                                   "(select product_id from products)",
        "orders without items": "select count(*) from orders where order_id not in "
                                "(select order_id from order_items)",
        "products without a supplier": "select count(*) from products where supplier_id "
                                       "not in (select supplier_id from suppliers)",
        "reviews without a product": "select count(*) from reviews where product_id not in "
                                     "(select product_id from products)",
        "reviews without a customer": "select count(*) from reviews where customer_id not in "
                                      "(select customer_id from customers)",
        "payments without an order": "select count(*) from payment where order_id not in "
                                     "(select order_id from orders)",
        "shipments without an order": "select count(*) from shipments where order_id not in "
                                      "(select order_id from orders)",
    }
    for problem, sql in checks.items():
        assert scalar(medium, sql) == 0, problem


def test_totals_are_consistent(medium: sqlite3.Connection) -> None:
    mismatches = scalar(medium, """
        select count(*) from orders o
        join (select order_id, sum(quantity * price_at_purchase) as total
              from order_items group by order_id) i using (order_id)
        where abs(o.total_price - i.total) > 0.005""")
    assert mismatches == 0
    assert scalar(medium, "select count(*) from payment p join orders o using (order_id) "
                          "where abs(p.amount - o.total_price) > 0.005") == 0
    assert scalar(medium, "select min(quantity) from order_items") == 1
    assert scalar(medium, "select max(quantity) from order_items") == 5


def test_distributions_look_like_the_shop(medium: sqlite3.Connection) -> None:
    def shares(sql: str) -> dict[str, float]:
        rows = medium.execute(sql).fetchall()
        total = sum(n for _, n in rows)
        return {value: n / total for value, n in rows}

    status = shares("select trim(lower(transaction_status)), count(*) from payment group by 1")
    assert status.keys() == {s.lower() for s in TRANSACTION_STATUSES}
    assert abs(status["failed"] - 0.05) < 0.015
    assert status["pending"] < 0.06 and status["completed"] > 0.88
    # payments of the last week are still pending far more often than older ones
    (recent_pending,) = medium.execute(
        "select avg(trim(lower(transaction_status)) = 'pending') from payment join orders "
        "using (order_id) where order_date >= ?", [str(DEMO_END_DATE - dt.timedelta(days=6))]
    ).fetchone()
    assert recent_pending > 0.2
    methods = shares("select trim(lower(payment_method)), count(*) from payment group by 1")
    assert methods.keys() == {m.lower() for m in PAYMENT_METHODS}
    carriers = shares("select trim(lower(carrier)), count(*) from shipments group by 1")
    assert carriers.keys() == {c.lower() for c in CARRIERS}
    assert all(share > 0.2 for share in carriers.values())
    shipment = shares("select trim(lower(shipment_status)), count(*) from shipments group by 1")
    assert shipment.keys() == {s.lower() for s in SHIPMENT_STATUSES}
    assert 0.7 < shipment["delivered"] < 0.9 and 0.02 < shipment["returned"] < 0.1
    categories = shares("select trim(lower(category)), count(*) from products group by 1")
    assert categories.keys() == {c.lower() for c in CATEGORIES}
    assert all(abs(share - 0.25) < 0.02 for share in categories.values())
    ratings = column(medium, "select distinct rating from reviews order by 1")
    assert ratings == [1, 2, 3, 4, 5]
    # Some products are rated badly on average (the dashboards flag them).
    low = scalar(medium, "select count(*) from (select product_id from reviews "
                         "group by product_id having count(*) >= 2 and avg(rating) < 3)")
    assert low > 0


def test_dates_cover_the_demo_year_and_deliveries_follow_shipping(
        medium: sqlite3.Connection) -> None:
    first, last = medium.execute("select min(order_date), max(order_date) from orders").fetchone()
    assert first.startswith(DEMO_START_DATE.isoformat()[:7])
    assert last.startswith(DEMO_END_DATE.isoformat()[:7])
    months = column(medium, "select distinct substr(order_date, 1, 7) from orders")
    assert len(months) == 12
    assert scalar(medium, "select count(*) from shipments where trim(lower(shipment_status)) "
                          "= 'delivered' and not delivery_date > shipment_date") == 0
    assert scalar(medium, "select count(*) from shipments where trim(lower(shipment_status)) "
                          "not in ('delivered', 'returned') and delivery_date is not null") == 0
    # a returned parcel was delivered first
    assert scalar(medium, "select count(*) from shipments where trim(lower(shipment_status)) "
                          "= 'returned' and not delivery_date > shipment_date") == 0
    assert scalar(medium, "select count(*) from shipments s join orders o using (order_id) "
                          "where s.shipment_date < o.order_date") == 0
    assert scalar(medium, "select count(*) from customers where updated_at < created_at") == 0
    assert scalar(medium, "select count(*) from orders where updated_at < order_date") == 0
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    for table in ("customers", "products", "orders", "shipments"):
        newest = scalar(medium, f"select max(updated_at) from {table}")
        assert newest <= now, table


def test_addresses_use_real_state_codes(medium: sqlite3.Connection) -> None:
    addresses = column(medium, "select address from customers union all "
                               "select address from suppliers")
    states = {a.rsplit(", ", 1)[1] for a in addresses}
    assert states <= US_STATES.keys() and len(states) > 40
    assert len(US_STATES) == 51
    number, rest = addresses[0].split(" ", 1)
    assert number.isdigit() and rest.count(", ") == 2


def test_dirt_is_present_at_small_scale(small: tuple) -> None:
    conn, _ = small
    assert scalar(conn, "select count(*) from (select lower(trim(email)) from customers "
                        "group by 1 having count(*) > 1)") > 0
    assert scalar(conn, "select count(*) from customers where email <> trim(email) "
                        "or email <> lower(email)") > 0
    assert scalar(conn, "select count(*) from customers where first_name <> trim(first_name) "
                        "or last_name <> trim(last_name)") > 0
    assert scalar(conn, "select count(*) from customers where phone_number is null") > 0
    assert scalar(conn, "select count(*) from suppliers where instr(trim(contact_name), ' ') = 0"
                  ) == 1
    assert scalar(conn, "select count(*) from reviews where review_text is null") > 0
    assert scalar(conn, "select count(*) from shipments where delivery_date is null") > 0
    canonical = {
        ("products", "category"): CATEGORIES,
        ("shipments", "carrier"): CARRIERS,
        ("shipments", "shipment_status"): SHIPMENT_STATUSES,
        ("payment", "transaction_status"): TRANSACTION_STATUSES,
    }
    for (table, name), values in canonical.items():
        seen = set(column(conn, f"select distinct {name} from {table}"))
        dirty = seen - set(values)
        assert dirty, f"{table}.{name} has no dirty spellings"
        assert {v.strip().lower() for v in dirty} <= {v.lower() for v in values}


def test_rerun_replaces_contents_identically(tmp_path: Path) -> None:
    path = tmp_path / "legacy.db"
    first = generate_legacy_db(sqlite_url(path), scale=SMALL, seed=42)
    before = dump(path)
    assert generate_legacy_db(sqlite_url(path), scale=SMALL, seed=42) == first
    assert dump(path) == before
    other = generate_legacy_db(sqlite_url(path), scale=SMALL / 2, seed=7)
    assert other["customers"] == 100
    after = dump(path)
    assert len(after["customers"]) == 100 and after["customers"] != before["customers"][:100]


def test_duckdb_gets_the_same_rows(tmp_path: Path, small: tuple) -> None:
    conn, counts = small
    url = DatabaseURL.parse(f"duckdb:///{tmp_path / 'legacy.duckdb'}")
    assert generate_legacy_db(url, scale=SMALL, seed=42, batch_size=64) == counts
    with duckdb.connect(str(url.path), read_only=True) as duck:
        orders = duck.execute("select order_id, total_price, order_date from orders "
                              "order by 1").fetchall()
        names = duck.execute("select email from customers order by customer_id").fetchall()
    expected = conn.execute("select order_id, total_price, order_date from orders "
                            "order by 1").fetchall()
    assert [(o, Decimal(str(t)).quantize(Decimal("0.01")), d.isoformat(sep=" "))
            for o, t, d in orders] == [(o, Decimal(str(t)).quantize(Decimal("0.01")), d)
                                       for o, t, d in expected]
    assert names == conn.execute("select email from customers order by customer_id").fetchall()


def test_bad_arguments_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="scale `-1`"):
        generate_legacy_db(sqlite_url(tmp_path / "x.db"), scale=-1)
    with pytest.raises(ConfigError, match="batch size `0`"):
        generate_legacy_db(sqlite_url(tmp_path / "x.db"), scale=SMALL, batch_size=0)


@pytest.mark.mssql
def test_sql_server_gets_the_same_counts(small: tuple) -> None:
    """Runs in GitHub Actions against a real SQL Server (DELTASTORE_TEST_MSSQL_URL)."""
    import os

    from deltastore.db import connect

    _, counts = small
    url = DatabaseURL.parse(os.environ["DELTASTORE_TEST_MSSQL_URL"]).with_password(
        os.environ.get("DELTASTORE_LEGACY_DB_PASSWORD"))
    assert generate_legacy_db(url, scale=SMALL, seed=42, batch_size=128) == counts
    conn = connect(url)
    try:
        cursor = conn.cursor()
        cursor.execute("select count(*), sum(total_price) from dbo.orders")
        orders, total = cursor.fetchone()
        assert orders == counts["orders"] and total > 0
    finally:
        conn.close()


def test_worker_processes_make_the_same_database(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks made by a pool of two processes (order item ids renumbered across chunks) give
    exactly the rows one process makes in one pass."""
    def dump(path: Path) -> dict[str, list[tuple]]:
        with sqlite3.connect(path) as conn:
            return {t.name: conn.execute(f"SELECT * FROM {t.name} ORDER BY 1").fetchall()
                    for t in OLD_STORE_TABLES}

    one = tmp_path / "one.db"
    generate_legacy_db(sqlite_url(one), scale=0.3, workers=1)
    monkeypatch.setattr(legacy_data, "_CHUNK", 700)  # many chunks of each table
    pooled = tmp_path / "pooled.db"
    counts = generate_legacy_db(sqlite_url(pooled), scale=0.3, workers=2)
    assert dump(pooled) == dump(one)
    assert counts["orders"] == 4500 and counts["order_items"] > counts["orders"]
