"""OAuth clients, three kinds, all stored in Postgres:

- confidential: made by `companion oauth add-client` for a GPT (secret shown once,
  stored as a SHA-256 digest; exact redirect URIs);
- dynamic: public clients registered through RFC 7591;
- metadata_document: a client whose `client_id` is an HTTPS URL of a JSON document naming
  its redirect URIs (Client ID Metadata Documents), fetched with a short timeout and a
  size cap, never from a private or loopback address when deployed, and kept for an hour.

`Client` answers the questions Authlib's grants ask of a client (its ClientMixin methods).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from companion import db
from companion.oauth import SCOPE
from companion.repositories import oauth as repository
from companion.repositories.oauth import StoredClient

DOCUMENT_TIMEOUT_SECONDS = 3.0
DOCUMENT_MAX_BYTES = 16 * 1024
DOCUMENT_CACHE = timedelta(hours=1)
MAX_REDIRECT_URIS = 10
MAX_CLIENT_NAME = 255
# Schemes a redirect must never use: they run code or read files in the browser.
FORBIDDEN_REDIRECT_SCHEMES = {"javascript", "data", "file", "vbscript", "about", "blob"}
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


class ClientMetadataError(ValueError):
    """Client metadata (a registration or a metadata document) that cannot be accepted."""


@dataclass(frozen=True)
class Client:
    client_id: str
    kind: str
    client_name: str
    redirect_uris: list[str]
    token_endpoint_auth_method: str
    client_secret_hash: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def is_public(self) -> bool:
        return self.client_secret_hash is None

    # Authlib's ClientMixin, by duck typing (this module does not import Authlib).
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # OAuth 2.1: the redirect URI is always sent and compared exactly.
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        if not scope:
            return SCOPE
        asked = set(scope.split())
        return SCOPE if asked <= {SCOPE} else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        if self.client_secret_hash is None:
            return False
        return hmac.compare_digest(self.client_secret_hash, digest(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.is_public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


def digest(secret: str) -> str:
    """How codes, refresh tokens and client secrets are stored: their SHA-256. They are
    random and long, so a fast hash is enough (no password to guess)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _from_row(row: StoredClient) -> Client:
    return Client(
        client_id=row.client_id,
        kind=row.kind,
        client_name=row.client_name,
        redirect_uris=list(row.redirect_uris),
        token_endpoint_auth_method=row.token_endpoint_auth_method,
        client_secret_hash=row.client_secret_hash,
        metadata=row.metadata or {},
    )


def find_client(client_id: str | None) -> Client | None:
    """The client with this id: a registered one, or a metadata document (fetched when
    not cached or stale). None when there is no such client or its document is unusable."""
    if not client_id or len(client_id) > 2048:
        return None
    row = db.run(lambda conn: repository.get_client(conn, client_id))
    if is_metadata_document_url(client_id):
        fresh = row is not None and row.refreshed_at > datetime.now(UTC) - DOCUMENT_CACHE
        if not fresh:
            try:
                document = fetch_metadata_document(client_id)
            except ClientMetadataError:
                return None
            row = db.run(lambda conn: repository.save_client(conn, **document), transaction=True)
    return _from_row(row) if row is not None else None


# --- redirect URIs and names ----------------------------------------------------------------


def check_redirect_uris(uris: Any) -> list[str]:
    if not isinstance(uris, list) or not uris or len(uris) > MAX_REDIRECT_URIS:
        raise ClientMetadataError(
            f"redirect_uris must list 1 to {MAX_REDIRECT_URIS} absolute URIs."
        )
    checked = []
    for uri in uris:
        if not isinstance(uri, str) or len(uri) > 2000:
            raise ClientMetadataError(
                "Each redirect URI must be a string of at most 2000 characters."
            )
        parts = urlsplit(uri)
        scheme = parts.scheme.lower()
        if not scheme or parts.fragment or scheme in FORBIDDEN_REDIRECT_SCHEMES:
            raise ClientMetadataError(f"'{uri}' is not an acceptable redirect URI.")
        if scheme == "http" and (parts.hostname or "") not in LOOPBACK_HOSTS:
            raise ClientMetadataError(
                f"'{uri}' must use https (plain http only to this device's loopback address)."
            )
        if scheme in ("http", "https") and not parts.hostname:
            raise ClientMetadataError(f"'{uri}' has no host.")
        checked.append(uri)
    return checked


def check_client_name(name: Any, fallback: str) -> str:
    if name is None:
        return fallback[:MAX_CLIENT_NAME]
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_CLIENT_NAME:
        raise ClientMetadataError(f"client_name must be 1 to {MAX_CLIENT_NAME} characters.")
    return name.strip()


# --- confidential clients (a command) and dynamic ones (RFC 7591) ---------------------------


def add_confidential_client(name: str, redirect_uris: list[str]) -> dict[str, str]:
    """A client for a GPT: returns its id and secret; only the secret's digest is kept."""
    client_id = "gpt-" + secrets.token_urlsafe(12)
    client_secret = secrets.token_urlsafe(32)
    db.run(
        lambda conn: repository.save_client(
            conn,
            client_id=client_id,
            kind="confidential",
            client_name=check_client_name(name, name),
            client_secret_hash=digest(client_secret),
            redirect_uris=check_redirect_uris(redirect_uris),
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method name
            metadata={},
        ),
        transaction=True,
    )
    return {"client_id": client_id, "client_secret": client_secret}


def list_clients() -> list[dict[str, Any]]:
    rows = db.run(lambda conn: repository.list_clients(conn))
    return [
        {
            "client_id": row.client_id,
            "kind": row.kind,
            "client_name": row.client_name,
            "redirect_uris": list(row.redirect_uris),
            "created_at": row.created_at.isoformat(),
        }
        for row in rows
    ]


def new_public_client_id() -> str:
    return "dyn-" + secrets.token_urlsafe(16)


def register_public_client(client_id: str, metadata: dict[str, Any]) -> Client:
    """Store a client registered through RFC 7591. Such clients are public: they
    authenticate with PKCE, never a secret, whatever authentication method they asked for
    (the registration response says which one was granted, as RFC 7591 §3.2.1 allows)."""
    row = db.run(
        lambda conn: repository.save_client(
            conn,
            client_id=client_id,
            kind="dynamic",
            client_name=check_client_name(metadata.get("client_name"), "An MCP client"),
            client_secret_hash=None,
            redirect_uris=check_redirect_uris(metadata.get("redirect_uris")),
            token_endpoint_auth_method="none",  # noqa: S106 - a method name
            metadata=metadata,
        ),
        transaction=True,
    )
    return _from_row(row)


# --- Client ID Metadata Documents -----------------------------------------------------------


def _deployed() -> bool:
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def is_metadata_document_url(client_id: str) -> bool:
    parts = urlsplit(client_id)
    if parts.scheme == "https":
        return bool(parts.hostname) and parts.path not in ("", "/")
    # Only on a developer's machine: a document served on this machine over plain http.
    return (
        not _deployed()
        and parts.scheme == "http"
        and (parts.hostname or "") in LOOPBACK_HOSTS
        and parts.path not in ("", "/")
    )


def _check_public_address(host: str, port: int) -> None:
    """Refuse hosts that resolve to addresses inside a network (SSRF), when deployed."""
    if not _deployed():
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, port)}
    except OSError as exc:
        raise ClientMetadataError(f"The client's host {host} cannot be resolved.") from exc
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            raise ClientMetadataError(f"The client's host {host} is not a public address.")


class _NoRedirects:
    """urllib handler that refuses redirects (one could lead to a private address)."""

    def __new__(cls):
        import urllib.request

        class Handler(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        return Handler()


def fetch_metadata_document(url: str) -> dict[str, Any]:
    """Fetch and check the client's metadata document; returns the client's columns."""
    import urllib.error
    import urllib.request

    parts = urlsplit(url)
    _check_public_address(parts.hostname or "", parts.port or 443)
    opener = urllib.request.build_opener(_NoRedirects())
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url, headers={"Accept": "application/json", "User-Agent": "course-companion"}
    )
    try:
        with opener.open(request, timeout=DOCUMENT_TIMEOUT_SECONDS) as response:
            if response.status != 200:
                raise ClientMetadataError(f"The client's document answered {response.status}.")
            body = response.read(DOCUMENT_MAX_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ClientMetadataError("The client's metadata document could not be fetched.") from exc
    if len(body) > DOCUMENT_MAX_BYTES:
        raise ClientMetadataError("The client's metadata document is too large.")
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise ClientMetadataError("The client's metadata document is not JSON.") from exc
    if not isinstance(document, dict) or document.get("client_id") != url:
        raise ClientMetadataError("The client's metadata document names another client_id.")
    method = document.get("token_endpoint_auth_method", "none")
    if method != "none" or "client_secret" in document:
        raise ClientMetadataError("A metadata-document client must be public (PKCE, no secret).")
    return {
        "client_id": url,
        "kind": "metadata_document",
        "client_name": check_client_name(document.get("client_name"), parts.hostname or url),
        "client_secret_hash": None,
        "redirect_uris": check_redirect_uris(document.get("redirect_uris")),
        "token_endpoint_auth_method": "none",
        "metadata": document,
    }
