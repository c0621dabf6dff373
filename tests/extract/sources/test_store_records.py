"""Validation and flattening of FakeStore records (plain functions, no server needed)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from deltastore.extract.sources.store_records import BadRecord, cart_rows, product_row, user_row
from deltastore.schemas import table

PRODUCT: dict[str, Any] = {
    "id": 1, "title": "Backpack", "price": 109.95, "description": "Fits a laptop",
    "category": "men's clothing", "image": "https://example.test/1.jpg",
    "rating": {"rate": 3.9, "count": 120},
}
USER: dict[str, Any] = {
    "id": 7, "email": "john@gmail.com", "username": "johnd", "password": "m38rmF$",
    "name": {"firstname": "john", "lastname": "doe"},
    "address": {"city": "kilcoole", "street": "new road", "number": 7682, "zipcode": "12926-3874",
                "geolocation": {"lat": "-37.3159", "long": 81.1496}},
    "phone": "1-570-236-7033", "__v": 0,
}
CART: dict[str, Any] = {
    "id": 3, "userId": 7, "date": "2020-03-02T01:30:00.000+02:00", "__v": 0,
    "products": [{"productId": 1, "quantity": 4}, {"productId": 2, "quantity": 1},
                 {"productId": 1, "quantity": 2}],
}


def test_product_is_flattened_to_the_raw_columns() -> None:
    row = product_row(PRODUCT)
    assert list(row) == table("new_store", "products").column_names
    assert row["rating_rate"] == 3.9 and row["rating_count"] == 120


def test_user_is_flattened_and_the_password_is_never_copied() -> None:
    row = user_row(USER)
    assert list(row) == table("new_store", "users").column_names
    assert "m38rmF$" not in repr(row)
    assert row["first_name"] == "john" and row["street_number"] == 7682
    assert row["long"] == "81.1496"  # numbers where FakeStore sends strings become text


def test_cart_date_becomes_naive_utc_and_repeated_products_are_summed() -> None:
    cart, items = cart_rows(CART)
    assert cart == {"id": 3, "user_id": 7, "date": "2020-03-01 23:30:00"}
    assert sorted(items) == [(3, 1, 6), (3, 2, 1)]


@pytest.mark.parametrize(("record", "change", "reason"), [
    (PRODUCT, lambda r: r.update(price="abc"), "`price` should be an integer or a number, got str"),
    (PRODUCT, lambda r: r.pop("title"), "`title` is missing"),
    (PRODUCT, lambda r: r.update(id=True), "`id` should be an integer, got bool"),
    (PRODUCT, lambda r: r["rating"].pop("count"), "`rating.count` is missing"),
    (USER, lambda r: r.pop("id"), "`id` is missing"),
    (USER, lambda r: r["address"].update(geolocation=None), "`address.geolocation` is missing"),
    (CART, lambda r: r["products"].append({"productId": "9", "quantity": 1}),
     "`products[3].productId` should be an integer, got str"),
    (CART, lambda r: r["products"].append(5), "`products[3]` should be an object"),
    (CART, lambda r: r.update(date="yesterday"), "`date` value `yesterday` is not an ISO-8601"),
])
def test_a_malformed_record_says_which_field_is_wrong(record: dict[str, Any], change: Any,
                                                       reason: str) -> None:
    bad = copy.deepcopy(record)
    change(bad)
    flatten = {id(PRODUCT): product_row, id(USER): user_row, id(CART): cart_rows}[id(record)]
    with pytest.raises(BadRecord) as caught:
        flatten(bad)
    assert str(caught.value).startswith(reason)
