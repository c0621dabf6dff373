"""Microsoft Entra access tokens for managed-identity logins (`ActiveDirectoryMsi`).

Every step (extract, dbt, sync) gets its token the same way, from ``azure.identity``'s
``ManagedIdentityCredential``: with the URL's user as ``client_id`` for a user-assigned
identity, without it for the system-assigned one. That credential works wherever Azure
offers a managed identity (IMDS on AKS nodes and VMs, AKS workload identity, App Service,
Container Apps), which the ODBC driver's own ``Authentication=ActiveDirectoryMsi`` does not.

The token reaches the ODBC driver as the pre-connect attribute SQL_COPT_SS_ACCESS_TOKEN
(1256, msodbcsql.h): a 4-byte little-endian length followed by the token's bytes, each
followed by a zero byte (learn.microsoft.com/sql/connect/odbc/using-azure-active-directory,
"Authenticating with an access token"). Tokens are never logged.
"""

from __future__ import annotations

import struct
import threading
from dataclasses import dataclass, field
from typing import Any

from deltastore.errors import ConfigError, TransientError, first_line

SQL_COPT_SS_ACCESS_TOKEN = 1256
# The resource every Azure SQL token is issued for.
SQL_SCOPE = "https://database.windows.net/.default"

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


def managed_identity_token(client_id: str | None) -> AccessToken:
    """An Azure SQL token for the managed identity (user-assigned when ``client_id`` is set)."""
    import azure.identity
    from azure.core.exceptions import ClientAuthenticationError

    who = f"user-assigned managed identity `{client_id}`" if client_id else \
        "the system-assigned managed identity"
    try:
        token = _credential(client_id).get_token(SQL_SCOPE)
    except azure.identity.CredentialUnavailableError as exc:
        raise ConfigError(
            f"no managed identity is available here for {who} ({first_line(exc)}): run in "
            "Azure with an identity assigned to the pod or node, or use a SQL login or "
            "`authentication=ActiveDirectoryServicePrincipal`") from None
    except ClientAuthenticationError as exc:
        raise TransientError(f"getting an Azure SQL token for {who} failed: "
                             f"{first_line(exc)}") from None
    return AccessToken(token.token, int(token.expires_on))


def token_attribute(token: str) -> bytes:
    """The SQL_COPT_SS_ACCESS_TOKEN value: length-prefixed, each byte zero-padded."""
    data = token.encode("ascii")  # JWTs are base64url text
    expanded = bytes(b for byte in data for b in (byte, 0))
    return struct.pack("<I", len(expanded)) + expanded

