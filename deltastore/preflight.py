"""What ``deltastore doctor`` reports, and the pieces every stage's checks share.

A ``Check`` is one line of the report: an endpoint, what was checked, ``ok`` or the problem,
and the exact fix (a GRANT statement, an ALTER DATABASE, a setting). Each stage checks its
own endpoints (extract/preflight.py, transform/preflight.py, sync/preflight.py); the command
(workflows/commands/doctor.py) prints them. Nothing here writes: every statement is a
SELECT of catalog views, permission functions and server properties, which need no
permission beyond the login's own.

A ``Grant`` is one permission a login needs, as data: the GRANT statement of the documented
scripts (docs/sql-server/*.sql, which a test keeps equal to these lists) and the
``HAS_PERMS_BY_NAME`` that tells whether the connected login holds it, DENYs and role
memberships included (learn.microsoft.com/sql/t-sql/functions/has-perms-by-name-transact-sql).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from deltastore.dburl import AUTH_MSI, AUTH_SERVICE_PRINCIPAL, DatabaseURL
from deltastore.errors import DeltaStoreError, first_line
from deltastore.mssql_errors import driver_text, records
from deltastore.sql_names import literal, qualified, quote

SecurableClass = Literal["DATABASE", "SCHEMA", "OBJECT"]

KIND = "mssql"  # every check here reads SQL Server


@dataclass(frozen=True)
class Check:
    """One line of the pre-flight report."""

    endpoint: str   # "legacy DB", "warehouse", "sync target", "store API", "data directory"
    name: str       # what was checked: "login", "table old_store.orders", "grant …"
    ok: bool
    detail: str     # what was found, or what is wrong
    fix: str = ""   # the exact statement or setting that fixes it (empty when ok)

    def line(self) -> str:
        status = "ok  " if self.ok else "FAIL"
        text = f"{status} {self.endpoint}: {self.name}: {self.detail}"
        return text + (f"; fix: {self.fix}" if self.fix and not self.ok else "")


def passed(checks: Iterable[Check]) -> bool:
    return all(c.ok for c in checks)


@dataclass(frozen=True)
class Grant:
    """One permission a login needs on one securable of its database."""

    permission: str                  # "SELECT", "CONTROL", "CREATE TABLE", …
    securable_class: SecurableClass
    securable: str | None            # "analytics" (schema), "old_store.orders"; None: database
    reason: str                      # the statements that need it

    @property
    def target(self) -> str:
        """The ``ON …`` part of the GRANT ('' for a database permission)."""
        if self.securable is None:
            return ""
        if self.securable_class == "SCHEMA":
            return f" ON SCHEMA::{quote(KIND, self.securable)}"
        return " ON " + qualified(KIND, *self.securable.split(".", 1))

    def statement(self, principal: str) -> str:
        """The GRANT, exactly as the documented scripts write it."""
        return f"GRANT {self.permission}{self.target} TO {quote(KIND, principal)};"

    def holds_sql(self) -> str:
        """``HAS_PERMS_BY_NAME`` for the connected login: 1 held, 0 not, NULL no such
        securable (a missing schema or table)."""
        if self.securable is None:
            securable = "DB_NAME()"
        elif self.securable_class == "SCHEMA":
            securable = literal(self.securable, national=True)
        else:
            securable = literal(qualified(KIND, *self.securable.split(".", 1)), national=True)
        return (f"HAS_PERMS_BY_NAME({securable}, {literal(self.securable_class, national=True)}, "
                f"{literal(self.permission, national=True)})")

    def describe(self) -> str:
        where = f" on {self.securable_class.lower()} {self.securable}" if self.securable else ""
        return f"{self.permission}{where}"


def grants_sql(grants: Sequence[Grant]) -> str:
    """One query, one row: whether the login holds each grant, in order, and who it is."""
    return "SELECT USER_NAME(), " + ", ".join(g.holds_sql() for g in grants)


def grant_checks(endpoint: str, grants: Sequence[Grant], row: Sequence[Any],
                 missing_securable: Callable[[Grant, str], str] | None = None) -> list[Check]:
    """Checks from the row of ``grants_sql``: one line when every grant is held, else one
    per missing grant with the GRANT that fixes it (or, for a securable this login cannot
    find, what ``missing_securable(grant, principal)`` says: HAS_PERMS_BY_NAME gives NULL
    both for one that does not exist and for one the login may not see)."""
    principal = str(row[0])
    held = [g for g, value in zip(grants, row[1:], strict=True) if value == 1]
    if len(held) == len(grants):
        return [Check(endpoint, "grants", True,
                      f"{principal} holds all {len(grants)}: "
                      + ", ".join(g.describe() for g in grants))]
    checks = []
    for grant, value in zip(grants, row[1:], strict=True):
        if value == 1:
            continue
        name = f"grant {grant.describe()}"
        if value is None and missing_securable is not None:
            checks.append(Check(endpoint, name, False,
                                f"{principal} cannot find {grant.securable_class.lower()} "
                                f"`{grant.securable}`: it does not exist, or the login holds "
                                "nothing on it",
                                missing_securable(grant, principal)))
        else:
            checks.append(Check(endpoint, name, False, f"{principal} lacks it "
                                f"({grant.reason})", grant.statement(principal)))
    return checks


# --- who the login is ----------------------------------------------------------------------

# The connected login, its user in this database, the server and the database's collation;
# EngineEdition 5 is Azure SQL Database, 8 Azure SQL Managed Instance. SERVERPROPERTY and
# DATABASEPROPERTYEX return sql_variant, which pyodbc cannot read: each is cast.
WHOAMI_SQL = ("SELECT SUSER_SNAME(), USER_NAME(), DB_NAME(), "
              "CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)), "
              "CAST(SERVERPROPERTY('EngineEdition') AS int), "
              "CAST(DATABASEPROPERTYEX(DB_NAME(), 'Collation') AS nvarchar(128))")


@dataclass(frozen=True)
class Identity:
    login: str
    user: str
    database: str
    version: str
    engine_edition: int
    collation: str

    @property
    def product(self) -> str:
        kind = {5: "Azure SQL Database", 8: "Azure SQL Managed Instance"}.get(
            self.engine_edition, "SQL Server")
        return f"{kind} {self.version}"


def login_mode(url: DatabaseURL) -> str:
    return {AUTH_MSI: "managed identity", AUTH_SERVICE_PRINCIPAL: "service principal"}.get(
        url.authentication, "SQL login")


def token_detail(url: DatabaseURL, now: float | None = None) -> str:
    """For a managed identity: whose token the login uses and how long it stays valid."""
    from deltastore import entra

    token = entra.managed_identity_token(url.user)
    remaining = token.expires_on - (time.time() if now is None else now)
    until = dt.datetime.fromtimestamp(token.expires_on, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f"{entra.identity_name(url.user)} ({entra.token_subject(token.token)}), token "
            f"valid {max(0, int(remaining // 60))} more minutes (until {until})")


def connect_check(endpoint: str, url: DatabaseURL, open_connection: Callable[[], Any],
                  ) -> tuple[Check, Any, Identity | None]:
    """Log in: the login line, and the open connection with who it is (None on failure)."""
    try:
        connection = open_connection()
    except DeltaStoreError as exc:
        found = records(str(exc))
        detail = (f"cannot log in: {driver_text(found[0].text)}" if found
                  else first_line(exc))
        return Check(endpoint, "login", False, detail, _login_fix(url, exc)), None, None
    identity = None
    if url.kind == "mssql":
        cursor = connection.cursor()
        try:
            cursor.execute(WHOAMI_SQL)
            row = cursor.fetchone()
        finally:
            cursor.close()
        identity = Identity(str(row[0]), str(row[1]), str(row[2]), str(row[3]), int(row[4]),
                            str(row[5]))
        detail = (f"{identity.login} as user {identity.user} in {identity.database} "
                  f"({login_mode(url)}; {identity.product})")
        if url.authentication == AUTH_MSI:
            detail += f"; {token_detail(url)}"
        return Check(endpoint, "login", True, detail), connection, identity
    return Check(endpoint, "login", True, f"opened `{url}`"), connection, identity


def _login_fix(url: DatabaseURL, exc: DeltaStoreError) -> str:
    text = str(exc)
    if "Login timeout expired" in text or "TCP Provider" in text or "establish connection" in text:
        return (f"check that `{url.host}:{url.port or 1433}` is reachable from here (firewall, "
                "DNS, Azure SQL's allowed networks) and the URL's host and port")
    if "18456" in text:
        return ("check the login's name and password, or that the identity has a user in "
                f"`{url.database}` (docs/sql-server.md, Logins and grants)")
    if url.authentication == AUTH_MSI and "managed identity" in text:
        return ("run where the identity is assigned (AKS workload identity, or the node's or "
                "VM's identity), or use a SQL login or a service principal")
    return "see the message; docs/sql-server.md lists every setting"


def server_checks(endpoint: str, url: DatabaseURL, open_connection: Callable[[], Any],
                  body: Callable[[Any, Identity], list[Check]]) -> list[Check]:
    """A SQL Server endpoint's checks: the login, its collation, then ``body``'s on the
    open connection (closed afterwards); only the login line when it cannot log in."""
    login, connection, identity = connect_check(endpoint, url, open_connection)
    if connection is None or identity is None:
        return [login]
    try:
        return [login, collation_check(endpoint, identity), *body(connection, identity)]
    finally:
        connection.close()


def collation_check(endpoint: str, identity: Identity) -> Check:
    """The database collation (reported: the pipeline compares text in binary itself)."""
    sensitivity = "case-sensitive" if "_CS_" in identity.collation.upper() else \
        "case-insensitive"
    return Check(endpoint, "collation", True, f"{identity.collation} ({sensitivity})")


def query_row(connection: Any, sql: str) -> Any:
    cursor = connection.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchone()
    finally:
        cursor.close()


def query_rows(connection: Any, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    cursor = connection.cursor()
    try:
        if params:
            cursor.execute(sql, tuple(params))
        else:
            cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


# --- files -----------------------------------------------------------------------------

def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def directory_check(endpoint: str, path: Path) -> Check:
    """A directory the pipeline writes into: writable, or creatable where it is missing."""
    existing = _nearest_existing(path)
    if not os.access(existing, os.W_OK | os.X_OK):
        return Check(endpoint, "writable", False, f"`{existing}` is not writable by this user",
                     f"make `{existing}` writable, or set DELTASTORE_DATA_DIR elsewhere")
    state = "exists" if existing == path else f"will be created under `{existing}`"
    return Check(endpoint, "writable", True, f"`{path}` {state}")


def writable_file_check(endpoint: str, url: DatabaseURL) -> Check:
    """A DuckDB or SQLite file the pipeline writes: writable, or creatable."""
    assert url.path is not None
    if url.path.exists():
        ok = os.access(url.path, os.W_OK)
        return Check(endpoint, "file", ok, f"`{url.path}` exists"
                     + ("" if ok else " but is not writable by this user"),
                     "" if ok else f"make `{url.path}` writable")
    check = directory_check(endpoint, url.path.parent)
    if not check.ok:
        return Check(endpoint, "file", False, check.detail, check.fix)
    return Check(endpoint, "file", True, f"`{url.path}` is created on first use")
