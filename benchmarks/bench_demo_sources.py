"""How fast the demo sources produce data, and that their memory does not grow with scale.

Prints, each measured in a fresh child process so peak RSS belongs to that run alone:
- legacy generation into SQLite at scale 1 and 10: rows/s and peak RSS;
- the demo store serving ``/carts`` in pages of 1,000 over loopback at scale 10 (all
  100,000 carts): records/s and peak RSS; the same for one unpaged streamed ``/carts``;
- at scale 100 (1,000,000 carts): pages fetched near the start and near the end, to show a
  page costs the same wherever it is.

Run: ``/work/main/.venv/bin/python benchmarks/bench_demo_sources.py`` (about a minute).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PAGE = 1_000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def bench_legacy(scale: float) -> dict[str, float]:
    from extract.dburl import DatabaseURL
    from extract.demo.legacy_data import generate_legacy_db

    with tempfile.TemporaryDirectory() as folder:
        url = DatabaseURL.parse(f"sqlite:///{Path(folder) / 'legacy.db'}")
        started = time.perf_counter()
        counts = generate_legacy_db(url, scale=scale)
        seconds = time.perf_counter() - started
    rows = sum(counts.values())
    return {"rows": rows, "seconds": seconds, "per_second": rows / seconds,
            "peak_rss_mb": peak_rss_mb()}


def bench_store_paged(scale: float, pages: str) -> dict[str, float]:
    """Fetch ``/carts`` pages: ``all``, or ``ends`` (20 at the start, 20 at the end)."""
    import requests

    from extract.demo.store_server import DemoStore

    with DemoStore(scale=scale) as store, requests.Session() as session:
        total = store.data.carts
        offsets = list(range(0, total, PAGE))
        if pages == "ends":
            offsets = offsets[:20] + offsets[-20:]
        records = 0
        started = time.perf_counter()
        timings = []
        for offset in offsets:
            t0 = time.perf_counter()
            response = session.get(f"{store.url}/carts?limit={PAGE}&offset={offset}", timeout=60)
            response.raise_for_status()
            records += len(response.json())
            timings.append(time.perf_counter() - t0)
        seconds = time.perf_counter() - started
    half = len(timings) // 2
    return {"records": records, "seconds": seconds, "per_second": records / seconds,
            "first_pages_ms": 1000 * sum(timings[:half]) / max(1, half),
            "last_pages_ms": 1000 * sum(timings[half:]) / max(1, len(timings) - half),
            "peak_rss_mb": peak_rss_mb()}


def bench_store_stream(scale: float) -> dict[str, float]:
    """One unpaged ``/carts``: the server streams it; the client counts records per line."""
    import requests

    from extract.demo.store_server import DemoStore

    with DemoStore(scale=scale) as store:
        started = time.perf_counter()
        size = 0
        with requests.get(f"{store.url}/carts", stream=True, timeout=600) as response:
            for chunk in response.iter_content(chunk_size=1 << 16):
                size += len(chunk)
        seconds = time.perf_counter() - started
    return {"records": store.data.carts, "megabytes": size / 1e6, "seconds": seconds,
            "per_second": store.data.carts / seconds, "peak_rss_mb": peak_rss_mb()}


def child(kind: str, scale: float, *extra: str) -> dict[str, float]:
    """Run one measurement in a fresh interpreter and read back its JSON."""
    output = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(scale), *extra],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) >= 4 and sys.argv[1] == "--child":
        kind, scale = sys.argv[2], float(sys.argv[3])
        if kind == "legacy":
            result = bench_legacy(scale)
        elif kind == "paged":
            result = bench_store_paged(scale, sys.argv[4])
        else:
            result = bench_store_stream(scale)
        print(json.dumps(result))
        return

    print("legacy generation into SQLite")
    for scale in (1, 10):
        r = child("legacy", scale)
        print(f"  scale {scale:>4}: {r['rows']:>9,.0f} rows in {r['seconds']:6.1f} s = "
              f"{r['per_second']:>8,.0f} rows/s, peak RSS {r['peak_rss_mb']:.0f} MB")
    print(f"demo store, /carts in pages of {PAGE:,} over loopback")
    for scale, pages in ((1, "all"), (10, "all"), (100, "ends")):
        r = child("paged", scale, pages)
        print(f"  scale {scale:>4} ({pages} pages): {r['records']:>9,.0f} carts in "
              f"{r['seconds']:6.1f} s = {r['per_second']:>7,.0f} records/s; ms/page first "
              f"half {r['first_pages_ms']:.0f}, last half {r['last_pages_ms']:.0f}; "
              f"peak RSS {r['peak_rss_mb']:.0f} MB")
    print("demo store, one unpaged streamed /carts")
    for scale in (1, 10):
        r = child("stream", scale)
        print(f"  scale {scale:>4}: {r['records']:>9,.0f} carts ({r['megabytes']:.0f} MB) in "
              f"{r['seconds']:6.1f} s = {r['per_second']:>7,.0f} records/s; "
              f"peak RSS {r['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
