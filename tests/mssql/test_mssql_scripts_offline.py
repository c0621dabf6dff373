"""The helpers of the SQL Server job, checked here where they cannot run for real."""

from __future__ import annotations

import re
from pathlib import Path

import bi_reader
import duckdb
import sqlglot
from odbc_recorder import OdbcRecorder, RecordedConnection

from deltastore.schemas import FREE_TEXT, OLD_STORE_TABLES

HERE = Path(__file__).resolve().parent


def test_old_store_script_moves_every_table_and_retypes_every_timestamp() -> None:
    sql = (HERE / "legacy_old_store.sql").read_text()
    moved = set(re.findall(r"ALTER SCHEMA old_store TRANSFER dbo\.(\w+);", sql))
    retyped = set(re.findall(r"ALTER TABLE old_store\.(\w+) ALTER COLUMN (\w+) DATETIME NULL;",
                             sql))
    assert moved == {t.name for t in OLD_STORE_TABLES}
    assert retyped == {(t.name, c) for t in OLD_STORE_TABLES for c, kind in t.columns
                       if kind == "timestamp"}
    widened = set(re.findall(r"ALTER TABLE old_store\.(\w+) ALTER COLUMN (\w+) "
                             r"NVARCHAR\(MAX\) NULL;", sql))
    assert widened == {(t, c) for s, t, c in FREE_TEXT if s == "old_store"}
    body = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    assert sqlglot.parse(body, read="tsql", error_level=sqlglot.ErrorLevel.RAISE)


LOGINS = ("deltastore_reader", "deltastore_warehouse", "deltastore_sync", "bi_reader")


def test_the_job_creates_four_logins_with_passwords_from_the_environment() -> None:
    sql = (HERE / "logins.sql").read_text()
    created = re.findall(r"^CREATE LOGIN (\w+) WITH PASSWORD = N'\$\((\w+)\)'", sql, re.M)
    assert [login for login, _ in created] == list(LOGINS)
    assert {variable for _, variable in created} == {
        "READER_PASSWORD", "WAREHOUSE_PASSWORD", "SYNC_PASSWORD", "BI_PASSWORD"}
    statements = [line for line in sql.splitlines() if line and not line.startswith("--")]
    assert all(s.startswith("CREATE LOGIN ") for s in statements)  # grants: docs/sql-server


def test_bi_reader_flags_a_visible_shadow_and_counts_every_table() -> None:
    recorder = OdbcRecorder()
    recorder.answers[bi_reader.LIST_TABLES] = [("analytics", "dim_customers"),
                                               ("analytics_sync_stage", "dim_customers")]
    problems = bi_reader.one_round(RecordedConnection(recorder))
    assert problems == ["BI login sees `analytics_sync_stage.dim_customers`"]
    assert "SELECT COUNT_BIG(*) FROM [analytics].[dim_customers]" in recorder.statements


def test_added_column_script_speaks_tsql() -> None:
    import added_column

    for sql in [*added_column.source_statements("[old_store].[customers]"),
                added_column.LANDED_SQL, added_column.RECORDED_SQL]:
        assert sqlglot.parse_one(sql, read="tsql", error_level=sqlglot.ErrorLevel.RAISE)


def test_the_legacy_changes_load_as_the_job_expects(tmp_path: Path,
                                                    loopback_only: None) -> None:
    """The same script on the reference side (a SQLite legacy file, a DuckDB warehouse):
    the long review loads whole, the case twin is a customer of its own, and a change of
    case only reaches the warehouse on the next incremental extract."""
    import legacy_changes

    from deltastore.dburl import DatabaseURL
    from deltastore.extract.demo.legacy_data import generate_legacy_db
    from deltastore.extract.load import run_extract
    from deltastore.settings import Settings

    legacy = f"sqlite://{tmp_path / 'legacy.db'}"
    generate_legacy_db(DatabaseURL.parse(legacy), scale=0.01)
    settings = Settings.from_env({"DELTASTORE_DATA_DIR": str(tmp_path / "data"),
                                  "DELTASTORE_LEGACY_DB_URL": legacy})
    assert legacy_changes.main(["first", legacy]) == 0
    run_extract(settings, source="legacy-db")
    assert legacy_changes.main(["second", legacy]) == 0
    run_extract(settings, source="legacy-db")

    assert settings.warehouse_url.path is not None
    con = duckdb.connect(str(settings.warehouse_url.path), read_only=True)
    names = con.execute("select customer_id, first_name, last_name from old_store.customers "
                        "where customer_id in (1, 2) or customer_id = (select max(customer_id) "
                        "from old_store.customers) order by customer_id").fetchall()
    longest = con.execute("select max(length(review_text)) from old_store.reviews").fetchone()
    con.close()
    (_, first_1, last_1), (_, first_2, _), (_, twin_first, twin_last) = names
    assert (twin_first, twin_last) == (first_1.swapcase(), last_1.swapcase())
    assert first_2 != first_2.swapcase() and first_2 == _source_first_name(tmp_path)
    assert longest == (len(legacy_changes.LONG_REVIEW),)
    assert len(legacy_changes.LONG_REVIEW) > 4000


def _source_first_name(tmp_path: Path) -> str:
    import sqlite3

    with sqlite3.connect(tmp_path / "legacy.db") as con:
        return str(con.execute("select first_name from customers where customer_id = 2")
                   .fetchone()[0])


def test_bi_reader_accepts_an_empty_analytics_only_before_the_first_publish() -> None:
    recorder = OdbcRecorder()
    recorder.answers[bi_reader.LIST_TABLES] = []
    assert bi_reader.one_round(RecordedConnection(recorder)) == [
        "BI login sees no table in `analytics`"]
    assert bi_reader.one_round(RecordedConnection(recorder), empty_ok=True) == []
