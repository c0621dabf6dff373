"""Check and flatten FakeStore records in Python, by the rules of ``store_contract``.

These are the records the SQL checks (``store_sql``) leave aside: of an unusual shape, or
bad. A record that fails raises ``BadRecord``, which says which field is wrong and how;
the caller sends it to ``meta.rejects`` and carries on. The user's password is read past,
never copied.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from deltastore.extract.sources.store_contract import (
    CART_ITEM_FIELDS,
    FIELDS,
    Field,
    kind_words,
)

Row = dict[str, Any]
MISSING, WRONG_TYPE = "missing", "type"


class BadRecord(ValueError):
    """One record does not have the shape the endpoint promises; the message says why.

    ``field`` names the field (``rating.rate``), ``problem`` is ``missing`` or ``type``
    (then ``got`` is the JSON type received); a problem that is not one field's (a repeated
    id, a list where an object should be) has ``field`` None.
    """

    def __init__(self, message: str, field: str | None = None, problem: str | None = None,
                 got: str | None = None) -> None:
        super().__init__(message)
        self.field, self.problem, self.got = field, problem, got


_ACCEPTS: dict[str, tuple[type, ...]] = {
    "integer": (int,), "number": (int, float), "text": (str,), "textish": (str, int, float),
    "utc_timestamp": (str,)}
_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean",
               dict: "object", list: "array"}


def json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


# Per endpoint, the objects its fields sit in, in the order they first appear.
_PARENTS: dict[str, list[tuple[str, ...]]] = {
    endpoint: list(dict.fromkeys(f.keys[:d] for f in fields for d in range(1, len(f.keys))))
    for endpoint, fields in FIELDS.items()}


def _object(record: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The object at ``keys`` (each level must be one)."""
    holder = record
    for depth, key in enumerate(keys, 1):
        inner = holder.get(key)
        if not isinstance(inner, dict):
            where = ".".join(keys[:depth])
            if inner is None:
                raise BadRecord(f"`{where}` is missing", where, MISSING)
            raise BadRecord(f"`{where}` should be an object", where, WRONG_TYPE, json_type(inner))
        holder = inner
    return holder


def _value(record: dict[str, Any], field: Field, label: str | None = None,
           name: str | None = None) -> Any:
    """The field's value, checked against its kind and converted as the raw column holds it.

    ``label`` is how the message names it, ``name`` the field it is (a cart line's
    ``products[2].quantity`` is the field ``products[].quantity``)."""
    label = label or field.label
    name = name or label
    *parents, last = field.keys
    holder = _object(record, tuple(parents))
    value = holder.get(last)
    # bool is an int subclass in Python; JSON true is never a valid number here.
    if not isinstance(value, _ACCEPTS[field.kind]) or isinstance(value, bool):
        if value is None:
            raise BadRecord(f"`{label}` is missing", name, MISSING)
        raise BadRecord(f"`{label}` should be {kind_words(field.kind)}, got "
                        f"{type(value).__name__}", name, WRONG_TYPE, json_type(value))
    if field.kind == "textish":
        return str(value)
    if field.kind == "utc_timestamp":
        return utc_timestamp(str(value), label)
    return value


def flat_row(endpoint: str, record: dict[str, Any]) -> Row:
    """The raw table's row of a product, user or cart record (a cart without its items).

    The objects the fields sit in are checked first: a record of another dialect is named
    by the object it lacks (`rating`), not by its first field."""
    for parent in _PARENTS[endpoint]:
        _object(record, parent)
    return {field.column: _value(record, field) for field in FIELDS[endpoint]}


def product_row(record: dict[str, Any]) -> Row:
    return flat_row("products", record)


def user_row(record: dict[str, Any]) -> Row:
    return flat_row("users", record)


def cart_rows(record: dict[str, Any]) -> tuple[Row, list[tuple[int, int, int]]]:
    """The cart row and its items as ``(cart_id, product_id, quantity)``.

    A product listed twice in one cart is summed (the cart_items key is cart + product).
    """
    cart = flat_row("carts", record)
    items = record.get("products")
    if not isinstance(items, list):
        if items is None:
            raise BadRecord("`products` is missing", "products", MISSING)
        raise BadRecord("`products` should be a list", "products", WRONG_TYPE, json_type(items))
    product_field, quantity_field = CART_ITEM_FIELDS
    quantities: dict[int, int] = {}
    for position, item in enumerate(items):
        # The common case inline: this loop runs for every cart line (`type(x) is int`
        # excludes bool); anything else goes through the checks that say what is wrong.
        product_id: Any = item.get("productId") if type(item) is dict else None
        quantity: Any = item.get("quantity") if type(item) is dict else None
        if type(product_id) is not int or type(quantity) is not int:
            where = f"products[{position}]"
            if type(item) is not dict:
                raise BadRecord(f"`{where}` should be an object", "products[]", WRONG_TYPE,
                                json_type(item))
            product_id = _value(item, product_field, f"{where}.productId",
                                "products[].productId")
            quantity = _value(item, quantity_field, f"{where}.quantity", "products[].quantity")
        quantities[product_id] = quantities.get(product_id, 0) + quantity
    return cart, [(cart["id"], p, q) for p, q in quantities.items()]


def utc_timestamp(text: str, label: str = "date") -> str:
    """An ISO-8601 timestamp as naive UTC text (`2020-03-02 00:00:00`), offsets applied."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadRecord(f"`{label}` value `{text}` is not an ISO-8601 timestamp", label,
                        WRONG_TYPE, "string") from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(sep=" ")
