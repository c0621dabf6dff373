"""How fast the demo sources produce data, and that their memory does not grow with scale.

Prints, each measured in a fresh child process so peak RSS belongs to that run alone:
- legacy generation into SQLite at scale 1 and 10: rows/s and peak RSS;
- the demo store serving ``/carts`` in pages of 1,000 over loopback (all carts at scale 1
  and 10), with server and client in one process: records/s and peak RSS;
- the same at scale 10 with the server in its own process, as ``deltastore demo-store
  serve`` and ``benchmarks/bench_extract.py`` run it: records/s, and records per CPU-second
  of the server process;
- at scale 100 (1,000,000 carts): pages fetched near the start and near the end, to show a
  page costs the same wherever it is;
- one unpaged, streamed ``/carts`` at scale 1 and 10.

The machine may be shared: each line shows the 1-minute load average when it finished,
and CPU-second rates, which do not drop when other processes compete for the cores (with
a load above the core count, records/s understates what an idle machine does).

Run: ``/work/main/.venv/bin/python benchmarks/bench_demo_sources.py [--quick]`` (about a
minute; ``--quick`` measures only the paged ``/carts`` at scale 10).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PAGE = 1_000


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def bench_legacy(scale: float) -> dict[str, float]:
    from deltastore.dburl import DatabaseURL
    from deltastore.extract.demo.legacy_data import generate_legacy_db

    with tempfile.TemporaryDirectory() as folder:
        url = DatabaseURL.parse(f"sqlite:///{Path(folder) / 'legacy.db'}")
        started = time.perf_counter()
        counts = generate_legacy_db(url, scale=scale)
        seconds = time.perf_counter() - started
    rows = sum(counts.values())
    return {"rows": rows, "seconds": seconds, "per_second": rows / seconds,
            "peak_rss_mb": peak_rss_mb()}


def fetch_pages(url: str, total: int, pages: str) -> dict[str, float]:
    """GET ``/carts`` pages on one keep-alive session: ``all``, or ``ends`` (20 + 20)."""
    import requests

    offsets = list(range(0, total, PAGE))
    if pages == "ends":
        offsets = offsets[:20] + offsets[-20:]
    records = 0
    timings = []
    started, cpu = time.perf_counter(), time.process_time()
    with requests.Session() as session:
        for offset in offsets:
            t0 = time.perf_counter()
            response = session.get(f"{url}/carts?limit={PAGE}&offset={offset}", timeout=60)
            response.raise_for_status()
            records += len(response.json())
            timings.append(time.perf_counter() - t0)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    half = len(timings) // 2
    return {"records": records, "seconds": seconds, "per_second": records / seconds,
            "per_cpu_second": records / cpu,
            "first_pages_ms": 1000 * sum(timings[:half]) / max(1, half),
            "last_pages_ms": 1000 * sum(timings[half:]) / max(1, len(timings) - half)}


def bench_store_paged(scale: float, pages: str) -> dict[str, float]:
    """Server on a thread of this process: client and server share one interpreter lock."""
    from deltastore.extract.demo.store_server import DemoStore

    with DemoStore(scale=scale) as store:
        result = fetch_pages(store.url, store.data.carts, pages)
    return {**result, "peak_rss_mb": peak_rss_mb(), "load": os.getloadavg()[0]}


def _serve(scale: float, urls: multiprocessing.Queue) -> None:
    from deltastore.extract.demo.store_server import DemoStore

    DemoStore(scale=scale).serve_forever(urls.put)


def bench_store_process(scale: float) -> dict[str, float]:
    """Server in its own process (SIGTERM ends it cleanly, so its CPU time is counted)."""
    from deltastore.extract.demo.store_data import counts

    urls: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(scale, urls), daemon=True)
    server.start()
    try:
        result = fetch_pages(urls.get(timeout=60), counts(scale)["carts"], "all")
    finally:
        server.terminate()
        server.join()
    server_cpu = cpu_seconds(resource.RUSAGE_CHILDREN)
    return {**result, "server_cpu_seconds": server_cpu,
            "server_per_cpu_second": result["records"] / server_cpu,
            "server_peak_rss_mb": peak_rss_mb(resource.RUSAGE_CHILDREN),
            "load": os.getloadavg()[0]}


def bench_store_stream(scale: float) -> dict[str, float]:
    """One unpaged ``/carts``: the server streams it in chunks; the client only counts bytes."""
    import requests

    from deltastore.extract.demo.store_server import DemoStore

    with DemoStore(scale=scale) as store:
        started = time.perf_counter()
        size = 0
        with requests.get(f"{store.url}/carts", stream=True, timeout=600) as response:
            for chunk in response.iter_content(chunk_size=1 << 16):
                size += len(chunk)
        seconds = time.perf_counter() - started
    return {"records": store.data.carts, "megabytes": size / 1e6, "seconds": seconds,
            "per_second": store.data.carts / seconds, "peak_rss_mb": peak_rss_mb(),
            "load": os.getloadavg()[0]}


def child(kind: str, scale: float, *extra: str) -> dict[str, float]:
    """Run one measurement in a fresh interpreter and read back its JSON."""
    output = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(scale), *extra],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def print_paged(label: str, r: dict[str, float]) -> None:
    print(f"  {label}: {r['records']:>9,.0f} carts in {r['seconds']:6.1f} s = "
          f"{r['per_second']:>7,.0f} records/s; ms/page first half {r['first_pages_ms']:.0f}, "
          f"last half {r['last_pages_ms']:.0f}; peak RSS {r['peak_rss_mb']:.0f} MB; "
          f"load {r['load']:.1f}")


def main() -> None:
    if len(sys.argv) >= 4 and sys.argv[1] == "--child":
        kind, scale = sys.argv[2], float(sys.argv[3])
        if kind == "legacy":
            result = bench_legacy(scale)
        elif kind == "paged":
            result = bench_store_paged(scale, sys.argv[4])
        elif kind == "process":
            result = bench_store_process(scale)
        else:
            result = bench_store_stream(scale)
        print(json.dumps(result))
        return
    quick = "--quick" in sys.argv[1:]
    cores = os.cpu_count()

    if not quick:
        print("legacy generation into SQLite")
        for scale in (1, 10):
            r = child("legacy", scale)
            print(f"  scale {scale:>4}: {r['rows']:>9,.0f} rows in {r['seconds']:6.1f} s = "
                  f"{r['per_second']:>8,.0f} rows/s, peak RSS {r['peak_rss_mb']:.0f} MB; "
                  f"load {os.getloadavg()[0]:.1f}")
    print(f"demo store, /carts in pages of {PAGE:,} over loopback ({cores} cores)")
    print(" server and client in one process (they share one interpreter lock):")
    for scale, pages in ((10, "all"),) if quick else ((1, "all"), (10, "all"), (100, "ends")):
        r = child("paged", scale, pages)
        print_paged(f"scale {scale:>4} ({pages} pages)", r)
        print(f"{'':>29}client+server: {r['per_cpu_second']:>7,.0f} records/CPU-s")
    print(" server in its own process (as `deltastore demo-store serve` runs):")
    r = child("process", 10)
    print_paged("scale   10 (all pages)", {**r, "peak_rss_mb": r["server_peak_rss_mb"]})
    print(f"{'':>29}server: {r['server_per_cpu_second']:>7,.0f} records/CPU-s "
          f"({r['server_cpu_seconds']:.2f} CPU-s, start-up included); client: "
          f"{r['per_cpu_second']:>7,.0f} records/CPU-s")
    if quick:
        return
    print("demo store, one unpaged streamed /carts")
    for scale in (1, 10):
        r = child("stream", scale)
        print(f"  scale {scale:>4}: {r['records']:>9,.0f} carts ({r['megabytes']:.0f} MB) in "
              f"{r['seconds']:6.1f} s = {r['per_second']:>7,.0f} records/s; "
              f"peak RSS {r['peak_rss_mb']:.0f} MB; load {r['load']:.1f}")


if __name__ == "__main__":
    main()
