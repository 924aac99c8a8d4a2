"""Sign-in for chat apps with clients nobody here wrote, over HTTP through the local gateway:
Authlib's OAuth 2 client runs each flow, and a real headless Chromium (Debian's package,
driven by Playwright) fills the sign-in page. The client's callback is intercepted in the
browser, so nothing leaves this machine (DESIGN.md: no packet beyond 127.0.0.1)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import CHROMIUM, PASSWORD

from companion.oauth import clients
from companion_dev.services import free_port

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")

GPT_CALLBACK = "https://chat.openai.com/aip/g-test/oauth/callback"
# A desktop app's loopback callback: a port nothing listens on (the browser's route answers).
APP_CALLBACK = f"http://127.0.0.1:{free_port()}/callback"
SCREENSHOTS = Path(os.environ.get("SIGNIN_SCREENSHOTS", ".companion/test/screenshots"))


def register_student(gateway_url) -> str:
    """A new student, registered over HTTP (Playwright's loop owns this thread, so the
    in-process client cannot run here)."""
    import uuid

    import httpx

    email = f"student-{uuid.uuid4().hex[:12]}@example.com"
    registered = httpx.post(
        f"{gateway_url}/auth/register", json={"email": email, "password": PASSWORD}
    )
    assert registered.status_code == 201, registered.text
    return email


def metadata(gateway_url):
    import httpx

    return httpx.get(f"{gateway_url}/.well-known/oauth-authorization-server").json()


def sign_in_in_browser(
    browser, authorize_url: str, callback: str, email: str, password: str, *, width=1280
):
    """Open the sign-in page, fill it as a student would, and return (the URL the page
    sent the browser back to, the page's last response status, the page)."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    arrived: list[str] = []

    catch_callback(page, callback, arrived)
    page.goto(authorize_url)
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    submit(page, "Sign in and allow")
    return arrived, page, context


def catch_callback(page, callback: str, arrived: list[str]) -> None:
    """Record the browser's visit to the client's callback and answer it here. Chromium may
    try a redirect's target before the route sees it (the host resolver sends that try to a
    closed loopback port), so the request itself is recorded too."""

    def record(request) -> None:
        if request.url.startswith(callback) and request.url not in arrived:
            arrived.append(request.url)

    page.on("request", record)
    page.route(
        callback + "**",
        lambda route: route.fulfill(status=200, content_type="text/plain", body="back"),
    )


def submit(page, button: str) -> None:
    """Press a submit button and wait for what it loads (the page again, or the client's
    callback, which may fail to load: it is not on this machine)."""
    from playwright.sync_api import Error

    try:
        with page.expect_navigation():
            page.get_by_role("button", name=button).click()
    except Error as exc:
        if "ERR_CONNECTION_REFUSED" not in str(exc):
            raise


def public_client_signs_in(browser, server: dict, client_id: str, email: str):
    """A public client's whole flow with Authlib's client: PKCE S256, the student signs in
    on the real page, the code is exchanged. Returns the client (to be closed) and token."""
    from authlib.common.security import generate_token
    from authlib.integrations.httpx_client import OAuth2Client

    verifier = generate_token(64)
    client = OAuth2Client(
        client_id,
        token_endpoint_auth_method="none",
        redirect_uri=APP_CALLBACK,
        scope="course",
        code_challenge_method="S256",
    )
    url, state = client.create_authorization_url(
        server["authorization_endpoint"], code_verifier=verifier
    )
    arrived, _page, context = sign_in_in_browser(browser, url, APP_CALLBACK, email, PASSWORD)
    context.close()
    assert len(arrived) == 1, arrived
    token = client.fetch_token(
        server["token_endpoint"],
        authorization_response=arrived[0],
        state=state,
        code_verifier=verifier,
    )
    return client, token


def test_gpt_flow_with_client_secret_basic_and_post(browser, gateway_url):
    from authlib.integrations.httpx_client import OAuth2Client

    email = register_student(gateway_url)
    server = metadata(gateway_url)
    gpt = clients.add_confidential_client("Class GPT", [GPT_CALLBACK])
    for method in ("client_secret_basic", "client_secret_post"):
        with OAuth2Client(
            gpt["client_id"],
            gpt["client_secret"],
            token_endpoint_auth_method=method,
            redirect_uri=GPT_CALLBACK,
            scope="course",
        ) as client:
            url, state = client.create_authorization_url(server["authorization_endpoint"])
            arrived, _page, context = sign_in_in_browser(
                browser, url, GPT_CALLBACK, email, PASSWORD
            )
            context.close()
            assert len(arrived) == 1, arrived
            returned = parse_qs(urlsplit(arrived[0]).query)
            assert returned["iss"] == [server["issuer"]]
            token = client.fetch_token(
                server["token_endpoint"], authorization_response=arrived[0], state=state
            )
            me = client.get(f"{gateway_url}/v1/me")
            assert me.status_code == 200 and me.json()["email"] == email

            refreshed = client.refresh_token(server["token_endpoint"])
            assert refreshed["refresh_token"] != token["refresh_token"]
            assert client.get(f"{gateway_url}/v1/progress").status_code == 200


def test_public_client_registers_and_signs_in_with_pkce(browser, gateway_url):
    import httpx

    email = register_student(gateway_url)
    server = metadata(gateway_url)
    registered = httpx.post(
        server["registration_endpoint"],
        json={"client_name": "Study Desk", "redirect_uris": [APP_CALLBACK]},
    )
    assert registered.status_code == 201, registered.text
    client, token = public_client_signs_in(browser, server, registered.json()["client_id"], email)
    with contextlib.closing(client):
        assert client.get(f"{gateway_url}/v1/streak").status_code == 200
        client.revoke_token(server["revocation_endpoint"], token["refresh_token"])
        with pytest.raises(Exception, match="invalid_grant"):
            client.refresh_token(server["token_endpoint"], refresh_token=token["refresh_token"])


def test_wrong_password_is_shown_on_the_page(browser, gateway_url):
    from authlib.integrations.httpx_client import OAuth2Client

    email = register_student(gateway_url)
    server = metadata(gateway_url)
    gpt = clients.add_confidential_client("Class GPT", [GPT_CALLBACK])
    with OAuth2Client(gpt["client_id"], gpt["client_secret"], redirect_uri=GPT_CALLBACK) as client:
        url, _state = client.create_authorization_url(server["authorization_endpoint"])
    arrived, page, context = sign_in_in_browser(
        browser, url, GPT_CALLBACK, email, "not my password"
    )
    assert arrived == []
    assert "not correct" in page.get_by_role("alert").inner_text()
    # The student can try again on the same page, without going back to the app.
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    submit(page, "Sign in and allow")
    context.close()
    assert len(arrived) == 1 and "code=" in arrived[0]


def test_create_an_account_in_the_browser(browser, gateway_url):
    import uuid

    from authlib.integrations.httpx_client import OAuth2Client

    server = metadata(gateway_url)
    gpt = clients.add_confidential_client("Class GPT", [GPT_CALLBACK])
    with OAuth2Client(gpt["client_id"], gpt["client_secret"], redirect_uri=GPT_CALLBACK) as client:
        url, state = client.create_authorization_url(server["authorization_endpoint"])
        context = browser.new_context(viewport={"width": 360, "height": 800})
        page = context.new_page()
        arrived: list[str] = []
        catch_callback(page, GPT_CALLBACK, arrived)
        page.goto(url)
        page.get_by_text("New here? Create an account").click()
        page.get_by_label("Your name").fill("Ada")
        page.locator("#new-email").fill(f"ada-{uuid.uuid4().hex[:8]}@example.com")
        page.locator("#new-password").fill(PASSWORD)
        submit(page, "Create account and allow")
        context.close()
        assert len(arrived) == 1
        client.fetch_token(server["token_endpoint"], authorization_response=arrived[0], state=state)
        assert client.get(f"{gateway_url}/v1/me").json()["full_name"] == "Ada"


@pytest.mark.parametrize("width", [320, 1280])
def test_page_fits_a_phone_and_a_desktop(browser, gateway_url, width):
    from authlib.integrations.httpx_client import OAuth2Client

    server = metadata(gateway_url)
    gpt = clients.add_confidential_client("Class GPT", [GPT_CALLBACK])
    with OAuth2Client(gpt["client_id"], gpt["client_secret"], redirect_uri=GPT_CALLBACK) as client:
        url, _state = client.create_authorization_url(server["authorization_endpoint"])
    context = browser.new_context(viewport={"width": width, "height": 720})
    page = context.new_page()
    page.goto(url)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for control in ("E-mail", "Password"):
        box = page.get_by_label(control, exact=True).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    assert page.get_by_role("button", name="Sign in and allow").is_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"signin-{width}.png"), full_page=True)
    context.close()


def test_client_id_metadata_document_client_signs_in(
    browser, gateway_url, metadata_document_server
):
    import json
    import secrets

    email = register_student(gateway_url)
    server = metadata(gateway_url)
    assert server["client_id_metadata_document_supported"] is True
    base, documents = metadata_document_server
    client_id = f"{base}/clients/{secrets.token_hex(4)}.json"
    documents[client_id[len(base) :]] = json.dumps(
        {"client_id": client_id, "client_name": "Doc Desk", "redirect_uris": [APP_CALLBACK]}
    ).encode()
    client, _token = public_client_signs_in(browser, server, client_id, email)
    with contextlib.closing(client):
        assert client.get(f"{gateway_url}/v1/me").json()["email"] == email
