"""Throughput of `deltastore extract` into DuckDB at scale 10 (prints figures, asserts nothing).

- store API: the demo store serves scale-10 data from a separate process (so it does not
  share this process's interpreter lock), and the whole extract+load is timed; records
  are products + users + carts + cart items. Target: >= 100,000 records/s. A third run
  replays the same responses, captured byte for byte, from a server that only sends
  them: that separates the client's own speed from the demo store's rendering.
- legacy DB: a scale-10 SQLite legacy database is generated first (not timed), then the
  full copy of the 8 tables is timed. Target: >= 200,000 rows/s.

The machine may be shared, so besides wall-clock time each figure also shows this
process's CPU time (all its threads; the demo server's process is not included) and the
load average: when the load is above the core count, wall-clock rates understate what the
code does on an idle machine, and records per CPU-second is the steadier figure.

Run: `.venv/bin/python benchmarks/bench_extract.py [--scale 10] [--only store-api|legacy-db]`
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from deltastore.extract.load import format_summary, run_extract
from deltastore.extract.sources.store_api import DEFAULT_PAGE_SIZE
from deltastore.settings import Settings

STORE_TARGET = 100_000
LEGACY_TARGET = 200_000


def _serve(scale: float, urls: multiprocessing.Queue) -> None:
    from deltastore.extract.demo.store_server import DemoStore

    DemoStore(scale=scale, seed=42).serve_forever(urls.put)


def _capture(url: str) -> dict[str, tuple[bytes, str]]:
    """Every page the client will ask for, as the demo store sent it."""
    pages: dict[str, tuple[bytes, str]] = {}
    for endpoint in ("products", "users", "carts"):
        offset, total = 0, 1
        while offset < total:
            path = f"/{endpoint}?limit={DEFAULT_PAGE_SIZE}&offset={offset}"
            response = requests.get(url + path, timeout=600)
            total = int(response.headers["X-Total-Count"])
            pages[path] = (response.content, str(total))
            offset += len(response.json())
    return pages


def _replay(pages: dict[str, tuple[bytes, str]], urls: multiprocessing.Queue) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (stdlib name)
            body, total = pages[self.path]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Total-Count", total)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    urls.put(f"http://127.0.0.1:{server.server_address[1]}")
    server.serve_forever()


def bench_store_api(scale: float, data_dir: Path) -> None:
    urls: multiprocessing.Queue = multiprocessing.Queue()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = before.ru_utime + before.ru_stime
    server = multiprocessing.Process(target=_serve, args=(scale, urls), daemon=True)
    server.start()
    try:
        url = urls.get(timeout=60)
        settings = Settings.from_env({"DELTASTORE_DATA_DIR": str(data_dir),
                                      "DELTASTORE_STORE_API_URL": url})
        for label in ("first load (all inserts)", "second load (no changes)"):
            started, cpu = time.perf_counter(), time.process_time()
            results = run_extract(settings, "store-api")
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            records = sum(r.rows_read for r in results)
            print(f"\nstore API, scale {scale:g}, {label}:")
            print(format_summary(results))
            _verdict(records, seconds, cpu, "records", STORE_TARGET)
        pages = _capture(url)
    finally:
        server.terminate()
        server.join()
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    served = used.ru_utime + used.ru_stime - server_cpu
    print(f"\n(the demo store's own process used {served:.2f} s CPU to serve the data three "
          f"times, two loads and one capture: about {served / 3:.2f} s per load, on top of the "
          "CPU figures above)")
    replayer = multiprocessing.Process(target=_replay, args=(pages, urls), daemon=True)
    replayer.start()
    try:
        settings = Settings.from_env({"DELTASTORE_DATA_DIR": str(data_dir / "replay"),
                                      "DELTASTORE_STORE_API_URL": urls.get(timeout=60)})
        started, cpu = time.perf_counter(), time.process_time()
        results = run_extract(settings, "store-api")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"\nstore API, scale {scale:g}, first load from replayed responses (client only):")
        print(format_summary(results))
        _verdict(sum(r.rows_read for r in results), seconds, cpu, "records", STORE_TARGET)
    finally:
        replayer.terminate()
        replayer.join()


def bench_legacy_db(scale: float, data_dir: Path) -> None:
    from deltastore.dburl import DatabaseURL
    from deltastore.extract.demo.legacy_data import generate_legacy_db

    legacy = data_dir / "legacy.db"
    started = time.perf_counter()
    generate_legacy_db(DatabaseURL.parse(f"sqlite://{legacy}"), scale=scale, seed=42)
    print(f"\nlegacy DB generated at scale {scale:g} in {time.perf_counter() - started:.1f} s "
          "(not counted)")
    settings = Settings.from_env({"DELTASTORE_DATA_DIR": str(data_dir)})
    for label, full in (("full copy", True), ("incremental, nothing changed", False)):
        started, cpu = time.perf_counter(), time.process_time()
        results = run_extract(settings, "legacy-db", full_refresh=full)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        rows = sum(r.rows_read for r in results)
        print(f"\nlegacy DB, scale {scale:g}, {label}:")
        print(format_summary(results))
        if full:
            _verdict(rows, seconds, cpu, "rows", LEGACY_TARGET)
        else:
            print(f"=> {rows:,} rows read (tables without a watermark) in {seconds:.2f} s")


def _verdict(count: int, seconds: float, cpu: float, unit: str, target: int) -> None:
    rate = count / seconds
    verdict = "meets" if rate >= target else "MISSES"
    load = os.getloadavg()[0]
    print(f"=> {count:,} {unit} in {seconds:.2f} s wall = {rate:,.0f} {unit}/s ({verdict} the "
          f"{target:,}/s target); this process used {cpu:.2f} s CPU = {count / cpu:,.0f} "
          f"{unit}/CPU-s; load average {load:.1f} on {os.cpu_count()} cores")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--only", choices=("store-api", "legacy-db"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
        if args.only in (None, "store-api"):
            bench_store_api(args.scale, Path(tmp) / "api")
        if args.only in (None, "legacy-db"):
            bench_legacy_db(args.scale, Path(tmp) / "legacy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
