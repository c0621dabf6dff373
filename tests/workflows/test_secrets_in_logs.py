"""No secret reaches a log: every command, at DEBUG, with every secret set.

Each `deltastore` sub-command runs as its own process with `-v` and
DELTASTORE_LOG_LEVEL=DEBUG, the three database passwords set, and a Slack-style webhook
whose path is the secret (posted to for real, on loopback). Nothing in stdout, stderr or
any file the commands leave behind may contain a secret. Libraries stay at INFO: urllib3
would otherwise log the webhook's path.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from child_process import clean_env, sigint_at_default_in_children

from deltastore.workflows.cli import build_parser

SECRETS = {
    "DELTASTORE_LEGACY_DB_PASSWORD": "legacy-Pw-3f9a1c",
    "DELTASTORE_WAREHOUSE_PASSWORD": "warehouse-Pw-77d0e2",
    "DELTASTORE_SYNC_TARGET_PASSWORD": "sync-Pw-c4b815",
}
HOOK_SECRET = "XoXb9SecretHookToken42"
DEPLOY = Path(sys.executable).parent / "deltastore"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[str]]]:
    """A loopback Slack-style webhook that records the paths it was posted to."""
    paths: list[str] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (stdlib name)
            paths.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/services/T0/B0/{HOOK_SECRET}", paths
    server.shutdown()


@pytest.mark.slow
def test_no_secret_reaches_stdout_stderr_or_a_file_at_debug(
        tmp_path: Path, webhook: tuple[str, list[str]], closed_port: int) -> None:
    url, posted = webhook
    data = tmp_path / "data"
    env = clean_env(**SECRETS, DELTASTORE_DATA_DIR=str(data), DELTASTORE_LOG_LEVEL="DEBUG",
                    DELTASTORE_NOTIFY_WEBHOOK_URL=url,
                    DELTASTORE_METRICS_DIR=str(tmp_path / "m"))
    store_port = _free_port()
    # The password goes into the ODBC connection string: it must not come back in an error.
    unreachable = f"mssql://someone@127.0.0.1:{closed_port}/db?login_timeout=1"
    failures = '[{"displayName": "sync", "message": "exit 1"}]'
    runs: list[tuple[list[str], dict[str, str]]] = [
        (["demo", "--scale", "0.01"], {}),
        (["demo-data", "legacy", "--scale", "0.01"], {}),
        (["extract", "--source", "store-api"],
         {"DELTASTORE_STORE_API_URL": f"http://127.0.0.1:{store_port}"}),
        (["extract", "--source", "legacy-db"], {"DELTASTORE_LEGACY_DB_URL": unreachable}),
        (["build", "--select", "stg_old_store__customers"], {}),
        (["freshness", "--select", "source:old_store"], {}),
        (["slo"], {}),
        (["docs", "--out", str(tmp_path / "site")], {}),
        (["sync", "--force"], {"DELTASTORE_SYNC_TARGET_URL": unreachable}),
        (["sync"], {"DELTASTORE_WAREHOUSE_URL": unreachable}),
        (["run", "--only", "slo-report"], {}),
        (["doctor"], {"DELTASTORE_LEGACY_DB_URL": unreachable,
                      "DELTASTORE_WAREHOUSE_URL": unreachable,
                      "DELTASTORE_SYNC_TARGET_URL": unreachable}),
        (["workflows", "render", "--out", str(tmp_path / "manifests"), "--no-chart"], {}),
        (["notify", "--workflow", "wf-1", "--status", "Failed", "--failures", failures], {}),
        (["dashboards"], {}),
        (["export"], {}),
    ]
    covered = {argv[0] for argv, _ in runs} | {"demo-store"}
    commands = set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert covered == commands, "add the new command to this test"

    outputs: list[str] = []
    with sigint_at_default_in_children():  # it is stopped with SIGINT below
        store = subprocess.Popen([str(DEPLOY), "-v", "demo-store", "serve", "--port",
                                  str(store_port), "--scale", "0.01"], env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for_port(store_port)
        codes = {}
        tails: dict[str, str] = {}
        for argv, extra in runs:
            done = subprocess.run([str(DEPLOY), "-v", *argv], env={**env, **extra}, text=True,
                                  capture_output=True, timeout=300, check=False)
            codes[" ".join(argv[:2])] = done.returncode
            outputs += [done.stdout, done.stderr]
            if argv[0] in ("demo", "notify") and done.returncode:
                tails[argv[0]] = done.stderr[-2000:]
    finally:
        store.send_signal(signal.SIGINT)
        out, err = store.communicate(timeout=30)
        outputs += [out, err]

    # The commands really ran, at DEBUG, and the secrets were used.
    assert codes["demo --scale"] == 0 and codes["notify --workflow"] == 0, (codes, tails)
    assert codes["extract --source"] != 0  # the unreachable SQL Server
    assert codes["doctor"] == 2
    assert posted and all(HOOK_SECRET in p for p in posted)
    everything = "\n".join(outputs)
    assert " DEBUG deltastore." in everything
    assert "DEBUG urllib3" not in everything
    leaks = [(secret, "output") for secret in (*SECRETS.values(), HOOK_SECRET)
             if secret in everything]
    for path in tmp_path.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            leaks += [(secret, str(path)) for secret in (*SECRETS.values(), HOOK_SECRET)
                      if secret.encode() in content]
    assert leaks == []


def _wait_for_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"the demo store did not listen on {port}")
