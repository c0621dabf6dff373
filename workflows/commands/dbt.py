"""dbt sub-commands: build, freshness, slo, docs (see transform/runner.py)."""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path
from typing import Any

from deltastore.errors import ConfigError, DataError
from deltastore.metrics import FAILED_TESTS, write_metric
from deltastore.settings import Settings
from deltastore.transform.build_log import read_manifest, record_build_file
from deltastore.transform.changed import (
    ChangedPlan,
    WarehouseState,
    changed_plan,
    current_inputs,
    read_state,
)
from deltastore.transform.docs import generate_docs
from deltastore.transform.lineage import orphan_relations
from deltastore.transform.retry import RetryPlan, parse_since, retry_plan
from deltastore.transform.runner import (
    dbt_run_date,
    parse_vars,
    project_fingerprint,
    run_dbt,
    target_dir,
)
from deltastore.transform.slo import DEFAULT_MAX_SECONDS, slo_report
from deltastore.transform.verification import verification_hash
from deltastore.workflows.cli import add_bool_flag, add_command, run_date_option, settings_for


def register(subparsers: argparse._SubParsersAction) -> None:
    build = add_command(
        subparsers, "build", "Run `dbt build` (models, seeds, snapshots, tests) in-process.",
        "deltastore build --select 'path:models/marts' --run-date 2024-06-30\n"
        "  deltastore build --retry-failed   # after a failed build: only what failed\n"
        "  deltastore build --changed-only   # the daily build: only what new loads change",
    )
    _add_selection(build)
    add_bool_flag(build, "--full-refresh", "rebuild incremental models from scratch")
    add_bool_flag(build, "--verify-whole-tables",
                  "the data tests of the incremental models read every row, not only the "
                  "rows written since their tests last passed, and with --changed-only run "
                  "even when their models did not change (a weekly check, say)")
    add_bool_flag(build, "--retry-failed",
                  "build only the nodes that errored, failed or were skipped in the last "
                  "build recorded in the warehouse, and what depends on them (within "
                  "--select); everything when that build is not of this project and run "
                  "date, or none is recorded")
    add_bool_flag(build, "--changed-only",
                  "build only the nodes whose inputs changed since their last recorded "
                  "build (raw tables loaded with changes, project files, target and vars, "
                  "the run date for nodes that read it, a missing table), and what reads "
                  "them (within --select); --full-refresh and a retry build as they say")
    build.add_argument("--attempt", type=int, default=0, metavar="N",
                       help="Argo's attempt number ({{retries}}): from 1 on, as "
                            "--retry-failed (default 0)")
    build.add_argument("--retry-since", default="", metavar="TIME",
                       help="with a retry: only a build recorded at or after TIME counts "
                            "(Argo passes the run's creation time)")
    build.add_argument("--vars", default="", metavar="JSON",
                       help="extra dbt vars as a JSON object (on_time_days is set; a run_date var "
                            "overrides --run-date)")
    _add_run_options(build)
    build.set_defaults(handler=_build)

    freshness = add_command(
        subparsers, "freshness", "Run `dbt source freshness`; exit 3 when a source is too old.",
        "deltastore freshness --select 'source:new_store'",
    )
    freshness.add_argument("--select", default="", help="dbt selector; empty means all sources")
    _add_run_options(freshness)
    freshness.set_defaults(handler=_freshness)

    slo = add_command(
        subparsers, "slo", "Report dbt nodes slower than a limit (the latest run of each node).",
        "deltastore slo --max-seconds 120 --fail",
    )
    slo.add_argument("--max-seconds", type=float, default=DEFAULT_MAX_SECONDS,
                     help=f"limit per node in seconds (default {DEFAULT_MAX_SECONDS:g})")
    add_bool_flag(slo, "--fail", "exit 3 when a node breaches the limit (default: report only)")
    slo.add_argument("--run-results", type=Path, default=None,
                     help="run_results.json to read (default: the last build recorded in "
                          "the warehouse)")
    slo.set_defaults(handler=_slo)

    docs = add_command(
        subparsers, "docs", "Write the dbt docs site (one HTML file) and the marts' ER diagram.",
        "deltastore docs --out ./site",
    )
    docs.add_argument("--out", type=Path, default=None,
                      help="output folder (default: DELTASTORE_DATA_DIR/dbt/docs)")
    _add_run_options(docs)
    docs.set_defaults(handler=_docs)


def _add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--select", default="",
                        help="dbt selector(s), space-separated; empty means everything")
    parser.add_argument("--exclude", default="", help="dbt selector(s) to leave out")


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-date", default="", metavar="YYYY-MM-DD",
                        help="the date that stands in for today (default DELTASTORE_RUN_DATE)")
    parser.add_argument("--target", default="",
                        help="dbt target in dbt/profiles.yml (default DELTASTORE_DBT_TARGET)")


def _build(args: argparse.Namespace) -> int:
    extra = parse_vars(args.vars)
    settings = settings_for(args)
    run_date = run_date_option(args.run_date)
    select = args.select
    target = args.target or None
    retrying = args.retry_failed or args.attempt > 0
    # What this build is built from, read before dbt starts: a load committed while it runs
    # is then seen as a change by the next --changed-only build.
    state = read_state(settings)
    inputs = current_inputs(settings, state, target=target, extra_vars=extra)
    # The incremental models' tests read whole tables when asked, or when it is time again.
    whole = args.verify_whole_tables or (
        args.changed_only and _whole_tables_due(settings, state))
    plan: RetryPlan | ChangedPlan | None = None
    if retrying:
        plan = retry_plan(settings, run_date=run_date, extra_vars=extra, target=target,
                          since=parse_since(args.retry_since))
        print(f"retry: {plan.reason}")
    if args.changed_only and not args.full_refresh and (plan is None or plan.selectors is None):
        # A retry that cannot trust the record (an attempt killed before it recorded its
        # build) still builds only what changed.
        plan = changed_plan(settings, state, inputs, run_date=run_date, extra_vars=extra,
                            target=target, whole_tables=whole)
        print(f"changed-only: {plan.reason}")
    narrowed = ""  # the plan that narrowed --select, if any
    exclude, dbt_extra = args.exclude, []
    if plan is not None:
        narrowed = "changed-only" if isinstance(plan, ChangedPlan) else "retry"
        if plan.selectors == ():
            write_metric(settings, FAILED_TESTS, 0)
            return 0
        select = plan.selection(args.select)
        if isinstance(plan, ChangedPlan) and plan.selectors is not None:
            exclude = " ".join([args.exclude, *plan.excluded])
            if not args.select.split():
                # Every node to build is listed, tests too: dbt adds nothing. (Within a
                # --select dbt adds the tests on what it selects, as it always does.)
                dbt_extra = ["--indirect-selection", "empty"]
    started = time.time()
    run = run_dbt(settings, "build", select=select, exclude=exclude,
                  full_refresh=args.full_refresh, run_date=run_date,
                  extra_vars=extra, target=target, args=dbt_extra,
                  verify_whole_tables=whole)
    if run.success and not run.nodes:
        if narrowed and select != args.select:
            verb = "build" if narrowed == "changed-only" else "retry"
            print(f"{narrowed}: no node to {verb} lies within --select; nothing to build")
            write_metric(settings, FAILED_TESTS, 0)
            return 0
        # A typo in --select would otherwise "pass" with 0 nodes and open the sync gate.
        raise ConfigError(f"--select `{args.select}` --exclude `{args.exclude}` matches no "
                          "dbt node, so nothing was built or recorded; check the names "
                          "(dbt node selection syntax: `fct_reviews+`, `path:models/marts`)")
    # Written before raise_for_status so a failed build still reports its failed tests.
    write_metric(settings, FAILED_TESTS, len(run.failed_tests()))
    try:
        # The sync gate, the SLO report and a retry (other pods on Kubernetes) read the
        # build from the warehouse. dbt-duckdb has released the file by now
        # (transform/runner.py, _release_duckdb).
        fingerprint = project_fingerprint(settings.dbt_project_dir)
        recorded = record_build_file(settings, target_dir(settings) / "run_results.json",
                                     not_before=started, project_hash=fingerprint,
                                     run_date=dbt_run_date(settings, run_date, extra),
                                     inputs=inputs.to_json(),
                                     tests_hash=verification_hash(fingerprint, extra),
                                     tested_whole=whole)
        if recorded:
            print(f"recorded dbt build `{recorded.invocation_id}` in `{settings.warehouse_url}`")
            # As the warehouse spells them: a case-sensitive database drops only that name.
            _name_orphans(read_manifest(target_dir(settings) / "manifest.json", started),
                          state.named)
    finally:
        # A failed build's own error wins over a failure to record it.
        run.raise_for_status()
    return 0


def _whole_tables_due(settings: Settings, state: WarehouseState) -> bool:
    """Whether the incremental models' tests last read whole tables too long ago
    (DELTASTORE_VERIFY_WHOLE_TABLES_DAYS); says so when they did."""
    days, last = settings.verify_whole_tables_days, state.tested_whole_at
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if not days or last is None or now - last < dt.timedelta(days=days):
        return False
    print(f"build: the incremental models' tests last read whole tables on "
          f"{last:%Y-%m-%d %H:%M} UTC, {(now - last).days} days ago: this build's tests read "
          f"them whole (DELTASTORE_VERIFY_WHOLE_TABLES_DAYS={days})")
    return True


def _name_orphans(manifest: dict[str, Any] | None, relations: set[tuple[str, str]]) -> None:
    """Say which tables and views of the project's schemas no node builds any more."""
    for schema, name in orphan_relations(manifest, relations) if manifest else []:
        print(f"build: `{schema}.{name}` is built by no node of the dbt project (a model, "
              "seed or snapshot removed or renamed?); dbt never drops it: drop it once "
              "nothing outside the project reads it")


def _freshness(args: argparse.Namespace) -> int:
    run = run_dbt(settings_for(args), "source freshness", select=args.select,
                  run_date=run_date_option(args.run_date), target=args.target or None)
    run.raise_for_status()
    return 0


def _slo(args: argparse.Namespace) -> int:
    report = slo_report(settings_for(args), args.max_seconds, args.run_results)
    for line in report.lines():
        print(line)
    if report.slow and args.fail:
        raise DataError(f"{len(report.slow)} dbt node(s) took longer than "
                        f"{args.max_seconds:g}s; see the report above")
    return 0


def _docs(args: argparse.Namespace) -> int:
    generate_docs(settings_for(args), args.out, target=args.target or None,
                  run_date=run_date_option(args.run_date))
    return 0
