"""Retry with exponential backoff on transient faults (Azure SQL's, deadlocks, lock
timeouts, dropped connections); which errors those are is decided by their SQL Server error
number, read from the driver's error (deltastore/mssql_errors.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from deltastore.errors import TransientError
from deltastore.mssql_errors import TRANSIENT_ERRORS, is_transient, native_error

__all__ = ["TRANSIENT_ERRORS", "backoff_delays", "is_transient", "native_error", "with_retries"]

T = TypeVar("T")


def backoff_delays(attempts: int, first: float = 2.0, cap: float = 60.0) -> list[float]:
    """Pauses between attempts: first, 2×first, 4×first … capped."""
    return [min(cap, first * 2**i) for i in range(max(0, attempts - 1))]


def with_retries(action: Callable[[], T], *, what: str, attempts: int = 5,
                 first_delay: float = 2.0, echo: Callable[[str], object] = print,
                 sleep: Callable[[float], object] = time.sleep) -> T:
    """Run ``action``; retry transient failures, then raise TransientError naming the last one."""
    delays = backoff_delays(attempts, first_delay)
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if attempt == attempts:
                raise TransientError(
                    f"{what} failed {attempts} times on a transient error, last: {exc}; "
                    "the target was left as it was, rerun later"
                ) from None
            delay = delays[attempt - 1]
            echo(f"{what}: transient error ({exc}); retry {attempt + 1}/{attempts} "
                 f"in {delay:.0f} s")
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
