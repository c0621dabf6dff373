"""The helpers of the SQL Server job, checked here where they cannot run for real."""

from __future__ import annotations

import re
from pathlib import Path

import bi_reader
import sqlglot
from odbc_recorder import OdbcRecorder, RecordedConnection

from deltastore.schemas import OLD_STORE_TABLES

HERE = Path(__file__).resolve().parent


def test_old_store_script_moves_every_table_and_retypes_every_timestamp() -> None:
    sql = (HERE / "legacy_old_store.sql").read_text()
    moved = set(re.findall(r"ALTER SCHEMA old_store TRANSFER dbo\.(\w+);", sql))
    retyped = set(re.findall(r"ALTER TABLE old_store\.(\w+) ALTER COLUMN (\w+) DATETIME NULL;",
                             sql))
    assert moved == {t.name for t in OLD_STORE_TABLES}
    assert retyped == {(t.name, c) for t in OLD_STORE_TABLES for c, kind in t.columns
                       if kind == "timestamp"}
    body = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    assert sqlglot.parse(body, read="tsql", error_level=sqlglot.ErrorLevel.RAISE)


def test_bi_login_script_grants_only_the_analytics_schema() -> None:
    sql = (HERE / "bi_login.sql").read_text()
    grants = re.findall(r"^GRANT .*$", sql, flags=re.M)
    assert grants == ["GRANT SELECT ON SCHEMA::analytics TO bi_reader;"]
    assert "$(BI_PASSWORD)" in sql  # from the environment, never written here


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
