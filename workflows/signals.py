"""Stopping on SIGTERM: what a step does when Kubernetes takes its pod away.

A node drain, a preemption or an eviction sends SIGTERM to the pod; in an Argo step it
reaches ``argoexec emissary``, which forwards it to ``deltastore`` and then reports the
step's own exit code, or 137 when the step died by the signal itself. So the step stops
as it would on Ctrl-C (open transactions roll back, dbt cancels its queries, the extract
threads are left behind) and exits 143, which the retry expression retries.

SIGTERM becomes ``Terminated``, a ``KeyboardInterrupt``: every cleanup written for Ctrl-C
runs for it too. Only the first SIGTERM interrupts; later ones are ignored, so the
cleanup itself is never cut short (the kubelet's SIGKILL ends a cleanup that takes longer
than the pod's grace period, and that 137 is retried as well).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated()


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into ``Terminated`` in the main thread while the block runs; the
    handler that was there before is put back afterwards (tests call ``main`` in-process).
    Outside the main thread (where Python cannot install handlers) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
