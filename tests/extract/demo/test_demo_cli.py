"""`deltastore demo-store serve` and `deltastore demo-data legacy` through the real CLI."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from deltastore.extract.demo.store_data import product
from deltastore.workflows.cli import main


def test_legacy_command_writes_the_database(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.db"
    assert main(["demo-data", "legacy", "--scale", "0.02", "--seed", "3",
                 "--out", f"sqlite:///{out}"]) == 0
    printed = capsys.readouterr().out
    assert "customers" in printed and "200 rows" in printed and "total" in printed
    with sqlite3.connect(out) as conn:
        assert conn.execute("select count(*) from orders").fetchone()[0] == 300


def test_legacy_command_defaults_to_the_configured_legacy_db(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELTASTORE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DELTASTORE_LEGACY_DB_URL", raising=False)
    monkeypatch.delenv("DELTASTORE_CONFIG_FILE", raising=False)
    assert main(["demo-data", "legacy", "--scale", "0.01"]) == 0
    assert (tmp_path / "data" / "legacy.db").is_file()


@pytest.mark.parametrize("argv", [
    ["demo-data", "legacy", "--scale", "0", "--out", "sqlite:///tmp/never.db"],
    ["demo-data", "legacy", "--scale", "0.01", "--out", "legacy.db"],
    ["demo-store", "serve", "--scale", "-1"],
    ["demo-store", "serve", "--port", "70000"],
])
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_serve_command_answers_and_stops_on_sigterm() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "deltastore.workflows.cli", "demo-store", "serve", "--port", "0",
         "--scale", "0.01", "--seed", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("demo store serving on http://127.0.0.1:"), line
        url = line.split()[4]
        assert requests.get(f"{url}/products/2", timeout=10).json() == product(2, 5)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
