"""The metadata documents (RFC 8414, RFC 9728), written once, from the API's base URL."""

from __future__ import annotations

from typing import Any

from companion.oauth import SCOPE
from companion.resources import mcp_resource, rest_resource

AUTHORIZE_PATH = "/oauth/authorize"
TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path, not a secret
REGISTER_PATH = "/oauth/register"
REVOKE_PATH = "/oauth/revoke"

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


def authorization_server(base: str) -> dict[str, Any]:
    """RFC 8414: what a client needs to sign a student in. The issuer is the base URL."""
    return {
        "issuer": base,
        "authorization_endpoint": base + AUTHORIZE_PATH,
        "token_endpoint": base + TOKEN_PATH,
        "registration_endpoint": base + REGISTER_PATH,
        "revocation_endpoint": base + REVOKE_PATH,
        "scopes_supported": [SCOPE],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "client_id_metadata_document_supported": True,
    }


def protected_resource(base: str, resource: str) -> dict[str, Any]:
    """RFC 9728: the resource (the REST API or the MCP server) and who signs in for it."""
    names = {
        rest_resource(base): "Course Companion API",
        mcp_resource(base): "Course Companion MCP server",
    }
    return {
        "resource": resource,
        "resource_name": names[resource],
        "authorization_servers": [base],
        "scopes_supported": [SCOPE],
        "bearer_methods_supported": ["header"],
    }
