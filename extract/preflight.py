"""Pre-flight checks of the extract's two sources (``deltastore doctor``): read-only.

- The legacy DB: the login, each old-store table with the columns and types of the contract
  (deltastore/schemas.py), how it will be read (Change Tracking or the ``updated_at``
  window), snapshot isolation where Change Tracking needs it, and the grants of
  docs/sql-server/legacy-reader.sql. A SQLite or DuckDB file: that it exists and has the
  tables and columns.
- The store API: that it answers ``/products``, ``/users`` and ``/carts`` with records of
  the FakeStore dialect (the first record of each is parsed as the extract parses it).

``table_contract_problems`` compares one table's columns with the contract; it is where a
schema-drift report plugs in (one problem per column that is missing or of another type).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from deltastore.db import connect
from deltastore.errors import DeltaStoreError, first_line
from deltastore.extract.sources import store_records
from deltastore.extract.sources.legacy_db import MAKE_DEMO, LegacyReader
from deltastore.extract.sources.store_api import RetryPolicy, StoreApiClient
from deltastore.preflight import (
    Check,
    Grant,
    grant_checks,
    grants_sql,
    query_row,
    query_rows,
    quote,
    server_checks,
)
from deltastore.schemas import OLD_STORE_TABLES, Table
from deltastore.settings import DEFAULT_STORE_API_PORT, Settings

LEGACY = "legacy DB"
STORE = "store API"

# SQL Server data types that hold each logical type of the contract without loss.
CONTRACT_TYPES: dict[str, frozenset[str]] = {
    "int": frozenset({"tinyint", "smallint", "int", "bigint"}),
    "text": frozenset({"char", "varchar", "nchar", "nvarchar", "text", "ntext"}),
    "money": frozenset({"decimal", "numeric", "money", "smallmoney"}),
    "float": frozenset({"float", "real", "decimal", "numeric"}),
    "date": frozenset({"date", "datetime", "datetime2", "smalldatetime"}),
    # The incremental read binds the watermark as one of these (mssql_watermark.py).
    "timestamp": frozenset({"datetime", "datetime2", "smalldatetime", "datetimeoffset"}),
    "bool": frozenset({"bit"}),
}

COLUMNS_SQL = ("SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM INFORMATION_SCHEMA.COLUMNS "
               "WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION")
TRACKED_SQL = ("SELECT t.name FROM sys.change_tracking_tables AS ct "
               "INNER JOIN sys.tables AS t ON t.object_id = ct.object_id "
               "WHERE SCHEMA_NAME(t.schema_id) = ?")
# The connected database is always visible in sys.databases, whatever the login.
SNAPSHOT_SQL = ("SELECT snapshot_isolation_state, name FROM sys.databases "
                "WHERE database_id = DB_ID()")


def legacy_grants(schema: str, tables: Sequence[Table] = OLD_STORE_TABLES,
                  tracked: Sequence[str] | None = None) -> tuple[Grant, ...]:
    """SELECT on every table the extract reads; VIEW CHANGE TRACKING on those read through
    Change Tracking (``tracked``; None: all, as docs/sql-server/legacy-reader.sql grants)."""
    select = tuple(Grant("SELECT", "OBJECT", f"{schema}.{t.name}", "the extract reads it")
                   for t in tables)
    view = tuple(Grant("VIEW CHANGE TRACKING", "OBJECT", f"{schema}.{t.name}",
                       "reading CHANGETABLE(CHANGES …)")
                 for t in tables if tracked is None or t.name in tracked)
    return select + view


def table_contract_problems(table: Table, found: Mapping[str, str]) -> list[str]:
    """What differs between a legacy table's columns (name -> SQL Server data type) and
    the contract: a missing column, or a type that cannot hold the logical type."""
    problems = []
    for column, logical in table.columns:
        data_type = found.get(column)
        if data_type is None:
            problems.append(f"no column `{column}`")
        elif data_type.lower() not in CONTRACT_TYPES[logical]:
            allowed = ", ".join(sorted(CONTRACT_TYPES[logical]))
            problems.append(f"`{column}` is {data_type}, the contract's {logical} needs one "
                            f"of {allowed}")
    return problems


def check_legacy(settings: Settings) -> list[Check]:
    url = settings.legacy_db_url
    if url.kind != "mssql":
        return _check_legacy_file(settings)
    return server_checks(LEGACY, url, lambda: connect(url, read_only=True),
                         lambda connection, identity: _legacy_tables(
                             connection, settings.legacy_db_schema, identity.user))


def _legacy_tables(connection: Any, schema: str, user: str) -> list[Check]:
    found: dict[str, dict[str, str]] = {}
    for table, column, data_type in query_rows(connection, COLUMNS_SQL, (schema,)):
        found.setdefault(str(table), {})[str(column)] = str(data_type)
    tracked = {str(r[0]) for r in query_rows(connection, TRACKED_SQL, (schema,))}
    checks = []
    for table in OLD_STORE_TABLES:
        name = f"table {schema}.{table.name}"
        if table.name not in found:
            checks.append(Check(LEGACY, name, False, "missing, or this login cannot see it",
                                f"point DELTASTORE_LEGACY_DB_SCHEMA at the schema holding it, "
                                f"or GRANT SELECT ON {quote(schema)}.{quote(table.name)} TO "
                                f"{quote(user)};"))
            continue
        problems = table_contract_problems(table, found[table.name])
        read = ("read through Change Tracking" if table.name in tracked else
                f"read by the `{table.watermark}` window" if table.watermark else
                "copied whole each run")
        if problems:
            checks.append(Check(LEGACY, name, False, "; ".join(problems),
                                "fix the column in the legacy database, or point "
                                "DELTASTORE_LEGACY_DB_SCHEMA at the old store's tables"))
        else:
            checks.append(Check(LEGACY, name, True,
                                f"{len(table.columns)} columns as the contract; {read}"))
    if tracked:
        checks.append(_snapshot_isolation(connection, sorted(tracked)))
    grants = legacy_grants(schema, tracked=sorted(tracked))
    return checks + grant_checks(LEGACY, grants, query_row(connection, grants_sql(grants)))


def _snapshot_isolation(connection: Any, tracked: list[str]) -> Check:
    """Change Tracking reads run in one snapshot transaction (change_tracking.py)."""
    state, database = query_row(connection, SNAPSHOT_SQL)
    if int(state) == 1:
        return Check(LEGACY, "snapshot isolation", True,
                     f"allowed (Change Tracking reads {', '.join(tracked)})")
    return Check(LEGACY, "snapshot isolation", False,
                 f"not allowed, and {', '.join(tracked)} are read through Change Tracking "
                 "in a snapshot transaction",
                 f"ALTER DATABASE {quote(str(database))} SET ALLOW_SNAPSHOT_ISOLATION ON;")


def _check_legacy_file(settings: Settings) -> list[Check]:
    url = settings.legacy_db_url
    assert url.path is not None
    if not url.path.exists():
        if url.path == settings.data_dir / "legacy.db":  # the embedded default
            return [Check(LEGACY, "file", True, f"the demo legacy DB `{url.path}` does not "
                          "exist yet: `deltastore demo` (or `deltastore demo-data legacy`) "
                          "creates it")]
        return [Check(LEGACY, "file", False, f"`{url.path}` does not exist",
                      f"{MAKE_DEMO}, or set DELTASTORE_LEGACY_DB_URL to the old store's "
                      "database")]
    try:
        with LegacyReader(url, schema=settings.legacy_db_schema) as reader:
            reader.check_tables(OLD_STORE_TABLES)
    except DeltaStoreError as exc:
        return [Check(LEGACY, "tables", False, first_line(exc), MAKE_DEMO)]
    return [Check(LEGACY, "tables", True, f"`{url}` has the {len(OLD_STORE_TABLES)} old-store "
                                          "tables with their columns")]


# --- the store API ---------------------------------------------------------------------------

ENDPOINTS = {"products": store_records.product_row, "users": store_records.user_row,
             "carts": store_records.cart_rows}


def check_store_api(settings: Settings) -> list[Check]:
    """One request per endpoint (no retry), its first record parsed as the extract does."""
    url = settings.store_api_url
    demo = url == f"http://127.0.0.1:{DEFAULT_STORE_API_PORT}"
    client = StoreApiClient(url, timeout=min(settings.http_timeout, 10.0),
                            retry=RetryPolicy(attempts=1))
    checks: list[Check] = []
    with client:
        for endpoint, parse in ENDPOINTS.items():
            name = f"/{endpoint}"
            try:
                _, page = client.get_page(endpoint, {"limit": 1, "offset": 0})
            except DeltaStoreError as exc:
                if demo and not checks:
                    return [Check(STORE, "demo store", True,
                                  f"not running at {url} (`deltastore demo` starts it; "
                                  "`deltastore demo-store serve` runs it alone)")]
                checks.append(Check(STORE, name, False, first_line(exc),
                                    "set DELTASTORE_STORE_API_URL to a FakeStore-compatible "
                                    "API that this pod can reach"))
                continue
            problem = _first_record_problem(page.first, parse)
            checks.append(Check(STORE, name, problem is None,
                                problem or f"answers in the FakeStore dialect ({url})",
                                "" if problem is None else "point DELTASTORE_STORE_API_URL "
                                "at a FakeStore-compatible API"))
    return checks


def _first_record_problem(record: Any, parse: Any) -> str | None:
    if record is None:
        return "answered an empty list: nothing to check the records against"
    try:
        parse(record)
    except store_records.BadRecord as exc:
        return f"the first record is not a FakeStore record: {exc}"
    return None

