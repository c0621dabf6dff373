"""The dbt project on a real demo warehouse: build, keys, facts, incremental model, KPIs.

The warehouse comes from the session fixture in conftest.py (demo sources -> extract ->
`dbt build` through transform.runner); nothing here is stubbed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from deltastore.db import column_type
from deltastore.schemas import ALL_TABLES, LOAD_COLUMNS
from deltastore.settings import Settings
from deltastore.sql_names import quote
from deltastore.transform.runner import run_dbt

if TYPE_CHECKING:  # the fixture's type; conftest modules are not importable packages
    from conftest import BuiltWarehouse

PROJECT = Path(__file__).resolve().parents[2] / "dbt"
KPI_MARTS = (
    "kpi_pipeline_run", "kpi_customer_summary", "kpi_customers_by_state", "kpi_monthly_revenue",
    "fct_customer_segments", "kpi_customer_segments", "kpi_cohort_retention",
    "kpi_transaction_status", "kpi_product_performance", "kpi_category_performance",
    "kpi_carrier_performance", "kpi_delivery_by_state", "kpi_customer_activity",
    "kpi_active_customers", "kpi_cohort_activity", "kpi_category_sales", "kpi_category_ratings",
    "kpi_payment_activity", "kpi_shipment_activity",
)
FILTER_MARTS = KPI_MARTS[-7:]


def surrogate_key(*values: object) -> str:
    """dbt_utils.generate_surrogate_key, in Python: md5 of the texts joined with '-'."""
    texts = ["_dbt_utils_surrogate_key_null_" if v is None else str(v) for v in values]
    return hashlib.md5("-".join(texts).encode(), usedforsecurity=False).hexdigest()


# --- the build ------------------------------------------------------------------------


def test_build_runs_every_node_without_failure(demo_warehouse: BuiltWarehouse) -> None:
    build = demo_warehouse.build
    problems = [n.line() for n in build.nodes if n.status not in ("success", "pass", "no-op")]
    assert build.success, problems
    assert problems == []
    ran = Counter(n.resource_type for n in build.nodes)
    model_files = {p.stem for p in (PROJECT / "models").rglob("*.sql")}
    built_models = {n.name for n in build.nodes if n.resource_type == "model"}
    assert built_models == model_files
    assert ran["snapshot"] == 3
    assert ran["seed"] == 1
    assert ran["unit_test"] >= 8
    assert ran["test"] > 100


def test_the_build_runs_one_node_per_core_at_once(demo_warehouse: BuiltWarehouse) -> None:
    """dbt's threads follow the cores the runner gives DuckDB (profiles.yml): more nodes at
    once than cores only share DuckDB's memory limit and take longer."""
    results = json.loads((demo_warehouse.build.target_dir / "run_results.json").read_text())
    workers = {r["thread_id"] for r in results["results"] if r["thread_id"] != "main"}
    cores = demo_warehouse.settings.duckdb_threads  # 2, pinned by the fixture
    assert 1 < len(workers) <= cores, sorted(workers)


def test_every_connection_of_a_build_has_its_limits_and_the_file_is_released(
        demo_warehouse: BuiltWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB's limits are given when dbt-duckdb opens the file (profiles.yml
    `config_options`), not SET again on each node's cursor; the file is closed when dbt
    returns, so the same process can open it again with other options."""
    from dbt.adapters.duckdb.environments import Environment

    opened: list[tuple[str, tuple[object, ...]]] = []
    initialize_db = Environment.initialize_db.__func__  # type: ignore[attr-defined]

    def counted(cls: type, credentials: object, *args: object, **kwargs: object) -> object:
        connection = initialize_db(cls, credentials, *args, **kwargs)
        limits = connection.execute(
            "select current_setting('memory_limit'), current_setting('threads'), "
            "current_setting('preserve_insertion_order')").fetchone()
        opened.append((str(getattr(credentials, "path", "?")), limits))
        return connection

    monkeypatch.setattr(Environment, "initialize_db", classmethod(counted))
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(demo_warehouse.path, data / "warehouse.duckdb")
    settings = Settings.from_env({"DELTASTORE_DATA_DIR": str(data),
                                  "DELTASTORE_DUCKDB_THREADS": "2",
                                  "DELTASTORE_DUCKDB_MEMORY_LIMIT": "300MiB"})
    run = run_dbt(settings, "build", select="stg_old_store__orders+1 stg_old_store__payments+1",
                  run_date=demo_warehouse.run_date, echo=None)
    assert run.success and len(run.nodes) > 20, [n.line() for n in run.nodes]
    with duckdb.connect(config={"memory_limit": "300MiB"}) as reference:  # DuckDB's wording
        limit = reference.execute("select current_setting('memory_limit')").fetchone()
    assert limit is not None and opened
    assert set(opened) == {(str(data / "warehouse.duckdb"), (limit[0], 2, False))}
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from staging.stg_old_store__orders").fetchone()


def test_every_mart_and_column_is_documented(demo_warehouse: BuiltWarehouse) -> None:
    manifest = json.loads((demo_warehouse.build.target_dir / "manifest.json").read_text())
    undocumented = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        if not node["description"].strip():
            undocumented.append(node["name"])
        if node["schema"] == "analytics":
            assert node["columns"], f"{node['name']} declares no columns"
            undocumented += [f"{node['name']}.{name}" for name, column in node["columns"].items()
                             if not column["description"].strip()]
    assert undocumented == []
    exposures = manifest["exposures"].values()
    assert len(exposures) == 3
    kpi_marts = {f"model.deltastore.{name}" for name in KPI_MARTS}
    used = {node for e in exposures for node in e["depends_on"]["nodes"]}
    # the dashboards compute from the filter marts; the older KPI marts stay for the
    # original Tableau workbook and other readers
    assert {f"model.deltastore.{name}" for name in FILTER_MARTS} <= used <= kpi_marts


def test_mart_columns_match_the_yml(demo_warehouse: BuiltWarehouse) -> None:
    manifest = json.loads((demo_warehouse.build.target_dir / "manifest.json").read_text())
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["schema"] != "analytics":
            continue
        actual = [r[0] for r in demo_warehouse.query(
            "select column_name from information_schema.columns "
            "where table_schema = 'analytics' and table_name = ? order by ordinal_position",
            [node["name"]])]
        assert actual == list(node["columns"]), node["name"]


# --- keys and facts -------------------------------------------------------------------


@pytest.mark.parametrize(("mart", "key", "parts"), [
    ("dim_customers", "unified_customer_id", "source_store, customer_id"),
    ("fct_products", "unified_product_id", "source_store, product_id"),
    ("fct_order_customers", "unified_order_id", "source_store, order_id"),
    ("fct_payments", "payment_unique_id", "payment_id"),
    ("fct_reviews", "review_unique_id", "review_id"),
])
def test_keys_equal_dbt_utils_surrogate_keys(demo_warehouse: BuiltWarehouse, mart: str,
                                             key: str, parts: str) -> None:
    rows = demo_warehouse.query(f"select {key}, {parts} from analytics.{mart}")
    assert rows
    assert [r[0] for r in rows] == [surrogate_key(*r[1:]) for r in rows]


def test_known_key_values(demo_warehouse: BuiltWarehouse) -> None:
    (old_customer_1,) = demo_warehouse.query(
        "select unified_customer_id from analytics.dim_customers "
        "where source_store = 'old store' and customer_id = 1")[0]
    assert old_customer_1 == hashlib.md5(b"old store-1", usedforsecurity=False).hexdigest()
    (item_1,) = demo_warehouse.query(
        "select order_item_unique_id from analytics.fct_order_items where order_item_id = 1")[0]
    assert item_1 == hashlib.md5(b"1", usedforsecurity=False).hexdigest()


def test_order_item_keys(demo_warehouse: BuiltWarehouse) -> None:
    rows = demo_warehouse.query(
        "select order_item_unique_id, source_store, order_item_id, order_id, product_id "
        "from analytics.fct_order_items")
    stores = Counter(r[1] for r in rows)
    assert stores["old store"] > 0 and stores["new store"] > 0
    for key, store, item_id, order_id, product_id in rows:
        expected = (surrogate_key(item_id) if store == "old store"
                    else surrogate_key(store, order_id, product_id))
        assert key == expected


def test_fct_reviews_has_one_row_per_review(demo_warehouse: BuiltWarehouse) -> None:
    (raw,) = demo_warehouse.query(
        "select count(*) from old_store.reviews where _deleted_at is null")[0]
    facts, distinct = demo_warehouse.query(
        "select count(*), count(distinct review_id) from analytics.fct_reviews")[0]
    assert raw > 0
    assert facts == distinct == raw
    # joined per store: a review's product key is its legacy product's key
    mismatched = demo_warehouse.query(
        "select review_id from analytics.fct_reviews where unified_product_id is not null "
        "and unified_product_id <> md5('old store-' || product_id)")
    assert mismatched == []


def test_cart_orders_total_quantity_times_price(demo_warehouse: BuiltWarehouse) -> None:
    expected = dict(demo_warehouse.query(
        "select i.cart_id, sum(i.quantity * p.price) from new_store.cart_items i "
        "join new_store.products p on p.id = i.product_id and p._deleted_at is null "
        "join new_store.carts c on c.id = i.cart_id and c._deleted_at is null "
        "where i._deleted_at is null group by i.cart_id"))
    actual = dict(demo_warehouse.query(
        "select order_id, total_price from analytics.fct_order_customers "
        "where source_store = 'new store'"))
    assert actual
    assert actual == {k: Decimal(v).quantize(Decimal("0.01")) for k, v in expected.items()}


def test_legacy_state_codes_parse_cleanly(demo_warehouse: BuiltWarehouse) -> None:
    rows = demo_warehouse.query(
        "select address, city, state_code, state_name from analytics.dim_customers "
        "where source_store = 'old store'")
    assert rows
    for address, city, state_code, state_name in rows:
        assert address.endswith(f", {state_code}")
        assert city == address.split(",")[-2].strip()
        assert state_name


# --- incremental model and snapshots, after changes to the raw data -------------------


def _monthly(path: Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(
            "select month_subscription, nb_monthly_customers "
            "from analytics.fct_monthly_new_customers order by 1").fetchall()


@dataclass(frozen=True)
class ChangedCopy:
    path: Path
    built: list[tuple]            # the model as the session build left it
    rerun: list[tuple]            # after a run with no new data
    incremental: list[tuple]      # after the raw changes and an ordinary run
    from_empty: list[tuple]       # after the mart was emptied and an ordinary run
    full_refresh: list[tuple]     # after a full refresh on the same data
    emptied_month: dt.date        # every order and cart of this month was deleted
    deleted_customer: int
    changed_shipment: int


@pytest.fixture(scope="module")
def changed_copy(demo_warehouse: BuiltWarehouse,
                 tmp_path_factory: pytest.TempPathFactory) -> ChangedCopy:
    """A copy of the warehouse (the changes must not leak into other tests) where a
    customer gets a backdated first order, another customer's orders and a third customer
    vanish, every order of the first month is deleted, and a shipment is delivered; then
    the monthly mart and snapshots rerun, and the mart once more from an empty table."""
    data_dir = tmp_path_factory.mktemp("changed") / "data"
    data_dir.mkdir()
    copy = data_dir / demo_warehouse.path.name
    shutil.copy(demo_warehouse.path, copy)
    settings = Settings.from_env({"DELTASTORE_DATA_DIR": str(data_dir),
                                  "DELTASTORE_RUN_DATE": demo_warehouse.run_date.isoformat()})
    model = "fct_monthly_new_customers"
    built = _monthly(copy)
    run_dbt(settings, "run", select=model, echo=None).raise_for_status()
    rerun = _monthly(copy)

    with duckdb.connect(str(copy)) as connection:
        def one(sql: str) -> int:
            row = connection.execute(sql).fetchone()
            assert row is not None, sql
            return int(row[0])

        latest_customer = one(
            "select customer_id from old_store.orders where _deleted_at is null "
            "group by customer_id order by min(order_date) desc, customer_id limit 1")
        vanished_buyer = one(
            "select customer_id from old_store.orders where _deleted_at is null "
            "group by customer_id order by min(order_date), customer_id limit 1")
        deleted_customer = one("select min(customer_id) from old_store.customers")
        changed_shipment = one("select min(shipment_id) from old_store.shipments "
                               "where lower(trim(shipment_status)) = 'shipped'")
        connection.execute(
            "insert into old_store.orders (order_id, customer_id, order_date, total_price, "
            "updated_at, _loaded_at, _batch_id, _deleted_at) "
            "select max(order_id) + 1, ?, min(order_date), 10, now()::timestamp, "
            "now()::timestamp, 'test', null from old_store.orders", [latest_customer])
        connection.execute("update old_store.orders set _deleted_at = now()::timestamp "
                           "where customer_id = ?", [vanished_buyer])
        connection.execute("update old_store.customers set _deleted_at = now()::timestamp "
                           "where customer_id = ?", [deleted_customer])
        # Every order and cart of the first month is soft-deleted, as the extract does.
        emptied_month = built[0][0]
        for table, column in (("old_store.orders", "order_date"), ("new_store.carts", '"date"')):
            connection.execute(
                f"update {table} set _deleted_at = now()::timestamp where _deleted_at is null "
                f"and date_trunc('month', {column})::date = ?", [emptied_month])
        connection.execute(
            "update old_store.shipments set shipment_status = 'Delivered', "
            "delivery_date = shipment_date + interval 2 day, _loaded_at = now()::timestamp "
            "where shipment_id = ?", [changed_shipment])

    # `+`: the intermediate tables the mart reads are rebuilt from the changed raw data first.
    selection = f"+{model} customers_snapshot shipments_snapshot"
    run_dbt(settings, "build", select=selection, echo=None).raise_for_status()
    incremental = _monthly(copy)
    with duckdb.connect(str(copy)) as connection:
        connection.execute(f"delete from analytics.{model}")
    run_dbt(settings, "run", select=model, echo=None).raise_for_status()
    from_empty = _monthly(copy)
    run_dbt(settings, "run", select=model, full_refresh=True, echo=None).raise_for_status()
    return ChangedCopy(copy, built, rerun, incremental, from_empty, _monthly(copy),
                       emptied_month, deleted_customer, changed_shipment)


def test_monthly_new_customers_equal_a_full_refresh_after_deletions_and_from_empty(
        changed_copy: ChangedCopy) -> None:
    assert changed_copy.built
    assert changed_copy.rerun == changed_copy.built
    assert changed_copy.incremental == changed_copy.full_refresh
    assert changed_copy.from_empty == changed_copy.full_refresh
    assert changed_copy.incremental != changed_copy.built  # the changes did count
    # The month whose every order was deleted has no new customer any more.
    assert changed_copy.built[0][0] == changed_copy.emptied_month
    assert changed_copy.emptied_month not in [m for m, _ in changed_copy.incremental]


def test_snapshots_close_deleted_rows_and_version_changes(changed_copy: ChangedCopy) -> None:
    with duckdb.connect(str(changed_copy.path), read_only=True) as connection:
        versions = connection.execute(
            "select dbt_valid_to from snapshots.customers_snapshot where customer_id = ?",
            [changed_copy.deleted_customer]).fetchall()
        assert len(versions) == 1 and versions[0][0] is not None  # closed, not dropped
        (open_customers,) = connection.execute(
            "select count(*) from snapshots.customers_snapshot where dbt_valid_to is null"
        ).fetchone() or (0,)
        (live_customers,) = connection.execute(
            "select count(*) from staging.stg_old_store__customers").fetchone() or (0,)
        assert open_customers == live_customers
        shipment = connection.execute(
            "select shipment_status, dbt_valid_to is null from snapshots.shipments_snapshot "
            "where shipment_id = ? order by dbt_valid_from",
            [changed_copy.changed_shipment]).fetchall()
        assert shipment == [("Shipped", False), ("Delivered", True)]


def test_snapshot_staging_reads_its_source_and_versions_in_place(
        demo_warehouse: BuiltWarehouse, tmp_path: Path) -> None:
    """The query dbt writes to stage a snapshot, as dbt sends it to DuckDB (its debug log):
    the source and the current versions are `not materialized` (dbt/macros/
    snapshot_staging.sql). A dbt that names its CTEs otherwise leaves the query as it is, and
    this test says so; the snapshot tests above check what the query gives."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copy(demo_warehouse.path, data_dir / demo_warehouse.path.name)
    settings = Settings.from_env({"DELTASTORE_DATA_DIR": str(data_dir),
                                  "DELTASTORE_RUN_DATE": demo_warehouse.run_date.isoformat(),
                                  "DELTASTORE_DBT_LOG_LEVEL_FILE": "debug"})
    run_dbt(settings, "build", select="shipments_snapshot", echo=None).raise_for_status()
    log = (data_dir / "dbt" / "logs" / "dbt.log").read_text()
    start = log.index('create temporary table\n      "shipments_snapshot__dbt_tmp')
    staging = log[start:log.index("select * from deletes", start)]
    assert "with snapshot_query as not materialized (" in staging
    assert "snapshotted_data as not materialized (" in staging
    # Every other CTE keeps DuckDB's choice.
    assert staging.count("not materialized") == 2


# --- KPI marts ------------------------------------------------------------------------


@pytest.mark.parametrize("mart", KPI_MARTS)
def test_kpi_marts_are_not_empty(demo_warehouse: BuiltWarehouse, mart: str) -> None:
    (rows,) = demo_warehouse.query(f"select count(*) from analytics.{mart}")[0]
    assert rows > 0


def test_pipeline_run_row(demo_warehouse: BuiltWarehouse) -> None:
    rows = demo_warehouse.query(
        "select run_date, first_order_date, last_order_date, last_loaded_at "
        "from analytics.kpi_pipeline_run")
    assert len(rows) == 1
    run_date, first, last, loaded = rows[0]
    assert run_date == demo_warehouse.run_date
    assert first <= last <= run_date
    assert isinstance(loaded, dt.datetime)


def test_revenue_agrees_across_marts(demo_warehouse: BuiltWarehouse) -> None:
    q = demo_warehouse.query
    (orders, revenue, customers, ordering) = q(
        "select orders, revenue, customers, ordering_customers "
        "from analytics.kpi_customer_summary")[0]
    (fact_revenue,) = q("select sum(total_price) from analytics.fct_order_customers "
                        "where order_date <= ?", [demo_warehouse.run_date])[0]
    assert revenue == fact_revenue
    assert q("select sum(orders), sum(revenue) from analytics.kpi_monthly_revenue")[0] == (
        orders, revenue)
    assert q("select sum(customers) from analytics.kpi_customer_segments")[0][0] == ordering
    assert q("select sum(customers) from analytics.kpi_customers_by_state")[0][0] == ordering
    assert 0 < ordering <= customers
    by_category = q("select sum(revenue) from analytics.kpi_category_performance")[0][0]
    by_product = q("select sum(revenue) from analytics.kpi_product_performance")[0][0]
    assert by_category == by_product > 0


def test_active_customers_of_any_month_range_are_a_sum(demo_warehouse: BuiltWarehouse) -> None:
    """kpi_active_customers: customers ordering in months a..b = the rows of months a..b
    whose previous order month is NULL or before a; equal to a distinct count over orders."""
    q = demo_warehouse.query
    for first, last in (("2025-01-01", "2025-12-01"), ("2025-06-01", "2025-08-01"),
                        ("2025-12-01", "2025-12-01")):
        (summed,) = q("select sum(customers) from analytics.kpi_active_customers where "
                      "order_month between ? and ? and (previous_order_month is null or "
                      "previous_order_month < ?)", [first, last, first])[0]
        (distinct,) = q("select count(distinct unified_customer_id) from "
                        "analytics.fct_order_customers where unified_customer_id is not null "
                        "and order_date >= ? and order_date < cast(? as date) + interval 1 month "
                        "and order_date <= ?", [first, last, demo_warehouse.run_date])[0]
        assert summed == distinct > 0, (first, last)
    (new,) = q("select sum(customers) from analytics.kpi_active_customers "
               "where previous_order_month is null")[0]
    assert new == q("select ordering_customers from analytics.kpi_customer_summary")[0][0]


def test_shares_and_rates_are_fractions(demo_warehouse: BuiltWarehouse) -> None:
    q = demo_warehouse.query
    assert q("select sum(amount_share) from analytics.kpi_transaction_status")[0][0] == (
        pytest.approx(1.0))
    statuses = {r[0] for r in q("select transaction_status from analytics.kpi_transaction_status")}
    assert statuses <= {"Completed", "Pending", "Failed"}
    retention = q("select months_since_first_order, retention_rate "
                  "from analytics.kpi_cohort_retention")
    assert all(0 <= rate <= 1 for _, rate in retention)
    assert all(rate == 1 for months, rate in retention if months == 0)
    carriers = q("select success_rate, on_time_rate, is_best_carrier, carrier "
                 "from analytics.kpi_carrier_performance order by success_rate desc")
    assert all((s is None or 0 <= s <= 1) and (o is None or 0 <= o <= 1)
               for s, o, _, _ in carriers)
    assert sum(1 for c in carriers if c[2]) == 1
    assert carriers[0][2] or carriers[0][0] == carriers[1][0]


def test_segments_follow_the_run_date(demo_warehouse: BuiltWarehouse) -> None:
    cutoff = dt.date(2025, 6, 30)  # six months before the demo's run date 2025-12-31
    rows = demo_warehouse.query(
        "select first_order_date, last_order_date, segment from analytics.fct_customer_segments")
    for first, last, segment in rows:
        expected = "new" if first >= cutoff else "at-risk" if last < cutoff else "casual"
        assert segment == expected
    assert {r[2] for r in rows} == {"new", "casual", "at-risk"}


def test_monthly_growth_matches_neighbouring_months(demo_warehouse: BuiltWarehouse) -> None:
    rows = demo_warehouse.query(
        "select order_month, revenue, revenue_mom_growth from analytics.kpi_monthly_revenue "
        "order by order_month")
    assert len(rows) >= 2
    assert rows[0][2] is None
    for (month_before, before, _), (month, revenue, growth) in zip(rows, rows[1:], strict=False):
        consecutive = (month_before.year * 12 + month_before.month + 1
                       == month.year * 12 + month.month)
        if consecutive:
            assert growth == pytest.approx(float((revenue - before) / before))
        else:
            assert growth is None


def test_marts_of_an_empty_warehouse_exist_and_are_empty(tmp_path: Path) -> None:
    """No input rows: every mart is still built (the dashboards show an empty state)."""
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    with duckdb.connect(str(warehouse)) as connection:
        for table in ALL_TABLES:
            columns = ", ".join(f"{quote('duckdb', name)} {column_type('duckdb', kind)}"
                                for name, kind in table.columns + LOAD_COLUMNS)
            connection.execute(f"create schema if not exists {table.schema}")
            connection.execute(f"create table {table.qualified_name} ({columns})")
    settings = Settings.from_env({"DELTASTORE_DATA_DIR": str(warehouse.parent),
                                  "DELTASTORE_RUN_DATE": "2025-12-31"})
    run_dbt(settings, "build", select="+path:models/marts/kpi",
            exclude="resource_type:test resource_type:unit_test", echo=None).raise_for_status()
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        counts = {mart: connection.execute(f"select count(*) from analytics.{mart}").fetchone()
                  for mart in KPI_MARTS}
    one_row = {"kpi_pipeline_run", "kpi_customer_summary"}
    assert counts == {mart: (1 if mart in one_row else 0,) for mart in KPI_MARTS}
