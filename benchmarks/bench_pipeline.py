"""Every performance figure of the pipeline in one run, next to its target and its peer.

Prints a table; asserts nothing (the machines are shared: read the load average printed at
the top, and prefer CPU seconds when it is above the core count).

Each pipeline step runs as its own `deltastore <step>` process, as it does in an Argo pod,
so its wall time and peak RSS (the kernel's figure for that process, ``os.wait4``) are its
own. The demo store serves from its own process. Rows:

- ``deltastore --help``: start-up of a command (target <= 0.5 s).
- the legacy generator at ``--scale`` (target <= 60 s at scale 100).
- every step at ``--scale``: extract store API and legacy DB (concurrently, as in
  ``deltastore run``), freshness, dbt build, sync, docs, dashboards; each with peak RSS
  (target <= 1 GiB at scale 100) and the pipeline total without generation (target
  <= 120 s at scale 100).
- store API -> DuckDB in top-level records (products + users + carts) per second: the
  project, against fetching the same payloads whole and loading them with DuckDB's
  ``read_json`` (target >= 0.6x), and against dlt's ``rest_api`` source run by
  ``--dlt-python`` (a virtual environment of its own: dlt is never a dependency; >= 25x).
- legacy SQLite -> DuckDB rows/s (target >= 300k at scale 10).
- sync DuckDB -> DuckDB rows/s (target >= 2M), export CSV and Parquet rows/s (>= 1M).
- ``deltastore demo`` at scale 1, one process, first run (target <= 20 s).

``--daily`` measures a day instead: after a first run, the pipeline runs in full again
(every step with ``--full-refresh``), then ``deltastore demo-data next-day`` writes one more
day into the legacy database (new orders with their items, payments and shipments; status
updates on recent orders; a few deletions) and the daily pipeline runs as the pipeline runs
it (incremental extract; `build --changed-only`; incremental sync). Both runs are printed
side by side, step by step, with rows read, built and written, against the daily targets
(store-API step excluded, it has no change feed): daily run <= 35 % of the full run's time;
the sync writes <= 5 % of the marts' rows in <= 25 % of a full sync's time; the build
<= 50 % of a full build; every step within the 1 Gi pod (give
``--duckdb-memory-limit 512MiB``). The same day is then run at scale 1, where the data
hardly matters: its times (column ``fixed s``) bound the daily run's fixed cost (processes
starting, dbt's work for each node it runs), which no amount of incremental work removes.
``--repeat N`` alternates N full and daily runs, each on a copy of the data the first run
left, and prints their medians and the range of each ratio. Last, the day's build runs again
on the same data without the snapshots and the models that summarise all history: the most
that keeping those incremental could take off the daily run.

Run: `.venv/bin/python benchmarks/bench_pipeline.py --scale 10`
     `.venv/bin/python benchmarks/bench_pipeline.py --daily --scale 100 \\
          --duckdb-memory-limit 512MiB`
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import requests

from deltastore.workflows.pipeline import step as pipeline_step

_SCRIPT = Path(sys.executable).with_name("deltastore")
CLI = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "deltastore.workflows.cli"]
GIB = 1024.0
# The snapshots (they compare their whole source) and the models that summarise all history
# (the kpi folder, fct_customer_segments included, and fct_monthly_new_customers).
SUMMARIES = "resource_type:snapshot path:models/marts/kpi fct_monthly_new_customers"


@dataclass
class Figure:
    name: str
    value: str
    target: str = ""
    peer: str = ""
    verdict: str = ""


@dataclass
class Process:
    code: int
    seconds: float
    cpu: float
    peak_mib: float
    output: str


def run(argv: list[str], env: dict[str, str], cwd: Path) -> Process:
    """One process to its end: exit code, wall and CPU seconds, peak RSS."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        log.seek(0)
        output = log.read().decode(errors="replace")
    return Process(os.waitstatus_to_exitcode(status), seconds, usage.ru_utime + usage.ru_stime,
                   usage.ru_maxrss / 1024, output)


def check(name: str, done: Process) -> Process:
    if done.code != 0:
        raise SystemExit(f"{name} failed (exit {done.code}):\n{done.output[-3000:]}")
    return done


def met(ok: bool) -> str:
    return "met" if ok else "MISSED"


# DuckDB's memory limit for every step (``--duckdb-memory-limit``): what a pod's memory
# limit gives it (deltastore/limits.py takes half of the cgroup limit).
DUCKDB_MEMORY_LIMIT: str = ""


def environment(data_dir: Path, store_url: str = "",
                run_date: str = "2026-01-01") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DELTASTORE_")}
    env.update(DELTASTORE_DATA_DIR=str(data_dir), DELTASTORE_RUN_DATE=run_date)
    if DUCKDB_MEMORY_LIMIT:
        env["DELTASTORE_DUCKDB_MEMORY_LIMIT"] = DUCKDB_MEMORY_LIMIT
    if store_url:
        env["DELTASTORE_STORE_API_URL"] = store_url
    return env


class DemoStoreProcess:
    """`deltastore demo-store serve` in its own process on a free loopback port."""

    def __init__(self, scale: float, env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [*CLI, "demo-store", "serve", "--port", "0", "--scale", str(scale)],
            env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.process.stdout is not None
        for line in self.process.stdout:
            found = re.search(r"http://127\.0\.0\.1:\d+", line)
            if found:
                self.url = found.group(0)
                return
        raise SystemExit("the demo store did not start")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def bench_help(cwd: Path) -> Figure:
    best = min(run([*CLI, "--help"], dict(os.environ), cwd).seconds for _ in range(5))
    return Figure("deltastore --help", f"{best:.2f} s", "<= 0.5 s", verdict=met(best <= 0.5))


def bench_steps(scale: float, root: Path) -> list[Figure]:
    """Generation, then each step as its own process, as Argo runs them."""
    data = root / "steps"
    env = environment(data)
    figures: list[Figure] = []
    generated = check("generation", run([*CLI, "demo-data", "legacy", "--scale", str(scale)],
                                        env, root))
    rows = re.search(r"total +([\d,]+) rows", generated.output)
    figures.append(Figure(f"legacy generator, scale {scale:g}",
                          f"{generated.seconds:.1f} s ({rows.group(1) if rows else '?'} rows), "
                          f"{generated.peak_mib:.0f} MiB", "<= 60 s at scale 100",
                          verdict=met(generated.seconds <= 60) if scale == 100 else ""))
    store = DemoStoreProcess(scale, env, root)
    try:
        env = environment(data, store.url)
        started = time.perf_counter()
        extracts = [subprocess.Popen([*CLI, "extract", "--source", source, "--full-refresh"],
                                     env=env, cwd=root, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT)
                    for source in ("store-api", "legacy-db")]
        for source, process in zip(("store-api", "legacy-db"), extracts, strict=True):
            _, status, usage = os.wait4(process.pid, 0)
            code = os.waitstatus_to_exitcode(status)
            if code:
                raise SystemExit(f"extract {source} failed with exit {code}")
            figures.append(Figure(f"  step extract {source}",
                                  f"{usage.ru_maxrss / 1024:.0f} MiB peak", "<= 1 GiB",
                                  verdict=met(usage.ru_maxrss / 1024 <= GIB)))
        figures.append(Figure("  both extracts, concurrently",
                              f"{time.perf_counter() - started:.1f} s"))
        total = time.perf_counter() - started
        for step in (["freshness"], ["build", "--full-refresh"], ["sync"], ["docs"],
                     ["dashboards"]):
            done = check(step[0], run([*CLI, *step], env, root))
            total += done.seconds
            figures.append(Figure(f"  step {step[0]}",
                                  f"{done.seconds:.1f} s, {done.peak_mib:.0f} MiB peak",
                                  "<= 1 GiB", verdict=met(done.peak_mib <= GIB)))
            if step[0] == "sync":
                figures.append(sync_rate(data, done.seconds))
                figures.append(copy_floor(data))
        figures.append(Figure(f"pipeline at scale {scale:g}, generation excluded",
                              f"{total:.1f} s", "<= 120 s at scale 100",
                              verdict=met(total <= 120) if scale == 100 else ""))
    finally:
        store.close()
    return figures


def sync_rate(data: Path, seconds: float) -> Figure:
    with duckdb.connect(str(data / "sync_target.duckdb"), read_only=True) as conn:
        tables = conn.execute("SELECT table_name FROM information_schema.tables "
                              "WHERE table_schema = 'analytics'").fetchall()
        rows = sum(conn.execute(f'SELECT count(*) FROM analytics."{t}"').fetchone()[0]
                   for (t,) in tables)
    rate = rows / seconds
    return Figure("sync DuckDB -> DuckDB (whole step)",
                  f"{rate:,.0f} rows/s ({rows:,} rows)", ">= 2,000,000 rows/s",
                  verdict=met(rate >= 2_000_000))


# DuckDB alone copying every mart of the warehouse into a new file: one ``CREATE TABLE … AS
# SELECT`` each, no checks. Run in a child process, so this process stays small (a child
# forked from it would count its size in the child's peak). Prints rows and seconds.
COPY_FLOOR_SCRIPT = """
import sys, time
import duckdb
warehouse, scratch = sys.argv[1], sys.argv[2]
with duckdb.connect(scratch) as conn:
    conn.execute("SET enable_progress_bar = false")  # it would print to stdout
    conn.execute(f"ATTACH '{warehouse}' AS src (READ_ONLY)")
    tables = [t for (t,) in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'src' "
        "AND table_schema = 'analytics' AND table_type = 'BASE TABLE'").fetchall()]
    started = time.perf_counter()
    for table in tables:
        conn.execute(f'CREATE TABLE "{table}" AS SELECT * FROM src.analytics."{table}"')
    seconds = time.perf_counter() - started
    rows = sum(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables)
print(rows, seconds)
"""


def copy_floor(data: Path) -> Figure:
    """What the sync step can reach here at most: DuckDB copying the same marts alone."""
    scratch = data / "copy_floor.duckdb"
    done = subprocess.run([sys.executable, "-c", COPY_FLOOR_SCRIPT,
                           str(data / "warehouse.duckdb"), str(scratch)],
                          check=True, capture_output=True, text=True)
    scratch.unlink()
    rows, seconds = done.stdout.splitlines()[-1].split()
    return Figure("  DuckDB CREATE TABLE AS between the same files (the floor)",
                  f"{int(rows) / float(seconds):,.0f} rows/s", "", "what bounds the sync")


def bench_store_api(scale: float, root: Path) -> list[Figure]:
    """The project's store-API extract against its native and dlt peers, one server."""
    data = root / "store"
    env = environment(data)
    store = DemoStoreProcess(scale, env, root)
    try:
        env = environment(data, store.url)
        project = check("extract", run([*CLI, "extract", "--source", "store-api",
                                         "--full-refresh"], env, root))
        records = sum(int(requests.get(f"{store.url}/{e}?limit=1", timeout=60)
                          .headers["X-Total-Count"]) for e in ("products", "users", "carts"))
        native = native_seconds(store.url, root / "native.duckdb")
        dlt = dlt_seconds(store.url, root)
    finally:
        store.close()
    ours = records / project.seconds
    peer = records / native
    figures = [Figure(f"store API -> DuckDB, scale {scale:g} (process, incl. start-up)",
                      f"{ours:,.0f} records/s",
                      ">= 0.6x native", f"native {peer:,.0f}/s = {ours / peer:.2f}x",
                      met(ours >= 0.6 * peer))]
    if dlt is None:
        figures.append(Figure("  dlt rest_api peer", "not measured (give --dlt-python)",
                              ">= 25x dlt"))
    else:
        dlt_rate = records / dlt
        figures.append(Figure("  dlt rest_api peer", f"{dlt_rate:,.0f} records/s", ">= 25x dlt",
                              f"{ours / dlt_rate:.1f}x", met(ours >= 25 * dlt_rate)))
    return figures


def native_seconds(url: str, path: Path) -> float:
    """Fetch each endpoint whole, then DuckDB reads the JSON itself."""
    started = time.perf_counter()
    folder = path.parent / "native-json"
    folder.mkdir(exist_ok=True)
    for endpoint in ("products", "users", "carts"):
        (folder / f"{endpoint}.json").write_bytes(requests.get(f"{url}/{endpoint}",
                                                               timeout=600).content)
    with duckdb.connect(str(path)) as conn:
        for endpoint in ("products", "users", "carts"):
            conn.execute(f"CREATE OR REPLACE TABLE {endpoint} AS SELECT * FROM "
                         f"read_json('{folder / endpoint}.json')")
    return time.perf_counter() - started


# dlt's rest_api source into DuckDB, run by the interpreter given with --dlt-python (dlt is
# no dependency: it lives in a virtual environment of its own). Prints the seconds taken.
DLT_SCRIPT = """
import sys, time
import dlt
from dlt.sources.rest_api import rest_api_source
url, folder = sys.argv[1], sys.argv[2]
source = rest_api_source({"client": {"base_url": url + "/"},
                          "resources": ["products", "users", "carts"]})
pipeline = dlt.pipeline("bench", destination=dlt.destinations.duckdb(folder + "/dlt.duckdb"),
                        pipelines_dir=folder)
started = time.perf_counter()
pipeline.run(source)
print(time.perf_counter() - started)
"""
DLT_PYTHON = ""


def dlt_seconds(url: str, root: Path) -> float | None:
    """dlt's ``rest_api`` source against the same server, or None without --dlt-python."""
    if not DLT_PYTHON:
        return None
    folder = root / "dlt"
    folder.mkdir()
    done = subprocess.run([DLT_PYTHON, "-c", DLT_SCRIPT, url, str(folder)], check=True,
                          capture_output=True, text=True,
                          env={**os.environ, "DLT_DATA_DIR": str(folder)})
    return float(done.stdout.strip().splitlines()[-1])


def bench_legacy_extract(scale: float, root: Path) -> Figure:
    data = root / "legacy"
    env = environment(data)
    check("generation", run([*CLI, "demo-data", "legacy", "--scale", str(scale)], env, root))
    done = check("extract", run([*CLI, "extract", "--source", "legacy-db", "--full-refresh"],
                                env, root))
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as conn:
        rows = conn.execute("SELECT sum(rows_read) FROM meta.load_state "
                            "WHERE source = 'legacy-db'").fetchone()[0]
    rate = rows / done.seconds
    return Figure(f"legacy SQLite -> DuckDB, scale {scale:g} (process, incl. start-up)",
                  f"{rate:,.0f} rows/s", ">= 300,000 rows/s", verdict=met(rate >= 300_000))


def bench_export(root: Path, rows: int = 1_000_000) -> list[Figure]:
    data = root / "export"
    data.mkdir()
    with duckdb.connect(str(data / "sync_target.duckdb")) as conn:
        conn.execute("CREATE SCHEMA analytics")
        conn.execute(f"""CREATE TABLE analytics.bench AS SELECT i AS id,
            'product ' || (i % 977) AS name, CAST((i % 50000) / 100.0 AS DECIMAL(12, 2)) AS price,
            DATE '2024-01-01' + CAST(i % 365 AS INTEGER) AS day, i % 7 = 0 AS flag
            FROM range({rows}) AS t(i)""")
    figures = []
    for fmt in ("csv", "parquet"):
        done = check("export", run([*CLI, "export", "--format", fmt, "--out",
                                    str(data / fmt)], environment(data), root))
        rate = rows / done.seconds
        figures.append(Figure(f"export {fmt}, {rows:,} rows (process)", f"{rate:,.0f} rows/s",
                              ">= 1,000,000 rows/s", verdict=met(rate >= 1_000_000)))
    return figures


def bench_demo(root: Path) -> Figure:
    done = check("demo", run([*CLI, "demo", "--scale", "1"], environment(root / "demo"), root))
    return Figure("deltastore demo, scale 1, first run", f"{done.seconds:.1f} s, "
                  f"{done.peak_mib:.0f} MiB peak", "<= 20 s", verdict=met(done.seconds <= 20))


# --- a full run, one day of changes, a daily run ---------------------------------------------

@dataclass
class StepRun:
    name: str
    seconds: float
    cpu: float  # user + system seconds: steadier than wall time on a shared machine
    peak_mib: float
    read: int | None = None
    built: int | None = None
    written: int | None = None
    nodes: dict[str, float] | None = None  # a build's node timings (run_results.json)


def bench_daily(scale: float, root: Path, repeat: int = 1) -> list[str]:
    """The pipeline in full, then a day of changes and the daily pipeline; the table (with
    ``repeat`` > 1: the medians of that many alternated pairs, and their ranges). Then the
    same day at scale 1 (or ``scale`` if smaller), where the data hardly matters: what is
    left is the daily run's fixed cost (processes starting, dbt's work for each node)."""
    first, fulls, dailies, bound = measure_day(scale, root / "daily", full_runs=repeat,
                                               bound=True)
    small = min(scale, 1)
    _, _, fixed, _ = measure_day(small, root / "fixed", full_runs=0)
    full, daily = median_steps(fulls), median_steps(dailies)
    lines = daily_table(first, full, daily, mart_rows(root / "daily"), fixed[0], small)
    lines += pair_ranges(fulls, dailies) if repeat > 1 else []
    return lines + ([bound_line(fulls[-1], dailies[-1], bound)] if bound else [])


def bound_line(full: list[StepRun], daily: list[StepRun], bound: StepRun) -> str:
    """The daily run as it would be if the snapshots and the summaries cost nothing: the
    last pair's daily run with its build replaced by the build that left them out, against
    that pair's full run (the three ran one after the other)."""
    build = next(s for s in daily if s.name == "build")
    total = _seconds(daily, "total", cpu=False) - build.seconds + bound.seconds
    left_out = len(build.nodes or {}) - len(bound.nodes or {})
    return (f"without the snapshots and the models that summarise all history ({left_out} of "
            f"the day's {len(build.nodes or {})} nodes, their tests included: `{SUMMARIES}`), "
            f"the same day's build took {bound.seconds:.1f} s instead of {build.seconds:.1f} s; "
            f"with the other steps at their times in that daily run (its sync still compares "
            f"those marts), the daily run would take {total:.1f} s, "
            f"{total / _seconds(full, 'total', cpu=False):.0%} of that pair's full run "
            f"(target <= 35 %; the daily run itself took {_seconds(daily, 'total', False):.1f} s "
            f"of {_seconds(full, 'total', False):.1f} s): the most that keeping them "
            f"incremental could take off")


def measure_day(scale: float, data: Path, full_runs: int, bound: bool = False,
                ) -> tuple[list[StepRun], list[list[StepRun]], list[list[StepRun]],
                           StepRun | None]:
    """A first run, then ``full_runs`` times the full run and the daily run after one more
    day (once, with no full run, when ``full_runs`` is 0). With more than one pair, each
    run starts from a copy of the data as the first run left it, so that every pair
    measures the same work. With ``bound``, the last day's build runs once more, on the
    data as it was before that build, without ``SUMMARIES``."""
    root = data.parent
    env = environment(data)
    check("generation", run([*CLI, "demo-data", "legacy", "--scale", str(scale)], env, root))
    store = DemoStoreProcess(scale, env, root)
    saved = data.with_name(data.name + "-after-first")
    before_build = data.with_name(data.name + "-before-build")
    fulls: list[list[StepRun]] = []
    dailies: list[list[StepRun]] = []
    summaries_free: StepRun | None = None
    try:
        # The first run makes the warehouse, the snapshots and the target; the full run
        # measured is the next one, every step with --full-refresh on that existing data,
        # as the pipeline ran each day before it was incremental (snapshots compare, the
        # sync replaces every mart).
        first = pipeline_steps(data, environment(data, store.url), root, full=True)
        if full_runs > 1:
            shutil.copytree(data, saved)
        for pair in range(max(full_runs, 1)):
            if full_runs:
                if pair:
                    _restore(saved, data)
                fulls.append(pipeline_steps(data, environment(data, store.url), root,
                                            full=True))
            if full_runs > 1:
                _restore(saved, data)
            run_date = _next_day(scale, env, root)
            last = pair == max(full_runs, 1) - 1
            day_env = environment(data, store.url, run_date)
            dailies.append(pipeline_steps(data, day_env, root, full=False,
                                          before_build=before_build if bound and last
                                          else None))
        if bound:
            # The build runs where the data was (its paths are in dbt's profile and plan);
            # the data as the daily run left it is put back afterwards, for the table.
            after_day = data.with_name(data.name + "-after-day")
            data.rename(after_day)
            before_build.rename(data)
            summaries_free = build_step(data, day_env, root, ["--exclude", SUMMARIES])
            shutil.rmtree(data)
            after_day.rename(data)
    finally:
        store.close()
        shutil.rmtree(saved, ignore_errors=True)
        shutil.rmtree(before_build, ignore_errors=True)
    return first, fulls, dailies, summaries_free


def _restore(saved: Path, data: Path) -> None:
    shutil.rmtree(data)
    shutil.copytree(saved, data)


def _next_day(scale: float, env: dict[str, str], root: Path) -> str:
    """Write one more day into the legacy database; the run date that takes it in."""
    day = check("next day", run([*CLI, "demo-data", "next-day", "--scale", str(scale)],
                                env, root))
    print(day.output.strip(), flush=True)
    found = re.search(r"day (\d{4}-\d{2}-\d{2}) written", day.output)
    assert found, day.output
    return (dt.date.fromisoformat(found.group(1)) + dt.timedelta(days=1)).isoformat()


def median_steps(runs: list[list[StepRun]]) -> list[StepRun]:
    """Per step, the median time and CPU of ``runs`` and their largest peak (the rows and
    node timings of the first run: the same work each time)."""
    return [replace(group[0], seconds=statistics.median(s.seconds for s in group),
                    cpu=statistics.median(s.cpu for s in group),
                    peak_mib=max(s.peak_mib for s in group))
            for group in zip(*runs, strict=True)]


def pair_ranges(fulls: list[list[StepRun]], dailies: list[list[StepRun]]) -> list[str]:
    """The daily/full ratios of each alternated pair, as ranges: how far one run moves."""
    def ratios(name: str, cpu: bool = False) -> str:
        values = sorted(_seconds(d, name, cpu) / _seconds(f, name, cpu)
                        for f, d in zip(fulls, dailies, strict=True))
        return f"{values[0]:.0%}-{values[-1]:.0%} (median {statistics.median(values):.0%})"

    return [f"over {len(fulls)} alternated pairs (each run on the data the first run left), "
            f"daily/full: run {ratios('total')}, in CPU seconds {ratios('total', cpu=True)}; "
            f"build {ratios('build')}; sync {ratios('sync')}; the table shows medians"]


def _seconds(steps: list[StepRun], name: str, cpu: bool) -> float:
    """A step's time (or CPU), or with ``total`` every step's but the store API's."""
    chosen = [s for s in steps if (s.name != "extract store-api" if name == "total"
                                   else s.name == name)]
    return sum(s.cpu if cpu else s.seconds for s in chosen)


def pipeline_steps(data: Path, env: dict[str, str], root: Path, full: bool,
                   before_build: Path | None = None) -> list[StepRun]:
    """Each step as its own process, with what it read and wrote. The two extracts run one
    after the other here (``deltastore run`` runs them at once), so that each one's time
    is its own: the store API's, which has no change feed, is left out of the targets.
    ``before_build``: where to copy the data as the build finds it."""
    refresh = ["--full-refresh"] if full else []
    # What the preparation wrote (a restored copy of the 5 GB of data, the next day) is
    # written back to disk now, not by whichever step happens to sync a file first: the
    # first commit after a copy waited 0.8 s for the copy's pages (2026-12-06).
    os.sync()
    steps: list[StepRun] = []
    for source in ("store-api", "legacy-db"):
        done = check(f"extract {source}",
                     run([*CLI, "extract", "--source", source, *refresh], env, root))
        read, written = extract_rows(data, source)
        steps.append(StepRun(f"extract {source}", done.seconds, done.cpu, done.peak_mib, read, None,
                             written))
    freshness = check("freshness", run([*CLI, "freshness"], env, root))
    steps.append(StepRun("freshness", freshness.seconds, freshness.cpu, freshness.peak_mib))
    if before_build is not None:
        shutil.copytree(data, before_build)
        os.sync()
    steps.append(build_step(data, env, root, refresh))
    sync = check("sync", run([*CLI, "sync", *refresh], env, root))
    written = re.search(r"sync: wrote ([\d,]+) of ([\d,]+) rows", sync.output)
    assert written, sync.output[-2000:]
    steps.append(StepRun("sync", sync.seconds, sync.cpu, sync.peak_mib,
                         int(written.group(2).replace(",", "")), None,
                         int(written.group(1).replace(",", ""))))
    return steps


def build_step(data: Path, env: dict[str, str], root: Path, extra: list[str]) -> StepRun:
    """The pipeline's own build command (daily: --changed-only; --full-refresh overrides
    it), with ``extra`` options."""
    build = check("build", run([*CLI, *pipeline_step("dbt-build").command, *extra], env, root))
    return StepRun("build", build.seconds, build.cpu, build.peak_mib, None, rows_built(data),
                   nodes=node_seconds(data))


def extract_rows(data: Path, source: str) -> tuple[int, int]:
    """Rows read and rows written (inserted, updated, deleted) by the last extract of a
    source, from the warehouse's own record (meta.load_state)."""
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as conn:
        row = conn.execute(
            "SELECT sum(rows_read), sum(rows_inserted + rows_updated + rows_deleted) "
            "FROM meta.load_state WHERE source = ? AND batch_id = (SELECT batch_id FROM "
            "meta.load_state WHERE source = ? ORDER BY started_at DESC LIMIT 1)",
            [source, source]).fetchone()
    return (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)


def rows_built(data: Path) -> int:
    """Rows the last build wrote into tables: every row of a model it rebuilt whole, and
    the rows an incremental model inserted in this build (``rows_changed`` of
    meta.dbt_incremental_state, written by the build's own invocation); views write none,
    and a snapshot's new versions are not counted."""
    results = json.loads((data / "dbt" / "target" / "run_results.json").read_text())
    invocation = results["metadata"]["invocation_id"]
    built = [r["unique_id"].split(".")[-1] for r in results["results"]
             if r["unique_id"].startswith("model.") and r["status"] == "success"]
    total = 0
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as conn:
        tables = {name: (schema, kind) for schema, name, kind in conn.execute(
            "SELECT table_schema, table_name, table_type FROM information_schema.tables "
            "WHERE table_catalog = current_database()").fetchall()}
        changed = dict(conn.execute(
            "SELECT model, rows_changed FROM meta.dbt_incremental_state "
            "WHERE invocation_id = ? AND rows_changed IS NOT NULL", [invocation]).fetchall())
        for model in built:
            schema, kind = tables.get(model, ("", ""))
            if kind != "BASE TABLE":
                continue
            if model in changed:
                total += int(changed[model] or 0)
            else:
                total += conn.execute(f'SELECT count(*) FROM "{schema}"."{model}"').fetchone()[0]
    return total


def node_seconds(data: Path) -> dict[str, float]:
    """Each node's execution time in the last build (dbt's run_results.json)."""
    results = json.loads((data / "dbt" / "target" / "run_results.json").read_text())
    return {r["unique_id"]: float(r["execution_time"]) for r in results["results"]}


def slowest_nodes(full: dict[str, float], daily: dict[str, float], count: int = 15) -> list[str]:
    """The full build's slowest nodes next to their daily time, and the totals by kind."""
    lines = [f"{'slowest nodes of the full build':<60} {'full s':>7} {'daily s':>8}"]
    for node in sorted(full, key=full.__getitem__, reverse=True)[:count]:
        lines.append(f"{node:<60} {full[node]:>7.2f} {daily.get(node, 0.0):>8.2f}")
    def total(times: dict[str, float], kind: str) -> float:
        return sum(t for n, t in times.items() if n.startswith(kind + "."))

    for kind in ("model", "snapshot", "test", "unit_test"):
        lines.append(f"{'all ' + kind + 's (node seconds, threads overlap)':<60} "
                     f"{total(full, kind):>7.1f} {total(daily, kind):>8.1f}")
    return lines


def mart_rows(data: Path) -> int:
    with duckdb.connect(str(data / "sync_target.duckdb"), read_only=True) as conn:
        tables = conn.execute("SELECT table_name FROM information_schema.tables "
                              "WHERE table_schema = 'analytics'").fetchall()
        return sum(conn.execute(f'SELECT count(*) FROM analytics."{t}"').fetchone()[0]
                   for (t,) in tables)


def daily_table(first: list[StepRun], full: list[StepRun], daily: list[StepRun],
                marts: int, fixed: list[StepRun], fixed_scale: float) -> list[str]:
    def rows(value: int | None) -> str:
        return "-" if value is None else f"{value:,}"

    lines = [f"{'step':<18} {'full s':>7} {'daily s':>8} {'daily/full':>10} "
             f"{'fixed s':>8} {'peak MiB full/daily':>20}  "
             f"{'rows read / built / written, full':>40}  {'daily':>32}"]
    for f, d, x in zip(full, daily, fixed, strict=True):
        lines.append(f"{f.name:<18} {f.seconds:>7.1f} {d.seconds:>8.1f} "
                     f"{d.seconds / f.seconds:>9.0%} {x.seconds:>8.1f} "
                     f"{f.peak_mib:>10.0f}/{d.peak_mib:<9.0f} "
                     f"{rows(f.read):>13} / {rows(f.built):>11} / {rows(f.written):>11}  "
                     f"{rows(d.read):>10} / {rows(d.built):>9} / {rows(d.written):>9}")

    def total(steps: list[StepRun], cpu: bool = False) -> float:
        return _seconds(steps, "total", cpu)

    def by_first(steps: list[StepRun]) -> float:
        return next(s.seconds for s in steps if s.name == "build")

    by = {s.name: s for s in full}, {s.name: s for s in daily}
    ratio = total(daily) / total(full)
    sync_share = (by[1]["sync"].written or 0) / marts
    sync_time = by[1]["sync"].seconds / by[0]["sync"].seconds
    build_time = by[1]["build"].seconds / by[0]["build"].seconds
    peak = max(s.peak_mib for s in first + full + daily)
    nodes = len(by[1]["build"].nodes or {}), len(next(s for s in fixed if s.name == "build")
                                                  .nodes or {})
    lines += [
        f"{'total, no store API':<18} {total(full):>7.1f} {total(daily):>8.1f} {ratio:>9.0%} "
        f"{total(fixed):>8.1f}",
        f"fixed s: the same day at scale {fixed_scale:g} (its build ran {nodes[1]} nodes, this "
        f"one {nodes[0]}), where the data hardly matters: the daily run's fixed cost "
        f"(processes starting, dbt's work for each node) is at most {total(fixed):.1f} s, "
        f"{total(fixed) / total(full):.0%} of the full run; 35 % of the full run leaves "
        f"{0.35 * total(full) - total(fixed):.1f} s for the work that grows with the data, "
        f"which took {total(daily) - total(fixed):.1f} s",
        f"(the first run, which made everything: {total(first):.1f} s, the daily run "
        f"{total(daily) / total(first):.0%} of it; its build {by_first(first):.1f} s)",
        f"daily run {ratio:.0%} of the full run (target <= 35 %): {met(ratio <= 0.35)}; "
        f"in CPU seconds {total(daily, cpu=True):.1f} of {total(full, cpu=True):.1f} "
        f"({total(daily, cpu=True) / total(full, cpu=True):.0%}), build "
        f"{by[1]['build'].cpu / by[0]['build'].cpu:.0%}, sync "
        f"{by[1]['sync'].cpu / by[0]['sync'].cpu:.0%}",
        f"sync wrote {by[1]['sync'].written:,} of {marts:,} mart rows = {sync_share:.2%} "
        f"(target <= 5 %): {met(sync_share <= 0.05)}; in {sync_time:.0%} of a full sync "
        f"(target <= 25 %): {met(sync_time <= 0.25)}",
        f"build {build_time:.0%} of a full build (target <= 50 %): {met(build_time <= 0.5)}",
        f"peak RSS of any step {peak:,.0f} MiB (target <= 1 GiB): {met(peak <= GIB)}",
    ]
    return lines + slowest_nodes(by[0]["build"].nodes or {}, by[1]["build"].nodes or {})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=10, help="data volume of the steps")
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["help", "steps", "store-api", "legacy", "export", "demo"])
    parser.add_argument("--dlt-python", default="",
                        help="python of a virtual environment with `dlt[duckdb]` installed, "
                             "to measure dlt's rest_api source as the peer")
    parser.add_argument("--daily", action="store_true",
                        help="compare a full run with the daily run after one more day of "
                             "changes (the other figures are not measured then)")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="with --daily: alternate N full and daily runs, each on the data "
                             "the first run left, and print medians and ranges (a shared "
                             "machine moves a single ratio by ten points)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the data folder afterwards (to profile a step again)")
    parser.add_argument("--duckdb-memory-limit", default="",
                        help="DuckDB memory_limit for every step, as a pod's limit would set "
                             "it (default: half this machine's memory)")
    args = parser.parse_args()
    global DUCKDB_MEMORY_LIMIT, DLT_PYTHON
    DUCKDB_MEMORY_LIMIT, DLT_PYTHON = args.duckdb_memory_limit, args.dlt_python
    root = Path(tempfile.mkdtemp(prefix="deltastore-bench-"))
    print(f"load average {os.getloadavg()[0]:.1f} on {len(os.sched_getaffinity(0))} cores; "
          f"scale {args.scale:g}; DuckDB memory limit "
          f"{DUCKDB_MEMORY_LIMIT or 'default'}; data in {root}", flush=True)
    if args.daily:
        try:
            lines = bench_daily(args.scale, root, max(args.repeat, 1))
        finally:
            if not args.keep:
                shutil.rmtree(root, ignore_errors=True)
        print("\n".join(lines))
        print(json.dumps({"load_average": os.getloadavg()[0]}))
        return 0
    benches = {
        "help": lambda: [bench_help(root)],
        "demo": lambda: [bench_demo(root)],
        "steps": lambda: bench_steps(args.scale, root),
        "store-api": lambda: bench_store_api(args.scale, root),
        "legacy": lambda: [bench_legacy_extract(args.scale, root)],
        "export": lambda: bench_export(root),
    }
    figures: list[Figure] = []
    try:
        for name, bench in benches.items():
            if name not in args.skip:
                figures += bench()
                print(f"  ({name} done)", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    width = max(len(f.name) for f in figures)
    value = max(len(f.value) for f in figures)
    for f in figures:
        print(f"{f.name:<{width}}  {f.value:<{value}}  {f.target:<22} {f.peer:<28} {f.verdict}")
    print(json.dumps({"load_average": os.getloadavg()[0]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
