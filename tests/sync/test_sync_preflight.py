"""Pre-flight of the sync target, and the sync refusing to start without its grants: SQL
Server's answers through the project's ODBC recorder (shapes and types as in
tests/extract/test_extract_preflight.py; COLLATIONPROPERTY's sql_variant is cast to int)."""

from __future__ import annotations

from pathlib import Path

import pytest
from odbc_recorder import OdbcRecorder

from deltastore.errors import ConfigError
from deltastore.preflight import WHOAMI_SQL, grants_sql
from deltastore.settings import Settings
from deltastore.sync import sync_marts
from deltastore.sync.grants import SYNC_TARGET_GRANTS
from deltastore.sync.preflight import (
    CREATE_SCHEMA,
    UTF8_SQL,
    check_sync_target,
    require_grants,
)

USER = "deltastore_sync"
TARGET = f"mssql://{USER}@marts.example.net/marts"


def answers(odbc: OdbcRecorder, held: tuple[int | None, ...] = (1, 1, 1, 1),
            code_page: int | None = 65001, create_schema: int = 0) -> None:
    odbc.answers.update({
        WHOAMI_SQL: [(USER, USER, "marts", "12.0.2000.8", 5,
                      "SQL_Latin1_General_CP1_CI_AS")],
        UTF8_SQL: [(code_page,)],
        grants_sql((*SYNC_TARGET_GRANTS, CREATE_SCHEMA)): [(USER, *held, create_schema)],
    })


def settings(tmp_path: Path) -> Settings:
    return Settings.from_env({"DELTASTORE_DATA_DIR": str(tmp_path),
                              "DELTASTORE_SYNC_TARGET_URL": TARGET,
                              "DELTASTORE_SYNC_TARGET_PASSWORD": "pw"})


def test_a_sync_login_with_the_documented_grants_passes(odbc: OdbcRecorder,
                                                        tmp_path: Path) -> None:
    answers(odbc)
    checks = {c.name: c for c in check_sync_target(settings(tmp_path))}
    assert all(c.ok for c in checks.values()), [c.line() for c in checks.values()]
    assert checks["grants"].detail == (
        f"{USER} holds all 4: CREATE TABLE, CONTROL on schema analytics, CONTROL on schema "
        "analytics_sync_stage, CONTROL on schema analytics_sync_retired")
    assert "Azure SQL Database 12.0.2000.8" in checks["login"].detail


def test_a_revoked_grant_and_a_missing_schema_name_their_fix(odbc: OdbcRecorder,
                                                             tmp_path: Path) -> None:
    answers(odbc, held=(1, 1, None, 0), code_page=None)
    failed = {c.name: c for c in check_sync_target(settings(tmp_path)) if not c.ok}
    assert failed["grant CONTROL on schema analytics_sync_retired"].fix == (
        f"GRANT CONTROL ON SCHEMA::[analytics_sync_retired] TO [{USER}];")
    # NULL: no such schema, or one the login holds nothing on (after a REVOKE it cannot see
    # it): the GRANT either way, and how to make the schema when it is missing.
    stage = failed["grant CONTROL on schema analytics_sync_stage"]
    assert stage.fix.startswith(f"GRANT CONTROL ON SCHEMA::[analytics_sync_stage] TO [{USER}];")
    assert "CREATE SCHEMA [analytics_sync_stage] AUTHORIZATION [dbo]" in stage.fix
    assert "cannot find schema `analytics_sync_stage`" in stage.detail
    assert "SQL Server 2019" in failed["UTF-8 collation"].detail


def test_the_sync_refuses_before_touching_the_target_with_doctors_advice(
        odbc: OdbcRecorder, tmp_path: Path) -> None:
    """The same GRANT that doctor prints, exit 2, and nothing but the check was sent: no
    CREATE, INSERT or ALTER SCHEMA."""
    answers(odbc, held=(1, 1, 1, 0))
    doctor_fix = next(c.fix for c in check_sync_target(settings(tmp_path)) if not c.ok)
    sent_by_doctor = len(odbc.statements)
    with pytest.raises(ConfigError) as caught:
        require_grants(settings(tmp_path).sync_target_url)
    assert caught.value.exit_code == 2
    assert doctor_fix in str(caught.value)
    with pytest.raises(ConfigError, match="GRANT CONTROL ON SCHEMA::\\[analytics_sync_retired"):
        sync_marts(settings(tmp_path), force=True, echo=lambda _: None)
    after = odbc.statements[sent_by_doctor:]
    assert after and all(s.startswith("SELECT USER_NAME(), HAS_PERMS_BY_NAME") for s in after)


def test_a_login_that_may_create_schemas_needs_none_made_for_it(odbc: OdbcRecorder,
                                                                tmp_path: Path) -> None:
    """db_owner (or a test's sa) on an empty database: the sync makes its schemas."""
    answers(odbc, held=(1, None, None, None), create_schema=1)
    checks = {c.name: c for c in check_sync_target(settings(tmp_path))}
    assert all(c.ok for c in checks.values()), [c.line() for c in checks.values()]
    assert checks["schemas"].detail.startswith(
        "analytics, analytics_sync_stage, analytics_sync_retired missing: the sync creates")
    require_grants(settings(tmp_path).sync_target_url)
