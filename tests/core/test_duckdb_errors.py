"""DuckDB errors become exit 3 (data), 1 (transient) or 2 (configuration) by their class,
as SQL Server's do by their number; each case here is raised by a real statement."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from deltastore.dburl import DatabaseURL
from deltastore.duckdb_errors import classify, is_transient
from deltastore.errors import (
    EXIT_CONFIG,
    EXIT_DATA,
    EXIT_FAILED,
    ConfigError,
    DataError,
    DeltaStoreError,
    TransientError,
)
from deltastore.extract.warehouse.duckdb import DuckDBWarehouse
from deltastore.schemas import Table


def _raised(con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.Error:
    with pytest.raises(duckdb.Error) as caught:
        con.execute(sql)
    return caught.value


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, d DATE NOT NULL)")
    con.execute("INSERT INTO t VALUES (1, DATE '2026-01-01')")
    return con


@pytest.mark.parametrize(("sql", "raised", "expected", "code"), [
    ("INSERT INTO t VALUES (1, DATE '2026-01-02')", "ConstraintException", DataError, EXIT_DATA),
    ("INSERT INTO t VALUES (2, NULL)", "ConstraintException", DataError, EXIT_DATA),
    ("INSERT INTO t VALUES (2, 'not a date')", "ConversionException", DataError, EXIT_DATA),
    ("SELECT CAST('x' AS INTEGER)", "ConversionException", DataError, EXIT_DATA),
    ("SELECT CAST(300 AS TINYINT)", "ConversionException", DataError, EXIT_DATA),
    ("SELECT * FROM missing_table", "CatalogException", ConfigError, EXIT_CONFIG),
    ("SELECT nope FROM t", "BinderException", ConfigError, EXIT_CONFIG),
    ("SELEC 1", "ParserException", ConfigError, EXIT_CONFIG),
    ("SELECT * FROM read_csv('/nonexistent/deltastore.csv')", "IOException", TransientError,
     EXIT_FAILED),
])
def test_real_statement_errors(con: duckdb.DuckDBPyConnection, sql: str, raised: str,
                               expected: type[DeltaStoreError], code: int) -> None:
    exc = _raised(con, sql)
    assert type(exc).__name__ == raised
    error = classify(exc, "the statement")
    assert type(error) is expected and error.exit_code == code
    assert str(error).startswith(f"the statement failed (DuckDB {raised}; ")


def test_malformed_json_is_a_data_error(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "page.ndjson"
    path.write_text('{"id": 1}\n{"id": \n')
    exc = _raised(con, f"SELECT * FROM read_json('{path}', format = 'newline_delimited')")
    assert type(exc).__name__ == "InvalidInputException"
    assert type(classify(exc, "loading")) is DataError


def test_running_out_of_memory_is_not_retried() -> None:
    """Argo does not retry an OOM-killed pod either: the same data needs the same memory."""
    small = duckdb.connect(config={"memory_limit": "20MB", "threads": 1})
    exc = _raised(small, "SELECT list(i) FROM range(20000000) t(i)")
    assert type(exc).__name__ == "OutOfMemoryException"
    assert type(classify(exc, "building")) is ConfigError


def test_a_write_write_conflict_is_transient(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)")
    con.execute("INSERT INTO t VALUES (1, 0)")
    first, second = con.cursor(), con.cursor()
    first.begin()
    second.begin()
    first.execute("UPDATE t SET n = 1 WHERE id = 1")
    exc = _raised(second, "UPDATE t SET n = 2 WHERE id = 1")
    assert type(exc).__name__ == "TransactionException" and "conflict" in str(exc).lower()
    assert is_transient(exc) and classify(exc, "merging").exit_code == EXIT_FAILED


def test_a_file_locked_by_another_process_is_transient(tmp_path: Path) -> None:
    path = tmp_path / "locked.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
         "print('locked', flush=True); sys.stdin.read()", str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        exc = _raised_connect(path)
        assert type(exc).__name__ == "IOException"
        assert type(classify(exc, "opening")) is TransientError
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)


def _raised_connect(path: Path) -> duckdb.Error:
    with pytest.raises(duckdb.Error) as caught:
        duckdb.connect(str(path))
    return caught.value


def test_the_warehouse_writer_maps_a_missing_table_and_a_bad_cast(tmp_path: Path) -> None:
    """Before, every DuckDB error of the writer exited 1 and Argo retried it three times."""
    warehouse = DuckDBWarehouse(DatabaseURL.parse(f"duckdb://{tmp_path / 'w.duckdb'}"))
    try:
        with pytest.raises(ConfigError, match="CatalogException") as missing:
            warehouse.last_watermark(Table("raw", "nowhere", (("id", "int"),), ("id",)))
        assert missing.value.exit_code == EXIT_CONFIG
        table = Table("raw", "things", (("id", "int"), ("at", "timestamp")), ("id",))
        warehouse.start_stage(table)
        with pytest.raises(DataError, match="ConversionException.*raw table contract") as cast:
            warehouse.stage_rows(table, [(1, "yesterday")])
        assert cast.value.exit_code == EXIT_DATA
    finally:
        warehouse.close()


def test_errors_of_ours_keep_their_class() -> None:
    assert type(classify(DataError("x"), "y")) is DataError
