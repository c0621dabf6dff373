"""Land a store API snapshot as NDJSON files, one per raw table, plus the rejected records.

Layout: ``<landing dir>/<table>.ndjson`` holding flattened rows (column names of
``deltastore.schemas``), which the warehouse ingests natively. Records that fail validation or
repeat an id are collected as ``Reject`` with the reason and the raw payload.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from deltastore.errors import LoadError
from deltastore.extract.sources.prefetch import prefetched
from deltastore.extract.sources.store_api import StoreApiClient
from deltastore.extract.sources.store_records import BadRecord, cart_rows, product_row, user_row
from deltastore.schemas import NEW_STORE_TABLES, Table

TABLES: dict[str, Table] = {t.name: t for t in NEW_STORE_TABLES}
ENDPOINTS = ("products", "users", "carts")
SECRET_FIELDS = frozenset({"password"})  # FakeStore users carry one; it is never landed


@dataclass(frozen=True)
class Reject:
    table_name: str          # qualified raw table, e.g. `new_store.products`
    record_key: str | None   # the record's id when it has one
    reason: str
    payload: str             # the record exactly as received, as JSON


@dataclass
class LandedTable:
    table: Table
    path: Path
    rows_read: int = 0      # records received (rejected ones included)
    rows_landed: int = 0    # rows written to the file
    rows_rejected: int = 0
    seconds: float = 0.0    # time spent reading the endpoint (cart items share the carts')
    # Ids of rejected records: still in the source, so their rows must not be marked deleted.
    protected_ids: set[int] = field(default_factory=set)
    # False when a rejected record had no usable id: we can't tell which row it was, so
    # this run must not mark any row of the table deleted.
    complete_keys: bool = True


@dataclass
class Landing:
    directory: Path
    tables: dict[str, LandedTable] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)


def land_store_api(client: StoreApiClient, directory: Path,
                   on_page: Callable[[str, int], None] | None = None) -> Landing:
    """Read every endpoint into ``directory``; raises before writing anything to a warehouse."""
    landing = Landing(directory)
    for name in ("products", "users", "carts", "cart_items"):
        landing.tables[name] = LandedTable(TABLES[name], directory / f"{name}.ndjson")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with ExitStack() as closing:
            files: dict[str, IO[str]] = {
                name: closing.enter_context(t.path.open("w", encoding="utf-8",
                                                        buffering=1 << 20))
                for name, t in landing.tables.items()
            }
            for endpoint in ENDPOINTS:
                started = time.monotonic()
                _land_endpoint(client, endpoint, landing, files, on_page)
                landing.tables[endpoint].seconds = time.monotonic() - started
            landing.tables["cart_items"].seconds = landing.tables["carts"].seconds
    except OSError as exc:
        raise LoadError(f"cannot write landing files in `{directory}`: {exc.strerror}; "
                        "check free space and permissions of DELTASTORE_DATA_DIR") from None
    return landing


def _land_endpoint(client: StoreApiClient, endpoint: str, landing: Landing,
                   files: dict[str, IO[str]], on_page: Callable[[str, int], None] | None) -> None:
    landed = landing.tables[endpoint]
    items = landing.tables["cart_items"]
    qualified = landed.table.qualified_name
    flatten = {"products": product_row, "users": user_row}.get(endpoint)
    seen: set[int] = set()
    dumps = json.dumps
    for page in prefetched(client.pages(endpoint)):
        lines: list[str] = []
        item_lines: list[str] = []
        for record in page:
            try:
                if flatten is not None:
                    row = flatten(record)
                else:
                    row, cart_items = cart_rows(record)
                if row["id"] in seen:
                    raise BadRecord(f"duplicate `id` `{row['id']}` in the snapshot")
            except BadRecord as exc:
                key = record.get("id")
                landing.rejects.append(Reject(qualified, None if key is None else str(key),
                                              str(exc), dumps(without_secrets(record))))
                landed.rows_rejected += 1
                affected = [landed, items] if flatten is None else [landed]
                for table in affected:
                    if type(key) is int:
                        table.protected_ids.add(key)
                    else:
                        table.complete_keys = False
                continue
            seen.add(row["id"])
            if flatten is not None:
                lines.append(dumps(row))
            else:
                # Carts and their items hold only validated ints and our own timestamp
                # text, so formatting them directly is safe and several times faster.
                lines.append(f'{{"id":{row["id"]},"user_id":{row["user_id"]},'
                             f'"date":"{row["date"]}"}}')
                item_lines.extend(
                    f'{{"cart_id":{c},"product_id":{p},"quantity":{q}}}' for c, p, q in cart_items
                )
        landed.rows_read += len(page)
        landed.rows_landed += len(lines)
        if lines:
            files[endpoint].write("\n".join(lines) + "\n")
        if item_lines:
            items.rows_read += len(item_lines)
            items.rows_landed += len(item_lines)
            files["cart_items"].write("\n".join(item_lines) + "\n")
        if on_page is not None:
            on_page(qualified, landed.rows_read)


def without_secrets(record: dict[str, Any]) -> dict[str, Any]:
    """The record as kept in ``meta.rejects``: everything but the secret fields."""
    if SECRET_FIELDS.isdisjoint(record):
        return record
    return {k: v for k, v in record.items() if k not in SECRET_FIELDS}
