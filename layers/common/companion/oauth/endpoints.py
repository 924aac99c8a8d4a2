"""The authorization, token, revocation and registration endpoints: a Starlette request in,
Authlib's verdict out, shaped as the contract says (API.md, "Sign-in for chat apps")."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from companion import accounts
from companion.errors import EmailTaken, InvalidCredentials, RateLimited
from companion.oauth import csrf
from companion.oauth.metadata import AUTHORIZE_PATH
from companion.oauth.signin_page import AUTHORIZATION_PARAMETERS, error_page, sign_in_page
from companion.resources import base_url

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _server():
    from companion.oauth import protocol  # Authlib: loaded by the first protocol request

    return protocol


async def _form_pairs(request: Request) -> list[tuple[str, str]]:
    body = (await request.body()).decode("utf-8", errors="replace")
    return parse_qsl(body, keep_blank_values=True)


def _oauth_request(request: Request, pairs: list[tuple[str, str]]):
    oauth = _server()
    oauth.current_base.set(base_url(request))
    return oauth.ParametersRequest(request.method, str(request.url), request.headers, pairs)


def _to_response(result) -> Response:
    """Authlib's (status, body, headers) as a Starlette response."""
    headers = dict(result.headers)
    if result.status in (301, 302, 303, 307):
        return RedirectResponse(result.location, status_code=302, headers=headers)
    if isinstance(result.body, dict | list):
        return JSONResponse(result.body, status_code=result.status, headers=headers)
    return Response(result.body or "", status_code=result.status, headers=headers)


# --- the authorization endpoint (the sign-in page) ------------------------------------------


def _validated_grant(oauth_request):
    """Authlib's checks of the authorization request, and OAuth 2.1's on top: PKCE S256 is
    required of public clients, and the resource must be ours."""
    from authlib.oauth2.rfc6749.errors import InvalidRequestError

    oauth = _server()
    grant = oauth.server.get_consent_grant(request=oauth_request)
    data = oauth_request.payload.data
    try:
        if grant.client.is_public and not data.get("code_challenge"):
            raise InvalidRequestError("This app must use PKCE (code_challenge, S256).")
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        oauth.requested_resource(oauth_request)
    except oauth.OAuth2Error as error:
        error.redirect_uri = grant.redirect_uri or data.get("redirect_uri")
        error.state = data.get("state")
        raise
    return grant


def _refusal(error, request: Request) -> Response:
    """An invalid authorization request: back to the client when its redirect URI is known
    good (with `state` and `iss`), else a page that says what is wrong and goes nowhere."""
    if error.redirect_uri:
        oauth = _server()
        location = oauth.server.handle_error_response(None, error)
        extension = oauth.Issuer()
        extension.add_issuer_parameter(oauth.server, location)
        return RedirectResponse(location.location, status_code=302, headers=PAGE_HEADERS)
    reason = error.description or error.error
    if error.error == "invalid_client":
        reason = "The app that sent you here is not registered with Course Companion."
    return HTMLResponse(error_page(reason), status_code=400, headers=PAGE_HEADERS)


def _page(
    request: Request,
    grant,
    parameters: dict[str, str],
    *,
    status: int = 200,
    error: str | None = None,
    email: str = "",
    registering: bool = False,
    headers: dict[str, str] | None = None,
) -> Response:
    cookie_value, form_token = csrf.new_token()
    page = sign_in_page(
        action=base_url(request) + AUTHORIZE_PATH,
        client_name=grant.client.client_name,
        parameters=parameters,
        csrf_token=form_token,
        error=error,
        email=email,
        registering=registering,
    )
    response = HTMLResponse(page, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})
    response.set_cookie(
        csrf.COOKIE_NAME,
        cookie_value,
        max_age=csrf.MAX_AGE_SECONDS,
        path=AUTHORIZE_PATH,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )
    return response


async def show_sign_in(request: Request) -> Response:
    pairs = list(request.query_params.multi_items())
    oauth_request = _oauth_request(request, pairs)
    try:
        grant = _validated_grant(oauth_request)
    except _server().OAuth2Error as error:
        return _refusal(error, request)
    return _page(request, grant, dict(pairs))


async def submit_sign_in(request: Request) -> Response:
    form = await _form_pairs(request)
    fields = dict(form)
    parameters = [(name, value) for name, value in form if name in AUTHORIZATION_PARAMETERS]
    oauth_request = _oauth_request(request, parameters)
    oauth = _server()
    try:
        grant = _validated_grant(oauth_request)
    except oauth.OAuth2Error as error:
        return _refusal(error, request)
    shown = dict(parameters)
    if not csrf.is_valid(request.cookies.get(csrf.COOKIE_NAME), fields.get("csrf_token")):
        return _page(
            request,
            grant,
            shown,
            status=400,
            error="This page was open too long or came from elsewhere. Please try again.",
        )
    action = fields.get("action")
    if action == "deny":
        return _to_response(oauth.server.create_authorization_response(oauth_request, None, grant))
    email = accounts.normalise_email(fields.get("email", ""))
    password = fields.get("password", "")
    registering = action == "register"
    try:
        if registering:
            student = _register(fields, request.client.host if request.client else None)
        else:
            found = accounts.authenticate(email, password, request.client.host)
            student = {"id": str(found.id), "email": found.email}
    except InvalidCredentials as exc:
        return _page(request, grant, shown, status=401, error=exc.detail, email=email)
    except RateLimited as exc:
        return _page(
            request, grant, shown, status=429, error=exc.detail, email=email, headers=exc.headers
        )
    except (EmailTaken, _RegistrationRefused) as exc:
        return _page(
            request,
            grant,
            shown,
            status=exc.status_code,
            error=exc.detail,
            email=email,
            registering=True,
        )
    response = oauth.server.create_authorization_response(oauth_request, student, grant)
    return _to_response(response)


class _RegistrationRefused(Exception):
    status_code = 422

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _register(fields: dict[str, str], client_address: str | None) -> dict[str, Any]:
    """Create the account on the spot, with the same rules as POST /auth/register."""
    from pydantic import ValidationError

    try:
        body = accounts.RegisterBody(
            email=fields.get("email", ""),
            password=fields.get("password", ""),
            full_name=fields.get("full_name") or None,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = {"email": "E-mail", "password": "Password", "full_name": "Name"}.get(
            str(first["loc"][0]) if first.get("loc") else "", "A field"
        )
        message = str(first.get("msg", "is not valid")).removeprefix("Value error, ")
        raise _RegistrationRefused(f"{field}: {message}.") from exc
    registered = accounts.register(body, client_address)
    return {"id": registered["user_id"], "email": registered["email"]}


# --- token, revocation, registration --------------------------------------------------------


def _client_auth_errors(response, request: Request) -> Response:
    """RFC 6749 §5.2 as the contract says: a failed client authentication is 401, and
    names Basic in WWW-Authenticate only when the client used Basic."""
    result = _to_response(response)
    body = response.body if isinstance(response.body, dict) else {}
    if body.get("error") == "invalid_client":
        result.status_code = 401
        used_basic = request.headers.get("authorization", "").lower().startswith("basic ")
        if "www-authenticate" in result.headers and not used_basic:
            del result.headers["www-authenticate"]
        if used_basic and "www-authenticate" not in result.headers:
            result.headers["WWW-Authenticate"] = 'Basic realm="Course Companion"'
    result.headers["Cache-Control"] = "no-store"
    result.headers["Pragma"] = "no-cache"
    return result


async def token(request: Request) -> Response:
    oauth_request = _oauth_request(request, await _form_pairs(request))
    return _client_auth_errors(_server().server.create_token_response(oauth_request), request)


async def revoke(request: Request) -> Response:
    oauth_request = _oauth_request(request, await _form_pairs(request))
    response = _server().server.create_endpoint_response("revocation", oauth_request)
    return _client_auth_errors(response, request)


async def register_client(request: Request) -> Response:
    oauth = _server()
    oauth.current_base.set(base_url(request))
    try:
        data = json.loads(await request.body() or b"null")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return JSONResponse(
            {
                "error": "invalid_client_metadata",
                "error_description": "The registration must be a JSON object.",
            },
            status_code=400,
        )
    json_request = oauth.BodyJsonRequest(request.method, str(request.url), request.headers, data)
    response = oauth.server.create_endpoint_response("client_registration", json_request)
    result = _to_response(response)
    result.headers["Cache-Control"] = "no-store"
    return result
