"""Stand-ins at the two outer boundaries of a SQL Server login, for offline tests.

- ``OdbcRecorder.connect`` replaces ``pyodbc.connect``: it records the connection string and
  the keyword arguments (``attrs_before``, ``timeout``, ``autocommit``) exactly as the caller
  passed them, and returns a connection on which every statement succeeds with no rows
  (``select 1`` answers one row, for ``dbt debug``).
- ``FakeManagedIdentityCredential`` replaces ``azure.identity.ManagedIdentityCredential``:
  it records how it was built and hands out a fixed token, so no test reaches the instance
  metadata service (169.254.169.254) or Entra ID. ``loopback_only`` (tests/conftest.py)
  fails any test whose code opens a socket to anything but loopback.
"""

from __future__ import annotations

import base64
import json
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

# A token shaped as Entra issues them (header.claims.signature, base64url), with the claims a
# managed identity's Azure SQL token carries; the signature is not one.
IDENTITY_CLIENT_ID = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
IDENTITY_RESOURCE = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/"
                     "deltastore/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
                     "deltastore-pipeline")
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9." + base64.urlsafe_b64encode(json.dumps({
    "aud": "https://database.windows.net/", "appid": IDENTITY_CLIENT_ID,
    "oid": "9a8b7c6d-0000-4000-8000-123456789abc", "xms_mirid": IDENTITY_RESOURCE,
}).encode()).decode().rstrip("=") + ".c2lnbmF0dXJl"
TOKEN_EXPIRES_ON = int(time.time()) + 3600


def token_bytes(token: str = TOKEN) -> bytes:
    """SQL_COPT_SS_ACCESS_TOKEN as Microsoft documents it (written out here independently)."""
    utf16ish = b"".join(bytes((c, 0)) for c in token.encode())
    return struct.pack("<I", len(utf16ish)) + utf16ish


@dataclass
class Connect:
    connection_string: str
    kwargs: dict[str, Any]


@dataclass
class OdbcRecorder:
    calls: list[Connect] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    # (sql, params, input sizes set on the cursor at that moment) of each execute
    executed: list[tuple[str, tuple[Any, ...], Any]] = field(default_factory=list)
    # rows answered to statements containing the key
    answers: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    converters: dict[int, Any] = field(default_factory=dict)
    # errors raised by statements containing the key (the driver's exact form, built with
    # ``pyodbc_error``)
    failures: dict[str, BaseException] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def connect(self, connection_string: str, **kwargs: Any) -> RecordedConnection:
        with self.lock:
            self.calls.append(Connect(connection_string, kwargs))
        return RecordedConnection(self)

    @property
    def connection_strings(self) -> list[str]:
        return [c.connection_string for c in self.calls]

    def record(self, sql: str, params: tuple[Any, ...], inputsizes: Any) -> None:
        with self.lock:
            self.statements.append(sql)
            self.executed.append((sql, params, inputsizes))

    def answer(self, sql: str) -> list[tuple[Any, ...]] | None:
        """Rows for a query (None: a statement without a result set); raises the failure
        scripted for it."""
        for key, error in self.failures.items():
            if key in sql:
                raise error
        if sql.strip().lower().startswith("select 1"):
            return [(1,)]
        found = None
        for key, rows in self.answers.items():
            if key in sql:
                found = list(rows)
        return found


class RecordedCursor:
    rowcount = -1
    messages: list[Any] = []
    fast_executemany = False

    def __init__(self, recorder: OdbcRecorder) -> None:
        self.recorder = recorder
        self.description: list[tuple[Any, ...]] | None = None
        self.rows: list[tuple[Any, ...]] = []
        self.inputsizes: Any = None

    def setinputsizes(self, sizes: Any) -> None:
        self.inputsizes = sizes

    def execute(self, sql: str, *params: Any) -> RecordedCursor:
        if len(params) == 1 and isinstance(params[0], (tuple, list)):
            params = tuple(params[0])
        self.recorder.record(sql, params, self.inputsizes)
        rows = self.recorder.answer(sql)
        self.description = None if rows is None else [
            (f"c{i}", object, None, None, None, None, True) for i in range(len(rows[0]) if rows
                                                                         else 1)]
        self.rows = rows or []
        return self

    def executemany(self, sql: str, rows: Any) -> None:
        self.recorder.record(sql, (len(list(rows)),), self.inputsizes)

    def fetchall(self) -> list[Any]:
        rows, self.rows = self.rows, []
        return rows

    def fetchmany(self, size: int = 1) -> list[Any]:
        rows, self.rows = self.rows[:size], self.rows[size:]
        return rows

    def fetchone(self) -> Any:
        return self.rows.pop(0) if self.rows else None

    def nextset(self) -> bool:
        return False

    def close(self) -> None:
        pass


class RecordedConnection:
    autocommit = True
    timeout = 0

    def __init__(self, recorder: OdbcRecorder) -> None:
        self.recorder = recorder

    def cursor(self) -> RecordedCursor:
        return RecordedCursor(self.recorder)

    def execute(self, sql: str, *params: Any) -> RecordedCursor:
        return self.cursor().execute(sql, *params)

    def add_output_converter(self, sqltype: int, func: Any) -> None:
        self.recorder.converters[sqltype] = func

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass


class FakeManagedIdentityCredential:
    """Built like the real one (keyword-only ``client_id``); every instance is recorded.
    Tokens are azure-core's own objects: ``AccessToken`` from ``get_token``,
    ``AccessTokenInfo`` from ``get_token_info``."""

    built: list[dict[str, Any]] = []
    scopes: list[tuple[str, ...]] = []
    expires_on: int | None = None  # None: TOKEN_EXPIRES_ON

    def __init__(self, *, client_id: str | None = None, **kwargs: Any) -> None:
        FakeManagedIdentityCredential.built.append({"client_id": client_id, **kwargs})

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        FakeManagedIdentityCredential.scopes.append(scopes)
        return AccessToken(TOKEN, self.expires_on or TOKEN_EXPIRES_ON)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        FakeManagedIdentityCredential.scopes.append(scopes)
        return AccessTokenInfo(TOKEN, self.expires_on or TOKEN_EXPIRES_ON,
                               refresh_on=(self.expires_on or TOKEN_EXPIRES_ON) - 1800)

    @classmethod
    def reset(cls) -> None:
        cls.built, cls.scopes, cls.expires_on = [], [], None


class FakeDefaultAzureCredential:
    """Stands in for ``azure.identity.DefaultAzureCredential``, which dbt-sqlserver's `auto`
    mode builds with no arguments for every token it fetches (sqlserver_auth.py
    ``get_auto_access_token``: ``DefaultAzureCredential().get_token(scope, timeout=…)``).
    Records the environment variables that steer the real one at the moment it is built,
    and the keyword arguments of each ``get_token``; tokens live ``lifetime`` seconds."""

    built: list[dict[str, str | None]] = []
    requests: list[dict[str, Any]] = []
    lifetime = 3600
    STEERING = ("AZURE_TOKEN_CREDENTIALS", "AZURE_CLIENT_ID")

    def __init__(self, **kwargs: Any) -> None:
        import os

        assert not kwargs, kwargs
        FakeDefaultAzureCredential.built.append(
            {name: os.environ.get(name) for name in self.STEERING})

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        FakeDefaultAzureCredential.requests.append({"scopes": scopes, **kwargs})
        number = len(FakeDefaultAzureCredential.requests)
        return AccessToken(f"{TOKEN}.{number}", int(time.time()) + self.lifetime)

    @classmethod
    def reset(cls) -> None:
        cls.built, cls.requests, cls.lifetime = [], [], 3600


def pyodbc_error(cls_name: str, state: str, text: str, number: int,
                 function: str = "SQLExecDirectW") -> BaseException:
    """A driver error as pyodbc raises it on Linux (src/errors.cpp, GetErrorFromHandle: the
    first diagnostic record only): ``cls(state, "[state] text (number) (function)")``."""
    import pyodbc

    cls = getattr(pyodbc, cls_name)
    return cls(state, f"[{state}] [Microsoft][ODBC Driver 18 for SQL Server][SQL Server]"
                      f"{text} ({number}) ({function})")


def parse_connection_string(text: str) -> dict[str, str]:
    """ODBC ``key=value;`` pairs, values in braces unquoted (``}}`` is one ``}``), as a
    driver reads them; a value the driver would misread fails here."""
    pairs: dict[str, str] = {}
    i = 0
    while i < len(text):
        key_end = text.index("=", i)
        key = text[i:key_end]
        i = key_end + 1
        if text.startswith("{", i):
            value, i = [], i + 1
            while True:
                close = text.index("}", i)
                value.append(text[i:close])
                if text.startswith("}}", close):
                    value.append("}")
                    i = close + 2
                    continue
                i = close + 1
                break
            pairs[key] = "".join(value)
        else:
            end = text.find(";", i)
            end = len(text) if end < 0 else end
            pairs[key], i = text[i:end], end
        assert i == len(text) or text[i] == ";", f"junk after `{key}` at {i} in a value"
        i += 1
    return pairs


@dataclass
class DriverCall:
    connection_string: str
    kwargs: dict[str, Any]
    error: BaseException


@dataclass
class RealDriver:
    """The real ``pyodbc.connect`` with Microsoft's Driver 18, watched: every call that
    raised is kept with the exact error pyodbc built from the driver's diagnostics."""

    path: Any
    real_connect: Any
    calls: list[DriverCall] = field(default_factory=list)

    def connect(self, connection_string: str, **kwargs: Any) -> Any:
        try:
            return self.real_connect(connection_string, **kwargs)
        except Exception as exc:
            self.calls.append(DriverCall(connection_string, kwargs, exc))
            raise
