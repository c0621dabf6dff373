"""Every connection the pipeline opens, through Microsoft's real ODBC Driver 18.

The driver comes from PyPI's `mssql-python-odbc` wheel (a dev dependency; found by
tests/prerequisites.py ``msodbcsql_driver``) and is loaded by the real pyodbc and unixODBC
with ``Driver={<path>}``, the URL's ``driver=`` option. It validates the connection string
and the pre-connect attributes (the access token) before it opens a socket, so pointed at a
closed loopback port, a connection the driver accepts ends in the network's error and
nothing else: ``[HYT00] Login timeout expired`` (or a TCP provider error). A string it
refuses fails at once with its own error (``[FA005]``, ``[08001] Invalid value …``), which
these tests show for the combinations the project must never send.

Each step opens its connection exactly as it does in production: the legacy reader, the
warehouse writer, dbt through dbt-sqlserver's own code, the sync, the dbt build log, and
`deltastore doctor` on each endpoint; every login mode. Managed identity tokens come from
stand-ins for azure-identity's credentials (tests/odbc_recorder.py); sockets are limited to
loopback. A login timeout of 1 s keeps
each attempt short.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mssql_connections import CLIENT_ID, SECRET, open_legacy, open_sync_target, open_warehouse
from odbc_recorder import TOKEN, FakeDefaultAzureCredential, RealDriver, token_bytes

from deltastore.dburl import DatabaseURL
from deltastore.errors import ConfigError, TransientError
from deltastore.extract.preflight import check_legacy
from deltastore.mssql_errors import classify
from deltastore.settings import Settings
from deltastore.sync.preflight import check_sync_target
from deltastore.transform import build_log
from deltastore.transform.preflight import check_warehouse
from deltastore.transform.runner import run_dbt

pytestmark = pytest.mark.odbc

PROJECT = Path(__file__).resolve().parents[2] / "dbt"
# (user, password, URL options) per documented login mode.
MODES: dict[str, tuple[str | None, str | None, str]] = {
    "sql login": ("loader", SECRET, ""),
    "service principal": (CLIENT_ID, SECRET, "&authentication=ActiveDirectoryServicePrincipal"),
    "system-assigned managed identity": (None, None, "&authentication=ActiveDirectoryMsi"),
    "user-assigned managed identity": (CLIENT_ID, None, "&authentication=ActiveDirectoryMsi"),
}
# What a closed port gives (Driver 18 on Linux: the login timeout; elsewhere a TCP error).
NETWORK = ("Login timeout expired", "TCP Provider")


def url_for(mode: str, port: int, driver: RealDriver, database: str = "warehouse",
            ) -> DatabaseURL:
    user, password, options = MODES[mode]
    login = f"{user}@" if user else ""
    return DatabaseURL.parse(
        f"mssql://{login}127.0.0.1:{port}/{database}?driver={driver.path}&login_timeout=1"
        f"{options}").with_password(password)


def settings_for(url: DatabaseURL, tmp_path: Path) -> Settings:
    settings = Settings.from_env({"DELTASTORE_DATA_DIR": str(tmp_path),
                                  "DELTASTORE_DBT_PROJECT_DIR": str(PROJECT)})
    return dataclasses.replace(settings, warehouse_url=url, sync_target_url=url,
                               legacy_db_url=url, dbt_target="prod")


def _build_log(url: DatabaseURL, tmp_path: Path) -> None:
    build_log.last_build(settings_for(url, tmp_path))


STEPS: dict[str, Callable[[DatabaseURL, Path], None]] = {
    "extract: legacy reader": lambda url, _: open_legacy(url),
    "extract: warehouse writer": lambda url, _: open_warehouse(url),
    "sync: target": lambda url, _: open_sync_target(url),
    "transform: build log": _build_log,
}


def assert_only_the_network_failed(driver: RealDriver, mode: str) -> None:
    assert driver.calls, "the driver was never called"
    for call in driver.calls:
        state, message = call.error.args
        assert state in ("HYT00", "08001", "08S01") and any(n in message for n in NETWORK), \
            f"the driver refused the connection itself: {message}"
        assert call.kwargs.get("timeout") == 1
        if "managed identity" in mode:
            token = call.kwargs["attrs_before"][1256]
            assert token in (token_bytes(), token_bytes(f"{TOKEN}.1"))


@pytest.mark.parametrize("step", list(STEPS))
@pytest.mark.parametrize("mode", list(MODES))
def test_each_connection_reaches_the_network(step: str, mode: str, real_driver: RealDriver,
                                             closed_port: int, tmp_path: Path) -> None:
    url = url_for(mode, closed_port, real_driver)
    with pytest.raises(TransientError) as caught:  # a login timeout is worth a retry
        STEPS[step](url, tmp_path)
    assert caught.value.exit_code == 1
    assert "Login timeout expired" in str(caught.value) or "TCP Provider" in str(caught.value)
    assert_only_the_network_failed(real_driver, mode)


@pytest.mark.parametrize("mode", list(MODES))
def test_dbt_connects_through_dbt_sqlserver_and_retries_the_network(
        mode: str, real_driver: RealDriver, closed_port: int, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`dbt debug --connection` through the runner: dbt-sqlserver 1.11.3 builds the string
    and the token attribute (its `auto` mode for managed identity), the real driver takes
    them, and dbt retries the login three times (the adapter's `retries` default) with
    dbt-adapters' pause of 1 s between attempts."""
    pauses: list[float] = []
    monkeypatch.setattr("dbt.adapters.base.connections.sleep", pauses.append)
    settings = settings_for(url_for(mode, closed_port, real_driver), tmp_path)
    run = run_dbt(settings, "debug", echo=None)
    assert not run.success
    assert len(real_driver.calls) == 4 and pauses == [1, 1, 1]
    assert_only_the_network_failed(real_driver, mode)
    if "managed identity" in mode:
        assert len(FakeDefaultAzureCredential.requests) == 1  # one token, still valid


@pytest.mark.parametrize("mode", list(MODES))
def test_doctor_logs_in_to_every_endpoint_and_reports_the_network(
        mode: str, real_driver: RealDriver, closed_port: int, tmp_path: Path) -> None:
    url = url_for(mode, closed_port, real_driver)
    settings = settings_for(url, tmp_path)
    for check in (check_legacy, check_warehouse, check_sync_target):
        [login] = check(settings)
        assert not login.ok and login.detail == "cannot log in: Login timeout expired"
    assert len(real_driver.calls) == 3
    assert_only_the_network_failed(real_driver, mode)


# --- what the project must never send: the driver's own refusals ----------------------------

def _refusal(driver: RealDriver, connection_string: str, **kwargs: Any) -> BaseException:
    with pytest.raises(Exception) as caught:
        driver.connect(connection_string, timeout=1, **kwargs)
    return caught.value


def test_a_token_next_to_a_login_is_refused_by_the_driver(real_driver: RealDriver,
                                                          closed_port: int) -> None:
    """The managed identity string the project sends reaches the network; the same string
    with `UID` (or an `Authentication` keyword) is refused before any socket: FA005."""
    url = url_for("user-assigned managed identity", closed_port, real_driver)
    string = url.odbc_connection_string()
    token = {"attrs_before": {1256: token_bytes()}}
    accepted = _refusal(real_driver, string, **token)
    assert accepted.args[0] == "HYT00"
    for extra in (f";UID={{{CLIENT_ID}}}", ";Authentication=ActiveDirectoryMsi"):
        refused = _refusal(real_driver, string + extra, **token)
        assert refused.args[0] == "FA005", refused
        assert "Cannot use Access Token with any of the following options" in refused.args[1]
        assert isinstance(classify(refused, "connecting"), ConfigError)


def test_dbt_sqlserver_activedirectorymsi_mode_would_be_refused(
        real_driver: RealDriver, closed_port: int) -> None:
    """Why the runner maps managed identity to dbt-sqlserver's `auto` mode: its
    `ActiveDirectoryMsi` label writes `Authentication=ActiveDirectoryMsi` into the string
    (sqlserver_backend.py build_common_connection_string_parts) and also sends a token
    (sqlserver_auth.py: `activedirectorymsi` -> `msi`), which the driver refuses."""
    from dbt.adapters.sqlserver.sqlserver_auth import get_pyodbc_attrs_before_credentials
    from dbt.adapters.sqlserver.sqlserver_backend import build_pyodbc_connection_string
    from dbt.adapters.sqlserver.sqlserver_credentials import SQLServerCredentials

    credentials = SQLServerCredentials(
        driver=str(real_driver.path), host="127.0.0.1", port=closed_port,
        database="warehouse", schema="dbo", authentication="ActiveDirectoryMsi")
    refused = _refusal(real_driver, build_pyodbc_connection_string(credentials),
                       attrs_before=get_pyodbc_attrs_before_credentials(credentials))
    assert refused.args[0] == "FA005"


@pytest.mark.parametrize(("suffix", "state", "text"), [
    (";Authentication=ActiveDirectoryDefault;UID={u};PWD={p}", "08001",
     "Invalid value specified for connection string attribute 'Authentication'"),
    (";Authentication=ActiveDirectoryServicePrincipal;UID={u}", "FA003",
     "Both User and Password options must be specified"),
    (";Encrypt=maybe;UID={u};PWD={p}", "08001",
     "Invalid value specified for connection string attribute 'Encrypt'"),
])
def test_what_the_url_parser_refuses_the_driver_refuses_too(
        suffix: str, state: str, text: str, real_driver: RealDriver, closed_port: int) -> None:
    """DatabaseURL refuses these before any driver (tests/core/test_mssql_logins.py); the
    driver's own verdict on them, and how the pipeline classifies it: exit 2."""
    string = f"Driver={{{real_driver.path}}};Server=tcp:127.0.0.1,{closed_port}" + suffix
    refused = _refusal(real_driver, string)
    assert refused.args[0] == state and text in refused.args[1]
    assert classify(refused, "connecting").exit_code == 2
