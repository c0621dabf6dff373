"""What the filtered pages share: the month axis, the store filter and the grid of the map.

A page embeds its filter marts' rows (``html.Cube``) and ``dashboard.js`` sums them, so the
Python side only lists the values each filter offers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from deltastore.dashboards.html import Filter
from deltastore.dashboards.tilemap import GRID_POSITIONS, STATE_NAMES

STORES = (("old store", "Old store (legacy DB)"), ("new store", "New store (web API)"))


def months(rows: Iterable[dict[str, Any]], column: str) -> list[str]:
    """Every month from the first to the last in the rows (gaps included), ISO dates."""
    seen = sorted({row[column] for row in rows if row[column] is not None})
    if not seen:
        return []
    out, month = [], seen[0].replace(day=1)
    while month <= seen[-1]:
        out.append(month.isoformat())
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return out


def store_filter(rows: Iterable[dict[str, Any]] | None = None,
                 column: str = "source_store") -> Filter | None:
    """The store filter, offering the stores that have rows; None when only one has (a
    choice of one store filters nothing, and the other would empty the page)."""
    if rows is None:
        return Filter("store", "Store", STORES)
    found = {row[column] for row in rows}
    options = tuple((value, name) for value, name in STORES if value in found)
    return Filter("store", "Store", options) if len(options) > 1 else None


def values_filter(key: str, label: str, rows: Iterable[dict[str, Any]], column: str,
                  order: tuple[str, ...] = (), labels: dict[str, str] | None = None,
                  missing: str = "", codes: bool = False) -> Filter:
    """A filter offering every value found (known ones in ``order`` first); NULL becomes
    '' and shows as ``missing``."""
    found = {row[column] for row in rows}
    names = [v for v in order if v in found] + sorted(v for v in found - set(order)
                                                      if v is not None)
    options: list[tuple[str, str]] = [(v, (labels or {}).get(v) or v) for v in names]
    if None in found:
        options.append(("", missing))
    return Filter(key, label, tuple(options), codes)


def state_filter(rows: Iterable[dict[str, Any]], column: str = "state_code",
                 missing: str = "No state on record") -> Filter:
    """US states by name, each beside its code, in name order."""
    rows = list(rows)
    found = {row[column] for row in rows if row[column] is not None}
    order = tuple(sorted(found, key=lambda code: STATE_NAMES.get(code, code)))
    return values_filter("state", "State", rows, column, order, STATE_NAMES, missing,
                         codes=True)


def map_extra() -> dict[str, Any]:
    """The tile grid and state names dashboard.js draws the map from."""
    return {"grid": {code: list(pos) for code, pos in GRID_POSITIONS.items()},
            "stateNames": {code: STATE_NAMES[code] for code in GRID_POSITIONS}}
