"""Sign-in for chat apps (OAuth 2.1), driven through OAuthFunction's real handler with API
Gateway events: metadata, the three kinds of client, the sign-in page's rules, codes,
tokens, rotation, revocation, and what /v1 and the export make of them.

The same flows run with an OAuth client library and a real browser over HTTP in
test_oauth_clients.py; here each protocol rule is pinned one by one."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from api import Api

from companion.oauth import clients
from companion_dev.cli import main as companion

BASE = "http://localhost"
GPT_CALLBACK = "https://chat.openai.com/aip/g-test/oauth/callback"
APP_CALLBACK = "http://127.0.0.1:8765/callback"
PASSWORD = "correct horse battery"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def form(fields: dict, headers: dict | None = None) -> dict:
    return {
        "raw_body": urlencode(fields),
        "headers": {"content-type": "application/x-www-form-urlencoded", **(headers or {})},
    }


def basic(client_id: str, secret: str) -> dict:
    return {"authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def hidden_fields(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))


def cookie_of(response) -> str:
    cookies = response.raw.get("cookies") or []
    return next(c.split(";")[0] for c in cookies if c.startswith("companion_signin="))


def open_sign_in(query: dict):
    page = Api().get("/oauth/authorize", query=query)
    return page


def sign_in(query: dict, email: str, password: str = PASSWORD, action: str = "sign_in", **extra):
    page = open_sign_in(query)
    assert page.status == 200, page.body
    fields = {**hidden_fields(page.body), "action": action, "email": email, "password": password}
    fields.update(extra)
    # Hidden fields repeat in each of the page's forms; one copy is what a browser sends.
    return Api().post("/oauth/authorize", **form(fields, {"cookie": cookie_of(page)}))


def code_from(response) -> dict[str, str]:
    assert response.status == 302, response.body
    location = response.headers["location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@pytest.fixture
def gpt_client(stack):
    return clients.add_confidential_client("Course GPT", [GPT_CALLBACK])


@pytest.fixture
def public_client(stack):
    registered = Api().post(
        "/oauth/register",
        {
            "client_name": "Desk app",
            "redirect_uris": [APP_CALLBACK],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
        },
    )
    assert registered.status == 201, registered.body
    return registered.body


@pytest.fixture
def student(new_student):
    return new_student()


def gpt_query(client, **extra):
    return {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": GPT_CALLBACK,
        "state": "gpt-state-1",
        "scope": "course",
        **extra,
    }


def public_query(client, challenge, **extra):
    return {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": APP_CALLBACK,
        "state": "app-state",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


def public_code_fields(client_id: str, code: str, verifier: str) -> dict:
    """A public client's token request for a code (PKCE, no secret)."""
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": APP_CALLBACK,
        "client_id": client_id,
        "code_verifier": verifier,
    }


def exchange(fields: dict, headers: dict | None = None):
    return Api().post("/oauth/token", **form(fields, headers))


# --- metadata -------------------------------------------------------------------------------


def test_authorization_server_metadata_names_every_endpoint(stack):
    metadata = Api().get("/.well-known/oauth-authorization-server").body
    assert metadata["issuer"] == BASE
    assert metadata["authorization_endpoint"] == BASE + "/oauth/authorize"
    assert metadata["token_endpoint"] == BASE + "/oauth/token"
    assert metadata["registration_endpoint"] == BASE + "/oauth/register"
    assert metadata["revocation_endpoint"] == BASE + "/oauth/revoke"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert metadata["client_id_metadata_document_supported"] is True
    assert set(metadata["token_endpoint_auth_methods_supported"]) == {
        "none",
        "client_secret_post",
        "client_secret_basic",
    }


def test_each_resource_describes_itself(stack):
    rest = Api().get("/.well-known/oauth-protected-resource").body
    mcp = Api().get("/.well-known/oauth-protected-resource/mcp").body
    assert rest["resource"] == BASE and mcp["resource"] == BASE + "/mcp"
    for document in (rest, mcp):
        assert document["authorization_servers"] == [BASE]
        assert document["bearer_methods_supported"] == ["header"]
        assert document["scopes_supported"] == ["course"]


def test_a_401_points_at_the_resource_metadata(stack):
    response = Api().get("/v1/progress")
    assert response.status == 401
    assert response.headers["www-authenticate"] == (
        f'Bearer resource_metadata="{BASE}/.well-known/oauth-protected-resource"'
    )


# --- the command for a GPT's client ---------------------------------------------------------


def test_add_client_prints_id_and_secret_once_and_stores_only_a_digest(stack, sql, capsys):
    assert (
        companion(["oauth", "add-client", "--name", "Class GPT", "--redirect-uri", GPT_CALLBACK])
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {"client_id", "client_secret"}
    assert re.fullmatch(r"[A-Za-z0-9_-]+", printed["client_id"] + printed["client_secret"])
    row = sql("SELECT * FROM oauth_clients WHERE client_id = %s", (printed["client_id"],))[0]
    assert (
        row["client_secret_hash"] == hashlib.sha256(printed["client_secret"].encode()).hexdigest()
    )
    assert printed["client_secret"] not in json.dumps(row, default=str)
    assert companion(["oauth", "list-clients"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert any(c["client_id"] == printed["client_id"] for c in listed)
    assert printed["client_secret"] not in json.dumps(listed)


# --- a GPT: confidential client, no PKCE ----------------------------------------------------


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_gpt_signs_a_student_in_and_the_token_works_on_v1(gpt_client, student, method):
    redirect = sign_in(gpt_query(gpt_client), student.email)
    params = code_from(redirect)
    assert params["state"] == "gpt-state-1" and params["iss"] == BASE
    assert redirect.headers["location"].startswith(GPT_CALLBACK + "?")
    fields = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": GPT_CALLBACK,
    }
    if method == "client_secret_basic":
        tokens = exchange(fields, basic(gpt_client["client_id"], gpt_client["client_secret"]))
    else:
        fields.update(client_id=gpt_client["client_id"], client_secret=gpt_client["client_secret"])
        tokens = exchange(fields)
    assert tokens.status == 200, tokens.body
    assert tokens.headers["cache-control"] == "no-store"
    body = tokens.body
    assert body["token_type"] == "Bearer" and body["scope"] == "course"
    assert 0 < body["expires_in"] <= 3600 and body["refresh_token"]
    me = Api(body["access_token"]).get("/v1/me")
    assert me.status == 200 and me["email"] == student.email
    # A token for the REST API is refused by the MCP server's audience check.
    import jwt

    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["aud"] == BASE


def test_wrong_client_secret_is_401_invalid_client(gpt_client, student):
    params = code_from(sign_in(gpt_query(gpt_client), student.email))
    fields = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": GPT_CALLBACK,
    }
    by_basic = exchange(fields, basic(gpt_client["client_id"], "not-the-secret"))
    assert by_basic.status == 401 and by_basic["error"] == "invalid_client"
    assert by_basic.headers["www-authenticate"].startswith("Basic")
    by_post = exchange(
        {**fields, "client_id": gpt_client["client_id"], "client_secret": "not-the-secret"}
    )
    assert by_post.status == 401 and by_post["error"] == "invalid_client"
    assert "www-authenticate" not in by_post.headers
    # A confidential client cannot pass as a public one by leaving its secret out.
    as_public = exchange({**fields, "client_id": gpt_client["client_id"]})
    assert as_public.status == 401 and as_public["error"] == "invalid_client"


def test_unregistered_redirect_uri_is_a_400_page_and_never_redirects(gpt_client):
    page = open_sign_in(gpt_query(gpt_client, redirect_uri="https://evil.example/cb"))
    assert page.status == 400
    assert "location" not in page.headers
    assert "does not work" in page.body


def test_unknown_client_is_a_400_page(stack):
    page = open_sign_in(
        {"response_type": "code", "client_id": "nobody", "redirect_uri": GPT_CALLBACK, "state": "x"}
    )
    assert page.status == 400 and "not registered" in page.body


def test_page_is_private_unframeable_and_names_the_client(gpt_client):
    page = open_sign_in(gpt_query(gpt_client))
    assert page.status == 200
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "Course GPT" in page.body
    assert 'name="csrf_token"' in page.body
    assert re.search(r'<label for="email">', page.body)
    assert re.search(r'<label for="password">', page.body)


def test_post_without_the_csrf_cookie_is_refused(gpt_client, student):
    page = open_sign_in(gpt_query(gpt_client))
    fields = {
        **hidden_fields(page.body),
        "action": "sign_in",
        "email": student.email,
        "password": PASSWORD,
    }
    refused = Api().post("/oauth/authorize", **form(fields))
    assert refused.status == 400 and "location" not in refused.headers


def test_wrong_password_is_said_on_the_page(gpt_client, student):
    response = sign_in(gpt_query(gpt_client), student.email, "wrong password!")
    assert response.status == 401
    assert "location" not in response.headers
    assert "not correct" in response.body


def test_deny_returns_access_denied_to_the_client(gpt_client, student):
    response = sign_in(gpt_query(gpt_client), student.email, action="deny")
    params = code_from(response)
    assert params["error"] == "access_denied" and params["state"] == "gpt-state-1"
    assert params["iss"] == BASE


def test_create_an_account_on_the_page(gpt_client, sql):
    email = f"new-{secrets.token_hex(4)}@example.com"
    response = sign_in(gpt_query(gpt_client), email, action="register", full_name="Grace")
    params = code_from(response)
    assert params["code"]
    assert (
        sql("SELECT full_name FROM students WHERE email = %s", (email,))[0]["full_name"] == "Grace"
    )
    short = sign_in(gpt_query(gpt_client), f"x{email}", password="short", action="register")
    assert short.status == 422 and "8 characters" in short.body


# --- public clients: DCR and PKCE -----------------------------------------------------------


def test_registration_makes_a_public_client(public_client):
    assert public_client["client_id"].startswith("dyn-")
    assert public_client["token_endpoint_auth_method"] == "none"
    assert "client_secret" not in public_client
    assert public_client["redirect_uris"] == [APP_CALLBACK]


def test_registration_refuses_unsafe_redirects(stack):
    for uri in ("http://example.com/cb", "javascript:alert(1)", "https://ok.example/cb#frag"):
        refused = Api().post("/oauth/register", {"redirect_uris": [uri]})
        assert refused.status == 400, uri
        assert (
            refused["error"] == "invalid_client_metadata"
            or refused["error"] == "invalid_redirect_uri"
        )


def test_public_client_needs_pkce(public_client, student):
    query = public_query(public_client, "x")
    del query["code_challenge"], query["code_challenge_method"]
    refused = open_sign_in(query)
    params = code_from(refused)
    assert params["error"] == "invalid_request" and params["state"] == "app-state"
    plain = open_sign_in(public_query(public_client, "a" * 43, code_challenge_method="plain"))
    assert code_from(plain)["error"] == "invalid_request"


def test_public_client_flow_with_pkce_and_wrong_verifier(public_client, student):
    verifier, challenge = pkce()
    params = code_from(sign_in(public_query(public_client, challenge), student.email))
    base = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": APP_CALLBACK,
        "client_id": public_client["client_id"],
    }
    wrong = exchange({**base, "code_verifier": pkce()[0]})
    assert wrong.status == 400 and wrong["error"] == "invalid_grant"
    # The code was spent by the failed try: it never works again.
    again = exchange({**base, "code_verifier": verifier})
    assert again.status == 400 and again["error"] == "invalid_grant"

    params = code_from(sign_in(public_query(public_client, challenge), student.email))
    good = exchange({**base, "code": params["code"], "code_verifier": verifier})
    assert good.status == 200, good.body
    assert Api(good["access_token"]).get("/v1/progress").status == 200


def test_code_replay_revokes_what_the_first_use_issued(public_client, student):
    verifier, challenge = pkce()
    params = code_from(sign_in(public_query(public_client, challenge), student.email))
    fields = public_code_fields(public_client["client_id"], params["code"], verifier)
    first = exchange(fields)
    assert first.status == 200
    replay = exchange(fields)
    assert replay.status == 400 and replay["error"] == "invalid_grant"
    refreshed = exchange(
        {
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": public_client["client_id"],
        }
    )
    assert refreshed.status == 400 and refreshed["error"] == "invalid_grant"


def test_code_is_bound_to_its_redirect_uri_and_client(public_client, gpt_client, student):
    verifier, challenge = pkce()
    params = code_from(sign_in(public_query(public_client, challenge), student.email))
    other_redirect = exchange(
        {
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": "http://127.0.0.1:9999/other",
            "client_id": public_client["client_id"],
            "code_verifier": verifier,
        }
    )
    assert other_redirect.status == 400 and other_redirect["error"] == "invalid_grant"


def test_expired_code_is_invalid(public_client, student, sql):
    verifier, challenge = pkce()
    params = code_from(sign_in(public_query(public_client, challenge), student.email))
    sql("UPDATE oauth_codes SET expires_at = now() - interval '1 second'")
    expired = exchange(public_code_fields(public_client["client_id"], params["code"], verifier))
    assert expired.status == 400 and expired["error"] == "invalid_grant"


def tokens_for(public_client, student, **query_extra):
    verifier, challenge = pkce()
    params = code_from(
        sign_in(public_query(public_client, challenge, **query_extra), student.email)
    )
    fields = public_code_fields(public_client["client_id"], params["code"], verifier)
    if "resource" in query_extra:
        fields["resource"] = query_extra["resource"]
    tokens = exchange(fields)
    assert tokens.status == 200, tokens.body
    return tokens.body


def test_refresh_rotates_and_reuse_revokes_the_family(public_client, student):
    first = tokens_for(public_client, student)
    refresh = {"grant_type": "refresh_token", "client_id": public_client["client_id"]}
    second = exchange({**refresh, "refresh_token": first["refresh_token"]})
    assert second.status == 200
    assert second["refresh_token"] != first["refresh_token"]
    assert Api(second["access_token"]).get("/v1/me").status == 200
    reused = exchange({**refresh, "refresh_token": first["refresh_token"]})
    assert reused.status == 400 and reused["error"] == "invalid_grant"
    # The whole family is gone, the newest refresh token too.
    newest = exchange({**refresh, "refresh_token": second["refresh_token"]})
    assert newest.status == 400 and newest["error"] == "invalid_grant"


def test_refresh_token_of_another_client_is_refused(public_client, gpt_client, student):
    first = tokens_for(public_client, student)
    stolen = exchange(
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        basic(gpt_client["client_id"], gpt_client["client_secret"]),
    )
    assert stolen.status == 400 and stolen["error"] == "invalid_grant"
    # ... and it still works for its own client.
    own = exchange(
        {
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": public_client["client_id"],
        }
    )
    assert own.status == 200


def test_revocation_ends_the_family(public_client, student):
    first = tokens_for(public_client, student)
    revoked = Api().post(
        "/oauth/revoke",
        **form({"token": first["refresh_token"], "client_id": public_client["client_id"]}),
    )
    assert revoked.status == 200
    refused = exchange(
        {
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": public_client["client_id"],
        }
    )
    assert refused.status == 400 and refused["error"] == "invalid_grant"
    unknown = Api().post(
        "/oauth/revoke",
        **form({"token": "nothing-like-it", "client_id": public_client["client_id"]}),
    )
    assert unknown.status == 200  # RFC 7009 §2.2


# --- resources (RFC 8707) -------------------------------------------------------------------


def test_a_token_for_mcp_is_refused_by_v1_and_vice_versa(public_client, student):
    mcp = tokens_for(public_client, student, resource=BASE + "/mcp")
    import jwt

    assert jwt.decode(mcp["access_token"], options={"verify_signature": False})["aud"] == (
        BASE + "/mcp"
    )
    refused = Api(mcp["access_token"]).get("/v1/me")
    assert refused.status == 401
    rest = tokens_for(public_client, student)
    assert Api(rest["access_token"]).get("/v1/me").status == 200


def test_unknown_resource_is_invalid_target(public_client, student):
    _verifier, challenge = pkce()
    refused = open_sign_in(
        public_query(public_client, challenge, resource="https://elsewhere.example/api")
    )
    assert code_from(refused)["error"] == "invalid_target"


# --- Client ID Metadata Documents -----------------------------------------------------------


def test_client_id_metadata_document_signs_in(metadata_document_server, student):
    base, documents = metadata_document_server
    client_id = f"{base}/client-{secrets.token_hex(3)}.json"
    documents[urlsplit(client_id).path] = json.dumps(
        {"client_id": client_id, "client_name": "Doc Client", "redirect_uris": [APP_CALLBACK]}
    ).encode()
    verifier, challenge = pkce()
    query = public_query({"client_id": client_id}, challenge)
    page = open_sign_in(query)
    assert page.status == 200 and "Doc Client" in page.body
    params = code_from(sign_in(query, student.email))
    tokens = exchange(public_code_fields(client_id, params["code"], verifier))
    assert tokens.status == 200, tokens.body


def test_metadata_document_naming_another_client_is_refused(metadata_document_server):
    base, documents = metadata_document_server
    client_id = f"{base}/liar.json"
    documents["/liar.json"] = json.dumps(
        {"client_id": "https://someone.else/doc.json", "redirect_uris": [APP_CALLBACK]}
    ).encode()
    page = open_sign_in(public_query({"client_id": client_id}, pkce()[1]))
    assert page.status == 400


def test_metadata_document_too_large_is_refused(metadata_document_server):
    base, documents = metadata_document_server
    client_id = f"{base}/huge.json"
    documents["/huge.json"] = json.dumps(
        {"client_id": client_id, "redirect_uris": [APP_CALLBACK], "pad": "x" * 20_000}
    ).encode()
    assert open_sign_in(public_query({"client_id": client_id}, pkce()[1])).status == 400


# --- privacy ------------------------------------------------------------------------------


def test_export_lists_signed_in_clients_and_delete_revokes_everything(
    gpt_client, public_client, student, sql
):
    tokens = tokens_for(public_client, student)
    code_from(sign_in(gpt_query(gpt_client), student.email))  # a code never exchanged
    export = student.get("/v1/me/export")
    names = {c["client_name"] for c in export["signed_in_clients"]}
    assert names == {"Desk app", "Course GPT"}
    assert "secret" not in json.dumps(export["signed_in_clients"])
    assert student.delete("/v1/me").status == 204
    for table in ("oauth_grants", "oauth_codes", "oauth_refresh_tokens"):
        assert (
            sql(
                f"SELECT count(*) AS n FROM {table} t WHERE EXISTS "
                "(SELECT 1 FROM oauth_grants g WHERE g.student_id = %s)",
                (student.user_id,),
            )[0]["n"]
            == 0
        )
    refused = exchange(
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": public_client["client_id"],
        }
    )
    assert refused.status == 400 and refused["error"] == "invalid_grant"
    assert Api(tokens["access_token"]).get("/v1/me").status == 401


def test_pruner_removes_expired_codes_and_tokens(public_client, student, sql):
    tokens_for(public_client, student)
    sql("UPDATE oauth_refresh_tokens SET expires_at = now() - interval '1 minute'")
    from companion_dev.invoke import invoke

    summary = invoke("PruneFunction", {"retention_days": 90, "dry_run": False})
    assert summary["sign_ins_removed"]["refresh_tokens"] >= 1
    assert summary["sign_ins_removed"]["codes"] >= 1
    assert (
        sql("SELECT count(*) AS n FROM oauth_refresh_tokens WHERE expires_at < now()")[0]["n"] == 0
    )
    assert time.time()  # the run above did not raise


def test_a_locked_account_stays_locked_on_the_sign_in_page_with_the_cache_down(
    gpt_client, student, environment
):
    from faults import closed_port

    for _ in range(5):
        assert sign_in(gpt_query(gpt_client), student.email, "wrong password!").status == 401
    with environment(UPSTASH_REDIS_REST_URL=f"http://127.0.0.1:{closed_port()}"):
        refused = sign_in(gpt_query(gpt_client), student.email)
        assert refused.status == 429, refused.body
        assert "location" not in refused.headers and int(refused.headers["retry-after"]) > 0
