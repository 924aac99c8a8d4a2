"""The OAuth 2.1 protocol, by Authlib's server parts, over our tables.

Authlib validates the requests and shapes the answers (RFC 6749 grants and errors, PKCE
RFC 7636, revocation RFC 7009, registration RFC 7591, the `iss` parameter RFC 9207); this
module tells it where clients, codes and tokens live (companion.oauth) and adapts it to a
Starlette request. Imported on the first protocol request only: Authlib costs ~0.2 s.
"""

from __future__ import annotations

import contextvars
import os
import time
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import JsonPayload, JsonRequest, OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749 import grants as rfc6749_grants
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint
from authlib.oauth2.rfc7591.errors import InvalidClientMetadataError
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9207 import IssuerParameter

from companion.oauth import SCOPE, clients, grants, metadata
from companion.repositories.oauth import ClaimedCode, ClaimedGrant
from companion.resources import mcp_resource, rest_resource

if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    # On a developer's machine the API is plain http on loopback; deployed, it is https.
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

# The base URL of the request being answered (the issuer and the resources derive from it).
current_base: contextvars.ContextVar[str] = contextvars.ContextVar("current_base")


class InvalidTargetError(OAuth2Error):
    """RFC 8707 §2: the requested resource is not one of ours."""

    error = "invalid_target"


@dataclass
class OAuthResponse:
    status: int
    body: Any
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def location(self) -> str | None:
        return next((v for k, v in self.headers if k.lower() == "location"), None)

    @location.setter
    def location(self, value: str) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != "location"]
        self.headers.append(("Location", value))


class _Parameters(OAuth2Payload):
    """Form or query parameters, keeping repeats (Authlib refuses a repeated one)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._datalist: dict[str, list[str]] = {}
        for name, value in pairs:
            self._datalist.setdefault(name, []).append(value)
        self._data = {name: values[0] for name, values in self._datalist.items()}

    @property
    def data(self):
        return self._data

    @property
    def datalist(self):
        return self._datalist


class ParametersRequest(OAuth2Request):
    def __init__(self, method: str, uri: str, headers, pairs: list[tuple[str, str]]) -> None:
        super().__init__(method, uri, headers=headers)
        self.payload = _Parameters(pairs)

    @property
    def args(self):
        return self.payload.data

    @property
    def form(self):
        return self.payload.data


class _Json(JsonPayload):
    def __init__(self, data: Any) -> None:
        self._data = data

    @property
    def data(self):
        return self._data


class BodyJsonRequest(JsonRequest):
    def __init__(self, method: str, uri: str, headers, data: Any) -> None:
        super().__init__(method, uri, headers=headers)
        self.payload = _Json(data)


def requested_resource(request: OAuth2Request) -> str:
    """RFC 8707: the resource a token is asked for; the REST API when none is named."""
    base = current_base.get()
    values = request.payload.datalist.get("resource") or []
    if len(values) > 1:
        raise InvalidTargetError("Ask for one resource at a time.")
    if not values:
        return rest_resource(base)
    resource = values[0].rstrip("/")
    if resource not in (rest_resource(base), mcp_resource(base)):
        raise InvalidTargetError(f"'{values[0]}' is not a resource of this server.")
    return resource


@dataclass(frozen=True)
class _IssuedCode:
    grant: ClaimedCode

    def get_redirect_uri(self) -> str:
        return self.grant.redirect_uri

    def get_scope(self) -> str:
        return self.grant.scope

    @property
    def code_challenge(self) -> str | None:
        return self.grant.code_challenge

    @property
    def code_challenge_method(self) -> str | None:
        return self.grant.code_challenge_method


@dataclass(frozen=True)
class _RefreshToken:
    grant: ClaimedGrant

    def check_client(self, client) -> bool:
        return self.grant.client_id == client.client_id

    def get_scope(self) -> str:
        return self.grant.scope


def _check_token_resource(request: OAuth2Request, granted_resource: str) -> None:
    """A token request may name the resource again, but only the one granted."""
    if request.payload.datalist.get("resource"):
        if requested_resource(request) != granted_resource:
            raise InvalidTargetError("The code or refresh token was issued for another resource.")


class AuthorizationCodeGrant(rfc6749_grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = metadata.CLIENT_AUTH_METHODS

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        grants.save_code(
            code,
            client=request.client,
            student_id=str(request.user["id"]),
            scope=request.scope or SCOPE,
            resource=requested_resource(request),
            redirect_uri=request.payload.redirect_uri,
            code_challenge=request.payload.data.get("code_challenge"),
            code_challenge_method=request.payload.data.get("code_challenge_method"),
        )

    def query_authorization_code(self, code: str, client) -> _IssuedCode | None:
        grant = grants.redeem_code(code)
        if grant is None or grant.client_id != client.client_id:
            return None
        return _IssuedCode(grant)

    def delete_authorization_code(self, authorization_code) -> None:
        """Nothing to do: a code is claimed (marked used) when it is redeemed."""

    def authenticate_user(self, authorization_code: _IssuedCode):
        return grants.granted_student(authorization_code.grant)

    def validate_token_request(self) -> None:
        super().validate_token_request()
        _check_token_resource(self.request, self.request.authorization_code.grant.resource)


class RefreshTokenGrant(rfc6749_grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = metadata.CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> _RefreshToken | None:
        grant = grants.redeem_refresh_token(refresh_token, self.request.client.client_id)
        return _RefreshToken(grant) if grant is not None else None

    def authenticate_user(self, refresh_token: _RefreshToken):
        return grants.granted_student(refresh_token.grant)

    def revoke_old_credential(self, refresh_token) -> None:
        """Nothing to do: the old refresh token was rotated out when it was redeemed."""

    def validate_token_request(self) -> None:
        super().validate_token_request()
        _check_token_resource(self.request, self.request.refresh_token.grant.resource)


class S256CodeChallenge(CodeChallenge):
    """PKCE with S256 only (OAuth 2.1); `plain` is refused."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]


@dataclass(frozen=True)
class _PresentedToken:
    value: str

    def check_client(self, client) -> bool:
        return True  # revoke_token only touches a family of the presenting client


class TokenRevocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = metadata.CLIENT_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None):
        return _PresentedToken(token_string)

    def revoke_token(self, token: _PresentedToken, request) -> None:
        # A refresh token revokes its whole family. Access tokens are short-lived JWTs
        # (at most 60 minutes) that nothing stores: RFC 7009 lets us answer 200 for them.
        grants.revoke_refresh_token(token.value, request.client.client_id)


class PublicClientRegistration(ClientRegistrationEndpoint):
    def authenticate_token(self, request):
        return True  # open registration (RFC 7591 §3), for public clients only

    def get_server_metadata(self) -> dict[str, Any]:
        return metadata.authorization_server(current_base.get())

    def extract_client_metadata(self, request) -> dict[str, Any]:
        data = request.payload.data
        if not isinstance(data, dict):
            raise InvalidClientMetadataError("The registration must be a JSON object.")
        # Registered clients are public: they prove themselves with PKCE, not a secret.
        request.payload = _Json({**data, "token_endpoint_auth_method": "none"})
        registered = super().extract_client_metadata(request)
        return {**registered, "token_endpoint_auth_method": "none"}

    def generate_client_info(self, request) -> dict[str, Any]:
        return {
            "client_id": clients.new_public_client_id(),
            "client_id_issued_at": int(time.time()),
        }

    def save_client(self, client_info, client_metadata, request):
        try:
            return clients.register_public_client(client_info["client_id"], client_metadata)
        except clients.ClientMetadataError as exc:
            raise InvalidClientMetadataError(str(exc)) from exc


class Issuer(IssuerParameter):
    def get_issuer(self) -> str:
        return current_base.get()


class CourseAuthorizationServer(AuthorizationServer):
    def query_client(self, client_id: str):
        return clients.find_client(client_id)

    def save_token(self, token, request) -> None:
        """Nothing to do: issue_tokens stores the refresh token as it makes it."""

    def send_signal(self, name, *args, **kwargs) -> None:
        pass

    def create_oauth2_request(self, request):
        return request

    def create_json_request(self, request):
        return request

    def handle_response(self, status, body, headers) -> OAuthResponse:
        return OAuthResponse(status, body, list(headers or []))


def _generate_token(grant_type, client, user=None, scope=None, expires_in=None, **_):
    return grants.issue_tokens(user)


def _build() -> CourseAuthorizationServer:
    server = CourseAuthorizationServer(scopes_supported=[SCOPE])
    server.register_token_generator("default", _generate_token)
    server.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True)])
    server.register_grant(RefreshTokenGrant)
    server.register_endpoint(TokenRevocation)
    server.register_endpoint(PublicClientRegistration)
    server.register_extension(Issuer())
    return server


server = _build()
