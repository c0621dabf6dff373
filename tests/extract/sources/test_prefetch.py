"""Producer/consumer overlap helpers: order, error hand-over, early stop."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from deltastore.extract.sources.prefetch import (
    BackgroundSink,
    Cancelled,
    prefetched,
    run_concurrently,
)


def test_prefetched_keeps_order_and_runs_the_producer_on_another_thread() -> None:
    threads: set[str] = set()

    def produce() -> Iterator[int]:
        for i in range(10):
            threads.add(threading.current_thread().name)
            yield i

    assert list(prefetched(produce())) == list(range(10))
    assert threads == {"prefetch"}


def test_a_producer_error_is_raised_in_the_consumer_after_the_good_items() -> None:
    def produce() -> Iterator[int]:
        yield 1
        raise ValueError("page 2 broke")

    seen = []
    with pytest.raises(ValueError, match="page 2 broke"):
        for item in prefetched(produce()):
            seen.append(item)
    assert seen == [1]


def test_stopping_early_stops_the_producer() -> None:
    produced = []

    def produce() -> Iterator[int]:
        for i in range(1000):
            produced.append(i)
            yield i

    for item in prefetched(produce(), depth=2):
        if item == 3:
            break
    assert len(produced) < 10


def test_background_sink_consumes_everything_in_order() -> None:
    consumed: list[int] = []
    with BackgroundSink(consumed.append) as sink:
        for i in range(50):
            sink.put(i)
    assert consumed == list(range(50))


def test_a_consumer_error_surfaces_in_the_caller() -> None:
    def consume(item: int) -> None:
        if item == 2:
            raise RuntimeError("staging failed")

    with pytest.raises(RuntimeError, match="staging failed"), BackgroundSink(consume) as sink:
        for i in range(100):
            sink.put(i)


def test_run_concurrently_returns_results_in_task_order() -> None:
    started = threading.Barrier(3, timeout=10)  # all three must be running at once

    def task(value: int) -> Callable[[threading.Event], int]:
        def run(stop: threading.Event) -> int:
            started.wait()
            return value
        return run

    assert run_concurrently([task(1), task(2), task(3)]) == [1, 2, 3]


def test_run_concurrently_raises_the_first_failing_task_in_order_not_a_cancelled_one() -> None:
    second_failed = threading.Event()

    def cancelled_when_asked(stop: threading.Event) -> None:
        assert stop.wait(10)
        raise Cancelled

    def fails_late(stop: threading.Event) -> None:
        assert second_failed.wait(10)
        raise ValueError("late, but first in task order")

    def fails_first(stop: threading.Event) -> None:
        second_failed.set()
        raise KeyError("first in time")

    with pytest.raises(ValueError, match="late, but first in task order"):
        run_concurrently([cancelled_when_asked, fails_late, fails_first])
    with pytest.raises(KeyError):
        run_concurrently([cancelled_when_asked, fails_first])
