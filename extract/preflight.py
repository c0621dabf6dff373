"""Pre-flight checks of the extract's two sources (``deltastore doctor``): read-only.

- The legacy DB: the login, each old-store table judged as the next extract would judge it
  (extract/drift.py: its columns in the catalog against the contract, deltastore/schemas.py,
  and against the columns the last load saw), how it will be read (Change Tracking or the
  ``updated_at`` window), snapshot isolation where Change Tracking needs it, and the grants
  of docs/sql-server/legacy-reader.sql. A SQLite or DuckDB file: that it exists, and its
  tables judged the same way.
- The store API: that it answers ``/products``, ``/users`` and ``/carts`` with records of
  the FakeStore dialect (the first record of each is parsed as the extract parses it).

``table_checks`` is that judgement: one check per table, failing on a change that would
stop the extract, listing the others it would report (a new column, a type that changed
but still fits).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from deltastore.db import connect
from deltastore.errors import DeltaStoreError, first_line
from deltastore.extract.drift import LEGACY_DB, legacy_plans, stop_text
from deltastore.extract.sources import store_records
from deltastore.extract.sources.legacy_catalog import SourceColumn, read_columns
from deltastore.extract.sources.legacy_db import MAKE_DEMO, LegacyReader
from deltastore.extract.sources.store_api import RetryPolicy, StoreApiClient
from deltastore.preflight import (
    Check,
    Grant,
    grant_checks,
    grants_sql,
    query_row,
    query_rows,
    server_checks,
)
from deltastore.schema_changes import SchemaHistory, warehouse_history
from deltastore.schemas import OLD_STORE_TABLES, Table
from deltastore.settings import DEFAULT_STORE_API_PORT, Settings
from deltastore.sql_names import qualified, quote

LEGACY = "legacy DB"
STORE = "store API"

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


def table_checks(settings: Settings, live: Mapping[str, Sequence[SourceColumn]],
                 how_read: Mapping[str, str], prefix: str = "") -> list[Check]:
    """One check per old-store table with columns in ``live`` (the catalog's), judged as the
    next extract would (extract/drift.py) against the contract and the warehouse's memory
    of the last load; nothing is loaded. ``how_read``: per table, how it will be read."""
    checks = []
    try:
        history = warehouse_history(settings.warehouse_url, LEGACY_DB)
    except DeltaStoreError as exc:
        history = SchemaHistory({}, set())
        checks.append(Check(LEGACY, "schema history", True,
                            f"compared with the contract only: {first_line(exc)}"))
    tables = [t for t in OLD_STORE_TABLES if live.get(t.name)]
    for table, changes in legacy_plans(settings, live, history, tables):
        name = f"table {prefix}{table.name}"
        stops = [c for c in changes if c.stops]
        if stops:
            checks.append(Check(LEGACY, name, False, "; ".join(
                f"`{c.column}` {stop_text(c)}" for c in stops), _drift_fix(stops)))
            continue
        detail = f"{len(table.columns)} columns as the contract; {how_read[table.name]}"
        if changes:
            detail += "; the next extract reports " + "; ".join(c.line() for c in changes)
        checks.append(Check(LEGACY, name, True, detail))
    return checks


def _drift_fix(stops: Sequence[Any]) -> str:
    if all(c.change == "added" for c in stops):
        return "set DELTASTORE_SCHEMA_CHANGES to `evolve` (land the column) or `ignore`"
    return ("fix the column in the legacy database, or change the contract "
            "(deltastore/schemas.py) and the staging model; see docs/operations.md, "
            "\"Schema changes\"")


def _how_read(table: Table, tracked: set[str]) -> str:
    return ("read through Change Tracking" if table.name in tracked else
            f"read by the `{table.watermark}` window" if table.watermark else
            "copied whole each run")


def check_legacy(settings: Settings) -> list[Check]:
    url = settings.legacy_db_url
    if url.kind != "mssql":
        return _check_legacy_file(settings)
    return server_checks(LEGACY, url, lambda: connect(url, read_only=True),
                         lambda connection, identity: _legacy_tables(
                             settings, connection, settings.legacy_db_schema, identity.user))


def _legacy_tables(settings: Settings, connection: Any, schema: str,
                   user: str) -> list[Check]:
    live = {t.name: read_columns(connection, "mssql", t.name, schema) for t in OLD_STORE_TABLES}
    tracked = {str(r[0]) for r in query_rows(connection, TRACKED_SQL, (schema,))}
    judged = table_checks(settings, live, {t.name: _how_read(t, tracked)
                                           for t in OLD_STORE_TABLES}, f"{schema}.")
    by_name = {c.name: c for c in judged}
    checks = [c for c in judged if not c.name.startswith("table ")]
    for table in OLD_STORE_TABLES:
        name = f"table {schema}.{table.name}"
        checks.append(by_name.get(name) or Check(
            LEGACY, name, False, "missing, or this login cannot see it",
            f"point DELTASTORE_LEGACY_DB_SCHEMA at the schema holding it, or GRANT SELECT ON "
            f"{qualified('mssql', schema, table.name)} TO {quote('mssql', user)};"))
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
                 f"ALTER DATABASE {quote('mssql', str(database))} SET ALLOW_SNAPSHOT_ISOLATION ON;")


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
            live = reader.catalog(OLD_STORE_TABLES)
    except DeltaStoreError as exc:
        return [Check(LEGACY, "tables", False, first_line(exc), MAKE_DEMO)]
    return [Check(LEGACY, "tables", True, f"`{url}` has the {len(OLD_STORE_TABLES)} old-store "
                                          "tables"),
            *table_checks(settings, live, {t.name: _how_read(t, set())
                                           for t in OLD_STORE_TABLES})]


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

