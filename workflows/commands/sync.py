"""`deltastore sync`: publish the marts to the sync target (Azure SQL in production)."""

from __future__ import annotations

import argparse
from pathlib import Path

from deltastore.sync import sync_marts
from deltastore.workflows.cli import add_bool_flag, add_command, settings_for


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers, "sync",
        "Publish the marts (the tables of warehouse schema `analytics` that the dbt project "
        "builds) to the sync target: only what changed since the last publish, verified by "
        "row count and checksum, all at once (or not at all).",
        "deltastore sync            # refuses when the last dbt build had failures",
    )
    add_bool_flag(parser, "--force", "sync even when a dbt node feeding the marts failed or "
                  "was never built, or a mart lost more rows than DELTASTORE_SYNC_MAX_DROP allows")
    add_bool_flag(parser, "--full-refresh", "publish every mart whole (shadow and swap), "
                  "whatever the warehouse recorded of the last publish")
    parser.add_argument("--run-results", type=Path, default=None, metavar="PATH",
                        help="dbt run_results.json to gate on (default: the last build "
                             "`deltastore build` recorded in the warehouse)")
    parser.set_defaults(handler=run_sync)


def run_sync(args: argparse.Namespace) -> int:
    sync_marts(settings_for(args), force=args.force, run_results_path=args.run_results,
               full=args.full_refresh)
    return 0
