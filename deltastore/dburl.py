"""Database URLs: one string per database, parsed once, never printed with its password.

Forms:
- ``duckdb:///absolute/path.duckdb`` (DuckDB file, created on first use)
- ``sqlite:///absolute/path.db`` (SQLite file; the demo legacy database)
- ``mssql://[user@]host[:port]/database?driver=…&encrypt=yes&trust_server_certificate=no
  &authentication=ActiveDirectoryMsi&login_timeout=30`` (SQL Server or Azure SQL via ODBC).
  The password comes from the environment variable named by the caller (for example
  ``DELTASTORE_WAREHOUSE_PASSWORD``), never from a ConfigMap; ``user:password@`` in the URL
  also works but is discouraged.

Login modes (``authentication=``): ``sql`` (default; user and password),
``ActiveDirectoryServicePrincipal`` (user = application (client) id, password = client
secret) and ``ActiveDirectoryMsi`` (managed identity; no password; a user-assigned identity
is named by its client id as the URL's user).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from deltastore.booleans import parse_bool
from deltastore.errors import ConfigError

Kind = Literal["duckdb", "sqlite", "mssql"]

DEFAULT_ODBC_DRIVER = "ODBC Driver 18 for SQL Server"
# URL query keys we understand for mssql. Every ODBC keyword written below is in Microsoft's
# "DSN and connection string keywords and attributes" list for ODBC Driver 18
# (learn.microsoft.com/sql/connect/odbc/dsn-connection-string-attribute). The login timeout
# has a keyword only from 18.7 on (`ConnectTimeout`), so it travels as the connection
# attribute SQL_ATTR_LOGIN_TIMEOUT instead: pyodbc.connect(timeout=…) sets it before
# SQLDriverConnect (pyodbc src/connection.cpp, Connect()).
_MSSQL_OPTIONS = (
    "driver", "encrypt", "trust_server_certificate", "authentication", "login_timeout",
    "application_intent",
)
# Driver 18 `Encrypt` values besides yes and no: mandatory (= yes), optional (= no) and
# strict (TDS 8.0). Yes and no, here and for trust_server_certificate, may be written as any
# of the pipeline's boolean words (deltastore/booleans.py).
_ENCRYPT_WORDS = {"mandatory": "yes", "optional": "no", "strict": "strict"}
_YES_NO_OPTIONS = ("encrypt", "trust_server_certificate")
_INTENT = {"readonly": "ReadOnly", "readwrite": "ReadWrite"}

# The login modes the pipeline documents (docs/sql-server.md, "Login modes"). Spelled as
# Driver 18 spells them; `ActiveDirectoryDefault` and friends are not Driver 18
# `Authentication` values.
AUTH_SQL = "sql"
AUTH_MSI = "ActiveDirectoryMsi"
AUTH_SERVICE_PRINCIPAL = "ActiveDirectoryServicePrincipal"
_AUTH = {"sql": AUTH_SQL, "sqlpassword": AUTH_SQL, "activedirectorymsi": AUTH_MSI,
         "activedirectoryserviceprincipal": AUTH_SERVICE_PRINCIPAL}


def odbc_value(value: str) -> str:
    """A connection-string value in braces, ``}`` doubled (ODBC's quoting for any text)."""
    return "{" + value.replace("}", "}}") + "}"


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
            options.append((key, _option_value(variable, key, value)))
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

    @property
    def authentication(self) -> str:
        """Login mode: ``sql``, ``ActiveDirectoryMsi`` or ``ActiveDirectoryServicePrincipal``."""
        return self.option("authentication", AUTH_SQL) or AUTH_SQL

    @property
    def login_timeout(self) -> int:
        """Seconds to wait for a login; 0 means the driver's default."""
        return int(self.option("login_timeout", "0") or 0)

    def odbc_connection_string(self) -> str:
        """The ODBC connection string for pyodbc; may contain the password, never log it.

        Managed identity logs in with an access token in ``attrs_before`` (see
        ``deltastore.db.odbc_connect_args``), so its string carries no ``Authentication``,
        ``UID`` or ``PWD``: Microsoft's driver docs forbid those keywords next to
        SQL_COPT_SS_ACCESS_TOKEN
        (learn.microsoft.com/sql/connect/odbc/using-azure-active-directory).
        """
        if self.kind != "mssql":
            raise ConfigError(f"`{self}` is not a SQL Server URL")
        driver = self.option("driver", DEFAULT_ODBC_DRIVER) or DEFAULT_ODBC_DRIVER
        parts = [f"Driver={odbc_value(driver)}", f"Server=tcp:{self.host},{self.port or 1433}",
                 f"Database={odbc_value(self.database or '')}",
                 f"Encrypt={self.option('encrypt', 'yes')}"]
        if self.option("trust_server_certificate"):
            parts.append(f"TrustServerCertificate={self.option('trust_server_certificate')}")
        if self.option("application_intent"):
            parts.append(f"ApplicationIntent={self.option('application_intent')}")
        auth = self.authentication
        if auth == AUTH_MSI:
            return ";".join(parts)
        if auth == AUTH_SERVICE_PRINCIPAL:
            parts.append(f"Authentication={AUTH_SERVICE_PRINCIPAL}")
        if not self.user or not self.password:
            raise ConfigError(self._missing_login())
        parts += [f"UID={odbc_value(self.user)}", f"PWD={odbc_value(self.password)}"]
        return ";".join(parts)

    def _missing_login(self) -> str:
        what = ("the application (client) id as user and its secret as password"
                if self.authentication == AUTH_SERVICE_PRINCIPAL else "a user and a password")
        return (f"`{self}` needs {what}: write the user into the URL (`mssql://user@host/db`) "
                "and set the matching `DELTASTORE_*_PASSWORD` variable (from a Secret), or "
                "use `authentication=ActiveDirectoryMsi` (managed identity, no password)")

    def __str__(self) -> str:
        if self.kind in ("duckdb", "sqlite"):
            return f"{self.kind}://{self.path}"
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        query = "&".join(f"{k}={v}" for k, v in self.options)
        return f"mssql://{user}{self.host}{port}/{self.database}" + (f"?{query}" if query else "")


def _option_value(variable: str, key: str, value: str) -> str:
    """Check one URL option; the value comes back spelled as ODBC Driver 18 expects it."""
    if key in _YES_NO_OPTIONS:
        return _yes_no(variable, key, value)
    choices = {"application_intent": _INTENT, "authentication": _AUTH}.get(key)
    if choices is not None:
        found = choices.get(value.strip().lower())
        if found is None:
            allowed = ", ".join(f"`{v}`" for v in dict.fromkeys(choices.values()))
            raise ConfigError(f"{variable}: `{key}={value}` is not understood; use one of "
                              f"{allowed}")
        return found
    if key == "login_timeout" and not (value.isdigit() and int(value) > 0):
        raise ConfigError(f"{variable}: `login_timeout={value}` must be whole seconds above 0")
    return value


def _yes_no(variable: str, key: str, value: str) -> str:
    word = value.strip().lower()
    if key == "encrypt" and word in _ENCRYPT_WORDS:
        return _ENCRYPT_WORDS[word]
    try:
        return "yes" if parse_bool(word) else "no"
    except ValueError:
        allowed = "`yes`, `no`" + (" or `strict`" if key == "encrypt" else "")
        raise ConfigError(f"{variable}: `{key}={value}` is not understood; use {allowed} "
                          "(yes and no may also be written true/false, on/off, 1/0)") from None


def _redact(text: str) -> str:
    """Hide a password written into a URL before the URL appears in a message."""
    parts = urlsplit(text)
    if parts.password:
        return text.replace(f":{parts.password}@", ":***@")
    return text
