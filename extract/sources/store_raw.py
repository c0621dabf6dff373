"""The store API's raw records in an in-memory DuckDB, where they are checked and flattened.

Per endpoint, tables ``<endpoint>_checked`` (each record as received ``r``, numbered ``n``
in the snapshot, with the fields the checks read ``v`` and their verdict ``ok``, see
``store_sql``) and ``<endpoint>_flat`` (the raw table's row of each good record, as JSON
``doc``); carts add ``cart_items``. The thread that fetches a page only checks that it is
JSON (``decode``); the landing thread checks and flattens its records while the next page
is fetched (``add``). Records the SQL leaves aside go through ``store_records`` in Python,
which flattens them or says why they are rejected. Endpoints may be landed at the same
time, each on its own cursors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deltastore.db import column_type, duckdb_config
from deltastore.duckdb_errors import classify
from deltastore.errors import DataError, first_line
from deltastore.extract.sources import store_sql
from deltastore.extract.sources.store_api import JsonDecoder, Page, not_records
from deltastore.extract.sources.store_records import BadRecord, cart_rows, flat_row
from deltastore.schemas import Table
from deltastore.sql_names import literal

RESCUE_BATCH = 10_000  # records left to Python, read from DuckDB this many at a time


@dataclass(frozen=True)
class RawPage:
    """A page's body as received, less its first ``skip`` records."""

    text: str
    count: int
    skip: int = 0


@dataclass(frozen=True)
class Rejected:
    n: int                   # the record's place in the snapshot
    record: dict[str, Any]   # as received
    reason: str
    field: str | None = None    # the field at fault (BadRecord's), None: not one field's
    problem: str | None = None  # missing | type
    got: str | None = None      # the JSON type received, for `type`


@dataclass(frozen=True)
class Extra:
    """A field no column of the contract holds, landed in a column of its own."""

    column: str
    keys: tuple[str, ...]  # where it is in a record
    path: str              # the same, as a DuckDB JSON path


class RawDatabase:
    """The in-memory DuckDB; spills to ``spill`` beyond DuckDB's memory limit."""

    def __init__(self, spill: Path) -> None:
        import duckdb

        self.connection = duckdb.connect(":memory:", config={**duckdb_config(),
                                                             "temp_directory": str(spill)})

    def __enter__(self) -> RawDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.connection.close()


class EndpointRecords:
    """One endpoint's records: the page decoder for the client, then the checks."""

    def __init__(self, database: RawDatabase, endpoint: str) -> None:
        import duckdb

        self._error = duckdb.Error
        self.endpoint = endpoint
        self.received = 0
        self.pages: list[tuple[int, int]] = []  # (number of its first record, records)
        self.checked_in_python = 0  # records the SQL left to store_records
        self._sql = database.connection.cursor()       # the landing thread's
        self._decoding = database.connection.cursor()  # the prefetch thread's
        self.checked, self.flat = f"{endpoint}_checked", f"{endpoint}_flat"
        self._extra: tuple[Extra, ...] = ()
        self.execute(f"CREATE OR REPLACE TABLE {self.checked} "
                     "(n BIGINT, r JSON, v JSON[], ok BOOLEAN)")
        self.execute(f"CREATE OR REPLACE TABLE {self.flat} (n BIGINT, id BIGINT, doc JSON)")
        if endpoint == "carts":
            self.execute("CREATE OR REPLACE TABLE cart_items "
                         "(n BIGINT, cart_id BIGINT, product_id BIGINT, quantity BIGINT)")

    def close(self) -> None:
        self.execute(f"DROP TABLE IF EXISTS {self.checked}; DROP TABLE IF EXISTS {self.flat}; "
                     "DROP TABLE IF EXISTS cart_items")
        self._decoding.close()
        self._sql.close()

    def execute(self, sql: str, params: Any = None) -> Any:
        try:
            return self._sql.execute(sql, params)
        except self._error as exc:
            raise classify(exc, f"landing `/{self.endpoint}`") from None

    # --- receiving ----------------------------------------------------------------------

    def decode(self, endpoint: str, body: bytes) -> Page:
        """The page's size and first record. Text that is not JSON raises Python's own
        message (``BadBody``, retried); JSON that is not an array is refused here, an
        element that is not an object when the checks leave it to Python."""
        try:
            text = body.decode("utf-8")
            if not text.lstrip().startswith("["):
                raise ValueError("not an array")
            count, first = self._decoding.execute(
                "SELECT json_array_length(p), json_extract(p, '$[0]')::VARCHAR "
                "FROM (SELECT $1::JSON AS p)", [text]).fetchall()[0]
        except (ValueError, self._error) as exc:  # UnicodeDecodeError is a ValueError
            JsonDecoder().decode(endpoint, body)  # raises the error that says what is wrong
            raise DataError(f"store API `/{endpoint}` sent JSON that DuckDB cannot read "
                            f"({first_line(exc)})") from None
        return Page(int(count), first, RawPage(text, int(count)))

    def skip(self, records: Any, count: int) -> Any:
        return RawPage(records.text, records.count, records.skip + count)

    def add(self, page: RawPage) -> int:
        """Number the page's records and check them; returns how many. (This runs while
        the next page is fetched on the prefetch thread.)"""
        self.execute(
            f"INSERT INTO {self.checked} SELECT n, r, v, {store_sql.passes_sql(self.endpoint)} "
            f"FROM (SELECT $base + i - $skip AS n, r, {store_sql.fields_sql(self.endpoint)} "
            "AS v FROM (SELECT generate_subscripts(l, 1) AS i, unnest(l) AS r FROM "
            "(SELECT json_extract($text::JSON, '$[*]') AS l)) WHERE i > $skip)",
            {"base": self.received, "skip": page.skip, "text": page.text})
        added = max(0, page.count - page.skip)
        if added:
            self.pages.append((self.received + 1, added))
        self.received += added
        return added

    def structure(self) -> dict[str, Any]:
        """Every key of every record with the JSON type of its values, nested objects as
        dicts, a list as a one-element list of its items' structure, values of several
        types as ``JSON`` (DuckDB's ``json_group_structure``).

        Merged from one record of each shape: ``json_group_structure`` over every record
        keeps them all in memory, past a 512 MiB limit at scale 100 (480,000 carts), where
        grouping by each record's ``json_structure`` spills."""
        row = self.execute(
            "SELECT json_group_structure(r) FROM (SELECT any_value(r) AS r "
            f"FROM {self.checked} GROUP BY json_structure(r))").fetchone()
        found = json.loads(row[0]) if row and row[0] else {}
        return found if isinstance(found, dict) else {}

    # --- checking -----------------------------------------------------------------------

    def flatten(self, extra: tuple[Extra, ...] = ()) -> list[Rejected]:
        """Flatten every good record, with the ``extra`` fields; returns the rejected ones
        in snapshot order."""
        good = f"(SELECT n, v, r FROM {self.checked} WHERE ok)"
        row_sql = store_sql.flat_row_sql(self.endpoint, [(e.column, e.path) for e in extra])
        self.execute(f"INSERT INTO {self.flat} SELECT n, v[1]::BIGINT, {row_sql} FROM {good}")
        self._extra = extra
        if self.endpoint == "carts":
            self.execute("INSERT INTO cart_items " + store_sql.cart_items_sql(good))
        rejected = self._check_in_python() + self._duplicates()
        return sorted(rejected, key=lambda r: r.n)

    def _check_in_python(self) -> list[Rejected]:
        """Records the SQL left aside: ``store_records`` flattens them or rejects them."""
        reader = self._sql.cursor()  # its own result set: inserts run on self._sql meanwhile
        try:
            reader.execute(f"SELECT n, r FROM {self.checked} WHERE NOT ok ORDER BY n")
            rejected: list[Rejected] = []
            while batch := reader.fetchmany(RESCUE_BATCH):
                self.checked_in_python += len(batch)
                rejected += self._flatten_in_python(batch)
            return rejected
        except self._error as exc:
            raise classify(exc, f"landing `/{self.endpoint}`") from None
        finally:
            reader.close()

    def _flatten_in_python(self, batch: list[tuple[int, str]]) -> list[Rejected]:
        import pyarrow as pa

        rejected: list[Rejected] = []
        rows: list[tuple[int, int, str]] = []
        items: list[tuple[int, int, int, int]] = []
        for n, text in batch:
            record = json.loads(text)
            if type(record) is not dict:
                raise not_records(self.endpoint, f"a {type(record).__name__} in the array")
            try:
                if self.endpoint != "carts":
                    row = flat_row(self.endpoint, record)
                else:
                    row, lines = cart_rows(record)
                    items += [(n, *line) for line in lines]
            except BadRecord as exc:
                rejected.append(Rejected(n, record, str(exc), exc.field, exc.problem, exc.got))
                continue
            for extra in self._extra:
                row[extra.column] = _lookup(record, extra.keys)
            rows.append((n, row["id"], json.dumps(row)))
        for table, values, names in (
                (self.flat, rows, ("n", "id", "doc")),
                ("cart_items", items, ("n", "cart_id", "product_id", "quantity"))):
            if values:
                arrow = pa.Table.from_arrays([pa.array(c) for c in zip(*values, strict=True)],
                                             names=list(names))
                self._sql.register("rescued", arrow)
                try:
                    self.execute(f"INSERT INTO {table} SELECT * FROM rescued")
                finally:
                    self._sql.unregister("rescued")
        return rejected

    def _duplicates(self) -> list[Rejected]:
        """A good record whose `id` an earlier good record has: rejected, with its items."""
        found = self.execute(
            f"SELECT f.n, f.id, c.r FROM (SELECT n, id, row_number() OVER (PARTITION BY id "
            f"ORDER BY n) AS k FROM {self.flat}) AS f JOIN {self.checked} AS c USING (n) "
            "WHERE f.k > 1").fetchall()
        if not found:
            return []
        repeated = [n for n, _, _ in found]
        for table in [self.flat] + (["cart_items"] if self.endpoint == "carts" else []):
            self.execute(f"DELETE FROM {table} WHERE list_contains($1::BIGINT[], n)",
                         [repeated])
        return [Rejected(n, json.loads(text), f"duplicate `id` `{key}` in the snapshot")
                for n, key, text in found]

    # --- writing ------------------------------------------------------------------------

    def write(self, table: Table, path: Path) -> int:
        """The table's rows as NDJSON, typed as the warehouse will read them; how many."""
        types = json.dumps({c: column_type("duckdb", t) for c, t in table.columns})
        return self._copy(f"SELECT unnest(json_transform(doc, {literal(types)})) "
                          f"FROM {self.flat}", path)

    def write_cart_items(self, path: Path) -> int:
        """A product listed twice in one cart is summed (the key is cart + product)."""
        return self._copy("SELECT cart_id, product_id, sum(quantity)::BIGINT AS quantity "
                          "FROM cart_items GROUP BY cart_id, product_id", path)

    def _copy(self, query: str, path: Path) -> int:
        return int(self.execute(f"COPY ({query}) TO {literal(str(path))} (FORMAT json)"
                                ).fetchone()[0])


def _lookup(record: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """The value at ``keys`` in nested objects; None where one is missing."""
    value: Any = record
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value
