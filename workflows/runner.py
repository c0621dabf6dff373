"""Run the pipeline locally: the steps of ``workflows.pipeline`` in dependency order.

Each step runs exactly the command an Argo container runs (``deltastore <step argv>``),
through ``workflows.cli.main`` in this process, so a local run and a cluster run cannot
drift apart. The run stops at the first failed step; its exit code is the run's.
Rows per step are read back from what the step left behind (``meta.load_state`` for the
extracts, the published tables for the sync), so steps need no reporting channel; so are
the schema changes the extracts found (``meta.schema_changes``), listed under the summary.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from deltastore.db import connect
from deltastore.errors import EXIT_BUG, EXIT_FAILED, ConfigError, DeltaStoreError
from deltastore.schema_changes import found_since
from deltastore.settings import Settings
from deltastore.sync import published_row_counts
from deltastore.workflows.pipeline import PIPELINE, Step, execution_order

log = logging.getLogger(__name__)

OK, FAILED, SKIPPED, NOT_RUN = "ok", "failed", "skipped", "not run"


@dataclass(frozen=True)
class StepResult:
    name: str
    status: str            # ok | failed | skipped | not run (after an earlier failure)
    seconds: float
    rows: int | None       # rows the step moved, when it moves rows
    exit_code: int | None  # None when the step did not run


def run_pipeline(settings: Settings, steps: tuple[Step, ...] = PIPELINE,
                 skip: Iterable[str] = (), only: Iterable[str] = (),
                 full_refresh: bool = False, run_date: dt.date | None = None,
                 echo: Callable[[str], object] = print,
                 parallelism: int = 2, verify_whole_tables: bool = False) -> list[StepResult]:
    """Run ``steps`` as soon as their dependencies succeed, up to ``parallelism`` at once
    (the two extracts run side by side, as on Argo); after a failure nothing new starts.
    Prints a summary; results come in dependency order."""
    ordered = execution_order(without_opt_in(steps, only))
    selected = selected_steps(ordered, skip, only)
    date_text = run_date.isoformat() if run_date else ""
    total = len(ordered)
    number = {step.name: n for n, step in enumerate(ordered, 1)}
    results: dict[str, StepResult] = {}
    lock = threading.Lock()
    run_started = dt.datetime.now(dt.UTC).replace(tzinfo=None)

    def say(text: str) -> None:
        with lock:
            echo(text)

    def run_one(step: Step) -> StepResult:
        prefix = f"[{number[step.name]}/{total}] {step.name}"
        argv = step.argv(run_date=date_text, full_refresh=full_refresh,
                         verify_whole_tables=verify_whole_tables)
        say(f"{prefix}: {step.title} (deltastore {' '.join(argv)})")
        wall_start = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        started = time.perf_counter()
        code = run_command(argv, settings)
        seconds = time.perf_counter() - started
        rows = step_rows(settings, step, wall_start) if code == 0 else None
        status = OK if code == 0 else FAILED
        shown_rows = f", {rows} rows" if rows is not None else ""
        say(f"{prefix}: {status} in {seconds:.1f} s{shown_rows}"
            + (f" (exit code {code})" if code else ""))
        return StepResult(step.name, status, seconds, rows, code)

    def ready(step: Step) -> bool:
        return all(d in results and results[d].status in (OK, SKIPPED) for d in step.depends)

    pending = list(ordered)
    running: dict[Future[StepResult], Step] = {}
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        while pending or running:
            failed = any(r.status == FAILED for r in results.values())
            for step in [s for s in pending if not failed and ready(s)]:
                pending.remove(step)
                if step.name not in selected:
                    say(f"[{number[step.name]}/{total}] {step.name}: skipped")
                    results[step.name] = StepResult(step.name, SKIPPED, 0.0, None, None)
                elif len(running) < max(1, parallelism):
                    running[pool.submit(run_one, step)] = step
                else:
                    pending.insert(0, step)
                    break
            if not running:
                if pending and (failed or not any(ready(s) for s in pending)):
                    break  # a failure (or a failed dependency) leaves the rest not run
                continue
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                results[running.pop(future).name] = future.result()
    ordered_results = [results.get(s.name) or StepResult(s.name, NOT_RUN, 0.0, None, None)
                       for s in ordered]
    echo(summary_table(ordered_results))
    changes = schema_changes_found(settings, run_started)
    if changes:
        echo(changes)
    return ordered_results


def without_opt_in(steps: tuple[Step, ...], only: Iterable[str]) -> tuple[Step, ...]:
    """The steps of a local run: an opt-in step (the doctor) only when ``only`` names it;
    a step that waits for one left out waits for nothing in its place."""
    wanted = set(only)
    left_out = {s.name for s in steps if s.opt_in and s.name not in wanted}
    return tuple(dataclasses.replace(s, depends=tuple(d for d in s.depends
                                                      if d not in left_out))
                 for s in steps if s.name not in left_out)


def selected_steps(ordered: list[Step], skip: Iterable[str],
                   only: Iterable[str]) -> set[str]:
    """Names of the steps to run; an unknown name is a ConfigError listing the valid ones."""
    names = [s.name for s in ordered]
    skip, only = list(skip), list(only)
    unknown = [n for n in skip + only if n not in names]
    if unknown:
        raise ConfigError(
            f"unknown step {', '.join(f'`{n}`' for n in unknown)}; the steps are "
            + ", ".join(f"`{n}`" for n in names)
        )
    chosen = set(only) if only else set(names)
    return chosen - set(skip)


def run_command(argv: list[str], settings: Settings | None = None) -> int:
    """``deltastore <argv>`` in this process with ``settings`` (default: from the environment);
    returns its exit code, never raises."""
    from deltastore.workflows.cli import main  # the CLI imports this module's command; import late

    try:
        return main(argv, settings)
    except SystemExit as exc:  # argparse rejects arguments by exiting
        return exc.code if isinstance(exc.code, int) else EXIT_FAILED
    except DeltaStoreError as exc:
        return exc.exit_code
    except Exception:
        log.exception("`deltastore %s` crashed", " ".join(argv))
        return EXIT_BUG


def failed_exit_code(results: list[StepResult]) -> int:
    """The exit code of the failed step, 0 when every step that ran succeeded."""
    return next((r.exit_code or EXIT_FAILED for r in results if r.status == FAILED), 0)


def summary_table(results: list[StepResult]) -> str:
    header = ("step", "status", "seconds", "rows")
    rows = [header] + [
        (r.name, r.status if r.exit_code in (None, 0) else f"{r.status} ({r.exit_code})",
         f"{r.seconds:.1f}" if r.status in (OK, FAILED) else "-",
         f"{r.rows:,}" if r.rows is not None else "-")
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# --- rows per step ------------------------------------------------------------------------

def step_rows(settings: Settings, step: Step, since: dt.datetime) -> int | None:
    """Rows a finished step moved, read from the state it left; None when not applicable."""
    command = step.command[0] if step.command else ""
    try:
        if command == "extract":
            source = step.command[step.command.index("--source") + 1]
            return _extracted_rows(settings, since, source)
        if command == "sync":
            return sum(published_row_counts(settings.sync_target_url).values())
    except Exception as exc:  # rows are informative only; never fail a run over them
        log.debug("cannot count rows of step %s: %s", step.name, exc)
    return None


def schema_changes_found(settings: Settings, since: dt.datetime) -> str:
    """The summary's lines for the schema changes the extracts found this run ('' if none)."""
    try:
        found = found_since(settings.warehouse_url, since)
    except Exception as exc:  # informative only, like the rows
        log.debug("cannot read meta.schema_changes: %s", exc)
        return ""
    if not found:
        return ""
    return "schema changes found this run (meta.schema_changes):\n" + "\n".join(
        f"  {change.line()}" for _, change in reversed(found))


def _extracted_rows(settings: Settings, since: dt.datetime, source: str) -> int | None:
    # Not read-only: the other extract may still be writing in this process, and DuckDB
    # shares one open file only between connections of the same configuration.
    conn: Any = connect(settings.warehouse_url)
    try:
        row = conn.execute(
            "SELECT SUM(rows_read) FROM meta.load_state WHERE started_at >= ? AND source = ?",
            (since, source)).fetchone()
    finally:
        conn.close()
    return int(row[0]) if row and row[0] is not None else 0
