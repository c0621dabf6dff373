"""The `deltastore` command: a thin layer over the library.

Each sub-command lives in one module of ``workflows.commands`` that exposes
``register(subparsers)``; the handler it sets calls one library function that tests also
call directly. Errors become one line on stderr and the exit code of their class
(see ``deltastore.errors``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from deltastore.db import configure_duckdb
from deltastore.errors import (
    EXIT_BUG,
    EXIT_CONFIG,
    EXIT_INTERRUPTED,
    ConfigError,
    DeltaStoreError,
)
from deltastore.settings import Settings

# One module per command group; each registers its sub-commands.
COMMAND_MODULES = (
    "deltastore.workflows.commands.demo_sources",   # demo-store serve, demo-data legacy
    "deltastore.workflows.commands.extract",        # extract
    "deltastore.workflows.commands.dbt",            # build, freshness, slo, docs
    "deltastore.workflows.commands.sync",           # sync
    "deltastore.workflows.commands.doctor",         # doctor
    "deltastore.workflows.commands.run",            # run, demo
    "deltastore.workflows.commands.argo",           # workflows render|submit|status
    "deltastore.workflows.commands.dashboards",     # dashboards, export
)

EPILOG = """examples:
  deltastore demo                 run the whole pipeline on embedded demo data
  deltastore run --skip sync      run the pipeline against the configured sources
  deltastore <command> --help     help and an example for one command
"""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the line breaks of the examples in every command's help."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deltastore",
        description="DeltaStore e-commerce pipeline: extract, dbt build, sync, dashboards.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def add_command(subparsers: argparse._SubParsersAction, name: str, help: str,
                example: str) -> argparse.ArgumentParser:
    """Add a sub-command whose --help ends with an example."""
    return subparsers.add_parser(
        name, help=help, description=help, epilog=f"example:\n  {example}",
        formatter_class=HelpFormatter,
    )


def parse_bool(text: str) -> bool:
    """`--flag`, `--flag=true` and `--flag=false` all work, so Argo can pass a parameter."""
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("", "0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"`{text}` is not true or false")


def add_bool_flag(parser: argparse.ArgumentParser, flag: str, help: str) -> None:
    parser.add_argument(flag, nargs="?", const=True, default=False, type=parse_bool,
                        metavar="true|false", help=help)


def run_date_option(text: str) -> dt.date | None:
    """The value of a `--run-date` option; empty (as Argo passes it) means today."""
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"--run-date: `{text}` is not a date; write it as YYYY-MM-DD") from None


def settings_for(args: argparse.Namespace) -> Settings:
    """The settings a command runs with: those handed to ``main`` (the local runner hands
    each step its own), else read from the environment."""
    given = getattr(args, "settings", None)
    settings = given if given is not None else Settings.from_env()
    configure_duckdb(settings.duckdb_memory_limit, settings.duckdb_threads)
    return settings


# Loggers raised to DEBUG by `-v`; libraries (urllib3 logs request paths, which for a
# Slack-style webhook are the secret) stay at INFO.
OWN_LOGGERS = ("deltastore",)
log = logging.getLogger(__name__)


def configure_logging(verbose: bool) -> None:
    """INFO (or DELTASTORE_LOG_LEVEL) for everything; DEBUG only for the project's loggers."""
    wanted = "DEBUG" if verbose else os.environ.get("DELTASTORE_LOG_LEVEL", "INFO").upper()
    if wanted not in logging.getLevelNamesMapping():
        wanted = "INFO"
    root_level = "INFO" if wanted == "DEBUG" else wanted
    logging.basicConfig(level=root_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(wanted)


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.settings = settings
    configure_logging(args.verbose)
    try:
        result = args.handler(args)
    except DeltaStoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        # A bug, not an outage: exit 4 so Argo does not retry it (it retries only 1).
        log.exception("unexpected error")
        print(f"error: unexpected {type(exc).__name__} (a bug; the traceback is above); "
              "please report it", file=sys.stderr)
        return EXIT_BUG
    return int(result or 0)


def run() -> int:
    """The `deltastore` console script: ``main``, then a quick exit.

    A dbt step leaves hundreds of thousands of objects behind (parsed projects, results);
    the garbage collection Python runs while shutting down walks them all (0.6-0.7 s), just
    before the process's memory is freed anyway. Frozen objects are left out of it. Only
    here: a process that calls ``main`` and goes on (the tests) must keep collecting.
    """
    code = main()
    gc.freeze()
    return code


def usage_error(message: str) -> int:
    """For handlers that find a bad combination of arguments."""
    print(f"error: {message}", file=sys.stderr)
    return EXIT_CONFIG


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
