"""`deltastore demo`: the whole pipeline on embedded demo data, with one command, offline.

1. The legacy database is generated at ``--scale`` into ``DELTASTORE_LEGACY_DB_URL`` (a
   SQLite file under the data directory by default) unless it already exists. The scale
   and seed it was generated with are kept next to it (``<file>.demo.json``); an existing
   database generated differently is kept and reported (``--regenerate`` rebuilds it and
   runs the pipeline with ``--full-refresh``), so a demo never silently discards data.
2. The demo store API starts on a free loopback port in a background thread, and the store
   API URL points at it for this run only.
3. ``run_pipeline`` runs every step with the run date fixed to the day after the demo
   timeline ends (2026-01-01), unless ``DELTASTORE_RUN_DATE`` is set, so customer segments
   and "last 6 months" figures stay meaningful whatever today's date is.
4. ``deltastore docs`` and ``deltastore dashboards`` run when those commands exist.
A second demo extracts incrementally and republishes identical marts.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from deltastore.dburl import DatabaseURL
from deltastore.errors import ConfigError, DataError, DeltaStoreError, TransientError
from deltastore.extract.demo import DEMO_END_DATE, GENERATOR_VERSION
from deltastore.settings import Settings
from deltastore.sync import published_row_counts
from deltastore.workflows.runner import FAILED, StepResult, run_command, run_pipeline

DEMO_RUN_DATE = DEMO_END_DATE + dt.timedelta(days=1)
# Commands run after the pipeline when another part of the project provides them.
EXTRA_COMMANDS = ("docs", "dashboards")


@dataclass
class DemoResult:
    steps: list[StepResult]
    marts: dict[str, int]                  # rows per table published in the sync target
    outputs: dict[str, Path] = field(default_factory=dict)  # what -> where
    seconds: float = 0.0


def run_demo(settings: Settings, scale: float = 1.0, seed: int = 42, regenerate: bool = False,
             echo: Callable[[str], object] = print) -> DemoResult:
    """Generate what is missing, run the pipeline against the demo store, report results."""
    from deltastore.extract.demo import check_scale
    from deltastore.extract.demo.store_server import DemoStore

    started = time.perf_counter()
    check_scale(scale)
    run_date = settings.run_date or DEMO_RUN_DATE
    regenerated = prepare_legacy_db(settings, scale, seed, regenerate, echo)
    with DemoStore(port=0, scale=scale, seed=seed) as store:
        echo(f"demo store API serving on {store.url} (scale {scale:g}, seed {seed})")
        # Every dbt call (freshness and docs too) sees the same run date, so dbt's vars
        # stay equal and it reuses its parse of the project between calls.
        run_settings = dataclasses.replace(settings, store_api_url=store.url, run_date=run_date)
        steps = run_pipeline(run_settings, full_refresh=regenerated, run_date=run_date,
                             echo=echo)
    _raise_for_failure(steps)
    for command in available(EXTRA_COMMANDS):
        echo(f"demo: deltastore {command}")
        step_started = time.perf_counter()
        code = run_command([command], run_settings)
        steps.append(StepResult(command, "ok" if code == 0 else FAILED,
                                time.perf_counter() - step_started, None, code))
        _raise_for_failure(steps)
    result = DemoResult(steps, published_row_counts(settings.sync_target_url),
                        _outputs(settings), time.perf_counter() - started)
    echo(report(result, run_date))
    return result


def prepare_legacy_db(settings: Settings, scale: float, seed: int, regenerate: bool,
                      echo: Callable[[str], object]) -> bool:
    """Create the legacy DB if absent (or asked to); True when it was (re)generated."""
    url = settings.legacy_db_url
    if url.path is None:
        raise ConfigError(
            f"DELTASTORE_LEGACY_DB_URL is `{url}`: the demo generates its legacy database "
            "into a file; unset the variable or use `sqlite:///abs/path/legacy.db`"
        )
    marker = marker_path(url.path)
    wanted = {"scale": scale, "seed": seed, "generator": GENERATOR_VERSION}
    if url.path.exists() and not regenerate:
        made = _read_marker(marker)
        if made is None:
            echo(f"legacy DB `{url.path}` exists (not made by the demo): keeping it")
        elif made.get("scale") != scale or made.get("seed") != seed:
            echo(f"legacy DB `{url.path}` was generated at scale {made.get('scale')} seed "
                 f"{made.get('seed')}, not scale {scale:g} seed {seed}: keeping it "
                 "(pass --regenerate to rebuild it)")
        elif made != wanted:
            echo(f"legacy DB `{url.path}` was made by an earlier demo generator "
                 f"(version {made.get('generator', 1)}, now {GENERATOR_VERSION}): keeping it "
                 "(pass --regenerate to rebuild it with this version's data)")
        else:
            echo(f"legacy DB `{url.path}` exists (scale {scale:g}, seed {seed})")
        return False
    echo(f"generating the legacy DB at scale {scale:g} (seed {seed}) into `{url.path}`")
    begun = time.perf_counter()
    counts = generate_legacy(url, scale, seed)
    echo(f"legacy DB: {sum(counts.values()):,} rows in {time.perf_counter() - begun:.1f} s")
    return True


def marker_path(legacy_db: Path) -> Path:
    """Written after the demo legacy DB is complete: its existence means "ready"."""
    return legacy_db.with_name(legacy_db.name + ".demo.json")


def generate_legacy(url: DatabaseURL, scale: float, seed: int) -> dict[str, int]:
    """Generate the legacy DB; for a file, the marker goes first and comes back last, so a
    run waiting for it (``wait_for_legacy_db``) never reads a half-written database."""
    from deltastore.extract.demo.legacy_data import generate_legacy_db

    marker = marker_path(url.path) if url.path is not None else None
    if marker is not None:
        marker.unlink(missing_ok=True)
    counts = generate_legacy_db(url, scale=scale, seed=seed)
    if marker is not None:
        marker.write_text(json.dumps({"scale": scale, "seed": seed,
                                      "generator": GENERATOR_VERSION}))
    return counts


def wait_for_legacy_db(settings: Settings, timeout: float, poll_seconds: float = 5.0,
                       echo: Callable[[str], object] = print,
                       clock: Callable[[], float] = time.monotonic,
                       sleep: Callable[[float], None] = time.sleep) -> None:
    """Return once the demo legacy DB is complete; TransientError (exit 1) after ``timeout``.

    On the cluster the chart's demo-data Job writes it; the demo workflow's first step waits
    here, so neither a scheduled nor a submitted run can start on missing data.
    """
    path = settings.legacy_db_url.path
    if path is None:
        raise ConfigError(f"DELTASTORE_LEGACY_DB_URL is `{settings.legacy_db_url}`: only a "
                          "demo legacy DB file can be waited for")
    deadline = clock() + timeout
    while not marker_path(path).exists():
        if clock() >= deadline:
            raise TransientError(f"the demo legacy DB `{path}` is not ready after "
                                 f"{timeout:g} s: check the demo-data Job "
                                 "(`kubectl logs job/<release>-demo-data-…`)")
        sleep(poll_seconds)
    echo(f"demo legacy DB `{path}` is ready")


def available(commands: tuple[str, ...]) -> list[str]:
    """Those of ``commands`` the ``deltastore`` CLI has."""
    from deltastore.workflows.cli import build_parser

    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return [c for c in commands if c in action.choices]
    return []


def report(result: DemoResult, run_date: dt.date) -> str:
    lines = [f"demo finished in {result.seconds:.1f} s (run date {run_date})"]
    lines += [f"  {what + ':':<13} {where}" for what, where in result.outputs.items()]
    lines.append("  marts in the sync target (rows):")
    width = max((len(name) for name in result.marts), default=0)
    lines += [f"    {name:<{width}}  {rows:>10,}" for name, rows in result.marts.items()]
    return "\n".join(lines)


def _outputs(settings: Settings) -> dict[str, Path]:
    found = {"warehouse": settings.warehouse_url.path,
             "sync target": settings.sync_target_url.path,
             "dbt docs": settings.data_dir / "dbt" / "docs" / "index.html",
             "dashboards": settings.data_dir / "dashboards" / "index.html"}
    return {what: path for what, path in found.items() if path is not None and path.exists()}


def _read_marker(marker: Path) -> dict[str, object] | None:
    try:
        data = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _raise_for_failure(steps: list[StepResult]) -> None:
    failed = next((s for s in steps if s.status == FAILED), None)
    if failed is None:
        return
    error: type[DeltaStoreError] = {2: ConfigError, 3: DataError}.get(
        failed.exit_code or 1, TransientError)
    raise error(f"demo stopped: step `{failed.name}` failed (exit code {failed.exit_code}); "
                "see its output above")
