"""What each store API endpoint promises: the one place its field rules are written.

Each raw column of ``new_store`` comes from one ``Field``: where the value is in a record
(a JSON path of object keys) and what kind of JSON value it must be. Two readers apply the
same rules: ``store_sql`` turns them into DuckDB SQL for the records of the plain shape,
``store_records`` checks the others in Python and says why one is rejected. ``UNLANDED``
names what FakeStore sends that no column holds; anything else in a record is a new field
(extract/drift.py).

Kinds: ``integer`` (a JSON integer, never ``true``), ``number`` (integer or decimal),
``text`` (a string), ``textish`` (a string, or a number written as its digits: FakeStore
sends coordinates and zip codes either way), ``utc_timestamp`` (an ISO-8601 string, turned
into naive UTC).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

ENDPOINTS = ("products", "users", "carts")


@dataclass(frozen=True)
class Field:
    column: str    # the raw table's column
    path: str      # where the value is in the record, as a JSON path
    kind: str      # integer | number | text | textish | utc_timestamp

    @property
    def keys(self) -> tuple[str, ...]:
        """The path as object keys: ``$.rating.rate`` is ``("rating", "rate")``."""
        return tuple(self.path.removeprefix("$.").split("."))

    @property
    def label(self) -> str:
        """How messages name the field: ``rating.rate``."""
        return ".".join(self.keys)


PRODUCT_FIELDS = (
    Field("id", "$.id", "integer"), Field("title", "$.title", "text"),
    Field("price", "$.price", "number"), Field("description", "$.description", "text"),
    Field("category", "$.category", "text"), Field("image", "$.image", "text"),
    Field("rating_rate", "$.rating.rate", "number"),
    Field("rating_count", "$.rating.count", "integer"),
)
USER_FIELDS = (
    Field("id", "$.id", "integer"), Field("email", "$.email", "text"),
    Field("username", "$.username", "text"), Field("first_name", "$.name.firstname", "text"),
    Field("last_name", "$.name.lastname", "text"), Field("phone", "$.phone", "text"),
    Field("city", "$.address.city", "text"), Field("street", "$.address.street", "text"),
    Field("street_number", "$.address.number", "integer"),
    Field("zipcode", "$.address.zipcode", "textish"),
    Field("lat", "$.address.geolocation.lat", "textish"),
    Field("long", "$.address.geolocation.long", "textish"),
)
CART_FIELDS = (
    Field("id", "$.id", "integer"), Field("user_id", "$.userId", "integer"),
    Field("date", "$.date", "utc_timestamp"),
)
FIELDS: dict[str, tuple[Field, ...]] = {
    "products": PRODUCT_FIELDS, "users": USER_FIELDS, "carts": CART_FIELDS}
# A cart's `products` is a list of these, which become the rows of `cart_items`.
CART_ITEM_FIELDS = (Field("product_id", "$.productId", "integer"),
                    Field("quantity", "$.quantity", "integer"))

# Sent by FakeStore, kept out of the raw tables: the user's password (a secret, never
# landed) and MongoDB's version key `__v`; a cart's items go to `cart_items`.
UNLANDED: dict[str, frozenset[tuple[str, ...]]] = {
    "products": frozenset(),
    "users": frozenset({("password",), ("__v",)}),
    "carts": frozenset({("__v",), ("products",)}),
}
SECRET_FIELDS = frozenset({"password"})  # never landed, never kept in meta.rejects


def kind_words(kind: str) -> str:
    """How a message names what a field should be."""
    return {"integer": "an integer", "number": "an integer or a number", "text": "a string",
            "textish": "a string or an integer or a number",
            "utc_timestamp": "a string"}[kind]


# How DuckDB's json_group_structure names the JSON types it found (``JSON``: several).
_STRUCTURE_TYPES = {"VARCHAR": "string", "BOOLEAN": "boolean", "DOUBLE": "number",
                    "NULL": "null", "JSON": "mixed"}
# The raw column a new field lands in, by its JSON type: a number that is sometimes a
# string, an array or nothing but nulls lands as text (arrays as their JSON).
_LANDS_AS = {"string": "text", "integer": "int", "number": "float", "boolean": "bool",
             "null": "text", "mixed": "text", "array": "text"}
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ITEMS = "[]"  # a key standing for "each item of the list"


@dataclass(frozen=True)
class NewField:
    """A field in the records that the endpoint's contract does not name."""

    keys: tuple[str, ...]  # where it is: ("rating", "stars"); a cart line's ("products", "[]", "x")
    json_type: str         # string | integer | number | boolean | null | mixed | array

    @property
    def label(self) -> str:
        return ".".join(self.keys).replace(f".{ITEMS}", ITEMS)

    @property
    def column(self) -> str:
        """The raw column it lands in: its keys joined by `_`, as ``rating.rate`` is
        ``rating_rate``."""
        return "_".join(self.keys).lower()

    @property
    def path(self) -> str:
        return "$." + ".".join(f'"{k}"' for k in self.keys)

    @property
    def lands_as(self) -> str | None:
        """The logical type of its raw column; None when it cannot have one: a field of a
        cart's lines (their rows are summed per product), or a key that is no plain name."""
        if ITEMS in self.keys or not all(_PLAIN_KEY.match(k) for k in self.keys):
            return None
        return _LANDS_AS[self.json_type]


def new_fields(endpoint: str, structure: dict[str, Any]) -> list[NewField]:
    """Fields of ``structure`` (the records' keys and JSON types, as DuckDB's
    ``json_group_structure`` gives them) that neither ``FIELDS`` nor ``UNLANDED`` name.

    A new object's fields are listed one by one; a field the contract names but whose
    type changed is not new (the record checks reject it, with the reason)."""
    known = {f.keys for f in FIELDS[endpoint]}
    parents = {f.keys[:depth] for f in FIELDS[endpoint] for depth in range(1, len(f.keys))}
    lines = {f.keys for f in CART_ITEM_FIELDS}
    found: list[NewField] = []

    def walk(node: dict[str, Any], prefix: tuple[str, ...]) -> None:
        for key, sub in node.items():
            keys = (*prefix, key)
            if keys in known:
                continue
            if endpoint == "carts" and keys == ("products",):
                items = sub[0] if isinstance(sub, list) and sub else None
                if isinstance(items, dict):
                    found.extend(NewField((*keys, ITEMS, k), _json_type(v))
                                 for k, v in items.items() if (k,) not in lines)
            elif keys in UNLANDED[endpoint]:
                continue
            elif isinstance(sub, dict):  # an object the contract reads, or a new one
                walk(sub, keys)
            elif keys not in parents:    # (an object now sent as something else is rejected)
                found.append(NewField(keys, _json_type(sub)))

    walk(structure, ())
    return found


def _json_type(structure: Any) -> str:
    if isinstance(structure, list):
        return "array"
    if isinstance(structure, dict):
        return "mixed"
    name = str(structure)
    return "integer" if name.endswith("INT") else _STRUCTURE_TYPES.get(name, "mixed")
