"""`deltastore dashboards` (static site from the KPI marts) and `deltastore export`."""

from __future__ import annotations

import argparse
from pathlib import Path

from deltastore.dashboards import render_dashboards
from deltastore.dashboards.export import FORMATS, export_marts
from deltastore.workflows.cli import add_command, settings_for


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers, "dashboards",
        "Render the three dashboards as a static offline site (index.html) from the KPI "
        "marts in the sync target; default output <data dir>/dashboards.",
        "deltastore dashboards --out ./site && xdg-open ./site/index.html",
    )
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="directory for the site (default: <data dir>/dashboards)")
    parser.set_defaults(handler=run_dashboards)

    parser = add_command(
        subparsers, "export",
        "Write every table of schema analytics in the sync target to CSV or Parquet files "
        "for BI tools; default output <data dir>/exports.",
        "deltastore export --format parquet --out ./exports",
    )
    parser.add_argument("--format", choices=FORMATS, default="csv",
                        help="file format (default: csv)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="directory for the files (default: <data dir>/exports)")
    parser.set_defaults(handler=run_export)


def run_dashboards(args: argparse.Namespace) -> int:
    index = render_dashboards(settings_for(args), args.out)
    print(index)
    return 0


def run_export(args: argparse.Namespace) -> int:
    counts = export_marts(settings_for(args), args.format, args.out)
    for table, rows in counts.items():
        print(f"{table}\t{rows}")
    return 0
