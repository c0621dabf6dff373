"""Database URLs: one string per database, parsed once, never printed with its password.

Forms:
- ``duckdb:///absolute/path.duckdb`` (DuckDB file, created on first use)
- ``sqlite:///absolute/path.db`` (SQLite file; the demo legacy database)
- ``mssql://[user@]host[:port]/database?driver=…&encrypt=yes&trust_server_certificate=no
  &authentication=ActiveDirectoryMsi&login_timeout=30`` (SQL Server or Azure SQL via ODBC).
  The password comes from the environment variable named by the caller (for example
  ``DELTASTORE_WAREHOUSE_PASSWORD``), never from a ConfigMap; ``user:password@`` in the URL
  also works but is discouraged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from deltastore.errors import ConfigError

Kind = Literal["duckdb", "sqlite", "mssql"]

DEFAULT_ODBC_DRIVER = "ODBC Driver 18 for SQL Server"
# URL query keys we understand for mssql, mapped to ODBC connection-string keywords.
_MSSQL_OPTIONS = {
    "driver": "Driver",
    "encrypt": "Encrypt",
    "trust_server_certificate": "TrustServerCertificate",
    "authentication": "Authentication",
    "login_timeout": "Connection Timeout",
    "application_intent": "ApplicationIntent",
}
_AUTH_WITHOUT_PASSWORD = {
    "ActiveDirectoryMsi", "ActiveDirectoryIntegrated", "ActiveDirectoryDefault",
}


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed database URL. ``str()`` and ``repr()`` never show the password."""

    kind: Kind
    path: Path | None = None
    host: str | None = None
    port: int | None = None
    database: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False, compare=False)
    options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str, variable: str = "database URL") -> DatabaseURL:
        """Parse ``text``; a bad URL raises ConfigError naming ``variable`` and the fix."""
        text = text.strip()
        scheme, sep, rest = text.partition("://")
        if not sep:
            raise ConfigError(
                f"{variable}: `{_redact(text)}` is not a URL; use `duckdb:///abs/path.duckdb`, "
                "`sqlite:///abs/path.db` or `mssql://user@host:1433/database`"
            )
        scheme = scheme.lower()
        if scheme in ("duckdb", "sqlite"):
            # `scheme:///abs/path` and SQLAlchemy's `scheme:////abs/path` both mean /abs/path.
            text_path = unquote(rest)
            if text_path.startswith("/"):
                text_path = "/" + text_path.lstrip("/")
            path = Path(text_path)
            if not path.is_absolute() or str(path) == "/":
                raise ConfigError(
                    f"{variable}: `{text}` must name an absolute file path "
                    f"(three slashes: `{scheme}:///abs/path`)"
                )
            return cls(kind=scheme, path=path)  # type: ignore[arg-type]
        if scheme in ("mssql", "sqlserver", "azuresql"):
            return cls._parse_mssql(text, variable)
        raise ConfigError(
            f"{variable}: unknown database scheme `{scheme}`; use `duckdb`, `sqlite` or `mssql`"
        )

    @classmethod
    def _parse_mssql(cls, text: str, variable: str) -> DatabaseURL:
        parts = urlsplit(text)
        database = unquote(parts.path.lstrip("/"))
        if not parts.hostname or not database:
            raise ConfigError(
                f"{variable}: `{_redact(text)}` needs a host and a database, "
                "e.g. `mssql://loader@myserver.database.windows.net:1433/warehouse`"
            )
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(
                f"{variable}: the port in `{_redact(text)}` is not a number"
            ) from None
        options = []
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            key = key.lower()
            if key not in _MSSQL_OPTIONS:
                known = ", ".join(f"`{k}`" for k in _MSSQL_OPTIONS)
                raise ConfigError(f"{variable}: unknown option `{key}`; known options: {known}")
            options.append((key, value))
        return cls(
            kind="mssql",
            host=parts.hostname,
            port=port,
            database=database,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            options=tuple(options),
        )

    def with_password(self, password: str | None) -> DatabaseURL:
        """Return a copy carrying ``password`` unless the URL already had one."""
        if not password or self.password:
            return self
        return DatabaseURL(
            self.kind, self.path, self.host, self.port, self.database, self.user,
            password, self.options,
        )

    def option(self, key: str, default: str | None = None) -> str | None:
        return dict(self.options).get(key, default)

    def odbc_connection_string(self) -> str:
        """The ODBC connection string for pyodbc; contains the password, never log it."""
        if self.kind != "mssql":
            raise ConfigError(f"`{self}` is not a SQL Server URL")
        opts = dict(self.options)
        driver = opts.pop("driver", DEFAULT_ODBC_DRIVER)
        server = f"tcp:{self.host},{self.port or 1433}"
        parts = [f"Driver={{{driver}}}", f"Server={server}", f"Database={self.database}"]
        opts.setdefault("encrypt", "yes")
        for key, value in opts.items():
            parts.append(f"{_MSSQL_OPTIONS[key]}={value}")
        if self.user:
            parts.append(f"UID={self.user}")
        if self.password:
            parts.append("PWD={" + self.password.replace("}", "}}") + "}")
        elif opts.get("authentication") not in _AUTH_WITHOUT_PASSWORD:
            raise ConfigError(
                f"`{self}` has no password: set the matching `DELTASTORE_*_PASSWORD` variable "
                "(from a Secret), or use `authentication=ActiveDirectoryMsi`"
            )
        return ";".join(parts)

    def __str__(self) -> str:
        if self.kind in ("duckdb", "sqlite"):
            return f"{self.kind}://{self.path}"
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        query = "&".join(f"{k}={v}" for k, v in self.options)
        return f"mssql://{user}{self.host}{port}/{self.database}" + (f"?{query}" if query else "")


def _redact(text: str) -> str:
    """Hide a password written into a URL before the URL appears in a message."""
    parts = urlsplit(text)
    if parts.password:
        return text.replace(f":{parts.password}@", ":***@")
    return text
