"""Schema drift of the legacy DB, on real SQLite and DuckDB files changed as an ERP vendor
would change them, extracted into a real DuckDB warehouse (extract/drift.py).

Each test loads the demo legacy DB once (so the warehouse remembers its columns), changes
the source, and extracts again: a new column lands under `evolve` and is reported once;
`freeze` stops on it, `ignore` leaves it out; a column the contract needs that is missing,
renamed or retyped beyond its raw column stops the source with one message (exit 3); a
change that still fits is reported once; a rerun neither reports again nor loses or
duplicates rows.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from extract_load_helpers import dump_warehouse, warehouse_query

from deltastore.dburl import DatabaseURL
from deltastore.errors import EXIT_DATA, DataError
from deltastore.extract.demo.legacy_data import generate_legacy_db
from deltastore.extract.load import TableResult, format_summary, run_extract
from deltastore.settings import Settings

MakeSettings = Callable[..., Settings]
TEXT = {"sqlite": "TEXT", "duckdb": "VARCHAR"}  # a TEXT column as each catalog declares it


@pytest.fixture(params=["sqlite", "duckdb"])
def legacy(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[str]:
    """The kind of legacy file under test; `duckdb` writes the demo data into a DuckDB one."""
    if request.param == "duckdb":
        generate_legacy_db(DatabaseURL.parse(f"duckdb://{data_dir / 'legacy.duckdb'}"),
                           scale=0.02, seed=42)
    yield request.param


def settings_for(make_settings: MakeSettings, data_dir: Path, kind: str,
                 **overrides: str) -> Settings:
    if kind == "duckdb":
        overrides["legacy_db_url"] = f"duckdb://{data_dir / 'legacy.duckdb'}"
    return make_settings(**overrides)


def change_source(data_dir: Path, kind: str, *statements: str) -> None:
    """Run statements on the legacy file, as its owner would."""
    if kind == "sqlite":
        with sqlite3.connect(data_dir / "legacy.db") as con:
            for statement in statements:
                con.execute(statement)
        return
    con = duckdb.connect(str(data_dir / "legacy.duckdb"))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


def retype_sqlite(data_dir: Path, table: str, column: str, declared: str) -> None:
    """SQLite cannot ALTER a column's type: rebuild the table with the new declaration."""
    with sqlite3.connect(data_dir / "legacy.db") as con:
        [create] = con.execute("SELECT sql FROM sqlite_master WHERE name = ?",
                               (table,)).fetchone()
        new = re.sub(rf"`{column}` [A-Z]+(\(\d+(,\d+)?\))?( NOT NULL)?", f"`{column}` {declared}",
                     create, count=1)
        assert new != create
        con.executescript(f"ALTER TABLE {table} RENAME TO before_change; {new}; "
                          f"INSERT INTO {table} SELECT * FROM before_change; "
                          "DROP TABLE before_change;")


def recorded(data_dir: Path) -> list[tuple[Any, ...]]:
    return warehouse_query(data_dir, "SELECT source, table_name, column_name, change, old_type, "
                               "new_type, policy, action FROM meta.schema_changes ORDER BY 3")


def changes_of(results: list[TableResult]) -> list[tuple[str, str, str, str]]:
    return [(c.table, c.column, c.change, c.action) for r in results for c in r.changes]


def source_count(data_dir: Path, kind: str, table: str) -> int:
    if kind == "sqlite":
        with sqlite3.connect(data_dir / "legacy.db") as con:
            return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    with duckdb.connect(str(data_dir / "legacy.duckdb"), read_only=True) as con:
        row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None
        return int(row[0])


def test_an_added_column_lands_once_with_every_rows_value(
        legacy: str, make_settings: MakeSettings, data_dir: Path, tmp_path: Path) -> None:
    settings = settings_for(make_settings, data_dir, legacy, metrics_dir=str(tmp_path / "m"))
    first = run_extract(settings, "legacy-db")
    assert changes_of(first) == [] and recorded(data_dir) == []
    # Values set on every row without touching updated_at: only a whole read finds them.
    change_source(data_dir, legacy, "ALTER TABLE customers ADD COLUMN loyalty_tier TEXT",
                  "UPDATE customers SET loyalty_tier = CASE WHEN customer_id % 2 = 0 "
                  "THEN 'gold' ELSE 'silver' END")
    second = run_extract(settings, "legacy-db")
    assert changes_of(second) == [
        ("old_store.customers", "loyalty_tier", "added", "landed")]
    assert f"old_store.customers.loyalty_tier: added ({TEXT[legacy]}); evolve: landed" in \
        format_summary(second)
    customers = source_count(data_dir, legacy, "customers")
    assert warehouse_query(data_dir, "SELECT count(*), count(loyalty_tier), count(DISTINCT "
                               "customer_id) FROM old_store.customers") == [
        (customers, customers, customers)]
    assert recorded(data_dir) == [("legacy-db", "old_store.customers", "loyalty_tier", "added",
                                   None, TEXT[legacy], "evolve", "landed")]
    gauge = (tmp_path / "m" / "schema_changes_legacy-db.prom").read_text()
    assert ('deltastore_schema_changes{source="legacy-db",table="old_store.customers",'
            'column="loyalty_tier",change="added",action="landed"} 1') in gauge
    before = dump_warehouse(data_dir / "warehouse.duckdb")
    third = run_extract(settings, "legacy-db")
    assert changes_of(third) == []
    assert "schema changes" not in format_summary(third)
    after = dump_warehouse(data_dir / "warehouse.duckdb")
    assert after["old_store.customers"] == before["old_store.customers"]
    assert after["meta.schema_changes"] == before["meta.schema_changes"]
    assert "deltastore_schema_changes{" not in (
        tmp_path / "m" / "schema_changes_legacy-db.prom").read_text()


def test_a_renamed_column_stops_the_source_with_one_message(
        legacy: str, make_settings: MakeSettings, data_dir: Path) -> None:
    settings = settings_for(make_settings, data_dir, legacy)
    run_extract(settings, "legacy-db")
    change_source(data_dir, legacy, "ALTER TABLE products RENAME COLUMN price TO unit_price")
    before = dump_warehouse(data_dir / "warehouse.duckdb")
    for attempt in (1, 2):  # stops every run, recorded once
        with pytest.raises(DataError) as caught:
            run_extract(settings, "legacy-db")
        assert caught.value.exit_code == EXIT_DATA
        message = str(caught.value)
        assert "`old_store.products` column `price`: missing" in message
        assert ("`product_id`, `product_name`, `category`, `unit_price`, `supplier_id`, "
                "`updated_at`") in message
        assert "`price` is gone and `unit_price` is new with the same type" in message
        assert "nothing was loaded" in message and message.count("\n- ") == 1
        after = dump_warehouse(data_dir / "warehouse.duckdb")
        assert {k: v for k, v in after.items() if k != "meta.schema_changes"} == \
            {k: v for k, v in before.items() if k != "meta.schema_changes"}, attempt
        assert [r[2:4] + r[7:] for r in recorded(data_dir)] == [("price", "missing", "stopped")]


def test_a_dropped_column_stops_the_source(legacy: str, make_settings: MakeSettings,
                                           data_dir: Path) -> None:
    settings = settings_for(make_settings, data_dir, legacy)
    run_extract(settings, "legacy-db")
    change_source(data_dir, legacy, "ALTER TABLE customers DROP COLUMN phone_number")
    with pytest.raises(DataError, match=r"`old_store.customers` column `phone_number`: "
                                        r"missing; the table's columns now are `customer_id`"):
        run_extract(settings, "legacy-db")


def test_a_column_sent_without_its_earlier_source_is_still_read_after_a_fix(
        make_settings: MakeSettings, data_dir: Path) -> None:
    """Renamed back, the table loads again and nothing was lost or doubled meanwhile."""
    settings = make_settings()
    run_extract(settings, "legacy-db")
    change_source(data_dir, "sqlite", "ALTER TABLE products RENAME COLUMN price TO unit_price")
    with pytest.raises(DataError):
        run_extract(settings, "legacy-db")
    change_source(data_dir, "sqlite", "ALTER TABLE products RENAME COLUMN unit_price TO price")
    results = {r.table: r for r in run_extract(settings, "legacy-db")}
    assert all(r.inserted == 0 for r in results.values())
    assert warehouse_query(data_dir, "SELECT count(*) = count(DISTINCT product_id), count(price) "
                               "FROM old_store.products") == [
        (True, source_count(data_dir, "sqlite", "products"))]


SQLITE_RETYPES = [
    # integer -> text: the contract's `int` cannot hold text
    ("customers", "customer_id", "TEXT NOT NULL", "retyped", "INTEGER", "TEXT", "stopped"),
    # decimal precision: 4 decimals would be rounded into DECIMAL(12,2)
    ("products", "price", "DECIMAL(18,4)", "retyped", "NUMERIC", "DECIMAL(18,4)", "stopped"),
    # decimal precision that still fits
    ("products", "price", "DECIMAL(10,2)", "retyped", "NUMERIC", "DECIMAL(10,2)", "accepted"),
    # text length: any length fits `text`
    ("customers", "first_name", "VARCHAR(20)", "retyped", "TEXT", "VARCHAR(20)", "accepted"),
    # nullability
    ("customers", "email", "TEXT NOT NULL", "nullability", "NULL", "NOT NULL", "accepted"),
]


@pytest.mark.parametrize(("table", "column", "declared", "change", "old", "new", "action"),
                         SQLITE_RETYPES, ids=lambda v: str(v))
def test_sqlite_retypes(table: str, column: str, declared: str, change: str, old: str,
                        new: str, action: str, make_settings: MakeSettings,
                        data_dir: Path) -> None:
    settings = make_settings()
    run_extract(settings, "legacy-db")
    retype_sqlite(data_dir, table, column, declared)
    expect_retype(settings, data_dir, f"old_store.{table}", column, change, old, new, action)


DUCKDB_RETYPES = [
    ("ALTER TABLE products ALTER COLUMN price TYPE DECIMAL(18,4)", "products", "price",
     "retyped", "DECIMAL(12,2)", "DECIMAL(18,4)", "stopped"),
    ("ALTER TABLE products ALTER COLUMN price TYPE DECIMAL(10,2)", "products", "price",
     "retyped", "DECIMAL(12,2)", "DECIMAL(10,2)", "accepted"),
    ("ALTER TABLE products ALTER COLUMN supplier_id TYPE VARCHAR", "products", "supplier_id",
     "retyped", "BIGINT", "VARCHAR", "stopped"),
    ("ALTER TABLE suppliers ALTER COLUMN email SET NOT NULL", "suppliers", "email",
     "nullability", "NULL", "NOT NULL", "accepted"),
]


@pytest.mark.parametrize(("statement", "table", "column", "change", "old", "new", "action"),
                         DUCKDB_RETYPES, ids=lambda v: str(v))
def test_duckdb_retypes(statement: str, table: str, column: str, change: str, old: str,
                        new: str, action: str, make_settings: MakeSettings,
                        data_dir: Path) -> None:
    generate_legacy_db(DatabaseURL.parse(f"duckdb://{data_dir / 'legacy.duckdb'}"),
                       scale=0.02, seed=42)
    settings = settings_for(make_settings, data_dir, "duckdb")
    run_extract(settings, "legacy-db")
    change_source(data_dir, "duckdb", statement)
    expect_retype(settings, data_dir, f"old_store.{table}", column, change, old, new, action)


def expect_retype(settings: Settings, data_dir: Path, table: str, column: str, change: str,
                  old: str, new: str, action: str) -> None:
    expected = ("legacy-db", table, column, change, old, new, "evolve", action)
    if action == "stopped":
        with pytest.raises(DataError) as caught:
            run_extract(settings, "legacy-db")
        assert f"`{table}` column `{column}`: now `{new}`; the contract's" in str(caught.value)
        assert recorded(data_dir) == [expected]
        return
    results = run_extract(settings, "legacy-db")
    assert changes_of(results) == [(table, column, change, action)]
    assert recorded(data_dir) == [expected]
    again = run_extract(settings, "legacy-db")  # the columns seen now are remembered
    assert changes_of(again) == [] and recorded(data_dir) == [expected]
    assert all((r.inserted, r.deleted) == (0, 0) for r in again)


def test_freeze_stops_on_a_new_column_with_the_diff(legacy: str, make_settings: MakeSettings,
                                                    data_dir: Path) -> None:
    settings = settings_for(make_settings, data_dir, legacy, schema_changes="freeze")
    run_extract(settings, "legacy-db")
    change_source(data_dir, legacy, "ALTER TABLE customers ADD COLUMN loyalty_tier TEXT")
    before = dump_warehouse(data_dir / "warehouse.duckdb")
    with pytest.raises(DataError) as caught:
        run_extract(settings, "legacy-db")
    assert caught.value.exit_code == EXIT_DATA
    assert (f"`old_store.customers` column `loyalty_tier`: new ({TEXT[legacy]}), and "
            "DELTASTORE_SCHEMA_CHANGES is `freeze`") in str(caught.value)
    after = dump_warehouse(data_dir / "warehouse.duckdb")
    assert after["old_store.customers"] == before["old_store.customers"]
    assert recorded(data_dir) == [("legacy-db", "old_store.customers", "loyalty_tier", "added",
                                   None, TEXT[legacy], "freeze", "stopped")]


def test_ignore_reports_a_new_column_once_and_evolve_lands_it_later(
        legacy: str, make_settings: MakeSettings, data_dir: Path) -> None:
    settings = settings_for(make_settings, data_dir, legacy, schema_changes="ignore")
    run_extract(settings, "legacy-db")
    change_source(data_dir, legacy, "ALTER TABLE customers ADD COLUMN loyalty_tier TEXT",
                  "UPDATE customers SET loyalty_tier = 'gold'")
    assert changes_of(run_extract(settings, "legacy-db")) == [
        ("old_store.customers", "loyalty_tier", "added", "not landed")]
    assert changes_of(run_extract(settings, "legacy-db")) == []
    columns = [c for (c,) in warehouse_query(data_dir, "SELECT column_name FROM "
                                                 "information_schema.columns WHERE table_name "
                                                 "= 'customers'")]
    assert "loyalty_tier" not in columns
    evolve = settings_for(make_settings, data_dir, legacy)
    assert changes_of(run_extract(evolve, "legacy-db")) == [
        ("old_store.customers", "loyalty_tier", "added", "landed")]
    assert warehouse_query(data_dir, "SELECT DISTINCT loyalty_tier FROM old_store.customers") == [
        ("gold",)]
    assert sorted(r[6:] for r in recorded(data_dir)) == [("evolve", "landed"),
                                                         ("ignore", "not landed")]


def test_the_exit_3_message_carries_the_diff_to_the_exit_handler(
        make_settings: MakeSettings, data_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The failed step's message is its pod's termination message (workflows/cli.py), which
    Argo appends to the node message, "main: Error (exit code 3): error: …" (operator.go
    inferFailedReason, as tests/workflows/test_exit_codes.py cites it); `deltastore notify`
    posts that message."""
    from deltastore.workflows import cli
    from deltastore.workflows.argo.notify import Failure, outcome_text

    termination_log = tmp_path / "termination-log"
    termination_log.touch()  # as the kubelet does
    monkeypatch.setattr(cli, "TERMINATION_LOG", termination_log)
    settings = make_settings()
    assert cli.main(["extract", "--source", "legacy-db"], settings) == 0
    change_source(data_dir, "sqlite", "ALTER TABLE products RENAME COLUMN price TO unit_price")
    capsys.readouterr()
    assert cli.main(["extract", "--source", "legacy-db"], settings) == EXIT_DATA
    message = termination_log.read_text()
    assert message.startswith("error: the legacy DB no longer matches its contract")
    assert "`price` is gone and `unit_price` is new" in message
    assert message in capsys.readouterr().err
    posted = outcome_text("deltastore-daily-1", "Failed", [Failure(
        "extract-legacy-db", "Failed", f"main: Error (exit code 3): {message}")])
    assert "`old_store.products` column `price`: missing" in posted


def test_doctor_sees_the_drift_without_loading(make_settings: MakeSettings,
                                               data_dir: Path) -> None:
    from deltastore.extract.drift import legacy_drift

    settings = make_settings()
    assert legacy_drift(settings) == []  # before any load: the contract alone
    run_extract(settings, "legacy-db")
    change_source(data_dir, "sqlite", "ALTER TABLE customers ADD COLUMN loyalty_tier TEXT",
                  "ALTER TABLE products RENAME COLUMN price TO unit_price")
    before = dump_warehouse(data_dir / "warehouse.duckdb")
    found = {(c.table, c.column): c for c in legacy_drift(settings)}
    assert dump_warehouse(data_dir / "warehouse.duckdb") == before
    assert found[("old_store.customers", "loyalty_tier")].action == "landed"
    assert not found[("old_store.customers", "loyalty_tier")].stops
    price = found[("old_store.products", "price")]
    assert price.stops and "renamed?" in price.line()


def test_the_run_summary_and_the_docs_site_list_the_changes(make_settings: MakeSettings,
                                                            data_dir: Path) -> None:
    import datetime as dt

    from deltastore.transform.docs import schema_changes_section
    from deltastore.workflows.runner import schema_changes_found

    settings = make_settings()
    assert "none so far" in schema_changes_section(settings)  # no warehouse yet
    run_extract(settings, "legacy-db")
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    change_source(data_dir, "sqlite", "ALTER TABLE customers ADD COLUMN loyalty_tier TEXT")
    run_extract(settings, "legacy-db")
    assert schema_changes_found(settings, started) == (
        "schema changes found this run (meta.schema_changes):\n"
        "  old_store.customers.loyalty_tier: added (TEXT); evolve: landed (as `text`)")
    assert schema_changes_found(settings, dt.datetime.now(dt.UTC).replace(tzinfo=None)) == ""
    section = schema_changes_section(settings)
    assert section.startswith("### Source schema changes")
    assert ("| legacy-db | old_store.customers | `loyalty_tier` | added |  | TEXT | evolve | "
            "landed: as `text` |") in section


def test_a_new_column_with_an_awkward_name_lands_quoted(make_settings: MakeSettings,
                                                       data_dir: Path) -> None:
    """Column names now come from the source: every statement quotes them."""
    settings = make_settings()
    run_extract(settings, "legacy-db")
    name = "it's \"odd\" `x`"
    quoted = "`" + name.replace("`", "``") + "`"
    change_source(data_dir, "sqlite", f"ALTER TABLE customers ADD COLUMN {quoted} TEXT",
                  f"UPDATE customers SET {quoted} = 'v'")
    assert changes_of(run_extract(settings, "legacy-db")) == [
        ("old_store.customers", name, "added", "landed")]
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        column = '"' + name.replace('"', '""') + '"'
        assert con.execute(f"SELECT DISTINCT {column} FROM old_store.customers").fetchall() \
            == [("v",)]
