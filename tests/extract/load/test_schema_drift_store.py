"""Schema drift of the store API: the demo store serves changed payloads on loopback
(``DemoStore(alter=…)``) and the extract lands them in a real DuckDB warehouse.

New fields land under `evolve` (nested ones as `parent_child`), stop under `freeze`, are
left out under `ignore`, and are reported once. A field missing, renamed or sent as another
type in more than DELTASTORE_MAX_REJECT_SHARE of a page stops the extract (exit 3) with the
diff; below it, the records are rejected one by one as before.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from extract_load_helpers import warehouse_query

from deltastore.errors import EXIT_DATA, DataError
from deltastore.extract.demo.store_server import DemoStore
from deltastore.extract.load import TableResult, run_extract
from deltastore.extract.sources.store_contract import FIELDS, NewField, new_fields
from deltastore.retry import RetryPolicy
from deltastore.settings import Settings

MakeSettings = Callable[..., Settings]
FAST = RetryPolicy(attempts=3, max_seconds=5, base_delay=0.01, max_delay=0.05)
Record = dict[str, Any]


def with_brand(product: Record) -> Record:
    return {**product, "brand": f"brand-{product['id'] % 3}",
            "rating": {**product["rating"], "stars": product["id"] % 5}}


def with_coupon(cart: Record) -> Record:
    lines = [{**line, "price": 1.5} for line in cart["products"]]
    return {**cart, "coupon": None, "products": lines}


def renamed_price(product: Record) -> Record:
    product = dict(product)
    product["unit_price"] = product.pop("price")
    return product


def extract(make_settings: MakeSettings, alter: dict[str, Callable[[Record], Record]],
            **overrides: str) -> list[TableResult]:
    with DemoStore(scale=0.01, alter=alter) as store:
        return run_extract(make_settings(store.url, **overrides), "store-api", retry=FAST)


def changes_of(results: list[TableResult]) -> list[tuple[str, str, str, str | None, str]]:
    return [(c.table, c.column, c.change, c.new_type, c.action)
            for r in results for c in r.changes]


def test_new_fields_are_every_key_the_contract_does_not_name() -> None:
    structure = {"id": "UBIGINT", "price": "JSON", "brand": "VARCHAR", "tags": ["VARCHAR"],
                 "rating": {"rate": "DOUBLE", "count": "UBIGINT", "stars": "HUGEINT"},
                 "size": {"w": "DOUBLE"}, "odd key": "NULL"}
    assert new_fields("products", structure) == [
        NewField(("brand",), "string"), NewField(("tags",), "array"),
        NewField(("rating", "stars"), "integer"), NewField(("size", "w"), "number"),
        NewField(("odd key",), "null")]
    # the password and `__v` are known (never landed); a cart line's field cannot land
    assert new_fields("users", {"password": "VARCHAR", "__v": "UBIGINT"}) == []
    [line] = new_fields("carts", {"__v": "UBIGINT", "products": [
        {"productId": "UBIGINT", "quantity": "UBIGINT", "price": "DOUBLE"}]})
    assert (line.label, line.lands_as) == ("products[].price", None)
    assert NewField(("odd key",), "null").lands_as is None
    assert [f.column for f in FIELDS["products"]][-2:] == ["rating_rate", "rating_count"]


def test_evolve_lands_new_fields_once(make_settings: MakeSettings, data_dir: Path) -> None:
    alter = {"products": with_brand, "carts": with_coupon}
    first = extract(make_settings, alter)
    assert sorted(changes_of(first)) == [
        ("new_store.carts", "coupon", "added", "null", "landed"),
        ("new_store.carts", "products[].price", "added", "number", "not landed"),
        ("new_store.products", "brand", "added", "string", "landed"),
        ("new_store.products", "rating.stars", "added", "integer", "landed")]
    assert warehouse_query(data_dir, "SELECT id, brand, rating_stars FROM new_store.products "
                               "ORDER BY id LIMIT 2") == [(1, "brand-1", 1), (2, "brand-2", 2)]
    assert warehouse_query(data_dir, "SELECT count(*), count(coupon) FROM new_store.carts") == [
        (100, 0)]
    again = extract(make_settings, alter)
    assert changes_of(again) == []
    assert all((r.inserted, r.updated, r.deleted) == (0, 0, 0) for r in again)
    assert warehouse_query(data_dir, "SELECT count(*), count(DISTINCT id), count(brand) "
                               "FROM new_store.products") == [(4, 4, 4)]
    assert warehouse_query(data_dir, "SELECT count(*) FROM meta.schema_changes") == [(4,)]


def test_freeze_stops_on_a_new_field_before_loading(make_settings: MakeSettings,
                                                    data_dir: Path) -> None:
    with pytest.raises(DataError) as caught:
        extract(make_settings, {"products": with_brand}, schema_changes="freeze")
    assert caught.value.exit_code == EXIT_DATA
    message = str(caught.value)
    assert "`new_store.products` field `brand`: new (string), and DELTASTORE_SCHEMA_CHANGES " \
        "is `freeze`" in message and "field `rating.stars`" in message
    assert warehouse_query(data_dir, "SELECT count(*) FROM new_store.products") == [(0,)]
    assert warehouse_query(data_dir, "SELECT column_name, action FROM meta.schema_changes "
                               "ORDER BY 1") == [("brand", "stopped"), ("rating.stars", "stopped")]


def test_ignore_leaves_new_fields_out_and_reports_them_once(make_settings: MakeSettings,
                                                            data_dir: Path) -> None:
    first = extract(make_settings, {"products": with_brand}, schema_changes="ignore")
    assert sorted(changes_of(first)) == [
        ("new_store.products", "brand", "added", "string", "not landed"),
        ("new_store.products", "rating.stars", "added", "integer", "not landed")]
    assert warehouse_query(data_dir, "SELECT count(*) FROM information_schema.columns WHERE "
                               "table_name = 'products' AND column_name = 'brand'") == [(0,)]
    assert warehouse_query(data_dir, "SELECT count(*) FROM new_store.products") == [(4,)]
    assert changes_of(extract(make_settings, {"products": with_brand},
                              schema_changes="ignore")) == []


def test_a_renamed_field_stops_with_both_names(make_settings: MakeSettings,
                                               data_dir: Path) -> None:
    with pytest.raises(DataError) as caught:
        extract(make_settings, {"products": renamed_price})
    message = str(caught.value)
    assert "`new_store.products` field `price`: missing in 4 of the 4 records of a page" \
        in message
    assert "`price` is gone and `unit_price` is new (number): renamed?" in message
    assert warehouse_query(data_dir, "SELECT count(*) FROM new_store.products") == [(0,)]


@pytest.mark.parametrize(("share", "stops"), [("0.5", False), ("0.4", True)])
def test_a_type_change_stops_beyond_the_reject_share(share: str, stops: bool,
                                                     make_settings: MakeSettings,
                                                     data_dir: Path) -> None:
    """Half the products send their price as a string: at a share of 0.5 they are rejected
    one by one; at 0.4 the page is past it and the extract stops."""
    def half_as_text(product: Record) -> Record:
        return {**product, "price": str(product["price"])} if product["id"] % 2 else product

    if not stops:
        results = {r.table: r for r in extract(make_settings, {"products": half_as_text},
                                               max_reject_share=share)}
        assert (results["new_store.products"].rejected, results["new_store.products"].inserted
                ) == (2, 2)
        assert results["new_store.products"].changes == ()
        return
    with pytest.raises(DataError, match=r"field `price`: string where the contract expects "
                                        r"number in 2 of the 4 records of a page \(more than "
                                        r"DELTASTORE_MAX_REJECT_SHARE `0.4`\)"):
        extract(make_settings, {"products": half_as_text}, max_reject_share=share)
    assert warehouse_query(data_dir, "SELECT change, old_type, new_type, action FROM "
                               "meta.schema_changes") == [
        ("retyped", "number", "string", "stopped")]


def test_records_checked_in_python_land_their_new_fields_too(make_settings: MakeSettings,
                                                              data_dir: Path) -> None:
    """A user whose zip code is a decimal number is left to store_records by the SQL checks
    (tests/extract/sources/test_store_landing.py); its new field lands all the same."""
    def nickname(user: Record) -> Record:
        address = {**user["address"], "zipcode": 12926.5} if user["id"] == 1 else user["address"]
        return {**user, "address": address, "nickname": f"n{user['id']}"}

    results = {r.table: r for r in extract(make_settings, {"users": nickname})}
    assert results["new_store.users"].inserted == 10
    assert warehouse_query(
        data_dir, "SELECT id, zipcode, nickname FROM new_store.users WHERE id = 1"
    ) == [(1, "12926.5", "n1")]
    assert warehouse_query(data_dir, "SELECT count(nickname) FROM new_store.users") == [(10,)]


def test_the_share_is_counted_page_by_page() -> None:
    """Three bad records of a 5-record page stop, though they are 3 of 12 in all; one of a
    2-record page is exactly the share, not more."""
    from deltastore.extract.drift import RejectedField, store_reject_changes
    from deltastore.schemas import table

    pages = [(1, 5), (6, 5), (11, 2)]
    rejected = [RejectedField(n, "price", "type", "string") for n in (6, 8, 10, 12)]
    [stop] = store_reject_changes("products", table("new_store", "products"), pages, rejected,
                                  0.5, "evolve", [])
    assert stop.detail.startswith("string where the contract expects number in 3 of the 5 "
                                  "records of a page")
    assert store_reject_changes("products", table("new_store", "products"), pages,
                                rejected[-1:], 0.5, "evolve", []) == []
