"""Write the demo legacy store into a database: SQLite (default), DuckDB or SQL Server.

The tables and columns are exactly ``OLD_STORE_TABLES`` (deltastore/schemas.py): no schema
prefix in SQLite and DuckDB, schema ``dbo`` in SQL Server. Each run drops and recreates the
tables, so a rerun replaces the contents and never appends. Rows are generated and inserted
in batches (one transaction per batch), so memory stays flat at any scale.

The SQL is built by small pure functions (``create_table_sql``, ``insert_sql``, ...) that a
unit test checks for every kind of database, since SQL Server cannot run here.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from decimal import Decimal
from typing import Any

from deltastore.db import column_type, connect, driver_errors
from deltastore.dburl import DatabaseURL
from deltastore.errors import ConfigError, TransientError
from deltastore.extract.demo.legacy_records import LegacyData
from deltastore.limits import available_cpus
from deltastore.schemas import OLD_STORE_TABLES, Table
from deltastore.sql_names import qualified, quote

log = logging.getLogger(__name__)

MSSQL_SCHEMA = "dbo"
TABLES = {t.name: t for t in OLD_STORE_TABLES}


def table_ref(kind: str, table: Table) -> str:
    """The table's name as written in SQL: ``[dbo].[orders]`` or ``"orders"``."""
    return qualified(kind, MSSQL_SCHEMA if kind == "mssql" else None, table.name)


def drop_table_sql(kind: str, table: Table) -> str:
    return f"DROP TABLE IF EXISTS {table_ref(kind, table)}"


def create_table_sql(kind: str, table: Table) -> str:
    """CREATE TABLE with the logical types mapped for ``kind`` and the primary key declared."""
    columns = [
        f"{quote(kind, name)} {column_type(kind, logical)}"
        + (" NOT NULL" if name in table.primary_key else "")
        for name, logical in table.columns
    ]
    key = ", ".join(quote(kind, c) for c in table.primary_key)
    constraint = (f"CONSTRAINT {quote(kind, 'pk_' + table.name)} " if kind == "mssql" else "")
    columns.append(f"{constraint}PRIMARY KEY ({key})")
    return f"CREATE TABLE {table_ref(kind, table)} ({', '.join(columns)})"


def insert_sql(kind: str, table: Table) -> str:
    """A parameterised INSERT of every column (``?`` placeholders: sqlite3, duckdb, pyodbc)."""
    names = ", ".join(quote(kind, c) for c in table.column_names)
    marks = ", ".join("?" for _ in table.columns)
    return f"INSERT INTO {table_ref(kind, table)} ({names}) VALUES ({marks})"


def insert_from_arrow_sql(table: Table, relation: str) -> str:
    """DuckDB: insert a registered Arrow batch (row-wise executemany is slow in DuckDB)."""
    names = ", ".join(quote("duckdb", c) for c in table.column_names)
    return f"INSERT INTO {table_ref('duckdb', table)} ({names}) SELECT {names} FROM {relation}"


def row_adapter(kind: str, table: Table) -> Callable[[tuple], tuple]:
    """Turn neutral values (cents, datetimes) into what the driver for ``kind`` takes."""
    money = _cents_to_decimal if kind == "mssql" else _cents_to_float
    timestamp = _timestamp_text if kind == "sqlite" else None
    active: list[tuple[int, Callable[[Any], Any]]] = []
    for index, (_, logical) in enumerate(table.columns):
        convert = money if logical == "money" else timestamp if logical == "timestamp" else None
        if convert is not None:
            active.append((index, convert))
    if not active:
        return lambda row: row

    def adapt(row: tuple) -> tuple:
        values = list(row)
        for index, convert in active:
            if values[index] is not None:
                values[index] = convert(values[index])
        return tuple(values)

    return adapt


def _cents_to_float(cents: int) -> float:
    return round(cents / 100, 2)


def _cents_to_decimal(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _timestamp_text(moment: dt.datetime) -> str:
    return moment.isoformat(sep=" ")


def _arrow_types() -> dict[str, Any]:
    import pyarrow as pa

    # Money goes in as double; DuckDB rounds it into DECIMAL(12,2) exactly (cents fit).
    return {"int": pa.int64(), "text": pa.string(), "money": pa.float64(),
            "float": pa.float64(), "date": pa.date32(), "timestamp": pa.timestamp("us"),
            "bool": pa.bool_()}


class _BatchWriter:
    """Buffers rows per table and inserts each buffer when it is full (one commit each)."""

    def __init__(self, conn: Any, kind: str, batch_size: int) -> None:
        self.conn = conn
        self.kind = kind
        self.batch_size = batch_size
        self.buffers: dict[str, list[tuple]] = {name: [] for name in TABLES}
        self.statements = {name: insert_sql(kind, t) for name, t in TABLES.items()}
        self.counts = dict.fromkeys(TABLES, 0)
        self.arrow_types = _arrow_types() if kind == "duckdb" else {}

    def add_many(self, table: str, rows: list[tuple]) -> None:
        """Buffer rows already adapted for this database; write every full batch."""
        buffer = self.buffers[table]
        buffer.extend(rows)
        while len(buffer) >= self.batch_size:
            self._write(table, buffer[:self.batch_size])
            del buffer[:self.batch_size]

    def flush(self, table: str) -> None:
        if self.buffers[table]:
            self._write(table, self.buffers[table])
            self.buffers[table] = []

    def _write(self, table: str, rows: list[tuple]) -> None:
        if self.kind == "duckdb":
            self._insert_arrow(TABLES[table], rows)
        else:
            cursor = self.conn.cursor()
            if self.kind == "mssql":
                cursor.fast_executemany = True
            cursor.executemany(self.statements[table], rows)
        self.conn.commit()
        self.counts[table] += len(rows)

    def _insert_arrow(self, table: Table, rows: list[tuple]) -> None:
        import pyarrow as pa

        columns = list(zip(*rows, strict=True))
        batch = pa.table({
            name: pa.array(values, type=self.arrow_types[logical])
            for (name, logical), values in zip(table.columns, columns, strict=True)
        })
        self.conn.register("legacy_batch", batch)
        try:
            self.conn.execute(insert_from_arrow_sql(table, "legacy_batch"))
        finally:
            self.conn.unregister("legacy_batch")

    def flush_all(self) -> None:
        for table in TABLES:
            self.flush(table)


def generate_legacy_db(url: DatabaseURL, scale: float = 1, seed: int = 42,
                       batch_size: int = 10_000, workers: int | None = None) -> dict[str, int]:
    """Create (or replace) the legacy tables at ``url`` and fill them; rows per table.

    Rows are made in chunks by ``workers`` processes (default: the CPUs this container may
    use) while this one writes; small databases are made here, where a process pool would
    cost more than it saves. Either way the rows are the same.
    """
    if batch_size < 1:
        raise ConfigError(f"batch size `{batch_size}` must be at least 1")
    data = LegacyData(scale, seed)
    if workers is None:
        workers = available_cpus() if data.orders >= _POOL_FROM_ORDERS else 1
    conn = connect(url)
    try:
        if url.kind == "sqlite":
            # The file is rebuilt from scratch on every run: durability per batch buys nothing.
            conn.execute("PRAGMA synchronous = OFF")
        recreate_tables(conn, url.kind)
        writer = _BatchWriter(conn, url.kind, batch_size)
        _fill(writer, _chunks(data, url.kind, workers))
        writer.flush_all()
    except driver_errors(url.kind) as exc:
        raise TransientError(f"writing the demo legacy database `{url}` failed: {exc}") from None
    finally:
        conn.close()
    log.info("demo legacy database `%s`: %s", url, writer.counts)
    return writer.counts


def recreate_tables(conn: Any, kind: str) -> None:
    """Drop and create every legacy table, then commit (SQLite and DuckDB run DDL at once)."""
    cursor = conn.cursor()
    for table in OLD_STORE_TABLES:
        cursor.execute(drop_table_sql(kind, table))
        cursor.execute(create_table_sql(kind, table))
    conn.commit()


# Records per generation task, and the size from which a process pool pays for itself.
_CHUNK = 20_000
_POOL_FROM_ORDERS = 50_000
# Table groups in writing order; "orders" also yields order_items, payment and shipments.
_PARTS = ("customers", "suppliers", "products", "orders", "reviews")


def _tasks(data: LegacyData, kind: str) -> list[tuple[float, int, str, str, int, int]]:
    sizes = {"customers": data.customers, "suppliers": data.suppliers,
             "products": data.products, "orders": data.orders, "reviews": data.reviews}
    return [(data.scale, data.seed, kind, part, start, min(start + _CHUNK, sizes[part] + 1))
            for part in _PARTS for start in range(1, sizes[part] + 1, _CHUNK)]


def chunk_rows(task: tuple[float, int, str, str, int, int]) -> dict[str, list[tuple]]:
    """The adapted rows of one task (records ``start`` to ``stop - 1`` of one part).

    Order items are numbered from 1 within the chunk; ``_chunks`` renumbers them. Runs in a
    worker process, so it takes and returns only plain values.
    """
    scale, seed, kind, part, start, stop = task
    data = LegacyData(scale, seed)
    adapt = {name: row_adapter(kind, table) for name, table in TABLES.items()}
    if part != "orders":
        make = {"customers": data.customer, "suppliers": data.supplier,
                "products": data.product, "reviews": data.review}[part]
        convert = adapt[part]
        return {part: [convert(make(i)) for i in range(start, stop)]}
    out: dict[str, list[tuple]] = {"orders": [], "order_items": [], "payment": [],
                                   "shipments": []}
    next_item = 1
    for i in range(start, stop):
        rows = data.order(i, next_item)
        next_item += len(rows.items)
        out["orders"].append(adapt["orders"](rows.order))
        out["order_items"].extend(adapt["order_items"](item) for item in rows.items)
        out["payment"].append(adapt["payment"](rows.payment))
        out["shipments"].append(adapt["shipments"](rows.shipment))
    return out


def _chunks(data: LegacyData, kind: str, workers: int) -> Iterator[dict[str, list[tuple]]]:
    """Every task's rows in order, order items renumbered across chunks.

    With a pool, at most two tasks per worker are in flight, so finished chunks never pile
    up in memory while the writer catches up.
    """
    tasks = _tasks(data, kind)
    if workers <= 1:
        made: Iterator[dict[str, list[tuple]]] = map(chunk_rows, tasks)
    else:
        made = _pooled(tasks, workers)
    item_offset = 0
    for chunk in made:
        items = chunk.get("order_items")
        if items:
            chunk["order_items"] = [(row[0] + item_offset, *row[1:]) for row in items]
            item_offset += len(items)
        yield chunk


def _pooled(tasks: list[tuple[float, int, str, str, int, int]],
            workers: int) -> Iterator[dict[str, list[tuple]]]:
    # spawn, not fork: the caller may have threads (the demo store, a test server).
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending: deque[Future[dict[str, list[tuple]]]] = deque()
        queued = iter(tasks)
        for task in itertools.islice(queued, 2 * workers):
            pending.append(pool.submit(chunk_rows, task))
        while pending:
            chunk = pending.popleft().result()
            for task in itertools.islice(queued, 1):
                pending.append(pool.submit(chunk_rows, task))
            yield chunk


def _fill(writer: _BatchWriter, chunks: Iterator[dict[str, list[tuple]]]) -> None:
    for chunk in chunks:
        for table, rows in chunk.items():
            writer.add_many(table, rows)


