"""Pre-flight of the warehouse: SQL Server's answers through the project's ODBC recorder
(shapes and types as in tests/extract/test_extract_preflight.py), and a DuckDB file."""

from __future__ import annotations

from pathlib import Path

import pytest
from odbc_recorder import OdbcRecorder

from deltastore.preflight import WHOAMI_SQL, grants_sql
from deltastore.settings import Settings
from deltastore.transform.preflight import (
    COLUMNSTORE_SQL,
    WAREHOUSE_GRANTS,
    check_warehouse,
    schemas_sql,
)

USER = "deltastore_warehouse"


def answers(odbc: OdbcRecorder, owned: dict[str, int | None], held: int = 1,
            objective: str = "GP_S_Gen5_2", edition: int = 5) -> None:
    odbc.answers.update({
        WHOAMI_SQL: [(USER, USER, "warehouse", "12.0.2000.8", edition,
                      "Latin1_General_100_CS_AS_SC_UTF8")],
        grants_sql(WAREHOUSE_GRANTS): [(USER, held, held, held)],
        schemas_sql(): list(owned.items()),
        COLUMNSTORE_SQL: [(edition, 12 if edition == 5 else 16, objective)],
    })


def settings(tmp_path: Path, columnstore: str = "false") -> Settings:
    return Settings.from_env({"DELTASTORE_DATA_DIR": str(tmp_path),
                              "DELTASTORE_WAREHOUSE_URL": f"mssql://{USER}@wh.example.net/warehouse",
                              "DELTASTORE_WAREHOUSE_PASSWORD": "pw",
                              "DELTASTORE_WAREHOUSE_COLUMNSTORE": columnstore})


def test_a_warehouse_login_that_owns_its_schemas_passes(odbc: OdbcRecorder,
                                                        tmp_path: Path) -> None:
    answers(odbc, {"new_store": 1, "old_store": 1, "meta": 1, "analytics": 1})
    checks = {c.name: c for c in check_warehouse(settings(tmp_path))}
    assert all(c.ok for c in checks.values()), [c.line() for c in checks.values()]
    assert checks["collation"].detail == "Latin1_General_100_CS_AS_SC_UTF8 (case-sensitive)"
    assert checks["grants"].detail == (f"{USER} holds all 3: CREATE SCHEMA, CREATE TABLE, "
                                       "CREATE VIEW")
    assert checks["schemas"].detail == ("owns new_store, old_store, meta, analytics; creates "
                                        "meta_sync, staging, intermediate, seeds, snapshots, "
                                        "dbt_scratch on first use")
    assert "off (DELTASTORE_WAREHOUSE_COLUMNSTORE=false)" in checks["columnstore"].detail
    assert all(s.lstrip().upper().startswith("SELECT") for s in odbc.statements)


def test_a_schema_someone_else_owns_and_missing_grants(odbc: OdbcRecorder,
                                                       tmp_path: Path) -> None:
    answers(odbc, {"meta": 1, "analytics": 0}, held=0)
    failed = {c.name: c for c in check_warehouse(settings(tmp_path)) if not c.ok}
    assert failed["schemas"].fix == f"ALTER AUTHORIZATION ON SCHEMA::[analytics] TO [{USER}];"
    assert failed["grant CREATE VIEW"].fix == f"GRANT CREATE VIEW TO [{USER}];"


@pytest.mark.parametrize(("edition", "objective", "ok"), [
    (5, "S1", False), (5, "Basic", False), (5, "S3", True), (5, "GP_S_Gen5_2", True),
    (3, None, True),
])
def test_columnstore_is_checked_only_when_asked(odbc: OdbcRecorder, tmp_path: Path,
                                                edition: int, objective: str | None,
                                                ok: bool) -> None:
    answers(odbc, {}, edition=edition, objective=objective or "")
    [check] = [c for c in check_warehouse(settings(tmp_path, "true")) if c.name == "columnstore"]
    assert check.ok is ok, check.line()
    if not ok:
        assert check.fix.startswith("set DELTASTORE_WAREHOUSE_COLUMNSTORE=false")


def test_a_duckdb_warehouse_is_a_writable_file(tmp_path: Path) -> None:
    [check] = check_warehouse(Settings.from_env({"DELTASTORE_DATA_DIR": str(tmp_path)}))
    assert check.ok and "is created on first use" in check.detail
