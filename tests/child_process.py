"""Start `deltastore` as a child process that reacts to signals the way it does in a pod or
a terminal, whatever the state of the test process that starts it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def sigint_at_default_in_children() -> Iterator[None]:
    """Start children with SIGINT at its default, however this test process was started.

    A shell ignores SIGINT for a command it starts in the background (`pytest &` in a
    script: POSIX "Shell Command Language", asynchronous lists). An ignored signal stays
    ignored across fork and exec, and Python then installs no KeyboardInterrupt handler, so
    such a child sleeps through SIGINT: what made `test_ctrl_c_exits_130` flaky. exec
    resets a *handled* signal to its default, so a handler here gives the child the default.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def caught_signals(pid: int) -> set[int]:
    """The signals process ``pid`` has a handler for (Linux's /proc/<pid>/status SigCgt)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            mask = int(line.split()[1], 16)
            return {n for n in range(1, 65) if mask >> (n - 1) & 1}
    raise AssertionError(f"no SigCgt line in /proc/{pid}/status")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` and its threads (/proc/<pid>/stat)."""
    # The command may hold spaces and parentheses: fields are counted after the last ")".
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_busy(pid: int, seconds: float, timeout: float = 60.0) -> None:
    """Return once process ``pid`` has used ``seconds`` more CPU time: a query that is
    running, not one about to start (an interrupt sent before it starts is lost)."""
    start, deadline = cpu_seconds(pid), time.monotonic() + timeout
    while cpu_seconds(pid) - start < seconds:
        if time.monotonic() > deadline:
            raise AssertionError(f"process {pid} used less than {seconds} s of CPU in "
                                 f"{timeout:.0f} s")
        time.sleep(0.05)


def clean_env(**values: str) -> dict[str, str]:
    """This process's environment without any DELTASTORE_* setting, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DELTASTORE_")}
    env.update(values)
    return env


def start_deltastore(argv: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """The console script with ``argv``; stdout and stderr are pipes."""
    deltastore = Path(sys.executable).parent / "deltastore"
    with sigint_at_default_in_children():
        return subprocess.Popen([str(deltastore), *argv], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
