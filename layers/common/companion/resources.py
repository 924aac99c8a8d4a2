"""The two protected resources (RFC 8707, RFC 9728) and where each one is described.

The REST API's resource identifier is the API's base URL (also the authorization server's
issuer); the MCP server's is `<base>/mcp`. A token carries the resource it was issued for
as its `aud`, and each resource accepts only its own.
"""

from __future__ import annotations

from companion.settings import get_settings

MCP_PATH = "/mcp"
PROTECTED_RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource"
AUTHORIZATION_SERVER_METADATA_PATH = "/.well-known/oauth-authorization-server"


def base_url(request) -> str:
    """The API's public base URL: PUBLIC_BASE_URL when set, else the URL the request came
    in on (API Gateway sends the host and `x-forwarded-proto`)."""
    configured = get_settings().public_base_url
    if configured:
        return configured.rstrip("/")
    return str(request.base_url).rstrip("/")


def rest_resource(base: str) -> str:
    return base


def mcp_resource(base: str) -> str:
    return base + MCP_PATH


def resource_for_path(base: str, path: str) -> str:
    """The resource a request path belongs to."""
    if path == MCP_PATH or path.startswith(MCP_PATH + "/"):
        return mcp_resource(base)
    return rest_resource(base)


def resource_metadata_url(base: str, resource: str) -> str:
    """RFC 9728 §3.1: the well-known path goes between the host and the resource's path."""
    return base + PROTECTED_RESOURCE_METADATA_PATH + resource[len(base) :]


def bearer_challenge(base: str, path: str) -> str:
    """The `WWW-Authenticate` value of a 401 on `path`: where to learn how to sign in."""
    metadata = resource_metadata_url(base, resource_for_path(base, path))
    return f'Bearer resource_metadata="{metadata}"'
