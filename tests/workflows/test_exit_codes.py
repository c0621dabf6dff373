"""Exit codes are a contract with Argo's retry policy (tests/workflows/argo/test_argo_retry.py
checks it retries none of 2, 3, 4 and 130, and retries 143): a bug (an exception nobody
expected) exits 4, Ctrl-C exits 130, SIGTERM exits 143; a reader of stdout that leaves
early (`| head`) ends the command with 141, as a shell reports it.
"""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from child_process import (
    caught_signals,
    clean_env,
    sigint_at_default_in_children,
    start_deltastore,
)

from deltastore.errors import EXIT_BROKEN_PIPE, EXIT_BUG, EXIT_INTERRUPTED, EXIT_TERMINATED
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


def test_a_reader_that_leaves_early_ends_the_command_with_141_not_a_bug(
        tmp_path: Path) -> None:
    """`deltastore demo-data legacy | head -1`: the reader closes the pipe, the next print
    fails with EPIPE (Python ignores SIGPIPE). That is no bug to report."""
    env = clean_env(DELTASTORE_DATA_DIR=str(tmp_path))
    process = start_deltastore(["demo-data", "legacy", "--scale", "0.01"], env)
    assert process.stdout is not None
    process.stdout.close()  # gone before the first line
    _, err = process.communicate(timeout=120)
    assert process.returncode == EXIT_BROKEN_PIPE == 141
    assert "Traceback" not in err and "a bug" not in err, err


def stop_an_extract_waiting_on_a_silent_store(tmp_path: Path,
                                              signum: int) -> tuple[int, str]:
    """Send ``signum`` while an extract waits on a store that never answers."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        env = clean_env(DELTASTORE_DATA_DIR=str(tmp_path), DELTASTORE_HTTP_TIMEOUT="60",
                        DELTASTORE_STORE_API_URL=f"http://127.0.0.1:{port}")
        process = start_deltastore(["extract", "--source", "store-api"], env)
        try:
            silent.settimeout(60)
            connection, _ = silent.accept()  # the request is in flight
            # Both handlers are in place before the signal is sent: a child that cannot
            # react fails here at once, not after a 30 s wait.
            assert {signal.SIGINT, signal.SIGTERM} <= caught_signals(process.pid)
            process.send_signal(signum)
            _, err = process.communicate(timeout=30)
            connection.close()
        finally:
            if process.poll() is None:
                process.kill()
    return process.returncode, err


def test_ctrl_c_exits_130(tmp_path: Path) -> None:
    code, err = stop_an_extract_waiting_on_a_silent_store(tmp_path, signal.SIGINT)
    assert code == EXIT_INTERRUPTED
    assert err.strip().endswith("interrupted")


def test_sigterm_exits_143_which_argo_retries(tmp_path: Path) -> None:
    """A drain or preemption: argoexec emissary forwards the kubelet's SIGTERM and passes a
    non-negative exit code on (argo-workflows v3.7.18 cmd/argoexec/commands/emissary.go,
    `if exitError.ExitCode() >= 0 { exitCode = exitError.ExitCode() }`); a process killed
    by the signal itself would be reported as 137 instead (`exitCode = 137 // SIGTERM`)."""
    code, err = stop_an_extract_waiting_on_a_silent_store(tmp_path, signal.SIGTERM)
    assert code == EXIT_TERMINATED == 143
    assert err.strip().endswith("terminated (SIGTERM): stopped before the end; a rerun is safe")


def test_main_puts_the_sigterm_handler_back(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    """Tests and the local runner call `main` in-process: the SIGTERM handler lives only
    while a command runs."""
    monkeypatch.setenv("DELTASTORE_DATA_DIR", str(tmp_path))
    before = signal.getsignal(signal.SIGTERM)
    assert cli.main(["workflows", "backfill-days", "--start", "2026-01-01",
                     "--end", "2026-01-02"]) == 0
    assert signal.getsignal(signal.SIGTERM) is before


def test_children_get_sigint_at_its_default_even_when_this_process_ignores_it() -> None:
    """The cause of the flaky `test_ctrl_c_exits_130`, reproduced: with SIGINT ignored here
    (as in a backgrounded `pytest &`), a plain child ignores it too and Python installs no
    KeyboardInterrupt handler; under `sigint_at_default_in_children` it does."""
    code = "import signal; print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)"
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        plain = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True)
        with sigint_at_default_in_children():
            child = subprocess.run([sys.executable, "-c", code], capture_output=True,
                                   text=True, check=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert plain.stdout.strip() == "True"  # ignored, as the shell left it
    assert child.stdout.strip() == "False"  # Python installed its KeyboardInterrupt


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


def test_a_failed_command_leaves_its_error_as_the_pods_termination_message(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """In a pod the kubelet creates /dev/termination-log and reads it back when the
    container ends; Argo's node message then reads "main: Error (exit code 2): error: …"
    (operator.go inferFailedReason), which the exit handler's alert shows. Outside a pod
    the file does not exist and nothing is written."""
    log_file = tmp_path / "termination-log"
    monkeypatch.setattr(cli, "TERMINATION_LOG", log_file)
    monkeypatch.setenv("DELTASTORE_DATA_DIR", str(tmp_path))
    assert cli.main(["build", "--vars", "[1]"]) == 2
    assert not log_file.exists()
    log_file.touch()   # as the kubelet does
    assert cli.main(["build", "--vars", "[1]"]) == 2
    err = capsys.readouterr().err
    assert log_file.read_text() == err.strip().splitlines()[-1]
    assert log_file.read_text().startswith("error: --vars: `[1]` must be a JSON object")
