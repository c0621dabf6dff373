"""A sync in a child process of its own (as in an Argo pod), killed with SIGKILL when it
reaches (stage, table) of the publish (sync/publish.py, SyncHook): no exception handler,
no cleanup, the way the kernel's OOM killer or a node failure ends a pod."""

from __future__ import annotations

import signal
import subprocess
import sys

from child_process import clean_env

CHILD = """
import os, signal, sys
from deltastore.settings import Settings
from deltastore.sync import sync_marts
stage, table, batched = sys.argv[1], sys.argv[2], {"1": True, "0": False}.get(sys.argv[3])
def hook(seen_stage, seen_table, _connection):
    if (seen_stage, seen_table) == (stage, table):
        os.kill(os.getpid(), signal.SIGKILL)
sync_marts(Settings.from_env(), echo=lambda line: None, hook=hook, batched=batched)
"""


def kill_sync_at(stage: str, table: str, settings: dict[str, str],
                 batched: bool | None = None, timeout: float = 120) -> None:
    """Run ``deltastore sync`` with ``settings`` (DELTASTORE_* values) until the point."""
    flag = "" if batched is None else "1" if batched else "0"
    done = subprocess.run([sys.executable, "-c", CHILD, stage, table, flag],
                          env=clean_env(**settings), capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == -signal.SIGKILL, done.stderr
