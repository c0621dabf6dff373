"""The store-API landing against a loopback server: what the SQL checks let through and how
they flatten it must be exactly what ``store_records`` (the Python reference) gives.

Every record below goes through the real landing (DuckDB checks, the Python fallback,
duplicates, the NDJSON files); the expected rows and rejects are computed by applying
``store_records`` to the same records one by one, as the landing did before the checks
moved into DuckDB. Both sides are read back with the warehouse's own typed ``read_json``.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest

from deltastore.errors import DataError
from deltastore.extract.sources.store_api import StoreApiClient
from deltastore.extract.sources.store_landing import TABLES, land_store_api, without_secrets
from deltastore.extract.sources.store_records import BadRecord, cart_rows, product_row, user_row
from deltastore.extract.warehouse.duckdb import create_stage_sql, stage_name, stage_ndjson_sql
from deltastore.retry import RetryPolicy

PRODUCT: dict[str, Any] = {
    "id": 1, "title": "Backpack", "price": 109.95, "description": "Fits \"a\" laptop\n",
    "category": "men's clothing", "image": "https://example.test/1.jpg",
    "rating": {"rate": 3.9, "count": 120},
}
USER: dict[str, Any] = {
    "id": 1, "email": "john@gmail.com", "username": "johnd", "password": "m38rmF$",
    "name": {"firstname": "john", "lastname": "doe"},
    "address": {"city": "kilcoole", "street": "new road", "number": 7682,
                "zipcode": "12926-3874", "geolocation": {"lat": "-37.3159", "long": "81.1496"}},
    "phone": "1-570-236-7033", "__v": 0,
}
CART: dict[str, Any] = {
    "id": 1, "userId": 7, "date": "2020-03-02T00:00:00.000Z", "__v": 0,
    "products": [{"productId": 1, "quantity": 4}, {"productId": 2, "quantity": 1}],
}


def variant(base: dict[str, Any], ident: int, change: Callable[[dict[str, Any]], Any]
            ) -> dict[str, Any]:
    record = copy.deepcopy(base)
    record["id"] = ident
    change(record)
    return record


def nested(*path: str, value: Any = None, drop: bool = False
           ) -> Callable[[dict[str, Any]], None]:
    def change(record: dict[str, Any]) -> None:
        target = record
        for key in path[:-1]:
            target = target[key]
        if drop:
            target.pop(path[-1], None)
        else:
            target[path[-1]] = value
    return change


# Shapes the SQL passes, shapes it leaves to Python (which accepts them), and bad records.
PRODUCTS = [PRODUCT] + [variant(PRODUCT, i, change) for i, change in enumerate([
    nested("price", value=12), nested("price", value=0.125), nested("price", value=1e-7),
    nested("price", value="abc"), nested("price", value=True), nested("price", value=None),
    nested("title", drop=True), nested("title", value=5), nested("rating", value=[1]),
    nested("rating", "count", value=2.0), nested("rating", "rate", value=-1),
    nested("description", value="naïve ☃ \u0000 \\ \t"), nested("category", value=""),
], start=2)] + [
    variant(PRODUCT, 3, nested("title", value="a repeated id")),  # duplicate of a good one
    variant(PRODUCT, 5, nested("title", value="repeats a rejected id")),
    {"title": "no id at all"}, variant(PRODUCT, -4, nested("price", value=1)),
]
USERS = [USER] + [variant(USER, i, change) for i, change in enumerate([
    nested("address", "zipcode", value=12926), nested("address", "geolocation", "long",
                                                      value=81.1496),
    nested("address", "geolocation", "lat", value=-37), nested("address", "number", value="7"),
    nested("address", "geolocation", value=None), nested("name", value="john doe"),
    nested("email", drop=True), nested("address", "zipcode", value=1.5e20),
    nested("phone", value=["1", "2"]),
], start=2)] + [{"id": "7", "password": "secret-in-a-bad-record"}]
CARTS = [CART] + [variant(CART, i, change) for i, change in enumerate([
    nested("date", value="2020-03-02T01:30:00.000+02:00"), nested("date", value="2020-03-02"),
    nested("date", value="2020-03-02 23:59:59"), nested("date", value="2020-03-02T00:00:00Z"),
    nested("date", value="2020-03-02T00:00:00.123456-00:00"),
    nested("date", value="2020-02-30T00:00:00Z"), nested("date", value="2020-03-02T24:00:00Z"),
    nested("date", value="yesterday"), nested("date", value=20200302),
    nested("date", value="2020-03-02T00:00:00.1234567Z"),
    nested("products", value=[]), nested("products", value=None),
    nested("products", value=[{"productId": 1, "quantity": 1}, {"productId": 1, "quantity": 2}]),
    nested("products", value=[{"productId": 1, "quantity": 1}, 5]),
    nested("products", value=[{"productId": "1", "quantity": 1}]),
    nested("products", value=[{"productId": 1}]), nested("userId", value=None),
], start=2)] + [variant(CART, 2, nested("userId", value=99))]  # a cart id seen before
RECORDS = {"products": PRODUCTS, "users": USERS, "carts": CARTS}


def reference(endpoint: str, records: list[dict[str, Any]]
              ) -> tuple[list[str], list[str], list[tuple[str | None, str, dict[str, Any]]]]:
    """NDJSON lines of the table (and of cart items) and the rejects, record by record."""
    flatten = {"products": product_row, "users": user_row}.get(endpoint)
    lines, item_lines, rejects, seen = [], [], [], set()
    for record in records:
        try:
            if flatten is not None:
                row, items = flatten(record), []
            else:
                row, items = cart_rows(record)
            if row["id"] in seen:
                raise BadRecord(f"duplicate `id` `{row['id']}` in the snapshot")
        except BadRecord as exc:
            key = record.get("id")
            rejects.append((None if key is None else str(key), str(exc),
                            without_secrets(record)))
            continue
        seen.add(row["id"])
        lines.append(json.dumps(row))
        item_lines += [json.dumps({"cart_id": c, "product_id": p, "quantity": q})
                       for c, p, q in items]
    return lines, item_lines, rejects


def typed_rows(table_name: str, path: Path) -> list[tuple[Any, ...]]:
    """The file read as the warehouse reads it (typed ``read_json``), sorted."""
    table = TABLES[table_name]
    with duckdb.connect() as con:
        con.execute(create_stage_sql(table))
        con.execute(stage_ndjson_sql(table, path))
        return sorted(con.execute(f'SELECT * FROM "{stage_name(table)}"').fetchall(),
                      key=repr)


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, Any]]]:
    """Serves ``bodies[path]`` (records or raw bytes) whole, like fakestoreapi.com."""
    bodies: dict[str, Any] = {f"/{k}": v for k, v in RECORDS.items()}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (stdlib name)
            answer = bodies[self.path.partition("?")[0]]
            body = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", bodies
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def land(url: str, directory: Path) -> Any:
    with StoreApiClient(url, retry=RetryPolicy(attempts=2, base_delay=0.01)) as client:
        return land_store_api(client, directory)


def test_the_landing_gives_exactly_what_store_records_gives(
        server: tuple[str, dict[str, Any]], tmp_path: Path, loopback_only: None) -> None:
    url, _ = server
    landing = land(url, tmp_path / "landing")
    expected_items: list[str] = []
    for endpoint, records in RECORDS.items():
        lines, items, rejects = reference(endpoint, records)
        expected_items += items
        (tmp_path / f"{endpoint}.ndjson").write_text("".join(f"{x}\n" for x in lines))
        landed = landing.tables[endpoint]
        assert typed_rows(endpoint, landed.path) == typed_rows(
            endpoint, tmp_path / f"{endpoint}.ndjson")
        assert (landed.rows_read, landed.rows_landed, landed.rows_rejected) == (
            len(records), len(lines), len(rejects))
        got = [(r.record_key, r.reason, json.loads(r.payload)) for r in landing.rejects
               if r.table_name == f"new_store.{endpoint}"]
        assert got == rejects
    (tmp_path / "items.ndjson").write_text("".join(f"{x}\n" for x in expected_items))
    assert typed_rows("cart_items", landing.tables["cart_items"].path) == typed_rows(
        "cart_items", tmp_path / "items.ndjson")
    # The plain shapes took the SQL path; the others were checked in Python.
    assert [landing.tables[e].checked_in_python for e in RECORDS] == [8, 8, 12]
    # Ids of rejected records are protected from deletion marks; a reject without a usable
    # id means no row of its table may be marked deleted this run.
    assert landing.tables["products"].protected_ids >= {3, 5, 6}
    assert not landing.tables["products"].complete_keys
    assert not landing.tables["users"].complete_keys  # its bad record has the id "7"
    assert landing.tables["carts"].complete_keys and 2 in landing.tables["cart_items"].protected_ids
    # The password of the rejected user is nowhere in the landing.
    for path in (tmp_path / "landing").rglob("*"):
        if path.is_file():
            assert b"secret-in-a-bad-record" not in path.read_bytes()
            assert b"m38rmF$" not in path.read_bytes()


@pytest.mark.parametrize(("body", "error"), [
    (b'[{"id": 1}, 5]', "did not return a JSON array of objects"),
    (b'{"products": []}', "did not return a JSON array of objects"),
    (b'[{"id": 1, "title": "cut', "did not return JSON"),
    (b"\xff\xfe[]", "did not return JSON"),
])
def test_a_body_that_is_not_an_array_of_objects_fails_the_landing(
        server: tuple[str, dict[str, Any]], tmp_path: Path, body: bytes, error: str) -> None:
    url, bodies = server
    bodies["/users"] = body
    with pytest.raises(DataError, match=error):
        land(url, tmp_path / "landing")
