"""Exit codes are a contract with Argo's retry policy (tests/workflows/argo/test_argo_retry.py
checks it retries none of 2, 3, 4 and 130): a bug (an exception nobody expected) exits 4,
Ctrl-C exits 130.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deltastore.errors import EXIT_BUG, EXIT_INTERRUPTED
from deltastore.workflows import cli
from deltastore.workflows.commands import sync as sync_command


def test_an_unexpected_exception_is_a_bug_exit_4_with_its_traceback(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        return {}["no such key"]  # type: ignore[return-value]  # a bug, as a KeyError

    monkeypatch.setenv("DELTASTORE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(sync_command, "sync_marts", broken)
    with caplog.at_level(logging.ERROR, logger="deltastore"):
        assert cli.main(["sync"]) == EXIT_BUG
    err = capsys.readouterr().err
    assert err.strip().endswith("error: unexpected KeyError (a bug; the traceback is above); "
                                "please report it")
    assert any(r.exc_info and r.exc_info[0] is KeyError for r in caplog.records)


def test_ctrl_c_exits_130(tmp_path: Path) -> None:
    """SIGINT while an extract waits on a store that never answers."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("DELTASTORE_")}
        env.update(DELTASTORE_DATA_DIR=str(tmp_path), DELTASTORE_HTTP_TIMEOUT="60",
                   DELTASTORE_STORE_API_URL=f"http://127.0.0.1:{port}")
        deltastore = Path(sys.executable).parent / "deltastore"
        process = subprocess.Popen([str(deltastore), "extract", "--source", "store-api"],
                                   env=env, stderr=subprocess.PIPE, text=True)
        try:
            silent.settimeout(60)
            connection, _ = silent.accept()  # the request is in flight
            time.sleep(0.2)
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=30)
            connection.close()
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == EXIT_INTERRUPTED
    assert err.strip().endswith("interrupted")


def test_the_console_script_returns_mains_code_and_leaves_its_objects_to_the_exit(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import gc

    monkeypatch.setenv("DELTASTORE_DATA_DIR", str(tmp_path))
    argv = ["build", "--vars", "[1]"]  # a usage error, found before dbt is imported
    monkeypatch.setattr(sys, "argv", ["deltastore", *argv])
    assert gc.get_freeze_count() == 0
    try:
        code = cli.run()
        assert gc.get_freeze_count() > 0  # the shutdown's collection skips them
    finally:
        gc.unfreeze()
    assert code == cli.main(argv) == 2
