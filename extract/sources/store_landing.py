"""Land a store API snapshot as NDJSON files, one per raw table, plus the rejected records.

Layout: ``<landing dir>/<table>.ndjson`` holding flattened rows (column names of
``deltastore.schemas``), which the warehouse ingests natively. Records that fail validation or
repeat an id are collected as ``Reject`` with the reason and the raw payload. Fields the
contract does not name are listed per endpoint (``Landing.new_fields``) and, when asked,
landed in columns of their own (DELTASTORE_SCHEMA_CHANGES=evolve, extract/drift.py).
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deltastore.errors import TransientError
from deltastore.extract.sources.prefetch import Cancelled, prefetched, run_concurrently
from deltastore.extract.sources.store_api import StoreApiClient
from deltastore.extract.sources.store_contract import (
    ENDPOINTS,
    SECRET_FIELDS,
    NewField,
    new_fields,
)
from deltastore.extract.sources.store_raw import EndpointRecords, Extra, RawDatabase, Rejected
from deltastore.schemas import LOAD_COLUMNS, NEW_STORE_TABLES, Table

TABLES: dict[str, Table] = {t.name: t for t in NEW_STORE_TABLES}


@dataclass(frozen=True)
class Reject:
    table_name: str          # qualified raw table, e.g. `new_store.products`
    record_key: str | None   # the record's id when it has one
    reason: str
    payload: str             # the record exactly as received, as JSON
    n: int = 0               # its place in the endpoint's snapshot (pages: Landing.pages)
    field: str | None = None     # the field at fault, when it is one field's
    problem: str | None = None   # missing | type
    got: str | None = None       # the JSON type received


@dataclass
class LandedTable:
    table: Table
    path: Path
    rows_read: int = 0      # records received (rejected ones included)
    rows_landed: int = 0    # rows written to the file
    rows_rejected: int = 0
    checked_in_python: int = 0  # records of a shape the SQL checks leave to store_records
    seconds: float = 0.0    # time spent reading the endpoint (cart items share the carts')
    # Ids of rejected records: still in the source, so their rows must not be marked deleted.
    protected_ids: set[int] = field(default_factory=set)
    # False when a rejected record had no usable id: we can't tell which row it was, so
    # this run must not mark any row of the table deleted.
    complete_keys: bool = True
    # Columns beyond the contract that this landing holds (new fields landed), as
    # (name, logical type); ``table`` has them too.
    new_columns: tuple[tuple[str, str], ...] = ()


@dataclass
class Landing:
    directory: Path
    tables: dict[str, LandedTable] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    # Per endpoint: fields the contract does not name, and each page as (number of its
    # first record, records).
    new_fields: dict[str, list[NewField]] = field(default_factory=dict)
    pages: dict[str, list[tuple[int, int]]] = field(default_factory=dict)


def land_store_api(client: StoreApiClient, directory: Path,
                   on_page: Callable[[str, int], None] | None = None,
                   land_new_fields: bool = False) -> Landing:
    """Read every endpoint into ``directory``; raises before writing anything to a warehouse.
    With ``land_new_fields``, each new field that can have a column is written in one.

    The three endpoints are read at the same time. Their pages go as received into an
    in-memory DuckDB (``store_raw``), which checks and flattens the records of the plain
    shape in SQL; the others go through ``store_records`` in Python. The raw records,
    passwords included, never touch the disk (beyond DuckDB's own spill files, which go
    when it closes).
    """
    landing = Landing(directory)
    for name in ("products", "users", "carts", "cart_items"):
        landing.tables[name] = LandedTable(TABLES[name], directory / f"{name}.ndjson")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with RawDatabase(directory / "spill") as database:
            # Tables are created here, one after the other: DuckDB refuses concurrent
            # changes to its catalog.
            records = [EndpointRecords(database, e) for e in ENDPOINTS]
            try:
                found = run_concurrently([
                    functools.partial(_land_endpoint, client, r, landing, on_page,
                                      land_new_fields)
                    for r in records])
            finally:
                for r in records:
                    r.close()
    except OSError as exc:
        raise TransientError(f"cannot write landing files in `{directory}`: {exc.strerror}; "
                        "check free space and permissions of DELTASTORE_DATA_DIR") from None
    for endpoint, rejected in zip(ENDPOINTS, found, strict=True):
        _note_rejects(landing, endpoint, rejected)
    landing.tables["cart_items"].seconds = landing.tables["carts"].seconds
    return landing


def _land_endpoint(client: StoreApiClient, records: EndpointRecords, landing: Landing,
                   on_page: Callable[[str, int], None] | None, land_new_fields: bool,
                   stop: threading.Event) -> list[Rejected]:
    """Every page of one endpoint (the next is fetched meanwhile), then its file(s)."""
    started = time.monotonic()
    landed = landing.tables[records.endpoint]
    with client.clone() as own:
        for page in prefetched(own.pages(records.endpoint, decoder=records)):
            if stop.is_set():  # another endpoint failed: this snapshot will not be loaded
                raise Cancelled
            landed.rows_read += records.add(page)
            if on_page is not None:
                on_page(landed.table.qualified_name, landed.rows_read)
    found = new_fields(records.endpoint, records.structure())
    landing.new_fields[records.endpoint] = found
    landing.pages[records.endpoint] = records.pages
    rejected = records.flatten(_add_columns(landed, found) if land_new_fields else ())
    landed.checked_in_python = records.checked_in_python
    landed.rows_landed = records.write(landed.table, landed.path)
    if records.endpoint == "carts":
        items = landing.tables["cart_items"]
        items.rows_read = items.rows_landed = records.write_cart_items(items.path)
    landed.seconds = time.monotonic() - started
    return rejected


def _add_columns(landed: LandedTable, found: list[NewField]) -> tuple[Extra, ...]:
    """The new fields that can have a column become columns of the landed table; returns
    them as read from the records."""
    landable = landable_columns(landed.table, found)
    extra = [new for new in found if new.column in landable]
    landed.new_columns = tuple((new.column, str(new.lands_as)) for new in extra)
    landed.table = Table(landed.table.schema, landed.table.name,
                         landed.table.columns + landed.new_columns, landed.table.primary_key)
    return tuple(Extra(new.column, new.keys, new.path) for new in extra)


def landable_columns(table: Table, found: list[NewField]) -> set[str]:
    """Columns new fields can land in: those with a type, whose name neither the table
    nor its load columns nor another new field has."""
    taken = {c for c, _ in table.columns + LOAD_COLUMNS}
    names = [new.column for new in found]
    return {new.column for new in found if new.lands_as is not None
            and new.column not in taken and names.count(new.column) == 1}


def _note_rejects(landing: Landing, endpoint: str, rejected: list[Rejected]) -> None:
    """Rejects for ``meta.rejects``; their ids are protected from deletion marks."""
    landed = landing.tables[endpoint]
    affected = [landed, landing.tables["cart_items"]] if endpoint == "carts" else [landed]
    for reject in rejected:
        key = reject.record.get("id")
        landing.rejects.append(Reject(landed.table.qualified_name,
                                      None if key is None else str(key), reject.reason,
                                      json.dumps(without_secrets(reject.record)), reject.n,
                                      reject.field, reject.problem, reject.got))
        landed.rows_rejected += 1
        for table in affected:
            if type(key) is int:
                table.protected_ids.add(key)
            else:
                # A rejected record without a usable id: which row was it? None of the
                # table's rows may be marked deleted this run.
                table.complete_keys = False


def without_secrets(record: dict[str, Any]) -> dict[str, Any]:
    """The record as kept in ``meta.rejects``: everything but the secret fields."""
    if SECRET_FIELDS.isdisjoint(record):
        return record
    return {k: v for k, v in record.items() if k not in SECRET_FIELDS}
