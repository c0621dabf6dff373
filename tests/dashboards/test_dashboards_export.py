"""`deltastore export`: every analytics table to CSV or Parquet, streamed in batches."""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
import stat
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dashboards_marts import EXTRA_CUSTOMERS, settings_for

from deltastore.dashboards.export import _export_table, arrow_type, export_marts
from deltastore.errors import ConfigError
from deltastore.workflows.cli import main

BATCH = 16  # rows per fetchmany: dim_customers spans many batches


@pytest.fixture(scope="module")
def parquet_dir(marts_db: tuple[Path, Any], tmp_path_factory: pytest.TempPathFactory,
                ) -> tuple[Path, dict[str, int]]:
    data_dir = tmp_path_factory.mktemp("parquet-export")
    settings = settings_for(marts_db[0], data_dir, DELTASTORE_BATCH_SIZE=str(BATCH))
    return data_dir / "out", export_marts(settings, "parquet", data_dir / "out")


def test_parquet_has_every_table_with_all_rows(parquet_dir: tuple[Path, dict[str, int]],
                                               marts_db: tuple[Path, Any]) -> None:
    out, counts = parquet_dir
    tables = marts_db[1]
    assert counts == {name: len(rows) for name, rows in tables.items()}
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.parquet" for n in tables)
    assert counts["dim_customers"] == 60 + EXTRA_CUSTOMERS > 10 * BATCH
    for name, rows in tables.items():
        assert pq.read_metadata(out / f"{name}.parquet").num_rows == len(rows)


def test_parquet_keeps_types_and_values(parquet_dir: tuple[Path, dict[str, int]],
                                        marts_db: tuple[Path, Any]) -> None:
    out = parquet_dir[0]
    run = pq.read_table(out / "kpi_pipeline_run.parquet")
    assert run.schema.field("run_date").type == pa.date32()
    assert run.schema.field("built_at").type == pa.timestamp("us")
    products = pq.read_table(out / "kpi_product_performance.parquet")
    assert products.schema.field("revenue").type == pa.decimal128(12, 2)
    assert products.schema.field("is_low_rating").type == pa.bool_()
    assert products.schema.field("units_sold").type == pa.int64()
    assert products.schema.field("average_rating").type == pa.float64()
    expected = marts_db[1]["kpi_product_performance"]
    assert products.column("revenue").to_pylist() == [row[5] for row in expected]
    assert products.column("average_rating").to_pylist() == [row[7] for row in expected]
    customers = pq.read_table(out / "dim_customers.parquet").to_pylist()
    assert customers[-1]["created_at"] == marts_db[1]["dim_customers"][-1][5]


def test_csv_export_from_the_cli(marts_db: tuple[Path, Any], tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DELTASTORE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DELTASTORE_SYNC_TARGET_URL", f"duckdb://{marts_db[0]}")
    monkeypatch.setenv("DELTASTORE_BATCH_SIZE", str(BATCH))
    assert main(["export"]) == 0
    printed = dict(line.split("\t") for line in capsys.readouterr().out.splitlines())
    tables = marts_db[1]
    assert printed == {name: str(len(rows)) for name, rows in tables.items()}
    with (tmp_path / "exports" / "kpi_customer_summary.csv").open(newline="") as file:
        header, row = list(csv.reader(file))
    assert header == ["customers", "ordering_customers", "orders", "revenue",
                      "average_order_value"]
    assert [Decimal(v) for v in row] == list(tables["kpi_customer_summary"][0])
    with (tmp_path / "exports" / "dim_customers.csv").open(newline="") as file:
        lines = list(csv.DictReader(file))
    assert len(lines) == len(tables["dim_customers"])
    assert dt.datetime.fromisoformat(lines[0]["created_at"]) == tables["dim_customers"][0][5]


def test_empty_tables_export_header_and_schema(empty_db: Path, tmp_path: Path) -> None:
    settings = settings_for(empty_db, tmp_path)
    counts = export_marts(settings, "csv", tmp_path / "csv")
    assert counts and set(counts.values()) == {0}
    assert (tmp_path / "csv" / "kpi_pipeline_run.csv").read_text().strip() == (
        "run_date,built_at,first_order_date,last_order_date,last_loaded_at,on_time_days")
    export_marts(settings, "parquet", tmp_path / "parquet")
    schema = pq.read_schema(tmp_path / "parquet" / "kpi_carrier_performance.parquet")
    assert schema.field("is_best_carrier").type == pa.bool_()


def test_unknown_format_is_a_configuration_error(marts_db: tuple[Path, Any],
                                                 tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="`xlsx`"):
        export_marts(settings_for(marts_db[0], tmp_path), "xlsx")


def test_sql_server_column_descriptions_map_to_arrow_types() -> None:
    # What pyodbc puts in cursor.description: (name, class, size, size, precision, scale, null)
    assert arrow_type(("amount", Decimal, 14, 14, 12, 2, True)) == pa.decimal128(12, 2)
    assert arrow_type(("flag", bool, 1, 1, 1, 0, True)) == pa.bool_()
    assert arrow_type(("at", dt.datetime, 27, 27, 27, 6, True)) == pa.timestamp("us")
    assert arrow_type(("day", dt.date, 10, 10, 10, 0, True)) == pa.date32()
    assert arrow_type(("n", int, 19, 19, 19, 0, True)) == pa.int64()


class PyodbcDescribed:
    """A DB-API cursor whose description has pyodbc's 7-tuples with Python classes."""

    def __init__(self, cursor: Any, columns: list[tuple[str, type]]) -> None:
        self.cursor = cursor
        self.columns = columns

    def execute(self, sql: str) -> PyodbcDescribed:
        self.cursor.execute(sql)
        return self

    @property
    def description(self) -> list[tuple[Any, ...]]:
        return [(name, kind, None, None, None, None, True) for name, kind in self.columns]

    def fetchmany(self, size: int) -> list[Any]:
        return self.cursor.fetchmany(size)


def test_streamed_export_for_targets_other_than_duckdb(tmp_path: Path) -> None:
    """A SQL Server target streams through the DB-API cursor in batches (DuckDB writes its
    own files). SQLite stands in for the driver here: a database attached as `analytics`."""
    conn = sqlite3.connect(":memory:")
    conn.execute(f"ATTACH '{tmp_path / 'marts.db'}' AS analytics")
    conn.execute("CREATE TABLE analytics.t (id INTEGER, name TEXT, amount REAL)")
    rows = [(i, f"name {i}", i / 4) for i in range(3 * BATCH + 1)]
    conn.executemany("INSERT INTO analytics.t VALUES (?, ?, ?)", rows)
    cursor = conn.cursor()
    assert _export_table(cursor, "sqlite", "t", "csv", tmp_path / "t.csv", BATCH) == len(rows)
    with (tmp_path / "t.csv").open(newline="") as file:
        read = list(csv.reader(file))
    assert read[0] == ["id", "name", "amount"]
    assert [(int(a), b, float(c)) for a, b, c in read[1:]] == rows
    # pyodbc describes a column with its Python class (pyodbc's docs on
    # Cursor.description); SQLite gives None, so its description is given in pyodbc's form.
    pyodbc_like = PyodbcDescribed(cursor, [("id", int), ("name", str), ("amount", float)])
    assert _export_table(pyodbc_like, "sqlite", "t", "parquet", tmp_path / "t.parquet",
                         BATCH) == len(rows)
    assert pq.read_table(tmp_path / "t.parquet").to_pylist()[-1] == {
        "id": rows[-1][0], "name": rows[-1][1], "amount": rows[-1][2]}


# OWASP "CSV Injection": a cell starting with one of these runs as a formula in a
# spreadsheet, so the export prefixes it with a single quote.
DANGEROUS = ["=HYPERLINK(\"http://x.invalid\",\"click\")", "+1+2", "-2+3", "@SUM(A1)",
             "\tTAB", "\rCR", "plain", "a=b"]


def test_csv_cells_that_would_run_as_formulas_are_neutralised(tmp_path: Path) -> None:
    """Both CSV paths: DuckDB's own COPY (a DuckDB sync target) and the streamed Python
    writer (any other target); numbers, negative ones included, stay numbers."""
    database = tmp_path / "marts.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("create schema analytics; create table analytics.reviews "
                           "(review_text varchar, rating integer, delta double)")
        connection.executemany("insert into analytics.reviews values (?, ?, ?)",
                               [(text, i, -0.5 * i) for i, text in enumerate(DANGEROUS)])
    expected = ["'" + t if t[0] in "=+-@\t\r" else t for t in DANGEROUS]
    export_marts(settings_for(database, tmp_path), "csv", tmp_path / "duckdb")
    conn = sqlite3.connect(":memory:")
    conn.execute(f"ATTACH '{tmp_path / 'marts.db'}' AS analytics")
    conn.execute("CREATE TABLE analytics.reviews (review_text TEXT, rating INTEGER, "
                 "delta REAL)")
    conn.executemany("INSERT INTO analytics.reviews VALUES (?, ?, ?)",
                     [(text, i, -0.5 * i) for i, text in enumerate(DANGEROUS)])
    _export_table(conn.cursor(), "sqlite", "reviews", "csv", tmp_path / "reviews.csv", BATCH)
    for path in (tmp_path / "duckdb" / "reviews.csv", tmp_path / "reviews.csv"):
        with path.open(newline="") as file:
            header, *rows = list(csv.reader(file))
        assert header == ["review_text", "rating", "delta"]
        assert [r[0] for r in rows] == expected, path
        assert [float(r[2]) for r in rows] == [-0.5 * i for i in range(len(DANGEROUS))]


def test_export_files_are_not_world_readable(marts_db: tuple[Path, Any],
                                             tmp_path: Path) -> None:
    settings = settings_for(marts_db[0], tmp_path)
    for fmt in ("csv", "parquet"):
        export_marts(settings, fmt, tmp_path / fmt)
        modes = {stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / fmt).iterdir()}
        assert modes == {0o640}, fmt
