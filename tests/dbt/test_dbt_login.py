"""Every documented login mode, through dbt-sqlserver's real connection code.

`deltastore`'s runner renders the real dbt/profiles.yml and runs `dbt debug --connection`
in this process; dbt-sqlserver 1.11.3 builds its connection string and ``attrs_before``
(sqlserver_backend.py ``build_pyodbc_connection_string``, sqlserver_auth.py
``get_pyodbc_attrs_before_credentials``) and calls ``pyodbc.connect``, which is replaced by a
recorder. Managed identity tokens come from a stand-in for
``azure.identity.ManagedIdentityCredential``; ``loopback_only`` fails the test on any
connection to a non-loopback address (169.254.169.254 included).

The expected strings are written out from the adapter's source, so a change in how the
adapter logs in shows up here as a diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from odbc_recorder import (
    TOKEN,
    FakeManagedIdentityCredential,
    OdbcRecorder,
    token_bytes,
)

from deltastore import entra
from deltastore.errors import ConfigError
from deltastore.settings import Settings
from deltastore.transform.runner import SECRET_ACCESS_TOKEN, SECRET_PASSWORD, run_dbt

PROJECT = Path(__file__).resolve().parents[2] / "dbt"
SERVER = "deltastore-wh.database.windows.net"
PASSWORD = "Pa;ss}word-dbt-login"
CLIENT_ID = "6f3c1d2e-0a4b-4c5d-8e9f-0123456789ab"
SP_SECRET = "sp~Secret;}42"


def _app() -> str:
    from dbt.adapters.sqlserver.__version__ import version

    return f"APP=dbt-sqlserver/{version}"


# What the adapter appends after the login part (sqlserver_backend.py).
def _tail(encrypt: str = "Yes", trust: str = "No") -> str:
    return (f"encrypt={encrypt};TrustServerCertificate={trust};{_app()};Pooling=true;"
            "SQL_ATTR_TRACE=SQL_OPT_TRACE_OFF;ConnectRetryCount=3;ConnectRetryInterval=10")


HEAD = f"DRIVER={{ODBC Driver 18 for SQL Server}};SERVER={SERVER},1433;Database=warehouse"


def _settings(tmp_path: Path, url: str, password: str | None = None) -> Settings:
    env = {"DELTASTORE_DATA_DIR": str(tmp_path), "DELTASTORE_DBT_PROJECT_DIR": str(PROJECT),
           "DELTASTORE_WAREHOUSE_URL": url,
           "DELTASTORE_DBT_LOG_LEVEL_FILE": "debug"}  # dbt's fullest log: no secret may reach it
    if password is not None:
        env["DELTASTORE_WAREHOUSE_PASSWORD"] = password
    return Settings.from_env(env)


def _debug(settings: Settings, lines: list[str]) -> None:
    run = run_dbt(settings, "debug", echo=lines.append)
    assert run.success, run.error


LOGINS = {
    "sql login": (
        f"mssql://dbt_loader@{SERVER}:1433/warehouse", PASSWORD,
        f"{HEAD};UID={{dbt_loader}};PWD={{Pa;ss}}}}word-dbt-login}};{_tail()}",
        {}, None),
    "service principal": (
        f"mssql://{CLIENT_ID}@{SERVER}:1433/warehouse"
        "?authentication=activedirectoryserviceprincipal&login_timeout=30", SP_SECRET,
        f"{HEAD};Authentication=ActiveDirectoryServicePrincipal;UID={{{CLIENT_ID}}};"
        f"PWD={{sp~Secret;}}}}42}};{_tail()}",
        {}, None),
    "system-assigned managed identity": (
        f"mssql://{SERVER}:1433/warehouse?authentication=ActiveDirectoryMsi", None,
        f"{HEAD};{_tail()}", {1256: token_bytes()}, [{"client_id": None}]),
    "user-assigned managed identity": (
        f"mssql://{CLIENT_ID}@{SERVER}:1433/warehouse?authentication=ActiveDirectoryMsi"
        "&trust_server_certificate=yes", None,
        f"{HEAD};{_tail(trust='Yes')}", {1256: token_bytes()}, [{"client_id": CLIENT_ID}]),
}


@pytest.mark.parametrize("mode", list(LOGINS))
def test_dbt_opens_the_connection_the_url_describes(
        mode: str, odbc: OdbcRecorder, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    url, password, expected, attrs, identities = LOGINS[mode]
    settings = _settings(tmp_path, url, password)
    lines: list[str] = []
    _debug(settings, lines)

    assert odbc.calls, "dbt never connected"
    timeout = 30 if "login_timeout=30" in url else 0
    for call in odbc.calls:
        assert call.connection_string == expected
        assert call.kwargs == {"attrs_before": attrs, "autocommit": True, "timeout": timeout}
    # Managed identity: the token came from azure.identity, asked for Azure SQL, and the
    # string has no Authentication/UID/PWD next to it (forbidden by the driver docs).
    assert FakeManagedIdentityCredential.built == (identities or [])
    if identities:
        assert FakeManagedIdentityCredential.scopes == [(entra.SQL_SCOPE,)]
        assert not any(k in expected for k in ("Authentication=", "UID=", "PWD="))

    # Secrets travel env -> profile -> driver only, and leave the environment afterwards.
    secrets = [s for s in (password, TOKEN) if s]
    written = [p for p in settings.data_dir.rglob("*") if p.is_file()]
    captured = capsys.readouterr()
    for secret in secrets:
        assert secret not in captured.out + captured.err + "\n".join(lines)
        assert not [p for p in written if secret.encode() in p.read_bytes()]
    assert SECRET_PASSWORD not in os.environ and SECRET_ACCESS_TOKEN not in os.environ


def test_the_dbt_log_is_written_and_scrubbed(odbc: OdbcRecorder, tmp_path: Path) -> None:
    """dbt's debug-level file log records the connection (sanitised) but never a secret."""
    settings = _settings(tmp_path, f"mssql://dbt_loader@{SERVER}:1433/warehouse", PASSWORD)
    _debug(settings, [])
    log = next(settings.data_dir.rglob("dbt.log")).read_text()
    assert "Using connection string" in log
    assert PASSWORD not in log


def test_strict_encryption_is_refused_for_dbt(odbc: OdbcRecorder, tmp_path: Path) -> None:
    settings = _settings(tmp_path, f"mssql://u@{SERVER}/warehouse?encrypt=strict", PASSWORD)
    with pytest.raises(ConfigError, match="encrypt=strict"):
        run_dbt(settings, "debug", echo=None)
    assert not odbc.calls


def test_a_login_without_password_says_what_is_missing(odbc: OdbcRecorder,
                                                       tmp_path: Path) -> None:
    settings = _settings(tmp_path, f"mssql://dbt_loader@{SERVER}/warehouse")
    with pytest.raises(ConfigError, match="DELTASTORE_\\*_PASSWORD"):
        run_dbt(settings, "debug", echo=None)
    assert not odbc.calls


def test_azure_identity_is_a_dependency() -> None:
    """`deltastore build` with managed identity needs azure-identity in the image."""
    from importlib.metadata import requires

    assert any(r.replace(" ", "").startswith("azure-identity") for r in requires("deltastore")
               or [])
