"""The legacy DB reader on real SQLite and DuckDB files written by the test."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import duckdb
import pytest
from odbc_recorder import OdbcRecorder, pyodbc_error

from deltastore.dburl import DatabaseURL
from deltastore.errors import ConfigError, TransientError
from deltastore.extract.sources.legacy_db import (
    LegacyReader,
    keys_sql,
    max_watermark,
    select_sql,
    window_start,
)
from deltastore.schemas import OLD_STORE_TABLES, table

CUSTOMERS = table("old_store", "customers")
ROWS = [
    (i, f"First{i}", f"Last{i}", f"c{i}@example.test", "555", "1 Main St",
     "2024-01-01 00:00:00", f"2024-02-0{i} 10:00:00")
    for i in range(1, 6)
]


def write_customers(kind: str, path: Path) -> DatabaseURL:
    columns = ", ".join(f"{c} {'INTEGER' if t == 'int' else 'TEXT'}" for c, t in CUSTOMERS.columns)
    insert = f"INSERT INTO customers VALUES ({', '.join('?' for _ in CUSTOMERS.columns)})"
    if kind == "sqlite":
        with sqlite3.connect(path) as con:
            con.execute(f"CREATE TABLE customers ({columns})")
            con.executemany(insert, ROWS)
    else:
        duck = duckdb.connect(str(path))
        duck.execute(f"CREATE TABLE customers ({columns.replace('INTEGER', 'BIGINT')}, "
                    "PRIMARY KEY (customer_id))".replace("updated_at TEXT", "updated_at TIMESTAMP"))
        duck.executemany(insert, ROWS)
        duck.close()
    return DatabaseURL.parse(f"{kind}://{path}")


@pytest.mark.parametrize("kind", ["sqlite", "duckdb"])
def test_streams_in_batches_and_reads_incrementally(kind: str, tmp_path: Path) -> None:
    url = write_customers(kind, tmp_path / f"legacy.{kind}")
    with LegacyReader(url, batch_size=2) as reader:
        [(name, columns)] = reader.catalog([CUSTOMERS]).items()
        assert (name, [c.name for c in columns]) == ("customers", CUSTOMERS.column_names)
        batches = list(reader.batches(CUSTOMERS, None))
        assert [len(b) for b in batches] == [2, 2, 1]
        assert [row[0] for b in batches for row in b] == [1, 2, 3, 4, 5]
        # `>=`: the row at the window's start is read again (the merge absorbs it).
        newer = [row[0] for b in reader.batches(CUSTOMERS, "2024-02-03 10:00:00") for row in b]
        assert newer == [3, 4, 5]
        keys = [row for b in reader.key_batches(CUSTOMERS) for row in b]
        assert keys == [(i,) for i in range(1, 6)]
        if kind == "sqlite":  # the same keys as Arrow batches, through ADBC
            arrow = list(reader.arrow_key_batches(CUSTOMERS))
            assert [b.num_rows for b in arrow] == [2, 2, 1]
            assert [b.schema.names for b in arrow] == [["customer_id"]] * 3
            assert [v for b in arrow for v in b.column(0).to_pylist()] == list(range(1, 6))


def test_sql_server_reads_from_dbo_with_a_parameter() -> None:
    sql = select_sql("mssql", CUSTOMERS, incremental=True)
    assert sql.startswith("SELECT [customer_id], [first_name]")
    assert sql.endswith("FROM [dbo].[customers] WHERE [updated_at] >= ?")
    assert keys_sql("mssql", CUSTOMERS) == "SELECT [customer_id] FROM [dbo].[customers]"
    with pytest.raises(ValueError, match="no watermark"):
        select_sql("mssql", table("old_store", "payment"), incremental=True)


def test_a_missing_database_says_how_to_create_the_demo_one(tmp_path: Path) -> None:
    url = DatabaseURL.parse(f"sqlite://{tmp_path / 'nowhere.db'}")
    with pytest.raises(ConfigError, match="`deltastore demo-data legacy`"), LegacyReader(url):
        pass
    assert not (tmp_path / "nowhere.db").exists()


def test_missing_tables_are_named_before_anything_is_read(tmp_path: Path) -> None:
    url = write_customers("sqlite", tmp_path / "legacy.db")
    with LegacyReader(url) as reader, pytest.raises(ConfigError) as caught:
        reader.catalog(OLD_STORE_TABLES)
    message = str(caught.value)
    assert "`orders`" in message and "`customers`" not in message


def test_the_watermark_is_the_largest_value_seen_as_text() -> None:
    assert max_watermark(["2024-01-02 00:00:00", None, "2024-01-03 00:00:00"], None) == \
        "2024-01-03 00:00:00"
    assert max_watermark([None], "2024-01-01 00:00:00") == "2024-01-01 00:00:00"
    assert max_watermark([dt.datetime(2024, 5, 1, 8, 30)], "2024-01-01 00:00:00") == \
        "2024-05-01 08:30:00"
    assert max_watermark(["2023-12-31 00:00:00"], "2024-01-01 00:00:00") == "2024-01-01 00:00:00"


def test_the_window_starts_the_look_back_before_the_watermark_in_its_own_layout() -> None:
    assert window_start("2024-02-03 10:00:00", 300) == "2024-02-03 09:55:00"
    assert window_start("2024-02-03T10:00:00.250000", 0.5) == "2024-02-03T09:59:59.750000"
    assert window_start("2024-02-03 10:00:00", 0) == "2024-02-03 10:00:00"
    assert window_start("not a time", 300) == "not a time"


def test_a_lost_connection_while_reading_the_catalog_is_retried_not_a_missing_table(
        odbc: OdbcRecorder) -> None:
    url = DatabaseURL.parse("mssql://reader@sql.example.net/legacy").with_password("pw")
    odbc.failures["FROM sys.columns"] = pyodbc_error(
        "OperationalError", "08S01", "TCP Provider: Error code 0x68", 10054)
    with LegacyReader(url) as reader, pytest.raises(TransientError, match="10054"):
        reader.catalog([CUSTOMERS])
    # A table sys.columns does not show: no rows (tests/extract/sources/test_legacy_catalog.py)
    del odbc.failures["FROM sys.columns"]
    odbc.answers["FROM sys.columns"] = []
    with LegacyReader(url) as reader, pytest.raises(ConfigError, match="no table `customers`"):
        reader.catalog([CUSTOMERS])
