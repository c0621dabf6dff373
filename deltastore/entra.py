"""Microsoft Entra access tokens for managed-identity logins (`ActiveDirectoryMsi`).

Extract and sync get their token from ``azure.identity``'s ``ManagedIdentityCredential``:
with the URL's user as ``client_id`` for a user-assigned identity, without it for the
system-assigned one. That credential works wherever Azure offers a managed identity (IMDS
on AKS nodes and VMs, AKS workload identity, App Service, Container Apps), which the ODBC
driver's own ``Authentication=ActiveDirectoryMsi`` does not.

dbt opens a new login for every node, so a build may outlive any one token. dbt-sqlserver
fetches and refreshes tokens itself in its ``auto`` mode (sqlserver_auth.py
``get_auto_access_token``: ``DefaultAzureCredential().get_token``, cached until less than
300 s remain, sqlserver_runtime.py ``get_cached_access_token``). ``dbt_credential_environment``
narrows that DefaultAzureCredential to the same identity ManagedIdentityCredential picks here:
``AZURE_TOKEN_CREDENTIALS`` names the one credential the chain may use (azure-identity
``_internal/utils.py`` ``process_credential_exclusions``): workload identity where its
variables are set, as ManagedIdentityCredential itself decides, else managed identity; and
``AZURE_CLIENT_ID`` names a user-assigned identity (the chain's default ``client_id``).

The token reaches the ODBC driver as the pre-connect attribute SQL_COPT_SS_ACCESS_TOKEN
(1256, msodbcsql.h): a 4-byte little-endian length followed by the token's bytes, each
followed by a zero byte (learn.microsoft.com/sql/connect/odbc/using-azure-active-directory,
"Authenticating with an access token"). Tokens are never logged.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import threading
from dataclasses import dataclass, field
from typing import Any

from deltastore.errors import ConfigError, DeltaStoreError, TransientError, first_line

SQL_COPT_SS_ACCESS_TOKEN = 1256
# The resource every Azure SQL token is issued for.
SQL_SCOPE = "https://database.windows.net/.default"
# azure-identity's EnvironmentVariables.WORKLOAD_IDENTITY_VARS: ManagedIdentityCredential
# uses workload identity when all three are set (the AKS webhook sets them in the pod).
WORKLOAD_IDENTITY_VARIABLES = ("AZURE_AUTHORITY_HOST", "AZURE_TENANT_ID",
                               "AZURE_FEDERATED_TOKEN_FILE")

_credentials: dict[str | None, Any] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class AccessToken:
    token: str = field(repr=False)
    expires_on: int  # seconds since the epoch


def _credential(client_id: str | None) -> Any:
    """One credential per identity and process: azure-identity caches its tokens in it."""
    try:
        import azure.identity
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ConfigError(f"managed identity needs the package `azure-identity` ({exc}); "
                          "install it with `pip install azure-identity`") from None
    with _lock:
        if client_id not in _credentials:
            _credentials[client_id] = azure.identity.ManagedIdentityCredential(
                client_id=client_id)
        return _credentials[client_id]


def identity_name(client_id: str | None) -> str:
    return (f"user-assigned managed identity `{client_id}`" if client_id else
            "the system-assigned managed identity")


def managed_identity_token(client_id: str | None) -> AccessToken:
    """An Azure SQL token for the managed identity (user-assigned when ``client_id`` is set)."""
    from azure.core.exceptions import ClientAuthenticationError

    try:
        token = _credential(client_id).get_token(SQL_SCOPE)
    except ClientAuthenticationError as exc:  # CredentialUnavailableError is one too
        raise token_error(exc, client_id) from None
    return AccessToken(token.token, int(token.expires_on))


def token_error(exc: BaseException, client_id: str | None) -> DeltaStoreError:
    """What a failed token request becomes. azure-identity raises CredentialUnavailableError
    both when the endpoint does not answer (a busy IMDS, a network blip: worth a retry) and
    when the identity is not there (the imds.py message `No identity has been assigned to
    this resource`: a retry cannot fix it); ClientAuthenticationError when Entra refused."""
    import azure.identity

    who = identity_name(client_id)
    text = first_line(exc)
    if (isinstance(exc, azure.identity.CredentialUnavailableError)
            and "No identity has been assigned" in text):
        return ConfigError(
            f"{who} is not available here ({text}): assign the identity to the pod or node "
            "(and name a user-assigned one by its client id as the URL's user), or use a "
            "SQL login or `authentication=ActiveDirectoryServicePrincipal`")
    if isinstance(exc, azure.identity.CredentialUnavailableError):
        return TransientError(
            f"no token for {who}: the managed identity endpoint did not answer ({text}); "
            "a retry may succeed. Outside Azure there is no managed identity: use a SQL "
            "login or a service principal")
    return TransientError(f"getting an Azure SQL token for {who} failed: {text}")


def dbt_credential_environment(client_id: str | None,
                               environ: dict[str, str] | None = None) -> dict[str, str]:
    """Variables that make dbt-sqlserver's ``auto`` mode (DefaultAzureCredential) use the
    identity ManagedIdentityCredential(client_id) would: only workload identity when the
    pod has it, else only managed identity; a user-assigned one named by its client id."""
    environ = dict(os.environ) if environ is None else environ
    workload = all(environ.get(name) for name in WORKLOAD_IDENTITY_VARIABLES)
    values = {"AZURE_TOKEN_CREDENTIALS": ("WorkloadIdentityCredential" if workload
                                          else "ManagedIdentityCredential")}
    if client_id:
        values["AZURE_CLIENT_ID"] = client_id
    return values


def token_attribute(token: str) -> bytes:
    """The SQL_COPT_SS_ACCESS_TOKEN value: length-prefixed, each byte zero-padded."""
    data = token.encode("ascii")  # JWTs are base64url text
    expanded = bytes(b for byte in data for b in (byte, 0))
    return struct.pack("<I", len(expanded)) + expanded


# Claims that say who a token is for, in the order shown: an app's or identity's display
# name or UPN when Entra puts one in, then the ids (Microsoft identity platform, "Access
# token claims reference").
_WHO_CLAIMS = ("upn", "unique_name", "appid", "oid", "xms_mirid")


def token_subject(token: str) -> str:
    """Whose token it is, from its claims (never the token itself): ``appid=…, oid=…``;
    the claims are read, not verified (the server verifies the signature)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return "a token whose claims cannot be read"
    shown = [f"{name}={claims[name]}" for name in _WHO_CLAIMS if claims.get(name)]
    return ", ".join(shown) or "a token without identity claims"
