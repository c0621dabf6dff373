"""The field rules of ``store_contract`` as DuckDB SQL: which raw records certainly pass, and
their flattened rows.

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

from collections.abc import Sequence

from deltastore.extract.sources.store_contract import (
    CART_FIELDS,
    CART_ITEM_FIELDS,
    FIELDS,
    Field,
)

# JSON types as DuckDB's json_type names them (non-negative integers are UBIGINT).
_INTEGER = ("BIGINT", "UBIGINT")
_NUMBER = (*_INTEGER, "DOUBLE")
# `store_records.utc_timestamp` on the UTC forms: date and time joined by a space. The
# hour, minute and second ranges keep out what Python's fromisoformat refuses.
_UTC_TIMESTAMP = (r"^([12][0-9]{3}-[0-9]{2}-[0-9]{2})[T ]"
                  r"(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?)(Z|[+-]00:00)?$")


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
        item = " AND ".join(_check(f, f"json_extract(x, '{f.path}')") for f in CART_ITEM_FIELDS)
        checks.append(_is(products, ("ARRAY",)))
        checks.append(f"coalesce(list_bool_and(list_transform(json_extract({products}, '$[*]'), "
                      f"lambda x: {item})), true)")
    return " AND ".join(checks)


def flat_row_sql(endpoint: str, extra: Sequence[tuple[str, str]] = ()) -> str:
    """The raw table's row of a passing record, from ``v``, as a JSON object; ``extra``
    adds columns read from the record ``r`` as sent: ``(column, JSON path)`` of new fields
    landed under DELTASTORE_SCHEMA_CHANGES=evolve (extract/drift.py)."""
    pairs = [f"'{f.column}', {_value(f, f'v[{i}]')}" for i, f in enumerate(FIELDS[endpoint], 1)]
    pairs += [f"'{column}', json_extract(r, '{path}')" for column, path in extra]
    return f"json_object({', '.join(pairs)})"


def cart_items_sql(source: str) -> str:
    """``(n, cart_id, product_id, quantity)`` of every item of the passing carts in
    ``source`` (``n`` and ``v``); a product listed twice in a cart is summed later."""
    products = f"v[{len(CART_FIELDS) + 1}]"
    items = ", ".join(f"json_extract(item, '{f.path}')::BIGINT AS {f.column}"
                      for f in CART_ITEM_FIELDS)
    return (f"SELECT n, cart_id, {items} FROM (SELECT n, v[1]::BIGINT AS cart_id, "
            f"unnest(json_extract({products}, '$[*]')) AS item FROM {source})")
