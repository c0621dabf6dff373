"""The `deltastore` command: a thin layer over the library.

Each sub-command lives in one module of ``workflows.commands`` that exposes
``register(subparsers)``; the handler it sets calls one library function that tests also
call directly. Errors become one line on stderr and the exit code of their class
(see ``deltastore.errors``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import importlib
import logging
import os
import select
import sys
from collections.abc import Sequence
from pathlib import Path

from deltastore.booleans import parse_bool
from deltastore.db import configure_duckdb
from deltastore.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_BUG,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    ConfigError,
    DeltaStoreError,
)
from deltastore.settings import Settings, log_level_from_env
from deltastore.workflows.signals import Terminated, stop_on_sigterm

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


def bool_option(text: str) -> bool:
    """`--flag`, `--flag=true` and `--flag=false` all work, so Argo can pass a parameter;
    empty (an Argo parameter left blank) means the default, false."""
    if not text.strip():
        return False
    try:
        return parse_bool(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"`{text}`: {exc}") from None


def add_bool_flag(parser: argparse.ArgumentParser, flag: str, help: str) -> None:
    parser.add_argument(flag, nargs="?", const=True, default=False, type=bool_option,
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


def configure_logging(verbose: bool, settings: Settings | None = None) -> None:
    """DELTASTORE_LOG_LEVEL (default INFO) for everything; ``-v``: DEBUG for the project's
    loggers only. An unknown level is a ConfigError naming the variable."""
    level = settings.log_level if settings is not None else log_level_from_env()
    wanted = "DEBUG" if verbose else level
    root_level = "INFO" if wanted == "DEBUG" else wanted
    logging.basicConfig(level=root_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(wanted)


# Where Kubernetes reads a container's termination message (the default
# terminationMessagePath; the kubelet creates the file, so it exists only in a pod). Argo
# appends it to the step's node message, "main: Error (exit code 3): <message>", which is
# what `lastRetry.message` and the exit handler's alert show.
TERMINATION_LOG = Path("/dev/termination-log")
TERMINATION_MESSAGE_BYTES = 4096   # the kubelet keeps no more


def report(message: str) -> None:
    """A failed command's last word: on stderr, and as the pod's termination message."""
    print(message, file=sys.stderr)
    if TERMINATION_LOG.exists():
        data = message.encode("utf-8")[:TERMINATION_MESSAGE_BYTES]
        with contextlib.suppress(OSError):
            TERMINATION_LOG.write_bytes(data)


def _stdout_reader_gone() -> bool:
    """Whether stdout is a pipe nobody reads any more (Linux reports POLLERR on its write
    end), rather than a socket elsewhere that broke."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(event & select.POLLERR for _, event in poller.poll(0))
    except (OSError, ValueError):  # no real stdout (closed, or replaced by a test)
        return False


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.settings = settings
    try:
        configure_logging(args.verbose, settings)
        with stop_on_sigterm():
            result = args.handler(args)
    except DeltaStoreError as exc:
        report(f"error: {exc}")
        return exc.exit_code
    except Terminated:
        report("terminated (SIGTERM): stopped before the end; a rerun is safe")
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        report("interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:
        if isinstance(exc, BrokenPipeError) and _stdout_reader_gone():
            # `deltastore … | head`: the reader has what it wanted. Stop as a command
            # killed by SIGPIPE would; stdout goes to /dev/null so that Python's flush at
            # exit does not fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_BROKEN_PIPE
        # A bug, not an outage: exit 4 so Argo does not retry it (it retries only 1).
        log.exception("unexpected error")
        report(f"error: unexpected {type(exc).__name__} (a bug; the traceback is above); "
               "please report it")
        return EXIT_BUG
    return int(result or 0)


def run() -> int:
    """The `deltastore` console script: ``main``, then a quick exit.

    A dbt step leaves hundreds of thousands of objects behind (parsed projects, results);
    the garbage collection Python runs while shutting down walks them all, just
    before the process's memory is freed anyway. Frozen objects are left out of it. Only
    here: a process that calls ``main`` and goes on (the tests) must keep collecting.
    """
    code = main()
    gc.freeze()
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
