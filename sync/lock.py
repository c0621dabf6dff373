"""One sync per target at a time.

On SQL Server / Azure SQL the sync holds an exclusive application lock on the target
(``sp_getapplock``, owned by its session) from before it drops anything an earlier run left
until it is done; a second sync (a backfill during the daily run) waits for it a while,
then exits 1 and Argo tries again later. The lock goes with the session, so a sync that
is killed never leaves it held. A DuckDB target needs none: DuckDB lets one process at a
time open a file for writing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from deltastore.errors import TransientError
from deltastore.sql_names import literal
from deltastore.sync.statements import Dialect

RESOURCE = "deltastore_sync"
WAIT_MS = 60_000


def acquire_sql(resource: str = RESOURCE, wait_ms: int = WAIT_MS) -> str:
    """T-SQL returning sp_getapplock's result: 0 or 1 granted, negative not."""
    return ("SET NOCOUNT ON; DECLARE @result INT; "
            f"EXEC @result = sp_getapplock @Resource = {literal(resource, national=True)}, "
            "@LockMode = 'Exclusive', "
            f"@LockOwner = 'Session', @LockTimeout = {int(wait_ms)}; SELECT @result")


def release_sql(resource: str = RESOURCE) -> str:
    return (f"EXEC sp_releaseapplock @Resource = {literal(resource, national=True)}, "
            "@LockOwner = 'Session'")


# sp_getapplock's return codes below zero (Microsoft docs, sp_getapplock, Return code values).
REFUSED = {-1: "timed out", -2: "was cancelled", -3: "was chosen as a deadlock victim",
           -999: "failed (a parameter or call error)"}


@contextlib.contextmanager
def sync_lock(target: Any, dialect: Dialect, echo: Callable[[str], object]) -> Iterator[None]:
    """Hold the target's sync lock for the block (SQL Server only)."""
    if dialect != "mssql":
        yield
        return
    row = target.execute(acquire_sql()).fetchone()
    target.commit()
    code = int(row[0]) if row is not None else -999
    if code < 0:
        raise TransientError(
            f"another sync to this target holds its lock (`{RESOURCE}`; sp_getapplock "
            f"{REFUSED.get(code, f'returned {code}')} after {WAIT_MS / 1000:.0f} s): it is "
            "still running; this one ends here without touching anything and is retried")
    try:
        yield
    finally:
        with contextlib.suppress(Exception):  # the session's end releases it anyway
            target.execute(release_sql())
            target.commit()
