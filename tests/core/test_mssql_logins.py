"""The exact connection the extract and the sync open, for every documented login mode.

The real entry points run (the legacy reader, the SQL Server warehouse writer, the sync
target's table listing) with ``pyodbc.connect`` replaced by a recorder and
``azure.identity.ManagedIdentityCredential`` by a stand-in; ``loopback_only`` fails the test
on any connection beyond loopback. Keywords are checked against Microsoft's ODBC Driver 18
keyword list (learn.microsoft.com/sql/connect/odbc/dsn-connection-string-attribute).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import azure.identity
import pytest
from mssql_connections import (
    CLIENT_ID,
    SECRET,
    open_legacy,
    open_sync_target,
    open_warehouse,
)
from odbc_recorder import (
    FakeManagedIdentityCredential,
    OdbcRecorder,
    parse_connection_string,
    token_bytes,
)

from deltastore import entra
from deltastore.dburl import DatabaseURL
from deltastore.errors import ConfigError, TransientError

HOST = "tcp:sql.example.net,1433"
DRIVER = "Driver={ODBC Driver 18 for SQL Server}"
# Every keyword the URLs below produce; all are Driver 18 keywords.
DRIVER_18_KEYWORDS = {"Driver", "Server", "Database", "Encrypt", "TrustServerCertificate",
                      "ApplicationIntent", "Authentication", "UID", "PWD"}


STEPS: dict[str, tuple[Callable[[DatabaseURL], None], bool]] = {
    "extract: legacy reader": (open_legacy, False),
    "extract: warehouse writer": (open_warehouse, False),
    "sync: target": (open_sync_target, False),
}

MODES: dict[str, tuple[str, str | None, str, Any]] = {
    "sql login": (
        "mssql://reader@sql.example.net:1433/legacy", SECRET,
        f"{DRIVER};Server={HOST};Database={{legacy}};Encrypt=yes;UID={{reader}};"
        "PWD={pw;with}}braces}", None),
    "service principal": (
        f"mssql://{CLIENT_ID}@sql.example.net/legacy?authentication=ActiveDirectoryServicePrincipal"
        "&encrypt=strict&login_timeout=20", SECRET,
        f"{DRIVER};Server={HOST};Database={{legacy}};Encrypt=strict;"
        f"Authentication=ActiveDirectoryServicePrincipal;UID={{{CLIENT_ID}}};"
        "PWD={pw;with}}braces}", None),
    "system-assigned managed identity": (
        "mssql://sql.example.net/legacy?authentication=activedirectorymsi"
        "&trust_server_certificate=no&application_intent=readonly", None,
        f"{DRIVER};Server={HOST};Database={{legacy}};Encrypt=yes;TrustServerCertificate=no;"
        "ApplicationIntent=ReadOnly", None),
    "user-assigned managed identity": (
        f"mssql://{CLIENT_ID}@sql.example.net/legacy?authentication=ActiveDirectoryMsi", None,
        f"{DRIVER};Server={HOST};Database={{legacy}};Encrypt=yes", CLIENT_ID),
}


@pytest.mark.parametrize("step", list(STEPS))
@pytest.mark.parametrize("mode", list(MODES))
def test_each_step_opens_the_connection_the_url_describes(
        step: str, mode: str, odbc: OdbcRecorder) -> None:
    text, password, expected, client_id = MODES[mode]
    url = DatabaseURL.parse(text).with_password(password)
    open_step, autocommit = STEPS[step]
    open_step(url)

    [call] = odbc.calls
    assert call.connection_string == expected
    pairs = parse_connection_string(call.connection_string)
    assert set(pairs) <= DRIVER_18_KEYWORDS
    assert pairs["PWD"] == password if password else "PWD" not in pairs
    kwargs: dict[str, Any] = {"autocommit": autocommit}
    if "login_timeout=20" in text:
        kwargs["timeout"] = 20  # SQL_ATTR_LOGIN_TIMEOUT, not a connection-string keyword
    if "ActiveDirectoryMsi" in mode or "managed identity" in mode:
        kwargs["attrs_before"] = {1256: token_bytes()}
        assert FakeManagedIdentityCredential.built == [{"client_id": client_id}]
        assert FakeManagedIdentityCredential.scopes == [(entra.SQL_SCOPE,)]
    else:
        assert FakeManagedIdentityCredential.built == []
    assert call.kwargs == kwargs


def test_the_token_attribute_is_what_the_driver_documents() -> None:
    value = entra.token_attribute("abc")
    assert value == b"\x06\x00\x00\x00a\x00b\x00c\x00"


@pytest.mark.parametrize(("query", "fragment"), [
    ("authentication=ActiveDirectoryDefault", "`authentication=ActiveDirectoryDefault`"),
    ("encrypt=maybe", "`strict`"),
    ("login_timeout=soon", "whole seconds"),
    ("trust_server_certificate=sometimes", "`yes`"),
])
def test_values_the_driver_would_not_take_are_refused(query: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        DatabaseURL.parse(f"mssql://u@h/db?{query}", "DELTASTORE_SYNC_TARGET_URL")
    assert fragment in str(caught.value)
    assert "DELTASTORE_SYNC_TARGET_URL" in str(caught.value)


def test_a_service_principal_without_secret_says_what_is_missing(odbc: OdbcRecorder) -> None:
    url = DatabaseURL.parse(
        f"mssql://{CLIENT_ID}@h/db?authentication=ActiveDirectoryServicePrincipal")
    with pytest.raises(ConfigError, match="client\\) id as user and its secret"):
        open_sync_target(url)
    assert not odbc.calls


# azure-identity 1.27 _credentials/imds.py: the two CredentialUnavailableError messages.
NO_ANSWER = ("ManagedIdentityCredential authentication unavailable, no response from the IMDS "
             "endpoint.")
NO_IDENTITY = ("ManagedIdentityCredential authentication unavailable. No identity has been "
               "assigned to this resource. Error: Identity not found")


@pytest.mark.parametrize(("message", "error", "exit_code"), [
    (NO_ANSWER, TransientError, 1), (NO_IDENTITY, ConfigError, 2)])
def test_an_unavailable_managed_identity_is_retried_only_when_the_endpoint_was_silent(
        message: str, error: type[Exception], exit_code: int,
        monkeypatch: pytest.MonkeyPatch, loopback_only: None) -> None:
    """Review MINOR 6: every CredentialUnavailableError was exit 2, an IMDS that did not
    answer in time included."""
    class Unavailable(FakeManagedIdentityCredential):
        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            raise azure.identity.CredentialUnavailableError(message)

    monkeypatch.setattr(azure.identity, "ManagedIdentityCredential", Unavailable)
    monkeypatch.setattr(entra, "_credentials", {})
    with pytest.raises(error) as caught:
        entra.managed_identity_token(CLIENT_ID)
    assert caught.value.exit_code == exit_code  # type: ignore[attr-defined]
    assert f"user-assigned managed identity `{CLIENT_ID}`" in str(caught.value)


def test_whose_token_it_is_comes_from_its_claims_never_the_token() -> None:
    claims = {"aud": "https://database.windows.net/", "appid": CLIENT_ID,
              "oid": "9a8b7c6d-0000-4000-8000-123456789abc",
              "xms_mirid": "/subscriptions/s/resourcegroups/rg/providers/Microsoft."
                           "ManagedIdentity/userAssignedIdentities/deltastore-sync"}
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    token = f"eyJ0eXAiOiJKV1QifQ.{body}.c2lnbmF0dXJl"
    subject = entra.token_subject(token)
    assert subject.startswith(f"appid={CLIENT_ID}, oid=9a8b7c6d-")
    assert "deltastore-sync" in subject and token not in subject
    assert entra.token_subject("not-a-jwt") == "a token whose claims cannot be read"


def test_the_network_guard_stops_a_call_to_the_metadata_service(loopback_only: None) -> None:
    """What keeps these tests honest: IMDS (or any non-loopback address) fails the test."""
    import socket

    with pytest.raises(pytest.fail.Exception, match="only loopback"):
        socket.create_connection(("169.254.169.254", 80), timeout=0.01)
    with socket.socket() as sock, pytest.raises(pytest.fail.Exception):
        sock.connect(("10.1.2.3", 1433))
