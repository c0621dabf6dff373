"""Numbers and dates formatted for people (US conventions: the store sells in USD)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

Number = int | float | Decimal


def num(value: Any) -> float | None:
    """A database number as float for arithmetic and charts; NULL stays None."""
    return None if value is None else float(value)


def money(value: Number | None, cents: bool = True) -> str:
    if value is None:
        return "–"
    return f"${float(value):,.2f}" if cents else f"${float(value):,.0f}"


def money_short(value: Number) -> str:
    """Axis labels: $950, $12.5k, $3.1M."""
    amount = float(value)
    size = abs(amount)
    if size >= 1_000_000:
        return f"${amount / 1_000_000:,.1f}M"
    if size >= 10_000:
        return f"${amount / 1_000:,.0f}k"
    if size >= 1_000:
        return f"${amount / 1_000:,.1f}k"
    return f"${amount:,.0f}"


def count(value: Number | None) -> str:
    return "–" if value is None else f"{float(value):,.0f}"


def percent(value: Number | None, digits: int = 1) -> str:
    """A fraction in [0, 1] as a percentage."""
    return "–" if value is None else f"{float(value) * 100:.{digits}f}%"


def signed_percent(value: Number | None) -> str:
    return "–" if value is None else f"{float(value) * 100:+.1f}%"


def days(value: Number | None) -> str:
    return "–" if value is None else f"{float(value):.1f} days"


def month(value: dt.date) -> str:
    return value.strftime("%b %Y")


def date(value: dt.date | None) -> str:
    return "–" if value is None else value.strftime("%d %b %Y")


def timestamp(value: dt.datetime | None) -> str:
    return "–" if value is None else value.strftime("%d %b %Y %H:%M UTC")


def age(earlier: dt.datetime, later: dt.datetime) -> str:
    """How long before ``later`` something happened, in the largest whole unit."""
    seconds = max(0.0, (_utc_naive(later) - _utc_naive(earlier)).total_seconds())
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} days"


def older_than(earlier: dt.datetime, later: dt.datetime, limit: dt.timedelta) -> bool:
    return _utc_naive(later) - _utc_naive(earlier) > limit


def _utc_naive(value: dt.datetime) -> dt.datetime:
    """Marts may hold naive UTC or aware timestamps; compare them as naive UTC."""
    if value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)


# The web store's API spells this category "jewelery"; the pages show the usual spelling
# (data tables and CSV keep the mart's value).
CATEGORY_SPELLING = {"jewelery": "jewelry"}


def category(value: str) -> str:
    """A category for people: usual spelling, first letter capitalised."""
    name = CATEGORY_SPELLING.get(value, value)
    return name[:1].upper() + name[1:]
