"""The checks of ``store_records`` as DuckDB SQL: which raw records certainly pass, and their
flattened rows.

Raw records sit in a DuckDB table, one JSON object per row (``r``). ``passes_sql`` is true
only for records of the plain shape every FakeStore server sends: each field present with
the JSON type ``store_records`` asks for, text where text is expected, a timestamp in UTC
(``Z``, ``+00:00`` or no offset). ``flat_row_sql`` builds the raw table's row of such a
record as a JSON object, with the values ``store_records`` would give it. Anything else
(a number where text is expected, a timestamp with another offset, a bad record) goes to
``store_records`` in Python, which flattens it or says why it is rejected. So the SQL may
leave a good record to Python, never let a bad one through.
"""

from __future__ import annotations

from dataclasses import dataclass

# JSON types as DuckDB's json_type names them (non-negative integers are UBIGINT).
_INTEGER = ("BIGINT", "UBIGINT")
_NUMBER = (*_INTEGER, "DOUBLE")
# `store_records.utc_timestamp` on the UTC forms: date and time joined by a space. The
# hour, minute and second ranges keep out what Python's fromisoformat refuses.
_UTC_TIMESTAMP = (r"^([12][0-9]{3}-[0-9]{2}-[0-9]{2})[T ]"
                  r"(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?)(Z|[+-]00:00)?$")


@dataclass(frozen=True)
class Field:
    column: str    # the raw table's column
    path: str      # where the value is in the record, as a JSON path
    kind: str      # integer | number | text | textish (text or integer) | utc_timestamp


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
FIELDS = {"products": PRODUCT_FIELDS, "users": USER_FIELDS, "carts": CART_FIELDS}


def fields_sql(endpoint: str) -> str:
    """Every field the checks read, extracted in one parse of ``r``: a list ``v`` (1-based,
    in ``FIELDS`` order, then the cart's ``products``)."""
    paths = [f.path for f in FIELDS[endpoint]] + (["$.products"] if endpoint == "carts" else [])
    return "json_extract(r, [" + ", ".join(f"'{p}'" for p in paths) + "])"


def _is(value: str, types: tuple[str, ...]) -> str:
    names = ", ".join(f"'{t}'" for t in types)
    return f"coalesce(json_type({value}) IN ({names}), false)"


def _check(field: Field, value: str) -> str:
    if field.kind == "integer":
        return _is(value, _INTEGER)
    if field.kind == "number":
        return _is(value, _NUMBER)
    if field.kind == "text":
        return _is(value, ("VARCHAR",))
    if field.kind == "textish":
        return _is(value, ("VARCHAR", *_INTEGER))
    text = f"({value} ->> '$')"
    return (f"({_is(value, ('VARCHAR',))} AND "
            f"coalesce(regexp_matches({text}, '{_UTC_TIMESTAMP}'), false) AND "
            f"try_cast({_utc_text(text)} AS TIMESTAMP) IS NOT NULL)")


def _utc_text(text: str) -> str:
    return f"regexp_replace({text}, '{_UTC_TIMESTAMP}', '\\1 \\2')"


def _value(field: Field, value: str) -> str:
    if field.kind == "textish":  # an integer becomes its digits, as str() gives them
        return f"({value} ->> '$')"
    if field.kind == "utc_timestamp":
        return _utc_text(f"({value} ->> '$')")
    return value  # the JSON value as sent


def passes_sql(endpoint: str) -> str:
    """A boolean expression over ``v`` (``fields_sql``): the record certainly passes
    ``store_records``."""
    fields = FIELDS[endpoint]
    checks = [_check(f, f"v[{i}]") for i, f in enumerate(fields, 1)]
    if endpoint == "carts":
        products = f"v[{len(fields) + 1}]"
        product, quantity = "json_extract(x, '$.productId')", "json_extract(x, '$.quantity')"
        item = f"{_is(product, _INTEGER)} AND {_is(quantity, _INTEGER)}"
        checks.append(_is(products, ("ARRAY",)))
        checks.append(f"coalesce(list_bool_and(list_transform(json_extract({products}, '$[*]'), "
                      f"lambda x: {item})), true)")
    return " AND ".join(checks)


def flat_row_sql(endpoint: str) -> str:
    """The raw table's row of a passing record, from ``v``, as a JSON object."""
    pairs = ", ".join(f"'{f.column}', {_value(f, f'v[{i}]')}"
                      for i, f in enumerate(FIELDS[endpoint], 1))
    return f"json_object({pairs})"


def cart_items_sql(source: str) -> str:
    """``(n, cart_id, product_id, quantity)`` of every item of the passing carts in
    ``source`` (``n`` and ``v``); a product listed twice in a cart is summed later."""
    products = f"v[{len(CART_FIELDS) + 1}]"
    return ("SELECT n, cart_id, json_extract(item, '$.productId')::BIGINT AS product_id, "
            "json_extract(item, '$.quantity')::BIGINT AS quantity FROM (SELECT n, "
            f"v[1]::BIGINT AS cart_id, unnest(json_extract({products}, '$[*]')) AS item "
            f"FROM {source})")
