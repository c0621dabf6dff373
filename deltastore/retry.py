"""One retry helper and one backoff policy for every fault a later attempt may not hit.

Policy: exponential backoff with full jitter. After failed attempt ``n`` the wait is drawn
uniformly from ``[0, min(max_delay, base_delay * 2**(n-1))]`` (at least what the server
asked for, such as HTTP ``Retry-After``); the tries stop after ``attempts`` or when the
next wait would pass ``max_seconds`` since the first try. Then ``RetriesExhausted`` (a
``TransientError``, exit 1) names the last failure.

Each failure is retried at one level only: no retry runs inside another in one process.
The levels are
- one store API request (``extract/sources/store_api.py``: ``DELTASTORE_HTTP_RETRIES``
  attempts within ``DELTASTORE_HTTP_RETRY_SECONDS``);
- opening a DuckDB warehouse file another process holds locked, and a ``CREATE … IF NOT
  EXISTS`` that lost a write-write conflict (``extract/warehouse/duckdb.py``);
- opening each sync connection, and the sync's swap, whose shadows are kept between
  tries while readers' locks time out (``sync/publish.py``).
Any other transient failure ends the step with exit 1, and Argo retries the whole step in
a new pod (``workflows/argo/containers.py``: ``RETRY_LIMIT`` 3, so 4 pods at most). That
step level is the only one above these.

So one sync makes at most, per process: 5 tries to open the target and 5 to open the
warehouse (``CONNECT_RETRY`` in ``sync/publish.py``), one copy and verification of each
mart, and 3 swaps (``SWAP_RETRY``); under Argo at most 4 such processes, so at most 4
copies of each mart and 12 swap attempts in all (before: 5 whole-sync attempts of 3 swaps
each inside each of Argo's 4 pods, so 20 copies and 60 swaps).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from deltastore.errors import TransientError, first_line

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying: ``attempts`` tries within ``max_seconds``, the waits
    growing as ``base_delay * 2**n`` up to ``max_delay``, fully jittered."""

    attempts: int = 5
    max_seconds: float = 120.0
    base_delay: float = 0.25
    max_delay: float = 30.0

    def backoff(self, attempt: int, rng: Callable[[float, float], float] = random.uniform) -> float:
        """The wait after failed attempt number ``attempt`` (1-based): uniform in [0, cap]."""
        return rng(0.0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


class RetriesExhausted(TransientError):
    """Every attempt failed on a transient fault; ``last`` is the final one."""

    def __init__(self, message: str, last: BaseException, attempts: int) -> None:
        super().__init__(message)
        self.last = last
        self.attempts = attempts


def call_with_retries(
    action: Callable[[], T], *, what: str, policy: RetryPolicy,
    retryable: Callable[[BaseException], bool],
    at_least: Callable[[BaseException], float | None] = lambda exc: None,
    hint: str = "", notify: Callable[[str], object] | None = None,
    sleep: Callable[[float], object] | None = None, clock: Callable[[], float] | None = None,
    rng: Callable[[float, float], float] = random.uniform,
) -> T:
    """Run ``action`` until it returns; retry what ``retryable`` accepts, raise the rest.

    ``at_least`` gives the least wait a failure asks for (a server's Retry-After);
    ``notify`` hears of each retry (default: a log warning); ``hint`` ends the final
    message (what to check before a rerun). ``sleep`` and ``clock`` default to
    ``time.sleep`` and ``time.monotonic``, looked up at call time.
    """
    sleep = time.sleep if sleep is None else sleep
    clock = time.monotonic if clock is None else clock
    tell = log.warning if notify is None else notify
    started = clock()
    attempt = 0
    while True:
        attempt += 1
        try:
            return action()
        except Exception as exc:
            if not retryable(exc):
                raise
            last, note = exc, ""
        if attempt >= policy.attempts:
            break
        wait = max(policy.backoff(attempt, rng), at_least(last) or 0.0)
        if clock() - started + wait > policy.max_seconds:
            note = f" (waiting {wait:.1f}s more would exceed the retry budget)"
            break
        tell(f"{what}: {first_line(last)}; retry {attempt}/{policy.attempts - 1} "
             f"in {wait:.2f}s")
        sleep(wait)
    raise RetriesExhausted(
        f"{what} failed after {attempt} attempt(s) in {clock() - started:.1f}s; "
        f"last: {first_line(last)}{note}" + (f". {hint}" if hint else ""),
        last, attempt) from None
