"""`deltastore doctor`: a read-only pre-flight of every configured endpoint.

One line per check, `ok` or the problem and the exact fix (a GRANT, an ALTER DATABASE, a
setting); exit 0 when every check passes, 2 otherwise. The checks live with their stage
(extract/preflight.py, transform/preflight.py, sync/preflight.py) and only read: catalog
views, permission functions, server properties, one page of each store API endpoint.
Nothing is created, written or granted, and no secret is printed.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from deltastore.errors import EXIT_CONFIG, EXIT_OK, DeltaStoreError, first_line
from deltastore.extract.preflight import check_legacy, check_store_api
from deltastore.mssql_errors import classify
from deltastore.preflight import Check, directory_check, passed
from deltastore.settings import Settings
from deltastore.sync.preflight import check_sync_target
from deltastore.transform.preflight import check_warehouse
from deltastore.workflows.cli import add_command, settings_for

# In the pipeline's order; each returns its endpoint's checks.
ENDPOINTS: tuple[tuple[str, Callable[[Settings], list[Check]]], ...] = (
    ("data directory", lambda s: [directory_check("data directory", s.data_dir)]),
    ("store API", check_store_api),
    ("legacy DB", check_legacy),
    ("warehouse", check_warehouse),
    ("sync target", check_sync_target),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers, "doctor",
        "Check every configured endpoint before a run, reading only: logins (and for a "
        "managed identity, whose token and how long it is valid), the legacy tables and "
        "their types, Change Tracking, grants, columnstore support, collations, the store "
        "API. One line per check with the fix; exit 0 when all pass, 2 otherwise.",
        "deltastore doctor          # before the first production run",
    )
    parser.set_defaults(handler=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    checks = doctor(settings_for(args))
    return EXIT_OK if passed(checks) else EXIT_CONFIG


def doctor(settings: Settings, echo: Callable[[str], object] = print) -> list[Check]:
    """Run every endpoint's checks, printing each line as it comes; returns them all."""
    checks: list[Check] = []
    for endpoint, check in ENDPOINTS:
        try:
            found = check(settings)
        except DeltaStoreError as exc:
            found = [Check(endpoint, "check", False, first_line(exc))]
        except Exception as exc:
            if type(exc).__module__ != "pyodbc":
                raise  # a bug: the CLI prints its traceback (exit 4)
            found = [Check(endpoint, "check", False,
                           first_line(classify(exc, f"checking the {endpoint}")))]
        for item in found:
            echo(item.line())
        checks += found
    failed = sum(not c.ok for c in checks)
    echo(f"doctor: {len(checks)} checks, " + (f"{failed} failed" if failed else "all ok"))
    return checks
