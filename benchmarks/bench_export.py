"""Throughput and memory of `deltastore export` (prints figures, asserts nothing).

A DuckDB sync target gets one wide mart, `analytics.bench_order_items` (bigint, text,
decimal, date, timestamp, bool, double), at two sizes. Each export runs in a fresh process
so its peak RSS is its own: if rows are streamed, the peak barely moves when the table
doubles.

Run: `.venv/bin/python benchmarks/bench_export.py [--rows 1000000] [--batch-size 50000]`
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

import duckdb

from deltastore.dashboards.export import export_marts
from deltastore.settings import Settings


def make_target(path: Path, rows: int) -> None:
    connection = duckdb.connect(str(path))
    connection.execute("create schema analytics")
    connection.execute(f"""
        create table analytics.bench_order_items as
        select
            i as order_item_id,
            'product ' || (i % 977) as product_name,
            cast((i % 50000) / 100.0 as decimal(12, 2)) as price_at_purchase,
            date '2024-01-01' + cast(i % 365 as integer) as order_date,
            timestamp '2024-01-01 00:00:00' + to_seconds(i) as loaded_at,
            i % 7 = 0 as is_returned,
            (i % 1000) / 7.0 as score
        from range({rows}) as t(i)
    """)
    connection.close()


def run_export(database: str, fmt: str, out: str, batch_size: int,
               results: multiprocessing.Queue) -> None:
    settings = Settings.from_env({"DELTASTORE_DATA_DIR": out,
                                  "DELTASTORE_SYNC_TARGET_URL": f"duckdb://{database}",
                                  "DELTASTORE_BATCH_SIZE": str(batch_size)})
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    counts = export_marts(settings, fmt, Path(out) / fmt)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results.put((sum(counts.values()), seconds, before / 1024, peak / 1024))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=50_000)
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        for rows in (args.rows, 2 * args.rows):
            database = Path(tmp) / f"target-{rows}.duckdb"
            make_target(database, rows)
            for fmt in ("csv", "parquet"):
                results: multiprocessing.Queue = context.Queue()
                process = context.Process(target=run_export, args=(
                    str(database), fmt, str(Path(tmp) / f"out-{rows}"), args.batch_size,
                    results))
                process.start()
                count, seconds, before, peak = results.get(timeout=1800)
                process.join()
                size = sum(p.stat().st_size for p in (Path(tmp) / f"out-{rows}" / fmt).iterdir())
                print(f"{fmt:8} {count:>10,} rows in {seconds:6.2f} s = "
                      f"{count / seconds:>10,.0f} rows/s · file {size / 1e6:7.1f} MB · "
                      f"peak RSS {peak:6.0f} MB (at start {before:4.0f} MB)")


if __name__ == "__main__":
    main()
