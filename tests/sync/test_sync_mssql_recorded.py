"""The sync to a SQL Server target, offline: every statement it sends, in order, parsed as
T-SQL, for a first publish and an incremental one.

``pyodbc.connect`` is replaced by a stand-in server (built on tests/odbc_recorder.py) that
records each statement with its parameters and answers what the sync asks from what it was
sent: the tables created, moved and dropped, the publish marker, and for a table's row
count and checksum, the warehouse's own (it holds what the sync put there; whether T-SQL
and DuckDB compute the same checksum is tested on real DuckDB here and on a real SQL
Server in mssql.yml). Real DuckDB warehouse, real sync code.
"""

from __future__ import annotations

import re
from typing import Any

import duckdb
import pytest
import sqlglot
from odbc_recorder import OdbcRecorder, RecordedConnection, RecordedCursor
from published import contents
from shop_data import DAY, change

from deltastore.db import connect
from deltastore.errors import ConfigError, TransientError
from deltastore.settings import Settings
from deltastore.sync import statements as sync_sql
from deltastore.sync import sync_marts

pytestmark = pytest.mark.odbc

_NAME = r"\[((?:[^\]]|\]\])+)\]"
_TABLE = re.compile(rf"{_NAME}\.{_NAME}")


class StandInServer(OdbcRecorder):
    """A SQL Server sync target as far as the sync can tell."""

    def __init__(self, warehouse: Settings) -> None:
        super().__init__()
        self.warehouse = warehouse
        self.tables: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.published: dict[str, int] = {}  # rows per mart as last committed
        self.marker: str | None = None
        self.pending_marker: str | None = None
        self.params: list[tuple[str, tuple[Any, ...]]] = []
        self.lock_result = 0   # sp_getapplock's return code
        self.dependents: dict[str, list[tuple[str, str]]] = {}  # per table: (kind, name)

    def connect(self, connection_string: str, **kwargs: Any) -> RecordedConnection:
        super().connect(connection_string, **kwargs)
        return StandInConnection(self)

    def run(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]] | None:
        self.record(sql, params, None)
        self.params.append((sql, params))
        names = [(s.replace("]]", "]"), t.replace("]]", "]")) for s, t in _TABLE.findall(sql)]
        if "sp_getapplock" in sql:
            return [(self.lock_result,)]
        if sql.startswith("SELECT USER_NAME(), "):  # the grants check: every one is held
            return [("sync", *[1] * sql.count("HAS_PERMS_BY_NAME"))]
        if sql.startswith("CREATE TABLE"):
            self.tables[names[0]] = _declared(sql)
        elif sql.startswith("ALTER SCHEMA"):
            into = re.match(rf"ALTER SCHEMA {_NAME} TRANSFER", sql)
            assert into is not None
            self.tables[(into[1], names[0][1])] = self.tables.pop(names[0])
        elif sql.startswith("DROP TABLE"):
            self.tables.pop(names[0], None)
        elif "__deltastore_publish" in sql and sql.startswith("INSERT"):
            self.pending_marker = str(params[0])
        elif "INFORMATION_SCHEMA.TABLES" in sql:
            return [(t,) for s, t in sorted(self.tables) if s == params[0]]
        elif "INFORMATION_SCHEMA.COLUMNS" in sql:
            described = [_describe(c, t) for c, t in self.tables[(params[0], params[1])]]
            return [d[:5] for d in described] if "DATETIME_PRECISION" not in sql else described
        elif sql.startswith("SELECT [publish_id]"):
            return [(self.marker,)] if self.marker else []
        elif sql.startswith("SELECT COUNT_BIG(*)") and "HASHBYTES" not in sql:
            return [(self.published[names[0][1]],)]
        elif "HASHBYTES" in sql:
            return [self._warehouse_checksum(names[-1][1])]
        elif "sys.sql_expression_dependencies" in sql:
            return self.dependents.get(str(params[0]), [])
        return None

    def commit(self) -> None:
        if self.pending_marker:
            self.marker, self.pending_marker = self.pending_marker, None
            self.published = {t: self._warehouse_checksum(t)[0]
                              for s, t in self.tables if s == "analytics"}

    def rollback(self) -> None:
        self.pending_marker = None

    def _warehouse_checksum(self, mart: str) -> tuple[int, int]:
        # The sync holds the warehouse open in this process: a connection like its own.
        with connect(self.warehouse.warehouse_url) as con:
            described = con.execute(sync_sql.columns_query("duckdb"),
                                    ["analytics", mart]).fetchall()
            columns = [sync_sql.parse_column("duckdb", mart, *row) for row in described]
            row = con.execute(sync_sql.checksum_query("duckdb", "analytics", mart,
                                                      columns)).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])


class StandInCursor(RecordedCursor):
    def execute(self, sql: str, *params: Any) -> RecordedCursor:
        if len(params) == 1 and isinstance(params[0], (tuple, list)):
            params = tuple(params[0])
        assert isinstance(self.recorder, StandInServer)
        rows = self.recorder.run(sql, params)
        self.description = None if rows is None else [("c0", object, None, None, None, None,
                                                        True)]
        self.rows = rows or []
        return self

    def executemany(self, sql: str, rows: Any) -> None:
        assert isinstance(self.recorder, StandInServer)
        self.recorder.run(sql, (len(list(rows)),))


class StandInConnection(RecordedConnection):
    def cursor(self) -> RecordedCursor:
        return StandInCursor(self.recorder)

    def commit(self) -> None:
        assert isinstance(self.recorder, StandInServer)
        self.recorder.commit()

    def rollback(self) -> None:
        assert isinstance(self.recorder, StandInServer)
        self.recorder.rollback()


def _declared(create: str) -> list[tuple[str, str]]:
    body = create[create.index("(") + 1:create.rindex(")")]
    return [(m[1].replace("]]", "]"), m[2]) for m in re.finditer(
        rf"{_NAME} ([A-Z0-9]+(?:\(\w+(?:,\d+)?\))?) NULL", body)]


def _describe(column: str, declared: str) -> tuple[Any, ...]:
    """An INFORMATION_SCHEMA.COLUMNS row for a declared type (name, type, precision, scale,
    length, datetime precision)."""
    match = re.match(r"^(\w+)(?:\((\w+)(?:,(\d+))?\))?$", declared)
    assert match, declared
    kind, first, second = match[1].lower(), match[2], match[3]
    if kind in ("decimal", "numeric"):
        return (column, kind, int(first), int(second), None, None)
    if kind == "nvarchar":
        return (column, kind, None, None, -1 if first == "MAX" else int(first), None)
    if kind == "datetime2":
        return (column, kind, None, None, None, int(first))
    return (column, kind, 19 if kind == "bigint" else None, 0 if kind == "bigint" else None,
            None, None)


MARKER = ["DELETE FROM [analytics_sync_stage].[__deltastore_publish]",
          "INSERT INTO [analytics_sync_stage].[__deltastore_publish] ([publish_id], "
          "[published_at]) VALUES (?, ?)"]


def _changes(statements: list[str]) -> list[str]:
    """What the publish transaction changes: its statements up to its end, less the
    queries (the verification)."""
    end = statements.index("SET DEADLOCK_PRIORITY NORMAL") + 1
    return [sql for sql in statements[:end] if not sql.startswith("SELECT")]


def _tsql(statement: str) -> None:
    assert sqlglot.parse(statement, read="tsql", error_level=sqlglot.ErrorLevel.RAISE)


def test_first_and_incremental_publish_send_these_statements(
        shop: Settings, monkeypatch: pytest.MonkeyPatch, loopback_only: None) -> None:
    import pyodbc

    server = StandInServer(shop)
    monkeypatch.setattr(pyodbc, "connect", server.connect)
    target = Settings.from_env({"DELTASTORE_DATA_DIR": str(shop.data_dir),
                                "DELTASTORE_BATCH_SIZE": "7",
                                "DELTASTORE_SYNC_TARGET_URL": "mssql://sync@db.example/marts",
                                "DELTASTORE_SYNC_TARGET_PASSWORD": "pw"})
    first = sync_marts(target, echo=lambda _: None)
    assert {r.action for r in first} == {"swap"}
    sent = [sql for sql, _ in server.params]
    for sql in sent:
        _tsql(sql)
    # The grants first (sync/preflight.py, read-only), then the lock before anything else.
    assert sent[0].startswith("SELECT USER_NAME(), HAS_PERMS_BY_NAME(")
    assert sent[1].startswith("SET NOCOUNT ON; DECLARE @result INT; EXEC @result = "
                              "sp_getapplock @Resource = N'deltastore_sync'")
    assert sent[-1].startswith("EXEC sp_releaseapplock")
    # Keyed marts get their key as clustered primary key; kpi_totals has none.
    assert ("ALTER TABLE [analytics_sync_stage].[fct_lines] ADD CONSTRAINT [pk_fct_lines] "
            "PRIMARY KEY CLUSTERED ([order_id], [line])") in sent
    assert not any("[pk_kpi_totals]" in sql for sql in sent)
    swap = sent.index("SET DEADLOCK_PRIORITY HIGH")
    assert sent[swap - 1] == "SET LOCK_TIMEOUT 30000"
    assert _changes(sent[swap + 1:]) == [
        *(f"ALTER SCHEMA [analytics] TRANSFER [analytics_sync_stage].[{mart}]"
          for mart in ("dim_customers", "fct_lines", "fct_orders", "kpi_totals")),
        *MARKER, "SET LOCK_TIMEOUT -1", "SET DEADLOCK_PRIORITY NORMAL"]
    assert server.marker is not None and set(server.published) == {
        "dim_customers", "fct_lines", "fct_orders", "kpi_totals"}

    server.params.clear()
    change(shop, *DAY)
    second = {r.table: r for r in sync_marts(target, echo=lambda _: None)}
    assert {t: r.action for t, r in second.items()} == {
        "dim_customers": "keep", "fct_lines": "delta", "fct_orders": "delta",
        "kpi_totals": "rewrite"}
    sent = [sql for sql, _ in server.params]
    for sql in sent:
        _tsql(sql)
    assert not any(sql.startswith("ALTER SCHEMA") for sql in sent)  # nothing swapped
    # Only the changed rows travel: 2 new orders and 3 updated ones; 3 keys go.
    staged = [(sql, params) for sql, params in server.params
              if sql.startswith("INSERT INTO [analytics_sync_stage].[fct_orders")]
    assert [(sql.split(" (")[0], params) for sql, params in staged] == [
        ("INSERT INTO [analytics_sync_stage].[fct_orders]", (5,)),
        ("INSERT INTO [analytics_sync_stage].[fct_orders__keys]", (4,))]
    start = sent.index("SET DEADLOCK_PRIORITY HIGH")
    delete = ("DELETE [t] FROM [analytics].[{0}] AS [t] WHERE EXISTS (SELECT 1 FROM "
              "[analytics_sync_stage].[{0}__keys] AS [c] WHERE {1})")
    insert = ("INSERT INTO [analytics].[{0}] ({1}) SELECT {2} FROM "
              "[analytics_sync_stage].[{0}] AS [m]")
    assert _changes(sent[start + 1:]) == [
        delete.format("fct_lines", "[c].[order_id] = [t].[order_id] AND [c].[line] = "
                                   "[t].[line]"),
        insert.format("fct_lines", "[order_id], [line], [price]",
                      "[m].[order_id], [m].[line], [m].[price]"),
        delete.format("fct_orders", "[c].[order_id] = [t].[order_id]"),
        insert.format("fct_orders", "[order_id], [customer_key], [amount], [ordered_at], [paid]",
                      "[m].[order_id], [m].[customer_key], [m].[amount], [m].[ordered_at], "
                      "[m].[paid]"),
        "DELETE FROM [analytics].[kpi_totals]",
        insert.format("kpi_totals", "[orders], [revenue]", "[m].[orders], [m].[revenue]"),
        *MARKER, "SET LOCK_TIMEOUT -1", "SET DEADLOCK_PRIORITY NORMAL"]
    # The warehouse's record follows what the target committed.
    with duckdb.connect(str(shop.warehouse_url.path), read_only=True) as con:
        last = con.execute("select publish_id from meta_sync.publishes "
                           "where status = 'published'").fetchall()
    assert last == [(server.marker,)]
    assert contents(shop.warehouse_url.path)  # the warehouse is untouched otherwise


def _target(shop: Settings) -> Settings:
    return Settings.from_env({"DELTASTORE_DATA_DIR": str(shop.data_dir),
                              "DELTASTORE_BATCH_SIZE": "7",
                              "DELTASTORE_SYNC_TARGET_URL": "mssql://sync@db.example/marts",
                              "DELTASTORE_SYNC_TARGET_PASSWORD": "pw"})


@pytest.fixture
def server(shop: Settings, monkeypatch: pytest.MonkeyPatch,
           loopback_only: None) -> StandInServer:
    import pyodbc

    stand_in = StandInServer(shop)
    monkeypatch.setattr(pyodbc, "connect", stand_in.connect)
    return stand_in


def test_a_second_sync_waits_for_the_first_then_leaves_everything_alone(
        shop: Settings, server: StandInServer) -> None:
    server.lock_result = -1  # sp_getapplock: timed out (another session holds the lock)
    with pytest.raises(TransientError, match="another sync to this target holds its lock") \
            as caught:
        sync_marts(_target(shop), echo=lambda _: None)
    assert caught.value.exit_code == 1
    sent = [sql for sql, _ in server.params]
    # The grants check (read-only), the lock, nothing else: nothing dropped, nothing read.
    assert len(sent) == 2 and "sp_getapplock" in sent[1]
    assert "@LockTimeout = 60000" in sent[1] and "@LockOwner = 'Session'" in sent[1]


def test_a_swap_that_would_drop_security_is_refused_before_copying(
        shop: Settings, server: StandInServer) -> None:
    target = _target(shop)
    sync_marts(target, echo=lambda _: None)
    change(shop, "alter table analytics.dim_customers add column tier varchar")
    server.dependents["analytics.dim_customers"] = [
        ("permission", "DENY SELECT (email) TO bi_reader"),
        ("masked column", "email partial(2, \"xxxx\", 0)")]
    server.params.clear()
    with pytest.raises(ConfigError, match=r"changed columns and must be replaced, which drops "
                                          r"`analytics.dim_customers`: permission `DENY SELECT "
                                          r"\(email\) TO bi_reader`; `analytics.dim_customers`: "
                                          r"masked column") as caught:
        sync_marts(target, echo=lambda _: None)
    assert caught.value.exit_code == 2
    assert not any(sql.startswith("CREATE TABLE [analytics_sync_stage]")
                   for sql, _ in server.params)  # refused before any copy

    lines: list[str] = []
    results = {r.table: r for r in sync_marts(target, echo=lines.append, force=True)}
    assert results["dim_customers"].action == "swap"
    assert any("drops (--force): `analytics.dim_customers`: permission" in line
               for line in lines)

    server.dependents["analytics.dim_customers"] = [
        ("schema-bound view or function", "analytics.v_customers")]
    change(shop, "alter table analytics.dim_customers drop column tier")
    with pytest.raises(ConfigError, match="schema-bound view or function "
                                          "`analytics.v_customers` stop"):
        sync_marts(target, echo=lambda _: None, force=True)
