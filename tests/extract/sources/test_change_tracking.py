"""SQL Server Change Tracking reads, offline: statements parsed as T-SQL, and the order of
statements checked against a recording DB-API connection (what pyodbc would be sent).

SQL Server cannot run here: `mssql.yml` runs the real thing (tests marked `mssql` below,
DELTASTORE_TEST_MSSQL_URL), with Change Tracking and snapshot isolation enabled.
"""

from __future__ import annotations

import os
import random
import re
import threading
from typing import Any

import pytest
import sqlglot
from odbc_recorder import OdbcRecorder
from prerequisites import optional_pyodbc

from deltastore.dburl import DatabaseURL
from deltastore.errors import ConfigError, TransientError
from deltastore.extract.sources import change_tracking as ct
from deltastore.extract.sources.legacy_db import LegacyReader, source_table
from deltastore.schemas import OLD_STORE_TABLES, table

pyodbc = optional_pyodbc()  # the tests that raise its errors are marked odbc

CUSTOMERS = table("old_store", "customers")
SOURCE = source_table("mssql", CUSTOMERS)


def _tsql(sql: str) -> sqlglot.exp.Expr:
    # sqlglot does not know CHANGETABLE's CHANGES keyword nor the SNAPSHOT level; the rest
    # of each statement must parse as T-SQL.
    sql = sql.replace("CHANGETABLE(CHANGES ", "CHANGETABLE(")
    parsed = sqlglot.parse_one(sql, read="tsql")
    assert parsed is not None
    return parsed


@pytest.mark.parametrize("t", OLD_STORE_TABLES, ids=lambda t: t.name)
def test_statements_parse_as_tsql(t: Any) -> None:
    source = source_table("mssql", t)
    for sql in (ct.tracked_sql(), ct.versions_sql(), ct.full_sql(t, source),
                ct.changes_sql(t, source), ct.READ_COMMITTED, ct.BEGIN, ct.COMMIT, ct.ROLLBACK):
        _tsql(sql)
    changes = ct.changes_sql(t, source)
    assert f"FROM CHANGETABLE(CHANGES {source}, ?) AS ct LEFT OUTER JOIN {source} AS t" in changes
    assert changes.count("?") == 1
    # The key comes from CHANGETABLE: a deleted row has nothing else.
    [key] = t.primary_key
    assert changes.startswith("SELECT " + ", ".join(
        f"ct.[{c}]" if c == key else f"t.[{c}]" for c in t.column_names))
    assert ct.SNAPSHOT == "SET TRANSACTION ISOLATION LEVEL SNAPSHOT"


def test_versions_in_watermarks() -> None:
    assert ct.version_of("ct:42") == 42
    assert ct.version_of("2024-01-01 00:00:00") is None  # a timestamp: read whole once
    assert ct.version_of(None) is None and ct.version_of("ct:x") is None


class Recorder:
    """A DB-API connection that records what it is sent and answers from a script."""

    def __init__(self, current: int | None, min_valid: int | None,
                 rows: list[tuple[Any, ...]], fail_on: str | None = None,
                 error: str = "Snapshot isolation transaction failed accessing database "
                              "'legacy' (3952)") -> None:
        self.sent: list[tuple[str, tuple[Any, ...]]] = []
        self.answers = {"versions": [(current, min_valid)], "rows": rows}
        self.fail_on = fail_on
        self.error = error

    def cursor(self) -> Recorder:
        return self

    @property
    def autocommit(self) -> bool:
        return self._autocommit

    @autocommit.setter
    def autocommit(self, value: bool) -> None:
        self._autocommit = value
        self.sent.append((f"autocommit={value}", ()))

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        self.sent.append((sql, tuple(params)))
        if self.fail_on and self.fail_on in sql:
            raise pyodbc.Error("42000", f"[42000] [Microsoft][ODBC Driver 18 for SQL Server]"
                                        f"{self.error} (SQLExecDirectW)")
        self._pending = list(self.answers["versions" if "CURRENT_VERSION" in sql else "rows"])

    def fetchone(self) -> tuple[Any, ...]:
        return self._pending.pop(0)

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        batch, self._pending = self._pending[:size], self._pending[size:]
        return batch

    def commit(self) -> None:
        self.sent.append(("COMMIT", ()))

    def rollback(self) -> None:
        self.sent.append(("ROLLBACK", ()))

    def close(self) -> None:
        pass


def _read(con: Recorder, saved: str | None) -> tuple[ct.ChangeRead, list[Any], list[Any]]:
    rows: list[Any] = []
    gone: list[Any] = []
    read = ct.read_changes(con, CUSTOMERS, SOURCE, saved, 2, rows.extend, gone.extend)
    return read, rows, gone


def _statements(con: Recorder) -> list[str]:
    return [re.sub(r" .*", "", sql) if sql.startswith("SELECT [") else sql.split(" FROM")[0]
            for sql, _ in con.sent]


def test_changes_since_a_valid_version_split_updates_from_deletes() -> None:
    live = (7, "Ann", "Lee", "a@x", "1", "addr", "2024-01-01", "2024-02-01", 0)
    deleted = (9, None, None, None, None, None, None, None, 1)
    con = Recorder(current=120, min_valid=100, rows=[live, deleted, live])
    read, rows, gone = _read(con, "ct:110")
    assert read == ct.ChangeRead(120, False, 2, 1, "changes since version 110")
    assert rows == [live[:-1], live[:-1]] and gone == [(9,)]
    sent = [sql for sql, _ in con.sent]
    # Microsoft's pattern: in autocommit mode, one explicit snapshot transaction holds the
    # version and the rows; then back to read committed and the reader's autocommit off.
    assert sent[:4] == ["COMMIT", "autocommit=True", ct.SNAPSHOT, "BEGIN TRANSACTION"]
    assert sent[4] == ct.versions_sql() and con.sent[4][1] == (SOURCE,)
    assert sent[5] == ct.changes_sql(CUSTOMERS, SOURCE) and con.sent[5][1] == (110,)
    assert sent[6:] == ["COMMIT TRANSACTION", ct.READ_COMMITTED, "autocommit=False"]


@pytest.mark.parametrize("saved, reason", [
    (None, "no saved version: first read"),
    ("2024-02-01 10:00:00", "no saved version: first read"),
    ("ct:99", "saved version 99 is older than the oldest valid 100"),
])
def test_a_missing_or_too_old_version_reads_the_whole_table(saved: str | None,
                                                            reason: str) -> None:
    row = (1, "Ann", "Lee", "a@x", "1", "addr", "2024-01-01", "2024-02-01")
    con = Recorder(current=120, min_valid=100, rows=[row])
    read, rows, gone = _read(con, saved)
    assert (read.version, read.full, rows, gone) == (120, True, [row], [])
    assert read.reason.startswith(reason)
    assert [sql for sql, _ in con.sent][5] == ct.full_sql(CUSTOMERS, SOURCE)


@pytest.mark.odbc
def test_a_table_without_change_tracking_or_snapshot_isolation_says_how_to_fix() -> None:
    with pytest.raises(ConfigError, match="Change Tracking is not enabled on `\\[dbo\\]"):
        _read(Recorder(current=None, min_valid=None, rows=[]), "ct:1")
    con = Recorder(120, 100, [], fail_on="CHANGE_TRACKING_CURRENT_VERSION")
    with pytest.raises(ConfigError, match="ALLOW_SNAPSHOT_ISOLATION ON"):
        _read(con, "ct:110")
    assert (ct.ROLLBACK, ()) in con.sent
    assert [sql for sql, _ in con.sent][-2:] == [ct.READ_COMMITTED, "autocommit=False"]
    with pytest.raises(TransientError, match="reading the changes of .* error 1205"):
        _read(Recorder(120, 100, [], fail_on="CHANGETABLE", error="deadlock (1205)"), "ct:110")
    with pytest.raises(ConfigError, match="SQL Server error 297"):  # permission: not retried
        _read(Recorder(120, 100, [], fail_on="CHANGETABLE", error="no VIEW CHANGE TRACKING "
                                                                  "permission (297)"), "ct:110")


def test_the_reader_asks_sql_server_through_pyodbc(odbc: OdbcRecorder) -> None:
    """The real LegacyReader on an `mssql://` URL, pyodbc replaced by the project's ODBC
    recorder (tests/odbc_recorder.py): the tracked check, then one snapshot read of the
    changes in the configured legacy schema."""
    live = (7, "Ann", "Lee", "a@x", "1", "addr", "2024-01-01", "2024-02-01", 0)
    gone = (9, None, None, None, None, None, None, None, 1)
    odbc.answers.update({"sys.change_tracking_tables": [(1,)],
                         "CHANGE_TRACKING_CURRENT_VERSION": [(120, 100)],
                         "CHANGETABLE": [live, gone]})
    url = DatabaseURL.parse("mssql://reader@legacy/shop").with_password("pw")
    rows: list[Any] = []
    deleted: list[Any] = []
    with LegacyReader(url, schema="old_store") as reader:
        assert reader.change_tracked(CUSTOMERS)
        read = reader.read_changes(CUSTOMERS, "ct:110", rows.extend, deleted.extend)
    assert (read.version, read.full, rows, deleted) == (120, False, [live[:-1]], [(9,)])
    source = "[old_store].[customers]"
    assert [(sql, params) for sql, params, _ in odbc.executed] == [
        (ct.tracked_sql(), (source,)), (ct.SNAPSHOT, ()), (ct.BEGIN, ()),
        (ct.versions_sql(), (source,)), (ct.changes_sql(CUSTOMERS, source), (110,)),
        (ct.COMMIT, ()), (ct.READ_COMMITTED, ())]


# --- for real, on SQL Server (GitHub Actions, mssql.yml) ------------------------------------

@pytest.mark.mssql
def test_change_tracking_under_concurrent_writers_on_sql_server(tmp_path: Any) -> None:
    """The concurrent-writer test of tests/extract/load on SQL Server, with Change Tracking
    on `customers` and `orders` and the `updated_at` window on the other tables: after one
    more extract the warehouse's live rows equal the source's, value by value."""
    from deltastore.db import connect
    from deltastore.dburl import DatabaseURL
    from deltastore.extract.demo.legacy_data import generate_legacy_db
    from deltastore.extract.load import run_extract
    from deltastore.settings import Settings

    password = os.environ.get("DELTASTORE_TEST_MSSQL_PASSWORD", "")
    raw_url = os.environ["DELTASTORE_TEST_MSSQL_URL"]
    url = DatabaseURL.parse(raw_url).with_password(password)
    generate_legacy_db(url, scale=0.01, seed=3)
    admin = connect(url, autocommit=True)
    for sql in ("ALTER DATABASE CURRENT SET ALLOW_SNAPSHOT_ISOLATION ON",
                "IF NOT EXISTS (SELECT 1 FROM sys.change_tracking_databases WHERE database_id "
                "= DB_ID()) ALTER DATABASE CURRENT SET CHANGE_TRACKING = ON "
                "(CHANGE_RETENTION = 1 DAYS, AUTO_CLEANUP = ON)",
                "ALTER TABLE [dbo].[customers] ENABLE CHANGE_TRACKING",
                "ALTER TABLE [dbo].[orders] ENABLE CHANGE_TRACKING"):
        admin.cursor().execute(sql)
    settings = Settings.from_env({
        "DELTASTORE_DATA_DIR": str(tmp_path), "DELTASTORE_LEGACY_DB_URL": raw_url,
        "DELTASTORE_LEGACY_DB_PASSWORD": password, "DELTASTORE_BATCH_SIZE": "7"})
    first = {r.table: r for r in run_extract(settings, "legacy-db")}
    assert first["old_store.customers"].inserted > 0
    stop = threading.Event()
    rng = random.Random(5)

    def write() -> None:
        con = connect(url, autocommit=True)
        while not stop.is_set():
            name, key = rng.choice([("customers", "customer_id"), ("orders", "order_id"),
                                    ("shipments", "shipment_id")])
            newest = f"(SELECT MAX([updated_at]) FROM [dbo].[{name}])"
            victim = f"(SELECT MIN([{key}]) + {rng.randrange(50)} FROM [dbo].[{name}])"
            # Equal to the newest `updated_at`: what a `>` watermark misses.
            sql = (f"UPDATE [dbo].[{name}] SET [updated_at] = {newest} WHERE [{key}] = {victim}"
                   if rng.random() < 0.6
                   else f"DELETE FROM [dbo].[{name}] WHERE [{key}] = {victim}")
            con.cursor().execute(sql)
        con.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        run_extract(settings, "legacy-db")
    finally:
        stop.set()
        writer.join()
    run_extract(settings, "legacy-db")
    warehouse = connect(settings.warehouse_url, read_only=True)
    for name in ("customers", "orders", "shipments"):  # two tracked, one by watermark
        t = table("old_store", name)
        names = ", ".join(f"[{c}]" for c in t.column_names)
        src = {tuple(r) for r in admin.cursor().execute(
            f"SELECT {names} FROM [dbo].[{t.name}]").fetchall()}
        dst = {tuple(r) for r in warehouse.execute(
            f"SELECT {', '.join(t.column_names)} FROM {t.qualified_name} "
            "WHERE _deleted_at IS NULL").fetchall()}
        assert dst == src, (name, sorted(src - dst)[:3], sorted(dst - src)[:3])
    admin.close()
    warehouse.close()
