"""One root exception; each error carries the exit code the CLI returns.

Exit codes are a contract with Argo's retry policy:
0 ok · 1 failed, may succeed on retry (source down, database error) ·
2 configuration or usage error (retrying won't help) · 3 data error (failed dbt test,
sync gate, volume guard, checksum mismatch, mart columns off their contract; retrying won't
help until the data changes) · 4 bug: an exception the code did not expect (the traceback
is logged; retrying would repeat it, so Argo does not) · 130 interrupted (Ctrl-C, SIGINT) ·
141 the reader of the output left (`| head`: SIGPIPE) ·
143 terminated (SIGTERM: Kubernetes stopped the pod for a drain, preemption or eviction).
The code comes from retryability alone: ``TransientError`` 1, ``ConfigError`` 2,
``DataError`` 3, whatever failed (a load, the sync, dbt) and whichever engine raised it
(``deltastore.mssql_errors`` and ``deltastore.duckdb_errors`` sort the drivers' errors).
Of these, Argo retries codes 1 and 143 (``workflows/argo/containers.py``, RETRY_EXPRESSION;
it also retries pods lost or evicted, and 137: a step killed before it could stop).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_DATA = 3
EXIT_BUG = 4
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what shells report when the reader left (`| head`)
EXIT_TERMINATED = 143  # 128 + SIGTERM, what Argo's emissary passes on when the step exits so


class DeltaStoreError(Exception):
    """Root of every error the pipeline raises on purpose."""

    exit_code = EXIT_FAILED


class TransientError(DeltaStoreError):
    """Something outside us failed (network, server, lock); a retry may succeed."""

    exit_code = EXIT_FAILED


class ConfigError(DeltaStoreError):
    """A setting or argument is wrong; say which and how to fix it. Never retried."""

    exit_code = EXIT_CONFIG


class DataError(DeltaStoreError):
    """The data itself is wrong (bad response shape, failed test, checksum mismatch)."""

    exit_code = EXIT_DATA


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (drivers add pages of context below it)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
