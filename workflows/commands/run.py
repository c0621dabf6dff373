"""`deltastore run` (the pipeline, locally) and `deltastore demo` (the same on demo data)."""

from __future__ import annotations

import argparse

from deltastore.workflows.cli import add_bool_flag, add_command, run_date_option, settings_for
from deltastore.workflows.pipeline import PIPELINE


def register(subparsers: argparse._SubParsersAction) -> None:
    names = ", ".join(s.name for s in PIPELINE if not s.opt_in)
    opt_in = ", ".join(s.name for s in PIPELINE if s.opt_in)
    run = add_command(
        subparsers, "run",
        f"Run the pipeline locally in dependency order, stopping at the first failure "
        f"(steps: {names}; {opt_in} only when --only names it).",
        "deltastore run --skip sync slo-report --run-date 2026-01-01",
    )
    run.add_argument("--skip", nargs="+", action="extend", default=[], metavar="STEP",
                     help="steps to leave out (reported as skipped)")
    run.add_argument("--only", nargs="+", action="extend", default=[], metavar="STEP",
                     help="run just these steps (their dependencies are assumed done)")
    add_bool_flag(run, "--full-refresh", "re-read every source and rebuild incremental models")
    add_bool_flag(run, "--verify-whole-tables",
                  "the build's tests of the incremental models read every row (see `deltastore "
                  "build`)")
    run.add_argument("--run-date", default="", metavar="YYYY-MM-DD",
                     help="the date dbt treats as today (default DELTASTORE_RUN_DATE or today)")
    run.set_defaults(handler=run_locally)

    demo = add_command(
        subparsers, "demo",
        "Run the whole pipeline on generated demo data (legacy DB + demo store API on "
        "loopback), then docs and dashboards; no configuration needed.",
        "deltastore demo --scale 0.1",
    )
    demo.add_argument("--scale", type=float, default=1.0,
                      help="demo data volume (1 = 10,000 legacy customers, 1,000 store users)")
    demo.add_argument("--seed", type=int, default=42, help="same seed, same data")
    add_bool_flag(demo, "--regenerate",
                  "rebuild the legacy DB at --scale even if it exists (then a full refresh)")
    demo.set_defaults(handler=run_demo_command)


def run_locally(args: argparse.Namespace) -> int:
    from deltastore.workflows.runner import failed_exit_code, run_pipeline

    results = run_pipeline(settings_for(args), skip=args.skip, only=args.only,
                           full_refresh=args.full_refresh, run_date=run_date_option(args.run_date),
                           verify_whole_tables=args.verify_whole_tables)
    return failed_exit_code(results)


def run_demo_command(args: argparse.Namespace) -> int:
    from deltastore.workflows.demo import run_demo

    run_demo(settings_for(args), scale=args.scale, seed=args.seed, regenerate=args.regenerate)
    return 0
