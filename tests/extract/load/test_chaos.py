"""Chaos: a loopback proxy in front of the demo store breaks responses at random (seeded).

Faults: 500, 503, 429 with Retry-After, dropped connections, bodies cut short, stalls past
the client's timeout, and 200s whose body is garbage. For each seed the store API extract
either exits 0 and the warehouse holds exactly the rows of a clean extract, or it fails
and the warehouse is exactly as it was (every raw and meta table, byte for byte).
Timeouts and backoff are short so a seed takes a few seconds.
"""

from __future__ import annotations

import random
import shutil
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest
from extract_load_helpers import dump_warehouse

from deltastore.errors import DeltaStoreError
from deltastore.extract.demo.store_server import DemoStore
from deltastore.extract.load import run_extract
from deltastore.retry import RetryPolicy
from deltastore.schemas import NEW_STORE_TABLES
from deltastore.settings import Settings

SEEDS = range(1, 9)
FAULTS = ("500", "503", "429", "drop", "truncate", "stall", "garbage")
FAULT_SHARE = 0.35
TIMEOUT = 0.4        # client read timeout (DELTASTORE_HTTP_TIMEOUT); a stall outlasts it
RETRY = RetryPolicy(attempts=4, max_seconds=5, base_delay=0.01, max_delay=0.05)
PAGE_SIZE = 40       # many requests per endpoint, so many chances to fail
RESULTS: dict[int, str] = {}  # seed -> outcome and fault counts, printed at the end


class ChaosProxy:
    """Forwards GETs to ``upstream``, replacing a seeded share of answers with faults."""

    def __init__(self, upstream: str, seed: int) -> None:
        self.upstream = upstream
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (stdlib name)
                proxy.answer(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        with self.lock:
            fault = self.rng.choice(FAULTS) if self.rng.random() < FAULT_SHARE else "ok"
            garbage = self.rng.randbytes(64)
            self.counts[fault] += 1
        if fault in ("500", "503"):
            return _send(handler, int(fault), b"upstream trouble", "text/plain")
        if fault == "429":
            return _send(handler, 429, b"slow down", "text/plain", {"Retry-After": "0"})
        if fault == "drop":
            return  # the server closes the connection without a word
        if fault == "stall":
            time.sleep(TIMEOUT * 2.5)
            return
        if fault == "garbage":
            return _send(handler, 200, b"<html>\x00" + garbage, "application/json")
        with urllib.request.urlopen(self.upstream + handler.path, timeout=10) as upstream:
            body = upstream.read()
            headers = {k: v for k, v in upstream.headers.items() if k == "X-Total-Count"}
        if fault == "truncate":  # announce the whole body, send half of it, hang up
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body[: len(body) // 2])
            return
        _send(handler, 200, body, "application/json", headers)


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str,
          headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def _settings(data_dir: Path, store_url: str) -> Settings:
    return Settings.from_env({"DELTASTORE_DATA_DIR": str(data_dir),
                              "DELTASTORE_STORE_API_URL": store_url,
                              "DELTASTORE_HTTP_TIMEOUT": str(TIMEOUT)})


def _rows(warehouse: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Business columns and whether each row is live: what a clean extract decides."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {t.name: sorted(con.execute(
            f"SELECT {', '.join(t.column_names)}, _deleted_at IS NULL "
            f"FROM {t.qualified_name}").fetchall(), key=repr) for t in NEW_STORE_TABLES}


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Any]]:
    """The store the proxy fronts, a warehouse holding an older, smaller snapshot, and
    the rows a clean extract of the store leaves on top of it."""
    root = tmp_path_factory.mktemp("chaos")
    with DemoStore(scale=0.01, seed=7) as older:
        run_extract(_settings(root / "base", older.url), "store-api", retry=RETRY)
    with DemoStore(scale=0.05, seed=42) as store:
        shutil.copytree(root / "base", root / "clean")
        run_extract(_settings(root / "clean", store.url), "store-api", retry=RETRY,
                    page_size=PAGE_SIZE)
        yield store.url, root / "base", _rows(root / "clean" / "warehouse.duckdb")
    print("\nchaos results:\n" + "\n".join(f"  seed {s}: {r}" for s, r in sorted(RESULTS.items())))


@pytest.mark.parametrize("seed", SEEDS)
def test_an_extract_through_faults_is_exact_or_changes_nothing(
        stores: tuple[str, Path, Any], tmp_path: Path, seed: int) -> None:
    store_url, base, clean_rows = stores
    data_dir = tmp_path / "data"
    shutil.copytree(base, data_dir)
    warehouse = data_dir / "warehouse.duckdb"
    before = dump_warehouse(warehouse)
    proxy = ChaosProxy(store_url, seed)
    started = time.monotonic()
    try:
        run_extract(_settings(data_dir, proxy.url), "store-api", retry=RETRY,
                    page_size=PAGE_SIZE)
        outcome = "exit 0"
    except DeltaStoreError as exc:
        outcome = f"exit {exc.exit_code} ({type(exc).__name__})"
    finally:
        proxy.close()
    seconds = time.monotonic() - started
    faults = {k: v for k, v in sorted(proxy.counts.items()) if k != "ok"}
    RESULTS[seed] = (f"{outcome} in {seconds:.1f}s, {sum(proxy.counts.values())} requests, "
                     f"faults {faults}")
    assert sum(faults.values()) > 0  # the proxy did break things
    if outcome == "exit 0":
        assert _rows(warehouse) == clean_rows
    else:
        assert dump_warehouse(warehouse) == before
    assert not list((data_dir / "landing").glob("*/*.ndjson"))  # no landing files left over
