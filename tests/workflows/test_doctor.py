"""`deltastore doctor` as the CLI runs it: on the embedded default it checks what applies and
passes (exit 0); pointed at a SQL Server it cannot reach (Microsoft's real ODBC Driver 18 on
a closed loopback port) it says why in one line per endpoint, exit 2, no traceback, and never
prints a secret. The checks themselves are tested with their stage (tests/*/test_*preflight.py).
"""

from __future__ import annotations

import pytest
from odbc_recorder import RealDriver

from deltastore.settings import Settings
from deltastore.workflows import cli

PASSWORD = "Wh-S3cret;pw}"


def test_the_embedded_default_passes(embedded_env: Settings, capsys: pytest.CaptureFixture[str],
                                     loopback_only: None) -> None:
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out[:-1]] == [
        "ok   data directory", "ok   store API", "ok   legacy DB", "ok   warehouse",
        "ok   sync target"]
    assert out[-1] == "doctor: 5 checks, all ok"
    assert not embedded_env.data_dir.exists()  # it only looked


def test_an_unreachable_sql_server_is_one_line_and_exit_2(
        embedded_env: Settings, real_driver: RealDriver, closed_port: int,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    url = (f"mssql://loader@127.0.0.1:{closed_port}/warehouse?login_timeout=1"
           f"&driver={real_driver.path}")
    monkeypatch.setenv("DELTASTORE_WAREHOUSE_URL", url)
    monkeypatch.setenv("DELTASTORE_WAREHOUSE_PASSWORD", PASSWORD)
    monkeypatch.setenv("DELTASTORE_SYNC_TARGET_URL", url.replace("warehouse?", "marts?"))
    monkeypatch.setenv("DELTASTORE_SYNC_TARGET_PASSWORD", PASSWORD)
    assert cli.main(["doctor"]) == 2
    captured = capsys.readouterr()
    failed = [line for line in captured.out.splitlines() if line.startswith("FAIL")]
    assert failed == [
        f"FAIL {endpoint}: login: cannot log in: Login timeout expired; fix: check that "
        f"`127.0.0.1:{closed_port}` is reachable from here (firewall, DNS, Azure SQL's allowed "
        "networks) and the URL's host and port" for endpoint in ("warehouse", "sync target")]
    assert captured.out.splitlines()[-1] == "doctor: 5 checks, 2 failed"
    assert "Traceback" not in captured.out + captured.err
    assert PASSWORD not in captured.out + captured.err
    assert [call.error.args[0] for call in real_driver.calls] == ["HYT00", "HYT00"]
