"""Overlap producing and consuming batches with one background thread.

``prefetched`` runs a producer one step ahead (the store API client waits on the network
while the next page is served). ``BackgroundSink`` runs a consumer behind (the legacy
copy reads batch n+1 from the source while batch n is staged into the warehouse). Both
drivers, sqlite3 and DuckDB, release the interpreter lock while they work, so on two
cores the two halves run side by side.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
_DONE = object()


def prefetched(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Yield ``items`` in order while a thread produces up to ``depth`` of them ahead.

    An exception in the producer is raised in the consumer at the same position; when
    the consumer stops early, the producer stops at its next item.
    """
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(value: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Failure(exc))
            return
        put(_DONE)

    thread = threading.Thread(target=produce, name="prefetch", daemon=True)
    thread.start()
    interrupted = False
    try:
        while True:
            value = buffer.get()
            if value is _DONE:
                return
            if isinstance(value, _Failure):
                raise value.error
            yield value  # type: ignore[misc]
    except (KeyboardInterrupt, SystemExit):
        # Ctrl-C must not wait for the (daemon) producer, which may sit in a network read.
        interrupted = True
        raise
    finally:
        stop.set()
        if not interrupted:
            thread.join()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class BackgroundSink(Generic[T]):
    """Hands items to ``consume`` on a background thread, at most ``depth`` waiting.

    ``close()`` waits for the last item and raises the consumer's exception, if any; an
    exception also surfaces at the next ``put``. Use as a context manager.
    """

    def __init__(self, consume: Callable[[T], None], depth: int = 2) -> None:
        self._consume = consume
        self._buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._error: Exception | None = None
        self._thread = threading.Thread(target=self._run, name="sink", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._buffer.get()
            if item is _DONE:
                return
            if self._error is None:  # after a failure, drain without consuming
                try:
                    self._consume(item)  # type: ignore[arg-type]
                except Exception as exc:
                    self._error = exc

    def put(self, item: T) -> None:
        if self._error is not None:
            self.close()
        self._buffer.put(item)

    def close(self) -> None:
        if self._thread.is_alive():
            self._buffer.put(_DONE)
            self._thread.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def __enter__(self) -> BackgroundSink[T]:
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        if kind is None:
            self.close()
        else:  # already failing: stop the thread, keep the original exception
            with contextlib.suppress(Exception):
                self.close()


class Cancelled(Exception):
    """Raised by a task of ``run_concurrently`` that stops because another one failed."""


def run_concurrently(tasks: Sequence[Callable[[threading.Event], T]]) -> list[T]:
    """Run each task on its own thread; their results in order, or, once all have
    stopped, the error of the first task (in task order) that failed.

    Every task gets an event that is set when one fails, so it can stop early by raising
    ``Cancelled``. Ctrl-C in the caller does not wait for the (daemon) threads, which
    may sit in a network read.
    """
    failed = threading.Event()
    results: list[object] = [None] * len(tasks)

    def run(index: int, task: Callable[[threading.Event], T]) -> None:
        try:
            results[index] = task(failed)
        except BaseException as exc:  # handed to the caller, raised there
            results[index] = _Failure(exc)
            failed.set()

    threads = [threading.Thread(target=run, args=(i, t), name=f"task-{i}", daemon=True)
               for i, t in enumerate(tasks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.1)  # a plain join() would hold off KeyboardInterrupt
    errors = [r.error for r in results if isinstance(r, _Failure)]
    if errors:
        raise next((e for e in errors if not isinstance(e, Cancelled)), errors[0])
    return results  # type: ignore[return-value]
