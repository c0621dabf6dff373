"""deltastore/retry.py: one backoff policy, retries only what the caller calls transient."""

from __future__ import annotations

import pytest

from deltastore.errors import ConfigError, TransientError
from deltastore.retry import RetriesExhausted, RetryPolicy, call_with_retries

POLICY = RetryPolicy(attempts=4, max_seconds=100.0, base_delay=1.0, max_delay=3.0)
HIGHEST = {"rng": lambda low, high: high}  # the top of each jittered range


class Clock:
    """Time that moves only when the helper sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def _failing(times: int, error: Exception) -> tuple[list[int], object]:
    calls: list[int] = []

    def action() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise error
        return "done"
    return calls, action


def _run(action: object, clock: Clock, **extra: object) -> object:
    options: dict = {"what": "the thing", "policy": POLICY,
                     "retryable": lambda exc: isinstance(exc, TransientError),
                     "notify": lambda _: None, "sleep": clock.sleep, "clock": clock, **HIGHEST}
    options.update(extra)
    return call_with_retries(action, **options)  # type: ignore[arg-type]


def test_waits_grow_exponentially_up_to_the_cap_then_it_succeeds() -> None:
    clock = Clock()
    calls, action = _failing(3, TransientError("busy"))
    assert _run(action, clock) == "done"
    assert len(calls) == 4 and clock.slept == [1.0, 2.0, 3.0]


def test_gives_up_after_the_attempts_naming_the_last_failure() -> None:
    clock = Clock()
    calls, action = _failing(99, TransientError("still busy"))
    with pytest.raises(RetriesExhausted, match=r"the thing failed after 4 attempt\(s\) in 6\.0s; "
                                               r"last: still busy\. check it") as caught:
        _run(action, clock, hint="check it")
    assert caught.value.exit_code == 1 and caught.value.attempts == 4
    assert str(caught.value.last) == "still busy" and len(calls) == 4


def test_what_is_not_retryable_is_raised_at_once() -> None:
    clock = Clock()
    calls, action = _failing(99, ConfigError("wrong"))
    with pytest.raises(ConfigError, match="wrong"):
        _run(action, clock)
    assert len(calls) == 1 and clock.slept == []


def test_a_wait_past_the_budget_is_not_made_and_a_server_wait_is_a_floor() -> None:
    clock = Clock()
    calls, action = _failing(99, TransientError("slow down"))
    with pytest.raises(RetriesExhausted, match="would exceed the retry budget"):
        _run(action, clock, policy=RetryPolicy(attempts=9, max_seconds=10.0, base_delay=1.0,
                                               max_delay=1.0), at_least=lambda exc: 4.0)
    assert clock.slept == [4.0, 4.0] and len(calls) == 3


def test_the_jitter_stays_within_zero_and_the_cap() -> None:
    lowest = [POLICY.backoff(n, rng=lambda low, high: low) for n in range(1, 6)]
    highest = [POLICY.backoff(n, rng=lambda low, high: high) for n in range(1, 6)]
    assert lowest == [0.0] * 5 and highest == [1.0, 2.0, 3.0, 3.0, 3.0]
