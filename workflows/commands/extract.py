"""`deltastore extract`: load the store API and/or the legacy DB into the warehouse."""

from __future__ import annotations

import argparse
import sys

from deltastore.extract.load import SOURCES, format_summary, run_extract
from deltastore.metrics import ROWS_LOADED, write_metric
from deltastore.workflows.cli import add_bool_flag, add_command, settings_for


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers, "extract",
        "Extract the store API and/or the legacy DB into the warehouse's raw tables "
        "(idempotent; legacy tables with `updated_at` load incrementally).",
        "deltastore extract --source legacy-db --full-refresh",
    )
    parser.add_argument("--source", choices=SOURCES, default="all",
                        help="which source to extract (default: all)")
    parser.add_argument("--table", action="append", default=[], metavar="NAME",
                        help="only this legacy table (repeatable; needs --source legacy-db)")
    add_bool_flag(parser, "--full-refresh",
                  "ignore saved watermarks and re-read every legacy table in full")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    results = run_extract(settings, args.source, args.full_refresh,
                          progress=lambda message: print(message, file=sys.stderr, flush=True),
                          tables=args.table)
    print(format_summary(results))
    write_metric(settings, ROWS_LOADED, sum(r.inserted + r.updated + r.deleted for r in results))
    return 0
