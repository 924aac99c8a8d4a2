"""OAuthFunction: sign-in for chat apps. The API is its own OAuth 2.1 authorization server
over the students table: metadata, the sign-in page, tokens, revocation, registration."""

from fastapi import Request

from companion.oauth import endpoints, metadata
from companion.resources import base_url, mcp_resource, rest_resource
from companion.web import create_app, lambda_handler

app = create_app(
    "Course Companion - sign-in",
    "Sign a student in to a chat app (OAuth 2.1 authorization code with PKCE).",
    json_bodies=False,
)


@app.get("/.well-known/oauth-authorization-server", include_in_schema=False)
async def authorization_server_metadata(request: Request):
    return metadata.authorization_server(base_url(request))


@app.get("/.well-known/oauth-protected-resource", include_in_schema=False)
async def rest_resource_metadata(request: Request):
    base = base_url(request)
    return metadata.protected_resource(base, rest_resource(base))


@app.get("/.well-known/oauth-protected-resource/mcp", include_in_schema=False)
async def mcp_resource_metadata(request: Request):
    base = base_url(request)
    return metadata.protected_resource(base, mcp_resource(base))


@app.get(metadata.AUTHORIZE_PATH, include_in_schema=False)
async def sign_in_page(request: Request):
    return await endpoints.show_sign_in(request)


@app.post(metadata.AUTHORIZE_PATH, include_in_schema=False)
async def sign_in(request: Request):
    return await endpoints.submit_sign_in(request)


@app.post(metadata.TOKEN_PATH, include_in_schema=False)
async def token(request: Request):
    return await endpoints.token(request)


@app.post(metadata.REVOKE_PATH, include_in_schema=False)
async def revoke(request: Request):
    return await endpoints.revoke(request)


@app.post(metadata.REGISTER_PATH, include_in_schema=False)
async def register_client(request: Request):
    return await endpoints.register_client(request)


handler = lambda_handler(app)
