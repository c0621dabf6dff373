"""Retry with exponential backoff on Azure SQL's transient faults and dropped connections.

Azure SQL reconfigures, fails over and throttles as a matter of course; Microsoft documents
the error numbers below as "retry after a pause". A dropped connection shows up as an ODBC
SQLSTATE of class 08 (communication link failure) instead of a number.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TypeVar

from deltastore.errors import LoadError, TransientError

T = TypeVar("T")

AZURE_TRANSIENT_ERRORS = frozenset({
    40197, 40501, 40613, 49918, 49919, 49920, 10928, 10929, 4060, 4221, 10053, 10054, 10060,
    233, 64,
})
# Communication link failure, unable to connect, connection lost, timeout expired.
DROPPED_CONNECTION_STATES = frozenset({"08S01", "08S02", "08001", "08004", "08007", "HYT00"})
_NUMBER_RE = re.compile(r"\((\d+)\)")


def error_numbers(message: str) -> set[int]:
    """SQL Server error numbers in a driver message (the driver writes them as ``(40613)``)."""
    return {int(n) for n in _NUMBER_RE.findall(message)}


def is_transient(exc: BaseException) -> bool:
    """True for errors a later attempt may not hit: Azure's transient numbers, lost links."""
    if isinstance(exc, TransientError):
        return True
    args = getattr(exc, "args", ())
    if type(exc).__module__ != "pyodbc" or not args:
        return False
    state = str(args[0]) if len(args) > 1 else ""
    message = str(args[-1])
    return state in DROPPED_CONNECTION_STATES or bool(error_numbers(message)
                                                      & AZURE_TRANSIENT_ERRORS)


def backoff_delays(attempts: int, first: float = 2.0, cap: float = 60.0) -> list[float]:
    """Pauses between attempts: first, 2×first, 4×first … capped."""
    return [min(cap, first * 2**i) for i in range(max(0, attempts - 1))]


def with_retries(action: Callable[[], T], *, what: str, attempts: int = 5,
                 first_delay: float = 2.0, echo: Callable[[str], object] = print,
                 sleep: Callable[[float], object] = time.sleep) -> T:
    """Run ``action``; retry transient failures, then raise LoadError naming the last one."""
    delays = backoff_delays(attempts, first_delay)
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if attempt == attempts:
                raise LoadError(
                    f"{what} failed {attempts} times on a transient error, last: {exc}; "
                    "the target was left as it was, rerun later"
                ) from None
            delay = delays[attempt - 1]
            echo(f"{what}: transient error ({exc}); retry {attempt + 1}/{attempts} "
                 f"in {delay:.0f} s")
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
