"""Validate and flatten FakeStore records into the raw ``new_store`` rows.

Checks are plain Python (a few ``isinstance`` per field) because they run once per record
on the hot path. A record that fails raises ``BadRecord``; the caller sends it to
``meta.rejects`` and carries on. The user's password is read past, never copied.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

Row = dict[str, Any]


class BadRecord(ValueError):
    """One record does not have the shape the endpoint promises; the message says why."""


def _field(record: dict[str, Any], name: str, kind: type | tuple[type, ...], label: str) -> Any:
    value = record.get(name)
    # bool is an int subclass in Python; JSON true is never a valid number here.
    if not isinstance(value, kind) or isinstance(value, bool):
        if value is None:
            raise BadRecord(f"`{label}` is missing")
        raise BadRecord(f"`{label}` should be {_kind_name(kind)}, got {type(value).__name__}")
    return value


def _object(record: dict[str, Any], name: str, label: str) -> dict[str, Any]:
    value = record.get(name)
    if not isinstance(value, dict):
        problem = "is missing" if value is None else "should be an object"
        raise BadRecord(f"`{label}` {problem}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {int: "an integer", float: "a number", str: "a string"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


NUMBER = (int, float)
TEXTISH = (str, int, float)  # coordinates and zip codes arrive as strings or numbers


def product_row(record: dict[str, Any]) -> Row:
    rating = _object(record, "rating", "rating")
    return {
        "id": _field(record, "id", int, "id"),
        "title": _field(record, "title", str, "title"),
        "price": _field(record, "price", NUMBER, "price"),
        "description": _field(record, "description", str, "description"),
        "category": _field(record, "category", str, "category"),
        "image": _field(record, "image", str, "image"),
        "rating_rate": _field(rating, "rate", NUMBER, "rating.rate"),
        "rating_count": _field(rating, "count", int, "rating.count"),
    }


def user_row(record: dict[str, Any]) -> Row:
    name = _object(record, "name", "name")
    address = _object(record, "address", "address")
    geo = _object(address, "geolocation", "address.geolocation")
    return {
        "id": _field(record, "id", int, "id"),
        "email": _field(record, "email", str, "email"),
        "username": _field(record, "username", str, "username"),
        "first_name": _field(name, "firstname", str, "name.firstname"),
        "last_name": _field(name, "lastname", str, "name.lastname"),
        "phone": _field(record, "phone", str, "phone"),
        "city": _field(address, "city", str, "address.city"),
        "street": _field(address, "street", str, "address.street"),
        "street_number": _field(address, "number", int, "address.number"),
        "zipcode": str(_field(address, "zipcode", TEXTISH, "address.zipcode")),
        "lat": str(_field(geo, "lat", TEXTISH, "address.geolocation.lat")),
        "long": str(_field(geo, "long", TEXTISH, "address.geolocation.long")),
    }


def cart_rows(record: dict[str, Any]) -> tuple[Row, list[tuple[int, int, int]]]:
    """The cart row and its items as ``(cart_id, product_id, quantity)``.

    A product listed twice in one cart is summed (the cart_items key is cart + product).
    """
    cart_id = _field(record, "id", int, "id")
    items = record.get("products")
    if not isinstance(items, list):
        raise BadRecord("`products` is missing" if items is None else "`products` should be a list")
    quantities: dict[int, int] = {}
    for position, item in enumerate(items):
        # Inline checks: this loop runs for every cart line (`type(x) is int` excludes bool).
        product_id: Any = item.get("productId") if type(item) is dict else None
        quantity: Any = item.get("quantity") if type(item) is dict else None
        if type(product_id) is not int or type(quantity) is not int:
            if type(item) is not dict:
                raise BadRecord(f"`products[{position}]` should be an object")
            _field(item, "productId", int, f"products[{position}].productId")
            _field(item, "quantity", int, f"products[{position}].quantity")
        quantities[product_id] = quantities.get(product_id, 0) + quantity
    cart = {
        "id": cart_id,
        "user_id": _field(record, "userId", int, "userId"),
        "date": utc_timestamp(_field(record, "date", str, "date")),
    }
    return cart, [(cart_id, p, q) for p, q in quantities.items()]


def utc_timestamp(text: str) -> str:
    """An ISO-8601 timestamp as naive UTC text (`2020-03-02 00:00:00`), offsets applied."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadRecord(f"`date` value `{text}` is not an ISO-8601 timestamp") from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(sep=" ")
