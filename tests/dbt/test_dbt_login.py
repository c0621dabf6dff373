"""Every documented login mode, through dbt-sqlserver's real connection code.

`deltastore`'s runner renders the real dbt/profiles.yml and runs `dbt debug --connection`
in this process; dbt-sqlserver 1.11.3 builds its connection string and ``attrs_before``
(sqlserver_backend.py ``build_pyodbc_connection_string``, sqlserver_auth.py
``get_pyodbc_attrs_before_credentials``) and calls ``pyodbc.connect``, which is replaced by a
recorder. Managed identity: dbt-sqlserver's `auto` mode asks
``azure.identity.DefaultAzureCredential`` for a token at each login, and the runner's
fail-fast check asks ``azure.identity.ManagedIdentityCredential``; both are replaced by
stand-ins (tests/odbc_recorder.py); ``loopback_only`` fails the test on any connection to a
non-loopback address (169.254.169.254 included).

The expected strings are written out from the adapter's source, so a change in how the
adapter logs in shows up here as a diff.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback_http import json_server
from odbc_recorder import (
    TOKEN,
    FakeDefaultAzureCredential,
    FakeManagedIdentityCredential,
    OdbcRecorder,
    token_bytes,
)

from deltastore import entra
from deltastore.errors import ConfigError
from deltastore.settings import Settings
from deltastore.transform.runner import SECRET_PASSWORD, run_dbt

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
        f"{HEAD};{_tail()}", {1256: token_bytes(f"{TOKEN}.1")}, [{"client_id": None}]),
    "user-assigned managed identity": (
        f"mssql://{CLIENT_ID}@{SERVER}:1433/warehouse?authentication=ActiveDirectoryMsi"
        "&trust_server_certificate=yes", None,
        f"{HEAD};{_tail(trust='Yes')}", {1256: token_bytes(f"{TOKEN}.1")},
        [{"client_id": CLIENT_ID}]),
}
# dbt-sqlserver's scope (sqlserver_runtime.py AZURE_CREDENTIAL_SCOPE), double slash included.
DBT_SCOPE = "https://database.windows.net//.default"


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
    # Managed identity: the runner checked the identity (ManagedIdentityCredential), then
    # dbt-sqlserver asked DefaultAzureCredential, narrowed to that same identity, for an
    # Azure SQL token (its deadline is the login timeout); the string has no
    # Authentication/UID/PWD next to the token (forbidden by the driver docs).
    assert FakeManagedIdentityCredential.built == (identities or [])
    if identities:
        assert FakeManagedIdentityCredential.scopes == [(entra.SQL_SCOPE,)]
        assert FakeDefaultAzureCredential.built == [{
            "AZURE_TOKEN_CREDENTIALS": "ManagedIdentityCredential",
            "AZURE_CLIENT_ID": identities[0]["client_id"]}]
        assert FakeDefaultAzureCredential.requests == [
            {"scopes": (DBT_SCOPE,), "timeout": 0}]
        assert not any(k in expected for k in ("Authentication=", "UID=", "PWD="))
    else:
        assert FakeDefaultAzureCredential.built == []

    # Secrets travel env -> profile -> driver only, and leave the environment afterwards.
    secrets = [s for s in (password, TOKEN) if s]
    written = [p for p in settings.data_dir.rglob("*") if p.is_file()]
    captured = capsys.readouterr()
    for secret in secrets:
        assert secret not in captured.out + captured.err + "\n".join(lines)
        assert not [p for p in written if secret.encode() in p.read_bytes()]
    assert SECRET_PASSWORD not in os.environ
    assert "AZURE_TOKEN_CREDENTIALS" not in os.environ


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


def _adapter_credentials(login_timeout: int = 30) -> object:
    from dbt.adapters.sqlserver.sqlserver_credentials import SQLServerCredentials

    return SQLServerCredentials(driver="ODBC Driver 18 for SQL Server", host=SERVER,
                                database="warehouse", schema="dbo", authentication="auto",
                                login_timeout=login_timeout)


def test_no_dbt_login_uses_a_token_with_less_than_five_minutes_left(odbc: OdbcRecorder) -> None:
    """Review MAJOR 2: dbt logs in again for every node. In `auto` mode dbt-sqlserver builds
    each login's token attribute from its cache and fetches a new token once less than
    300 s remain (sqlserver_runtime.py get_cached_access_token, refresh_buffer_seconds), so
    no login of a long build carries an expired token. Pinned here on the real adapter."""
    from dbt.adapters.sqlserver.sqlserver_auth import get_pyodbc_attrs_before_credentials

    credentials = _adapter_credentials()
    FakeDefaultAzureCredential.lifetime = 3600
    first = get_pyodbc_attrs_before_credentials(credentials)
    assert get_pyodbc_attrs_before_credentials(credentials) == first  # still valid: reused
    assert len(FakeDefaultAzureCredential.requests) == 1
    assert FakeDefaultAzureCredential.requests[0]["timeout"] == 30  # the login timeout

    from dbt.adapters.sqlserver.sqlserver_runtime import _RUNTIME_STATE

    _RUNTIME_STATE.reset_access_token_cache()
    FakeDefaultAzureCredential.lifetime = 200  # less than the adapter's 300 s margin
    short = get_pyodbc_attrs_before_credentials(credentials)
    renewed = get_pyodbc_attrs_before_credentials(credentials)
    assert short != renewed and len(FakeDefaultAzureCredential.requests) == 3
    assert renewed == {1256: token_bytes(f"{TOKEN}.3")}


@pytest.fixture
def identity_endpoint(monkeypatch: pytest.MonkeyPatch, loopback_only: None
                      ) -> Iterator[list[str]]:
    """A managed identity endpoint on loopback answering like IMDS
    (`/metadata/identity/oauth2/token`, azure-identity's ImdsCredential reads its host from
    AZURE_POD_IDENTITY_AUTHORITY_HOST); yields the paths it was asked for."""
    def token(path: str) -> dict[str, str]:
        return {"access_token": TOKEN, "expires_in": "3600",
                "expires_on": str(int(time.time()) + 3600),
                "resource": "https://database.windows.net/", "token_type": "Bearer"}

    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE",
                 "AZURE_AUTHORITY_HOST", "AZURE_CLIENT_SECRET", "AZURE_TOKEN_CREDENTIALS",
                 "IDENTITY_ENDPOINT", "MSI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    with json_server(token) as (url, asked):
        monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", url)
        yield asked


@pytest.mark.parametrize("client_id", [CLIENT_ID, None])
def test_the_auto_chain_asks_for_the_identity_extract_and_sync_use(
        client_id: str | None, identity_endpoint: list[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The real DefaultAzureCredential, built as dbt-sqlserver builds it under the variables
    the runner sets, asks the identity endpoint for the user-assigned identity by its client
    id (for the system-assigned one, for none), like ManagedIdentityCredential(client_id)."""
    from azure.identity import DefaultAzureCredential

    for name, value in entra.dbt_credential_environment(client_id).items():
        monkeypatch.setenv(name, value)
    credential = DefaultAzureCredential()
    assert len(credential.credentials) == 1
    token = credential.get_token(DBT_SCOPE, timeout=0)
    assert token.token == TOKEN
    [path] = identity_endpoint
    assert path.startswith("/metadata/identity/oauth2/token?")
    if client_id:
        assert f"client_id={client_id}" in path
    else:
        assert "client_id" not in path


def test_in_a_workload_identity_pod_the_chain_is_workload_identity(
        monkeypatch: pytest.MonkeyPatch, loopback_only: None) -> None:
    """ManagedIdentityCredential turns to workload identity when the AKS webhook's three
    variables are set; the narrowed chain does the same (built only: no token asked)."""
    from azure.identity import DefaultAzureCredential, WorkloadIdentityCredential

    workload = {"AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com/",
                "AZURE_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47",
                "AZURE_FEDERATED_TOKEN_FILE": "/var/run/secrets/azure/tokens/azure-identity-token"}
    for name, value in workload.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AZURE_TOKEN_CREDENTIALS", raising=False)
    for name, value in entra.dbt_credential_environment(CLIENT_ID).items():
        monkeypatch.setenv(name, value)
    [only] = DefaultAzureCredential().credentials
    assert isinstance(only, WorkloadIdentityCredential)
