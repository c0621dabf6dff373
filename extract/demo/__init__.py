"""Demo sources: embedded stand-ins for the new store's API and the legacy store's database.

A leaf package: only the CLI (`deltastore demo-store serve`, `deltastore demo-data legacy`)
and the tests import it; production code paths never do.

Both sources generate their data from pure functions of ``(seed, record number)`` so any
record can be produced on its own, at any scale, without holding the data set in memory.
"""

from __future__ import annotations

import datetime as dt

from deltastore.errors import ConfigError

# Last day of the demo year: store carts and legacy orders fall in the 12 months ending here.
DEMO_END_DATE = dt.date(2025, 12, 31)
# First day of that 12-month window (2025 has 365 days).
DEMO_START_DATE = DEMO_END_DATE - dt.timedelta(days=364)
# Bumped when the generators make different data for the same scale and seed, so a demo
# legacy database made by an earlier version is reported rather than silently reused.
GENERATOR_VERSION = 2


def check_scale(scale: float) -> float:
    """Reject a scale that cannot produce data; returns it as a float."""
    try:
        value = float(scale)
    except (TypeError, ValueError):
        raise ConfigError(f"scale `{scale}` is not a number; use e.g. `1` or `0.01`") from None
    if not value > 0 or value > 10_000:
        raise ConfigError(f"scale `{scale}` must be above 0 and at most 10000, e.g. `1` or `0.01`")
    return value
