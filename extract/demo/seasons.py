"""When things happen in the demo year: month-to-month growth and a Q4 peak, per day.

A ``Calendar`` is the demo year as a distribution over its days: each day weighs its
month's season factor times the store's growth since January. ``second(u)`` turns a
quantile ``u`` in [0, 1) into seconds from the start of the year (an inverse CDF), so a
uniform draw becomes a date with the year's shape, and an evenly spaced ``u`` (the web
store's carts, numbered in date order) stays in date order. ``share_before(s)`` is the
forward CDF, used to pick who was acquired by a given moment.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence

from deltastore.extract.demo import DEMO_END_DATE, DEMO_START_DATE

DAY = 86_400
DAYS = (DEMO_END_DATE - DEMO_START_DATE).days + 1

# Orders per day relative to a year-round average, by calendar month (Jan..Dec): a quiet
# January and February, summer flat, then Black Friday (November) and the holidays
# (December). Retail's usual shape; the dashboards' tests check Nov+Dec stand out.
SEASON = (0.84, 0.78, 0.90, 0.92, 0.95, 0.93, 0.92, 0.96, 0.98, 1.06, 1.62, 1.92)


def day_weights(monthly_growth: float, days: int = DAYS,
                start: dt.date = DEMO_START_DATE) -> list[float]:
    """Weight of each day from ``start``: season of its month times compound growth."""
    weights = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        months_in = (day.year - start.year) * 12 + day.month - start.month
        weights.append(SEASON[day.month - 1] * (1 + monthly_growth) ** months_in)
    return weights


class Calendar:
    """The demo year (or any run of days) as a cumulative distribution over its days."""

    def __init__(self, weights: Sequence[float]) -> None:
        total = float(sum(weights))
        running, bounds = 0.0, []
        for weight in weights:
            running += weight
            bounds.append(running / total)
        bounds[-1] = 1.0
        self.bounds = tuple(bounds)
        self.days = len(bounds)

    def second(self, u: float) -> int:
        """Seconds from the first day for quantile ``u`` in [0, 1); non-decreasing in u."""
        bounds = self.bounds
        day = bisect.bisect_right(bounds, u)
        if day >= self.days:
            return self.days * DAY - 1
        low = bounds[day - 1] if day else 0.0
        return day * DAY + int((u - low) / (bounds[day] - low) * DAY)

    def share_before(self, second: float) -> float:
        """The share of the distribution before ``second`` (0 before the first day)."""
        if second <= 0:
            return 0.0
        day = int(second // DAY)
        if day >= self.days:
            return 1.0
        low = self.bounds[day - 1] if day else 0.0
        return low + (self.bounds[day] - low) * (second - day * DAY) / DAY
