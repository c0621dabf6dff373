"""Pre-flight of the extract's sources: the legacy DB on SQL Server (its real result shapes
fed through the project's ODBC recorder), a SQLite legacy file, and the store API on loopback
(the demo store, and a server that speaks another dialect).

What SQL Server answers, and in which Python types pyodbc hands it over: SUSER_SNAME,
USER_NAME and DB_NAME are nvarchar (str); the SERVERPROPERTY and DATABASEPROPERTYEX values
are cast in the query (sql_variant is not readable by pyodbc); HAS_PERMS_BY_NAME is int, 1
or 0, NULL for a securable that does not exist; sys.databases.snapshot_isolation_state is
tinyint (1 = ON); sys.tables.name is sysname; sys.columns gives name (sysname), max_length
(smallint, bytes: an nvarchar(n) is 2n), precision and scale (tinyint), is_nullable (bit,
a bool) (learn.microsoft.com/sql: has-perms-by-name-transact-sql, sys-databases-transact-sql,
sys-columns-transact-sql).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from loopback_http import json_server
from odbc_recorder import IDENTITY_CLIENT_ID, FakeManagedIdentityCredential, OdbcRecorder

from deltastore.dburl import DatabaseURL
from deltastore.extract.demo.legacy_data import generate_legacy_db
from deltastore.extract.demo.store_server import DemoStore
from deltastore.extract.preflight import (
    SNAPSHOT_SQL,
    TRACKED_SQL,
    check_legacy,
    check_store_api,
    legacy_grants,
)
from deltastore.extract.sources.legacy_catalog import CATALOG_SQL
from deltastore.preflight import WHOAMI_SQL, grants_sql
from deltastore.schemas import OLD_STORE_TABLES
from deltastore.settings import Settings

SCHEMA = "old_store"
USER = "deltastore_reader"
# sys.columns rows (type, max_length, precision, scale) of the types the original shop's
# legacy database has (tests/mssql/legacy_old_store.sql).
MSSQL_TYPES = {"int": ("int", 4, 10, 0), "text": ("nvarchar", 200, 0, 0),
               "money": ("decimal", 9, 12, 2), "timestamp": ("datetime", 8, 23, 3),
               "float": ("float", 8, 53, 0), "date": ("date", 3, 10, 0),
               "bool": ("bit", 1, 1, 0)}
SysColumn = tuple[str, str, int, int, int, bool]


def sys_columns(t: Any) -> list[SysColumn]:
    return [(c, *MSSQL_TYPES[k], c not in t.primary_key) for c, k in t.columns]


def legacy_answers(odbc: OdbcRecorder, tracked: tuple[str, ...] = ("customers", "orders"),
                   snapshot: int = 1, grants_held: int = 1,
                   columns: dict[str, list[SysColumn]] | None = None) -> None:
    rows = columns if columns is not None else {t.name: sys_columns(t) for t in OLD_STORE_TABLES}
    odbc.answers.update({
        WHOAMI_SQL: [(USER, USER, "legacy", "16.0.4135.4", 3, "SQL_Latin1_General_CP1_CI_AS")],
        TRACKED_SQL: [(name,) for name in tracked],
        SNAPSHOT_SQL: [(snapshot, "legacy")],
    })
    plain = odbc.answer

    def answer(sql: str) -> list[tuple[Any, ...]] | None:
        """sys.columns of the table named by the statement's parameter, `[schema].[table]`."""
        if sql == CATALOG_SQL["mssql"]:
            return rows.get(str(odbc.executed[-1][1][0]).split(".")[-1].strip("[]"), [])
        return plain(sql)

    odbc.answer = answer  # type: ignore[method-assign]
    grants = legacy_grants(SCHEMA, tracked=sorted(tracked))
    odbc.answers[grants_sql(grants)] = [(USER, *[grants_held] * len(grants))]


def settings(tmp_path: Path, legacy: str = f"mssql://{USER}@sql.example.net/legacy",
             **extra: str) -> Settings:
    return Settings.from_env({"DELTASTORE_DATA_DIR": str(tmp_path),
                              "DELTASTORE_LEGACY_DB_URL": legacy,
                              "DELTASTORE_LEGACY_DB_PASSWORD": "S3cret-reader",
                              "DELTASTORE_LEGACY_DB_SCHEMA": SCHEMA, **extra})


def lines(checks: list[Any]) -> list[str]:
    return [c.line() for c in checks]


def test_a_legacy_db_as_the_contract_wants_passes(odbc: OdbcRecorder, tmp_path: Path) -> None:
    legacy_answers(odbc)
    checks = check_legacy(settings(tmp_path))
    assert all(c.ok for c in checks), lines(checks)
    text = "\n".join(lines(checks))
    assert f"login: {USER} as user {USER} in legacy (SQL login; SQL Server 16.0.4135.4)" in text
    assert "table old_store.customers: 8 columns as the contract; read through Change " \
           "Tracking" in text
    assert "table old_store.products: 6 columns as the contract; read by the `updated_at` " \
           "window" in text
    assert "table old_store.payment: 5 columns as the contract; copied whole each run" in text
    assert "snapshot isolation: allowed (Change Tracking reads customers, orders)" in text
    assert "grants: deltastore_reader holds all 10" in text
    assert "S3cret-reader" not in text
    # Read-only: every statement sent is a SELECT.
    assert all(s.lstrip().upper().startswith("SELECT") for s in odbc.statements)


def test_each_legacy_problem_names_its_fix(odbc: OdbcRecorder, tmp_path: Path) -> None:
    columns = {t.name: sys_columns(t) for t in OLD_STORE_TABLES}
    del columns["reviews"]
    columns["products"] = [("price", "varchar", 20, 0, 0, True) if c[0] == "price" else c
                           for c in columns["products"] if c[0] != "supplier_id"]
    legacy_answers(odbc, snapshot=0, grants_held=0, columns=columns)
    failed = {c.name: c for c in check_legacy(settings(tmp_path)) if not c.ok}
    assert failed["table old_store.reviews"].fix == (
        "point DELTASTORE_LEGACY_DB_SCHEMA at the schema holding it, or GRANT SELECT ON "
        "[old_store].[reviews] TO [deltastore_reader];")
    assert failed["table old_store.products"].detail == (
        "`price` now `varchar(20)`; the contract's `money` column cannot hold it: "
        "`varchar(20)` is not a decimal type; `supplier_id` missing; the table's columns now "
        "are `product_id`, `product_name`, `category`, `price`, `updated_at`")
    assert failed["table old_store.products"].fix.startswith(
        "fix the column in the legacy database, or change the contract")
    assert failed["snapshot isolation"].fix == (
        "ALTER DATABASE [legacy] SET ALLOW_SNAPSHOT_ISOLATION ON;")
    assert failed["grant VIEW CHANGE TRACKING on object old_store.orders"].fix == (
        "GRANT VIEW CHANGE TRACKING ON [old_store].[orders] TO [deltastore_reader];")
    assert "grant VIEW CHANGE TRACKING on object old_store.products" not in failed  # not tracked


def test_a_managed_identity_login_says_whose_token_and_for_how_long(
        odbc: OdbcRecorder, tmp_path: Path) -> None:
    FakeManagedIdentityCredential.expires_on = int(time.time()) + 47 * 60 + 30
    legacy_answers(odbc)
    url = f"mssql://{IDENTITY_CLIENT_ID}@sql.example.net/legacy?authentication=ActiveDirectoryMsi"
    [login] = [c for c in check_legacy(settings(tmp_path, url)) if c.name == "login"]
    assert login.ok
    assert f"user-assigned managed identity `{IDENTITY_CLIENT_ID}` (appid={IDENTITY_CLIENT_ID}" \
        in login.detail
    assert "userAssignedIdentities/deltastore-pipeline" in login.detail
    assert "token valid 47 more minutes (until " in login.detail


def test_drift_is_judged_as_the_next_extract_would(odbc: OdbcRecorder,
                                                   tmp_path: Path) -> None:
    """The same detection as the extract (extract/drift.py): a money column is a decimal of
    at most 2 decimals, a new column is reported (and would land under `evolve`), and with
    `freeze` it fails with the setting that lets it through."""
    columns = {t.name: sys_columns(t) for t in OLD_STORE_TABLES}
    columns["orders"] = [("total_price", "money", 8, 19, 4, True) if c[0] == "total_price"
                         else c for c in columns["orders"]]
    columns["customers"] = columns["customers"] + [("loyalty_tier", "nvarchar", 40, 0, 0, True)]
    legacy_answers(odbc, columns=columns)
    checks = {c.name: c for c in check_legacy(settings(tmp_path))}
    assert not checks["table old_store.orders"].ok
    assert "`total_price` now `money`; the contract's `money` column cannot hold it: " \
           "`money` keeps 4 decimals" in checks["table old_store.orders"].detail
    customers = checks["table old_store.customers"]
    assert customers.ok and customers.detail.endswith(
        "the next extract reports old_store.customers.loyalty_tier: added (nvarchar(20)); "
        "evolve: landed (as `text`)")
    frozen = {c.name: c for c in check_legacy(settings(tmp_path,
                                                       DELTASTORE_SCHEMA_CHANGES="freeze"))}
    assert not frozen["table old_store.customers"].ok
    assert frozen["table old_store.customers"].fix == (
        "set DELTASTORE_SCHEMA_CHANGES to `evolve` (land the column) or `ignore`")


def test_a_sqlite_legacy_file(tmp_path: Path) -> None:
    legacy = tmp_path / "shop.db"
    url = f"sqlite://{legacy}"
    [missing] = check_legacy(settings(tmp_path, url))
    assert not missing.ok and "does not exist" in missing.detail
    generate_legacy_db(DatabaseURL.parse(url), scale=0.01)
    tables, *each = check_legacy(settings(tmp_path, url))
    assert tables.ok and "has the 8 old-store tables" in tables.detail
    assert [c.name for c in each] == [f"table {t.name}" for t in OLD_STORE_TABLES]
    assert all(c.ok and "columns as the contract" in c.detail for c in each)
    # The embedded default that `deltastore demo` creates is fine before it exists.
    [default] = check_legacy(Settings.from_env({"DELTASTORE_DATA_DIR": str(tmp_path / "d")}))
    assert default.ok and "creates it" in default.detail


def test_the_demo_store_answers_in_the_fakestore_dialect(tmp_path: Path,
                                                         loopback_only: None) -> None:
    with DemoStore(scale=0.01) as store:
        checks = check_store_api(settings(tmp_path, DELTASTORE_STORE_API_URL=store.url))
        requests = list(store.requests)
    assert [(c.name, c.ok) for c in checks] == [("/products", True), ("/users", True),
                                                ("/carts", True)]
    assert sorted(requests) == ["/carts?limit=1&offset=0", "/products?limit=1&offset=0",
                                "/users?limit=1&offset=0"]


@pytest.fixture
def other_api(loopback_only: None) -> Iterator[str]:
    """An API on loopback that answers JSON records of another shape."""
    with json_server(lambda path: [{"sku": "A-1", "name": "Mug"}]) as (url, _):
        yield url


def test_an_api_of_another_dialect_fails(tmp_path: Path, other_api: str) -> None:
    checks = check_store_api(settings(tmp_path, DELTASTORE_STORE_API_URL=other_api))
    assert [c.ok for c in checks] == [False, False, False]
    assert checks[0].detail == "the first record is not a FakeStore record: `rating` is missing"


def test_an_unreachable_configured_api_fails_but_the_idle_demo_store_does_not(
        tmp_path: Path, closed_port: int, loopback_only: None) -> None:
    configured = check_store_api(settings(
        tmp_path, DELTASTORE_STORE_API_URL=f"http://127.0.0.1:{closed_port}/api"))
    assert not configured[0].ok and "DELTASTORE_STORE_API_URL" in configured[0].fix
    [idle] = check_store_api(Settings.from_env({"DELTASTORE_DATA_DIR": str(tmp_path),
                                                "DELTASTORE_STORE_API_URL":
                                                "http://127.0.0.1:8765"}))
    assert idle.ok and "not running" in idle.detail
