"""Pre-flight checks of the warehouse (``deltastore doctor``): read-only.

The warehouse login writes everything in the warehouse: the extract's raw schemas and
``meta``, dbt's schemas, and the sync's record ``meta_sync``. It needs the database permissions of
docs/sql-server/warehouse.sql and owns each schema it writes (it creates them on first use),
so every CREATE, ALTER, rename, INSERT and SELECT that dbt-sqlserver and the extract send
inside them is covered by ownership. The checks: login, collation, those grants, ownership
of the schemas that exist already, and columnstore support when
DELTASTORE_WAREHOUSE_COLUMNSTORE asks for it. A DuckDB file: that it can be written.
"""

from __future__ import annotations

from typing import Any

from deltastore.db import connect
from deltastore.preflight import (
    Check,
    Grant,
    Identity,
    grant_checks,
    grants_sql,
    query_row,
    query_rows,
    server_checks,
    writable_file_check,
)
from deltastore.schemas import META, META_SYNC, NEW_STORE, OLD_STORE
from deltastore.settings import Settings
from deltastore.sql_names import literal, quote

WAREHOUSE = "warehouse"

WAREHOUSE_GRANTS: tuple[Grant, ...] = (
    Grant("CREATE SCHEMA", "DATABASE", None,
          "the raw schemas, meta and dbt's schemas are created on first use"),
    Grant("CREATE TABLE", "DATABASE", None, "raw and meta tables; dbt's tables and seeds"),
    Grant("CREATE VIEW", "DATABASE", None, "dbt's views (staging, unit tests)"),
)
# Every schema the warehouse login writes: the extract's, then dbt's (dbt/dbt_project.yml
# `+schema`, and the prod target's own schema in dbt/profiles.yml, where dbt-sqlserver
# creates its unit tests' views). A test keeps this equal to the dbt project.
DBT_SCHEMAS = ("staging", "intermediate", "analytics", "seeds", "snapshots", "dbt_scratch")
# meta_sync: the sync's record of what it published (sync/state.py), written with this login.
WAREHOUSE_SCHEMAS = (NEW_STORE, OLD_STORE, META, META_SYNC, *DBT_SCHEMAS)

# SQL Server 2016 (13.x) SP1 and later have columnstore indexes in every edition; Azure SQL
# Database in every vCore tier and DTU Premium and Standard S3 and above, not in Basic or
# Standard S0-S2 (learn.microsoft.com/sql/relational-databases/indexes/columnstore-indexes-
# overview, "Feature availability").
NO_COLUMNSTORE_OBJECTIVES = frozenset({"Basic", "S0", "S1", "S2"})
COLUMNSTORE_SQL = ("SELECT CAST(SERVERPROPERTY('EngineEdition') AS int), "
                   "CAST(SERVERPROPERTY('ProductMajorVersion') AS int), "
                   "CAST(DATABASEPROPERTYEX(DB_NAME(), 'ServiceObjective') AS nvarchar(128))")


def schemas_sql() -> str:
    """Which of the warehouse schemas exist (and are visible), and whether the login has
    CONTROL on each, which its owner has."""
    names = ", ".join(literal(s, national=True) for s in WAREHOUSE_SCHEMAS)
    return (f"SELECT name, HAS_PERMS_BY_NAME(name, 'SCHEMA', 'CONTROL') FROM sys.schemas "
            f"WHERE name IN ({names})")


def check_warehouse(settings: Settings) -> list[Check]:
    url = settings.warehouse_url
    if url.kind != "mssql":
        return [writable_file_check(WAREHOUSE, url)]

    def body(connection: Any, identity: Identity) -> list[Check]:
        return [*grant_checks(WAREHOUSE, WAREHOUSE_GRANTS,
                              query_row(connection, grants_sql(WAREHOUSE_GRANTS))),
                _schemas(connection, identity),
                _columnstore(connection, settings.warehouse_columnstore)]

    return server_checks(WAREHOUSE, url, lambda: connect(url), body)


def _schemas(connection: Any, identity: Identity) -> Check:
    rows = {str(name): control for name, control in query_rows(connection, schemas_sql())}
    foreign = [name for name, control in rows.items() if control != 1]
    created = [s for s in WAREHOUSE_SCHEMAS if s not in rows]
    if foreign:
        return Check(WAREHOUSE, "schemas", False,
                     f"{identity.user} does not own {', '.join(foreign)}, which it writes",
                     " ".join(f"ALTER AUTHORIZATION ON SCHEMA::{quote('mssql', s)} TO "
                              f"{quote('mssql', identity.user)};" for s in foreign))
    detail = f"owns {', '.join(rows) or 'none yet'}"
    if created:
        detail += f"; creates {', '.join(created)} on first use"
    return Check(WAREHOUSE, "schemas", True, detail)


def _columnstore(connection: Any, wanted: bool) -> Check:
    name = "columnstore"
    if not wanted:
        return Check(WAREHOUSE, name, True, "off (DELTASTORE_WAREHOUSE_COLUMNSTORE=false): "
                                            "dbt builds plain tables, on every tier")
    edition, major, objective = query_row(connection, COLUMNSTORE_SQL)
    fix = ("set DELTASTORE_WAREHOUSE_COLUMNSTORE=false (chart: config.warehouseColumnstore), "
           "or move the database to a tier with columnstore")
    if int(edition) == 5 and str(objective) in NO_COLUMNSTORE_OBJECTIVES:
        return Check(WAREHOUSE, name, False, f"asked for, but Azure SQL service objective "
                                             f"{objective} has no columnstore indexes", fix)
    if int(edition) not in (5, 8) and (major or 0) < 13:
        return Check(WAREHOUSE, name, False, f"asked for, but SQL Server {major} is older "
                                             "than 2016 (13.x)", fix)
    return Check(WAREHOUSE, name, True, "on: supported here"
                 + (f" (service objective {objective})" if int(edition) == 5 else ""))
