"""Reading the legacy tables from SQL Server: pyodbc ``fetchmany`` (the extract's reader)
against arrow-odbc's Arrow batches, through the same ODBC driver and the same statements.

Needs a SQL Server with the legacy tables (``DELTASTORE_LEGACY_DB_URL`` and its password
variable, as for ``deltastore extract``); ``.github/workflows/mssql.yml`` runs it on a demo
legacy database. ``--odbc CONNECTION_STRING`` reads any other ODBC source holding the demo
tables instead (SQLite through the ``libsqliteodbc`` driver on a machine without SQL Server):
the driver differs, but the client side being compared (Python tuples against columnar
buffers, through the same driver manager) is the same. Prints, per table and in total,
rows per second of
- ``pyodbc``: ``LegacyReader.batches`` (``fetchmany`` of ``DELTASTORE_BATCH_SIZE`` rows);
- ``pyodbc + Arrow``: the same, plus the tuples-to-Arrow step that staging into DuckDB does;
- ``arrow-odbc``: ``read_arrow_batches_from_odbc`` (columnar buffers filled by the driver).
Also into the GitHub step summary when ``GITHUB_STEP_SUMMARY`` is set. arrow-odbc is
installed for that step only; the project does not depend on it.

Run: `python benchmarks/bench_mssql_read.py`, or
`python benchmarks/bench_mssql_read.py --odbc "Driver=SQLite3;Database=/abs/legacy.db"`
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from typing import Any

from deltastore.extract.sources.legacy_db import LegacyReader, select_sql
from deltastore.extract.warehouse.duckdb import arrow_batch
from deltastore.schemas import OLD_STORE_TABLES, Table
from deltastore.settings import Settings

SQLITE_MAX_TEXT = 1024  # longer than any demo text (the longest, a review, has 43 characters)


def timed(read: Callable[[Table], Iterable[int]], table: Table) -> tuple[int, float]:
    """Rows read and seconds taken by ``read`` (which yields the size of each batch)."""
    started = time.perf_counter()
    rows = sum(read(table))
    return rows, time.perf_counter() - started


def fetched(cursor: Any, sql: str, size: int) -> Iterator[list[Any]]:
    """``fetchmany`` batches of ``sql``, as ``LegacyReader`` reads them (legacy_db.py)."""
    cursor.execute(sql)
    while rows := cursor.fetchmany(size):
        yield rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--odbc", default="", help="an ODBC connection string of another source "
                        "with the demo tables (SQLite), instead of DELTASTORE_LEGACY_DB_URL")
    args = parser.parse_args()
    settings = Settings.from_env()
    url = settings.legacy_db_url
    if not args.odbc and url.kind != "mssql":
        print(f"DELTASTORE_LEGACY_DB_URL must point at SQL Server, not `{url.kind}` "
              "(or give --odbc)")
        return 2
    import pyodbc
    from arrow_odbc import read_arrow_batches_from_odbc

    schema, size = settings.legacy_db_schema, settings.batch_size
    kind = "sqlite" if args.odbc else "mssql"
    # Holds the password: never printed.
    connection_string = args.odbc or url.odbc_connection_string()

    def with_pyodbc(table: Table, to_arrow: bool) -> Iterable[int]:
        sql = select_sql(kind, table, False, schema)
        if args.odbc:
            with closing(pyodbc.connect(connection_string)) as connection:
                for rows in fetched(connection.cursor(), sql, size):
                    yield arrow_batch(table, rows).num_rows if to_arrow else len(rows)
            return
        with LegacyReader(url, size, schema) as reader:
            for rows in reader.batches(table, None):
                yield arrow_batch(table, rows).num_rows if to_arrow else len(rows)

    def with_arrow_odbc(table: Table) -> Iterable[int]:
        reader = read_arrow_batches_from_odbc(
            query=select_sql(kind, table, False, schema),
            connection_string=connection_string, batch_size=size,
            # SQLite's TEXT has no declared length: without a bound arrow-odbc sizes each
            # value's buffer for the largest text the driver reports and reads ~15x slower.
            max_text_size=SQLITE_MAX_TEXT if kind == "sqlite" else None)
        for batch in reader:
            yield batch.num_rows

    readers: dict[str, Callable[[Table], Iterable[int]]] = {
        "pyodbc": lambda t: with_pyodbc(t, False),
        "pyodbc + Arrow": lambda t: with_pyodbc(t, True),
        "arrow-odbc": with_arrow_odbc,
    }
    totals = {name: [0, 0.0] for name in readers}
    lines = ["| table | " + " | ".join(readers) + " |", "|---" * (len(readers) + 1) + "|"]
    for table in OLD_STORE_TABLES:
        cells = []
        for name, read in readers.items():
            rows, seconds = timed(read, table)
            totals[name][0] += rows
            totals[name][1] += seconds
            cells.append(f"{rows / seconds:,.0f} rows/s" if seconds else "-")
        lines.append(f"| {table.name} ({rows:,} rows) | " + " | ".join(cells) + " |")
    lines.append("| **all** | " + " | ".join(
        f"**{rows / seconds:,.0f} rows/s**" for rows, seconds in totals.values()) + " |")
    best = max(totals, key=lambda name: totals[name][0] / totals[name][1])
    source = "SQL Server" if kind == "mssql" else f"`{connection_string}`"
    lines.append(f"\nFastest here: {best} (batch size {size:,}; {source}).")
    report = "\n".join(lines)
    print(report)
    summary: Any = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as out:
            out.write("### Legacy read: pyodbc fetchmany against arrow-odbc\n\n" + report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
