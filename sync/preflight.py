"""Pre-flight checks of the sync target (``deltastore doctor``, and the sync before it starts).

On SQL Server / Azure SQL: the login, the collation, the UTF-8 collation the content checksum
converts text with (sync/statements.py: SQL Server 2019+ and Azure SQL), and every permission
of sync/grants.py, each missing one with the GRANT that fixes it. A DuckDB target: that the
file can be written. Read-only: SELECTs of permission functions and properties.
"""

from __future__ import annotations

from typing import Any

from deltastore.db import connect
from deltastore.dburl import DatabaseURL
from deltastore.errors import ConfigError
from deltastore.preflight import (
    Check,
    Grant,
    grant_checks,
    grants_sql,
    query_row,
    server_checks,
    writable_file_check,
)
from deltastore.settings import Settings
from deltastore.sql_names import quote
from deltastore.sync.grants import SYNC_TARGET_GRANTS

TARGET = "sync target"
SCRIPT = "docs/sql-server/sync-target.sql"
# COLLATIONPROPERTY returns sql_variant, which pyodbc cannot read: cast it.
UTF8_SQL = "SELECT CAST(COLLATIONPROPERTY(N'Latin1_General_100_BIN2_UTF8', 'CodePage') AS int)"


def check_sync_target(settings: Settings) -> list[Check]:
    url = settings.sync_target_url
    if url.kind != "mssql":
        return [writable_file_check(TARGET, url)]
    return server_checks(TARGET, url, lambda: connect(url),
                         lambda connection, _: [_utf8(connection), *grant_checks_of(connection)])


# A login that may create schemas (db_owner, a test's sa) makes the missing ones itself and
# then owns them: for it a missing schema is no missing grant.
CREATE_SCHEMA = Grant("CREATE SCHEMA", "DATABASE", None, "creates a missing schema")


def grant_checks_of(connection: Any) -> list[Check]:
    """The sync's grants (sync/grants.py) on an open target connection."""
    row = query_row(connection, grants_sql((*SYNC_TARGET_GRANTS, CREATE_SCHEMA)))
    *held, can_create = row[1:]
    created = [g.securable for g, value in zip(SYNC_TARGET_GRANTS, held, strict=True)
               if value is None and g.securable_class == "SCHEMA" and can_create == 1]
    held = [1 if g.securable in created else value
            for g, value in zip(SYNC_TARGET_GRANTS, held, strict=True)]
    checks = grant_checks(TARGET, SYNC_TARGET_GRANTS, (row[0], *held), _missing_schema)
    if created:
        checks.append(Check(TARGET, "schemas", True,
                            f"{', '.join(map(str, created))} missing: the sync creates them "
                            f"(its login holds CREATE SCHEMA) and owns them"))
    return checks


def require_grants(url: DatabaseURL) -> None:
    """Raise ConfigError naming every GRANT the sync lacks on ``url``, before the sync
    creates, copies or moves anything: the same advice ``deltastore doctor`` prints."""
    connection = connect(url)
    try:
        missing = [c for c in grant_checks_of(connection) if not c.ok]
    finally:
        connection.close()
    if missing:
        raise ConfigError(
            f"the sync's login lacks what publishing to `{url}` needs: "
            + "; ".join(f"{c.name}: {c.detail}; fix: {c.fix}" for c in missing)
            + " (docs/sql-server.md, Logins and grants; `deltastore doctor` checks them all)")


def _missing_schema(grant: Grant, principal: str) -> str:
    assert grant.securable is not None
    return (f"{grant.statement(principal)} (if the schema is missing, first CREATE SCHEMA "
            f"{quote('mssql', grant.securable)} AUTHORIZATION [dbo]; {SCRIPT} does both)")


def _utf8(connection: Any) -> Check:
    """The checksum converts text to a UTF-8 collated varchar: SQL Server 2019+, Azure SQL."""
    row = query_row(connection, UTF8_SQL)
    if row is not None and row[0] is not None and int(row[0]) == 65001:
        return Check(TARGET, "UTF-8 collation", True,
                     "Latin1_General_100_BIN2_UTF8 available for the content checksum")
    return Check(TARGET, "UTF-8 collation", False,
                 "Latin1_General_100_BIN2_UTF8 is unknown here: the sync's content checksum "
                 "needs SQL Server 2019 or later, or Azure SQL",
                 "publish to SQL Server 2019+ or Azure SQL")
