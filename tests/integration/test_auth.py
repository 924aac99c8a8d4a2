"""AuthFunction through its real Lambda handler against the real stack: register, login and
its throttle, tokens (and forged ones), the profile, set-tier, the GDPR export and delete."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import secrets
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import httpx
import jwt
import psycopg
import pytest
from api import Api
from faults import SilentListener, closed_port
from psycopg.rows import dict_row

from companion.throttle import key_for
from companion_dev.admin import set_tier

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _stack(stack):
    return stack


def new_email() -> str:
    return f"student-{uuid.uuid4().hex}@example.com"


def register(email: str, password: str = PASSWORD, **fields):
    return Api().post("/auth/register", {"email": email, "password": password, **fields})


def login(email: str, password: str = PASSWORD):
    return Api().post("/auth/login", {"email": email, "password": password})


def registered(**fields) -> tuple[str, str, Api]:
    """A new student: (user id, e-mail, a client with its token)."""
    email = new_email()
    created = register(email, **fields)
    assert created.status == 201, created.body
    signed_in = login(email)
    assert signed_in.status == 200, signed_in.body
    return created["user_id"], email, Api(signed_in["access_token"])


def database():
    return psycopg.connect(os.environ["DATABASE_DIRECT_URL"], autocommit=True, row_factory=dict_row)


def student_row(email: str):
    with database() as conn:
        return conn.execute("SELECT * FROM students WHERE email = %s", (email,)).fetchone()


def streak_row(student_id: str):
    with database() as conn:
        return conn.execute("SELECT * FROM streaks WHERE student_id = %s", (student_id,)).fetchone()


def assert_unauthorized(response, code: str = "unauthorized") -> None:
    assert response.status == 401, response.body
    assert response.body["code"] == code
    # RFC 9728: a 401 tells the client where to learn how to sign in for this resource.
    assert response.headers["www-authenticate"] == (
        'Bearer resource_metadata="http://localhost/.well-known/oauth-protected-resource"'
    )
    assert response.body["detail"]


def claims_for(student_id: str, **changes) -> dict:
    now = int(time.time())
    claims = {
        "sub": student_id,
        "iat": now,
        "exp": now + 600,
        "iss": "course-companion",
        "aud": "course-companion-api",
        "tier": "free",
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def signed(claims: dict, key: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key or os.environ["JWT_SECRET"], algorithm=algorithm)


def b64(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# --- register --------------------------------------------------------------------------------


def test_register_creates_a_free_student_and_its_streak_row_in_the_same_timezone():
    email = new_email()
    response = register(email, full_name="Ada Lovelace", timezone="America/New_York")

    assert response.status == 201
    assert response.body == {"user_id": response["user_id"], "email": email}
    student = student_row(email)
    assert str(student["id"]) == response["user_id"]
    assert student["subscription_tier"] == "free"
    assert student["full_name"] == "Ada Lovelace"
    assert student["timezone"] == "America/New_York"
    assert student["password_hash"].startswith("$2")
    assert PASSWORD not in student["password_hash"]
    streak = streak_row(response["user_id"])
    assert (streak["current_streak"], streak["longest_streak"]) == (0, 0)
    assert streak["last_activity_date"] is None
    assert streak["timezone"] == "America/New_York"


def test_register_defaults_the_timezone_to_utc():
    email = new_email()
    response = register(email)
    assert response.status == 201
    assert student_row(email)["timezone"] == "UTC"
    assert streak_row(response["user_id"])["timezone"] == "UTC"


def test_email_is_trimmed_and_lower_cased_for_storing_and_for_login():
    local = f"Mixed.Case+{uuid.uuid4().hex[:8]}"
    response = register(f"  {local}@Example.COM \n")

    assert response.status == 201
    normalised = f"{local.lower()}@example.com"
    assert response["email"] == normalised
    assert student_row(normalised) is not None
    assert login(f"{local.upper()}@EXAMPLE.com  ").status == 200


def test_an_email_already_registered_in_any_case_is_409_email_taken():
    email = new_email()
    assert register(email).status == 201

    again = register(f" {email.upper()} ", password="another password")

    assert again.status == 409
    assert again.body["code"] == "email_taken"
    assert again.body["detail"]
    assert login(email).status == 200  # the first account is untouched


@pytest.mark.parametrize(
    "email",
    [
        "no-at-sign.example.com",
        "name@localhost",
        "name@example.c",
        "two words@example.com",
        "name@exa mple.com",
        "nämé@example.com",
        "name@@example.com",
        "",
        "   ",
    ],
)
def test_an_email_that_breaks_the_format_rule_is_422_and_nothing_is_stored(email):
    response = register(email)
    assert response.status == 422
    assert response.body["detail"][0]["loc"] == ["body", "email"]
    if email.strip():
        assert student_row(email.strip().lower()) is None


def test_an_email_of_255_characters_is_accepted_and_256_is_422():
    domain = "@example.com"
    tag = uuid.uuid4().hex
    longest = tag + "a" * (255 - len(domain) - len(tag)) + domain
    assert len(longest) == 255
    assert register(longest).status == 201

    too_long = "b" + longest
    response = register(too_long)
    assert response.status == 422
    assert student_row(too_long) is None


def test_password_needs_at_least_8_characters_counted_as_characters():
    assert register(new_email(), password="seven77").status == 422
    assert register(new_email(), password="eight888").status == 201
    # 8 characters, 16 bytes: long enough.
    assert register(new_email(), password="ééééééé1").status == 201


@pytest.mark.parametrize(
    "password",
    ["x" * 72, "é" * 36, "日本語のパスワード" + "x" * 45, "🔑" * 18],
    ids=["ascii", "two-byte", "three-byte", "four-byte"],
)
def test_a_password_of_exactly_72_bytes_registers_and_logs_in(password):
    assert len(password.encode("utf-8")) == 72
    email = new_email()
    assert register(email, password=password).status == 201
    assert login(email, password).status == 200


@pytest.mark.parametrize(
    "password",
    ["x" * 73, "é" * 36 + "x", "x" * 71 + "é", "🔑" * 19, "x" * 1000],
    ids=["ascii", "two-byte-plus-one", "straddling", "four-byte", "long"],
)
def test_a_password_over_72_bytes_is_422_never_truncated(password):
    assert len(password.encode("utf-8")) > 72
    email = new_email()
    response = register(email, password=password)
    assert response.status == 422
    assert response.body["detail"][0]["loc"] == ["body", "password"]
    assert password not in json.dumps(response.body)  # never echoed back
    assert student_row(email) is None


def test_login_never_accepts_a_longer_password_that_shares_the_first_72_bytes():
    email = new_email()
    password = "p" * 72
    assert register(email, password=password).status == 201
    assert_unauthorized(login(email, password + "extra"), "invalid_credentials")
    assert login(email, password).status == 200


def test_timezone_must_be_an_iana_name():
    for timezone in ("Mars/Olympus_Mons", "america/new_york", "EST5EDT ", "", "+02:00"):
        email = new_email()
        response = register(email, timezone=timezone)
        assert response.status == 422, timezone
        assert response.body["detail"][0]["loc"] == ["body", "timezone"]
        assert student_row(email) is None
    assert register(new_email(), timezone="Asia/Kolkata").status == 201


def test_register_refuses_unknown_fields_wrong_types_and_bodies_that_are_not_objects():
    email = new_email()
    cases = [
        {"email": email, "password": PASSWORD, "subscription_tier": "premium"},
        {"email": email, "password": PASSWORD, "is_admin": True},
        {"email": email, "password": 12345678},
        {"email": [email], "password": PASSWORD},
        {"email": email, "password": PASSWORD, "full_name": 7},
        {"email": email, "password": PASSWORD, "timezone": None},
        {"email": email},
        {"password": PASSWORD},
    ]
    for body in cases:
        assert Api().post("/auth/register", body).status == 422, body
    assert Api().post("/auth/register", raw_body="{not json").status == 400
    assert Api().post("/auth/register", [email, PASSWORD]).status == 400
    assert Api().post("/auth/register", "a string").status == 400
    assert student_row(email) is None


def test_full_name_of_at_most_255_characters():
    too_long = register(new_email(), full_name="n" * 256)
    assert too_long.status == 422
    assert register(new_email(), full_name="n" * 255).status == 201


def test_text_with_a_nul_character_is_refused_before_anything_is_stored():
    email = new_email()
    response = register(email, full_name="Ada\u0000Lovelace")
    assert response.status == 422
    assert student_row(email) is None


# --- login and the token ---------------------------------------------------------------------


def test_login_answers_a_bearer_token_with_the_claims_the_contract_names():
    email = new_email()
    user_id = register(email)["user_id"]
    before = int(time.time())

    response = login(email)

    assert response.status == 200
    assert set(response.body) >= {"access_token", "token_type", "exp", "expires_in"}
    assert response["token_type"] == "bearer"
    assert isinstance(response["exp"], int) and isinstance(response["expires_in"], int)
    header = jwt.get_unverified_header(response["access_token"])
    assert header["alg"] == "HS256"
    claims = jwt.decode(
        response["access_token"],
        os.environ["JWT_SECRET"],
        algorithms=["HS256"],
        audience="course-companion-api",
        issuer="course-companion",
    )
    assert claims["sub"] == user_id
    assert claims["tier"] == "free"
    assert claims["exp"] == response["exp"]
    assert claims["exp"] - claims["iat"] == response["expires_in"] > 0
    assert before <= claims["iat"] <= int(time.time())


def test_unknown_email_and_wrong_password_give_the_same_401():
    email = new_email()
    register(email)

    wrong_password = login(email, "not the password")
    unknown_email = login(new_email(), PASSWORD)

    assert_unauthorized(wrong_password, "invalid_credentials")
    assert_unauthorized(unknown_email, "invalid_credentials")
    assert wrong_password.body == unknown_email.body
    assert wrong_password.headers == unknown_email.headers


def test_unknown_email_costs_the_same_bcrypt_work_as_a_wrong_password(environment, monkeypatch):
    # Timing-safe misses, shown by the work done rather than by a stopwatch (which a busy
    # machine makes flaky): an unknown address must run one full bcrypt check at the
    # account's cost, like a wrong password, instead of answering in a millisecond.
    import bcrypt

    environment(BCRYPT_ROUNDS="11")
    email = new_email()
    assert register(email).status == 201
    checks: list[int] = []
    real_checkpw = bcrypt.checkpw

    def counting_checkpw(password: bytes, hashed: bytes) -> bool:
        checks.append(int(hashed.split(b"$")[2]))  # the cost of the hash checked against
        return real_checkpw(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting_checkpw)
    wrong_password = login(email, "wrong password")
    wrong_password_checks, checks[:] = list(checks), []
    unknown = login(new_email(), "wrong password")
    assert wrong_password.status == unknown.status == 401
    assert wrong_password.body == unknown.body
    assert wrong_password_checks == checks == [11]


def test_login_body_rules():
    assert Api().post("/auth/login", {"email": new_email()}).status == 422
    assert Api().post("/auth/login", {"email": 5, "password": PASSWORD}).status == 422
    assert (
        Api().post("/auth/login", {"email": new_email(), "password": "x", "otp": "1"}).status == 422
    )
    assert Api().post("/auth/login", raw_body="email=a&password=b").status == 400
    # Not an address at all: simply no account with it.
    assert_unauthorized(login("not an address", PASSWORD), "invalid_credentials")
    assert_unauthorized(login("x" * 5000 + "@example.com", PASSWORD), "invalid_credentials")


# --- forged and broken tokens -----------------------------------------------------------------


def test_a_token_made_with_the_right_key_and_claims_is_accepted():
    user_id, _, _ = registered()
    assert Api(signed(claims_for(user_id))).get("/v1/me").status == 200


def test_a_token_whose_payload_was_changed_without_re_signing_is_401():
    user_id, _, api = registered()
    other_id, _, _ = registered()
    header, _, signature = api.token.split(".")
    for changes in ({"sub": other_id}, {"tier": "premium"}, {"exp": int(time.time()) + 10**6}):
        forged = f"{header}.{b64(claims_for(user_id, **changes))}.{signature}"
        assert_unauthorized(Api(forged).get("/v1/me"))
    assert api.get("/v1/me").status == 200


def test_an_unsigned_alg_none_token_is_401():
    user_id, _, _ = registered()
    payload = b64(claims_for(user_id))
    for alg in ("none", "None", "NONE"):
        header = b64({"alg": alg, "typ": "JWT"})
        assert_unauthorized(Api(f"{header}.{payload}.").get("/v1/me"))
    with_signature = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.c2lnbmF0dXJl"
    assert_unauthorized(Api(with_signature).get("/v1/me"))


def test_tokens_signed_with_another_key_or_algorithm_are_401():
    user_id, _, _ = registered()
    claims = claims_for(user_id)
    assert_unauthorized(Api(signed(claims, key=secrets.token_urlsafe(48))).get("/v1/me"))
    # The right secret, but HS512 instead of the pinned HS256.
    assert_unauthorized(Api(signed(claims, algorithm="HS512")).get("/v1/me"))


def test_expired_tokens_and_wrong_issuer_or_audience_are_401():
    user_id, _, _ = registered()
    now = int(time.time())
    bad_claims = [
        claims_for(user_id, iat=now - 7200, exp=now - 60),
        claims_for(user_id, iss="someone-else"),
        claims_for(user_id, aud="another-api"),
        claims_for(user_id, exp=None),
        claims_for(user_id, iss=None),
        claims_for(user_id, aud=None),
        claims_for(user_id, sub=None),
        claims_for(user_id, sub="not-a-uuid"),
        claims_for(user_id, sub=str(uuid.uuid4())),  # no such student
    ]
    for claims in bad_claims:
        assert_unauthorized(Api(signed(claims)).get("/v1/me"))


def test_a_token_that_worked_is_refused_once_it_expires():
    user_id, _, _ = registered()
    expires = int(time.time()) + 2
    client = Api(signed(claims_for(user_id, exp=expires)))
    assert client.get("/v1/me").status == 200
    time.sleep(max(0.0, expires - time.time()) + 0.1)
    expired = client.get("/v1/me")
    assert_unauthorized(expired)
    assert expired["detail"] == "Your session has expired. Please log in again."


def test_a_token_for_one_service_is_refused_by_the_other_after_working_there(gateway_url):
    user_id, _, _ = registered()
    token = signed(claims_for(user_id))
    assert Api(token).get("/v1/me").status == 200  # the REST API's own audience
    mcp = httpx.post(
        f"{gateway_url}/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-06-18",
        },
    )
    assert mcp.status_code == 401


def test_missing_or_malformed_authorization_is_401():
    user_id, _, api = registered()
    assert_unauthorized(Api().get("/v1/me"))
    assert_unauthorized(Api("not.a.token").get("/v1/me"))
    assert_unauthorized(Api("garbage").get("/v1/me"))
    assert_unauthorized(Api().get("/v1/me", headers={"Authorization": f"Basic {api.token}"}))
    assert_unauthorized(Api().get("/v1/me", headers={"Authorization": api.token}))
    assert_unauthorized(Api(api.token + "x").get("/v1/me/export"))
    assert_unauthorized(Api("x" + api.token).patch("/v1/me", {"full_name": "Eve"}))
    assert_unauthorized(Api(api.token[:-2]).delete("/v1/me"))
    assert api.get("/v1/me").status == 200


# --- throttling ------------------------------------------------------------------------------


def test_the_sixth_try_after_five_failures_is_429_even_with_the_right_password():
    email = new_email()
    register(email)
    for _ in range(5):
        assert_unauthorized(login(email, "wrong password"), "invalid_credentials")

    refused = login(email, PASSWORD)

    assert refused.status == 429
    assert refused.body["code"] == "rate_limited"
    assert refused.body["detail"]
    retry_after = int(refused.headers["retry-after"])
    assert 15 * 60 - 30 <= retry_after <= 15 * 60
    # Normalised: the same address in another spelling is the same counter.
    assert login(f" {email.upper()} ").status == 429
    # Another address is not affected.
    other = new_email()
    register(other)
    assert login(other).status == 200


def test_unknown_addresses_are_throttled_like_known_ones():
    email = new_email()
    for _ in range(5):
        assert login(email, "guess").status == 401
    assert login(email, "guess").status == 429


def test_successful_logins_are_not_counted_as_failures():
    email = new_email()
    register(email)
    for _ in range(4):
        assert login(email, "wrong password").status == 401
    for _ in range(4):
        assert login(email).status == 200
    assert login(email, "wrong password").status == 401  # the fifth failure
    assert login(email).status == 429


def test_after_the_window_passes_the_right_password_works_again(environment):
    environment(LOGIN_WINDOW_SECONDS="2")
    email = new_email()
    register(email)
    for _ in range(5):
        assert login(email, "wrong password").status == 401
    refused = login(email)
    assert refused.status == 429
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= 2

    time.sleep(retry_after + 0.05)

    assert login(email).status == 200


def test_the_window_slides_instead_of_resetting_at_fixed_times(environment):
    environment(LOGIN_WINDOW_SECONDS="3")
    email = new_email()
    register(email)
    # Start late in a clock-aligned 3 s window, so the tries below straddle two of them: a
    # fixed-window counter would see 3 then 2 failures and let the sixth try through.
    time.sleep((2.0 - time.time() % 3) % 3)
    for _ in range(3):
        assert login(email, "wrong password").status == 401
    time.sleep(1.6)
    for _ in range(2):
        assert login(email, "wrong password").status == 401
    # Five failures within three seconds, whatever the clock's window boundaries.
    refused = login(email)
    assert refused.status == 429
    # The first three leave the window first: a try goes through then, not at 3 s from now.
    assert int(refused.headers["retry-after"]) <= 2
    time.sleep(int(refused.headers["retry-after"]) + 0.05)
    assert login(email).status == 200


@pytest.mark.parametrize("cache_state", ["down", "hung", "unset"])
def test_a_locked_account_stays_locked_whatever_the_cache_does(environment, cache_state):
    email = new_email()
    assert register(email).status == 201
    for _ in range(3):
        assert_unauthorized(login(email, "wrong password"), "invalid_credentials")
    with contextlib.ExitStack() as stack:
        if cache_state == "down":
            environment(UPSTASH_REDIS_REST_URL=f"http://127.0.0.1:{closed_port()}")
        elif cache_state == "hung":
            hung = stack.enter_context(SilentListener())
            environment(UPSTASH_REDIS_REST_URL=hung.url())
        else:
            environment(UPSTASH_REDIS_REST_URL=None)
        # The failures before the cache went away still count, and so do these.
        for _ in range(2):
            assert_unauthorized(login(email, "wrong password"), "invalid_credentials")
        refused = login(email, PASSWORD)
        assert refused.status == 429, refused.body
        assert refused["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) > 15 * 60 - 30
        assert login(email, PASSWORD).status == 429


def test_logins_and_registrations_from_one_address_are_limited_generously():
    classroom = Api(source_ip="203.0.113.7")
    # A class registering and mistyping passwords: 100 tries from one address go through.
    emails = [new_email() for _ in range(40)]
    for email in emails:
        created = classroom.post("/auth/register", {"email": email, "password": PASSWORD})
        assert created.status == 201, created.body
    for index in range(59):
        wrong = {"email": emails[index % 40], "password": "wrong password"}
        # Each e-mail's own limit is not reached: at most 2 failures each.
        assert classroom.post("/auth/login", wrong).status == 401
    # Successful logins are not failures: they never count.
    for email in emails[:3]:
        assert classroom.post("/auth/login", {"email": email, "password": PASSWORD}).status == 200
    last = classroom.post("/auth/login", {"email": emails[-1], "password": "wrong password"})
    assert last.status == 401
    # The 101st failed login or registration from the address is refused, right password or not.
    refused = classroom.post("/auth/login", {"email": emails[1], "password": PASSWORD})
    assert refused.status == 429, refused.body
    assert refused["code"] == "rate_limited" and int(refused.headers["retry-after"]) >= 1
    again = classroom.post("/auth/register", {"email": new_email(), "password": PASSWORD})
    assert again.status == 429
    # Another address is not affected.
    assert login(emails[1]).status == 200


def test_concurrent_guesses_cannot_all_pass_the_check():
    email = new_email()
    register(email)
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: parallel_login(email, "wrong password"), range(12)))
    assert statuses.count(401) == 5 and statuses.count(429) == 7, statuses


_instances = itertools.count(2000)


def parallel_login(email: str, password: str) -> int:
    """A login from a thread of its own, in an emulated Lambda instance of its own."""
    import asyncio

    from companion import db

    asyncio.set_event_loop(asyncio.new_event_loop())
    token = db.lambda_instance.set(next(_instances))
    try:
        return login(email, password).status
    finally:
        db.close()
        db.lambda_instance.reset(token)


# --- the profile ------------------------------------------------------------------------------


def test_get_me_returns_the_profile():
    user_id, email, api = registered(full_name="Grace Hopper", timezone="Europe/Paris")

    response = api.get("/v1/me")

    assert response.status == 200
    body = response.body
    assert set(body) == {
        "user_id", "email", "full_name", "timezone", "subscription_tier",
        "subscription_expires_at", "effective_tier", "created_at", "last_active_at",
    }  # fmt: skip
    assert body["user_id"] == user_id
    assert body["email"] == email
    assert body["full_name"] == "Grace Hopper"
    assert body["timezone"] == "Europe/Paris"
    assert body["subscription_tier"] == "free"
    assert body["subscription_expires_at"] is None
    assert body["effective_tier"] == "free"
    for instant in (body["created_at"], body["last_active_at"]):
        assert instant.endswith("Z")
        created = datetime.fromisoformat(instant)
        assert abs(datetime.now(UTC) - created) < timedelta(minutes=5)
    assert "password_hash" not in body


def test_patch_me_changes_name_and_timezone_and_the_streak_follows():
    user_id, _, api = registered(full_name="Old Name")

    response = api.patch("/v1/me", {"full_name": "New Name", "timezone": "Asia/Tokyo"})

    assert response.status == 200
    assert response["full_name"] == "New Name"
    assert response["timezone"] == "Asia/Tokyo"
    assert api.get("/v1/me").body == response.body
    assert streak_row(user_id)["timezone"] == "Asia/Tokyo"


def test_patch_me_keeps_fields_that_are_not_sent_and_null_clears_the_name():
    user_id, _, api = registered(full_name="Keep Me", timezone="Europe/Berlin")

    assert api.patch("/v1/me", {}).body == api.get("/v1/me").body
    renamed = api.patch("/v1/me", {"full_name": "Kept Zone"})
    assert renamed["timezone"] == "Europe/Berlin"
    assert streak_row(user_id)["timezone"] == "Europe/Berlin"
    cleared = api.patch("/v1/me", {"full_name": None})
    assert cleared.status == 200
    assert cleared["full_name"] is None


def test_patch_me_refuses_bad_fields_and_changes_nothing():
    user_id, _, api = registered(full_name="Same", timezone="Europe/Rome")
    before = api.get("/v1/me").body
    for body in (
        {"timezone": "Nowhere/Land"},
        {"timezone": None},
        {"full_name": "x" * 256},
        {"full_name": "Fine", "timezone": "Bad/Zone"},
        {"email": "new@example.com"},
        {"subscription_tier": "premium"},
        {"full_name": "Fine", "password": "new password"},
    ):
        assert api.patch("/v1/me", body).status == 422, body
    assert api.patch("/v1/me", raw_body="[").status == 400
    assert api.get("/v1/me").body == before
    assert streak_row(user_id)["timezone"] == "Europe/Rome"


# --- set-tier and the access rule -------------------------------------------------------------


def test_set_tier_premium_without_expiry_makes_the_effective_tier_premium_at_once():
    _, email, api = registered()

    result = set_tier(f" {email.upper()} ", "premium", None)

    assert result["subscription_tier"] == "premium"
    assert result["effective_tier"] == "premium"
    me = api.get("/v1/me").body  # the same token: read fresh
    assert me["subscription_tier"] == "premium"
    assert me["effective_tier"] == "premium"
    assert me["subscription_expires_at"] is None
    claims = jwt.decode(login(email)["access_token"], options={"verify_signature": False})
    assert claims["tier"] == "premium"


def test_a_premium_plan_expiring_later_is_premium_and_an_expired_one_is_free_at_once():
    _, email, api = registered()
    later = datetime.now(UTC) + timedelta(days=30)
    set_tier(email, "premium", later)
    me = api.get("/v1/me").body
    assert me["effective_tier"] == "premium"
    assert datetime.fromisoformat(me["subscription_expires_at"]) == later
    premium_token = login(email)["access_token"]

    set_tier(email, "premium", datetime.now(UTC) - timedelta(minutes=1))

    me = Api(premium_token).get("/v1/me").body  # a token issued while premium
    assert me["subscription_tier"] == "premium"
    assert me["effective_tier"] == "free"


def test_set_tier_free_and_a_naive_expiry_means_utc():
    _, email, api = registered()
    set_tier(email, "premium", datetime(2099, 1, 1, 12, 0))
    assert api.get("/v1/me")["subscription_expires_at"] == "2099-01-01T12:00:00Z"
    result = set_tier(email, "free", None)
    assert result["effective_tier"] == "free"
    assert api.get("/v1/me")["subscription_expires_at"] is None


def test_set_tier_refuses_unknown_tiers_and_addresses():
    _, email, _ = registered()
    with pytest.raises(ValueError):
        set_tier(email, "gold", None)
    with pytest.raises(ValueError):
        set_tier(email, "free", datetime.now(UTC) + timedelta(days=1))
    with pytest.raises(LookupError):
        set_tier(new_email(), "premium", None)
    assert student_row(email)["subscription_tier"] == "free"


# --- GDPR export and delete -------------------------------------------------------------------


def add_learning_rows(student_id: str) -> None:
    """Rows as the content and quiz functions write them."""
    with database() as conn:
        conn.execute(
            """
            INSERT INTO chapter_progress (student_id, chapter_id, completion_status, quiz_score,
                                          time_spent_minutes, last_accessed_at, completed_at,
                                          last_section_id, last_section_opened_at)
            VALUES (%s, '01-intro-genai', 'completed', 85.50, 42,
                    '2026-03-01T10:00:00Z', '2026-03-01T10:30:00Z', NULL, NULL),
                   (%s, '02-how-llms-work', 'in_progress', NULL, 5,
                    '2026-03-02T09:00:00Z', NULL,
                    '02-tokens-and-embeddings', '2026-03-02T09:00:00Z')
            """,
            (student_id, student_id),
        )
        conn.execute(
            """
            INSERT INTO quiz_attempts (student_id, quiz_id, chapter_id, answers_json, score,
                                       passed, grading_details_json, submitted_at)
            VALUES (%s, '01-quiz', '01-intro-genai', %s, 85.50, true, %s,
                    '2026-03-01T10:29:00Z')
            """,
            (
                student_id,
                json.dumps({"q1": "b", "q2": False}),
                json.dumps({"q1": {"correct": True, "explanation": "Yes."}}),
            ),
        )
        conn.execute(
            "UPDATE streaks SET current_streak = 2, longest_streak = 4,"
            " last_activity_date = '2026-03-02', freezes_held = 1, active_run = 1,"
            " freezes_used = '{2026-03-01,2026-02-20}' WHERE student_id = %s",
            (student_id,),
        )


def test_export_returns_every_row_held_about_the_student_and_never_the_hash():
    user_id, email, api = registered(full_name="Export Me")
    add_learning_rows(user_id)
    stored_hash = student_row(email)["password_hash"]

    response = api.get("/v1/me/export")

    assert response.status == 200
    body = response.body
    assert set(body) >= {"exported_at", "student", "chapter_progress", "quiz_attempts", "streak"}
    assert body["exported_at"].endswith("Z")
    assert body["student"] == api.get("/v1/me").body
    text = json.dumps(body)
    assert "password" not in text
    assert stored_hash not in text

    progress = {row["chapter_id"]: row for row in body["chapter_progress"]}
    assert set(progress) == {"01-intro-genai", "02-how-llms-work"}
    done = progress["01-intro-genai"]
    assert done["completion_status"] == "completed"
    assert done["quiz_score"] == 85.5 and isinstance(done["quiz_score"], float)
    assert done["time_spent_minutes"] == 42
    assert done["last_accessed_at"] == "2026-03-01T10:00:00Z"
    assert done["completed_at"] == "2026-03-01T10:30:00Z"
    assert progress["02-how-llms-work"]["quiz_score"] is None
    assert progress["02-how-llms-work"]["completed_at"] is None
    # Where the student left off in each chapter.
    assert progress["02-how-llms-work"]["last_section_id"] == "02-tokens-and-embeddings"
    assert progress["02-how-llms-work"]["last_section_opened_at"] == "2026-03-02T09:00:00Z"
    assert done["last_section_id"] is None and done["last_section_opened_at"] is None

    [attempt] = body["quiz_attempts"]
    with database() as conn:
        attempt_id = conn.execute(
            "SELECT id FROM quiz_attempts WHERE student_id = %s", (user_id,)
        ).fetchone()["id"]
    assert set(attempt) >= {
        "attempt_id", "quiz_id", "chapter_id", "score", "passed", "answers",
        "grading_details", "submitted_at",
    }  # fmt: skip
    assert attempt["attempt_id"] == str(attempt_id)
    assert attempt["quiz_id"] == "01-quiz"
    assert attempt["chapter_id"] == "01-intro-genai"
    assert attempt["score"] == 85.5 and not isinstance(attempt["score"], str)
    assert attempt["passed"] is True
    assert attempt["answers"] == {"q1": "b", "q2": False}
    assert attempt["grading_details"] == {"q1": {"correct": True, "explanation": "Yes."}}
    assert attempt["submitted_at"] == "2026-03-01T10:29:00Z"

    assert body["streak"] == {
        "current_streak": 2,
        "longest_streak": 4,
        "last_activity_date": "2026-03-02",
        "timezone": "UTC",
        "freezes_held": 1,
        "freezes_used": ["2026-03-01", "2026-02-20"],
        "active_run": 1,
    }
    assert date.fromisoformat(body["streak"]["last_activity_date"])


def test_export_of_a_new_student_has_empty_lists_and_a_zero_streak():
    _, _, api = registered()
    body = api.get("/v1/me/export").body
    assert body["chapter_progress"] == []
    assert body["quiz_attempts"] == []
    assert body["streak"]["current_streak"] == 0
    assert body["streak"]["longest_streak"] == 0


def tables_with_student_rows(student_id: str) -> dict[str, int]:
    """Rows about the student in every table of the schema (new tables included)."""
    with database() as conn:
        tables = [
            row["table_name"]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.columns"
                " WHERE table_schema = 'public' AND column_name = 'student_id'"
            ).fetchall()
        ]
        counts = {
            table: conn.execute(
                f'SELECT count(*) AS n FROM "{table}" WHERE student_id = %s', (student_id,)
            ).fetchone()["n"]
            for table in tables
        }
        counts["students"] = conn.execute(
            "SELECT count(*) AS n FROM students WHERE id = %s", (student_id,)
        ).fetchone()["n"]
    return counts


def throttle_rows(email: str) -> int:
    with database() as conn:
        return conn.execute(
            "SELECT count(*) AS n FROM throttled_tries WHERE throttle_key = %s", (key_for(email),)
        ).fetchone()["n"]


def test_delete_removes_every_row_and_the_token_stops_working():
    user_id, email, api = registered()
    add_learning_rows(user_id)
    assert login(email, "one wrong try").status == 401  # a throttle entry for the address
    assert throttle_rows(email) == 1
    before = tables_with_student_rows(user_id)
    assert {"students", "streaks", "chapter_progress", "quiz_attempts"} <= set(before)
    assert all(before[table] > 0 for table in ("students", "streaks", "chapter_progress"))

    response = api.delete("/v1/me")

    assert response.status == 204
    assert response.raw.get("body") in ("", None)
    assert set(tables_with_student_rows(user_id).values()) == {0}
    assert throttle_rows(email) == 0
    assert_unauthorized(api.get("/v1/me"))
    assert_unauthorized(api.delete("/v1/me"))
    assert_unauthorized(login(email), "invalid_credentials")


def test_deleting_one_student_leaves_others_untouched():
    keep_id, keep_email, keep_api = registered()
    add_learning_rows(keep_id)
    gone_id, _, gone_api = registered()
    add_learning_rows(gone_id)

    assert gone_api.delete("/v1/me").status == 204

    assert all(
        count > 0
        for table, count in tables_with_student_rows(keep_id).items()
        if table in ("students", "streaks", "chapter_progress", "quiz_attempts")
    )
    assert keep_api.get("/v1/me").status == 200
    assert len(keep_api.get("/v1/me/export")["quiz_attempts"]) == 1


def test_an_address_can_register_again_after_its_account_was_deleted():
    _, email, api = registered()
    assert api.delete("/v1/me").status == 204
    again = register(email)
    assert again.status == 201
    assert login(email).status == 200


def archive_old_attempts(user_id: str) -> list[str]:
    """Two attempts of the student's aged past retention and moved to the archive by the
    real pruner; their ids."""
    from companion_dev.invoke import invoke

    with database() as conn:
        rows = conn.execute(
            """
            INSERT INTO quiz_attempts (student_id, quiz_id, chapter_id, answers_json, score,
                                       passed, grading_details_json, submitted_at)
            SELECT %s, '01-quiz', '01-intro-genai', '{"q10": "my own words"}', 40, false,
                   '{"q10": {"correct": false, "score": 4.0}}',
                   now() - interval '120 days' - n * interval '1 minute'
              FROM generate_series(1, 2) AS n
            RETURNING id
            """,
            (user_id,),
        ).fetchall()
    invoke("PruneFunction", {"retention_days": 90})
    return sorted(str(row["id"]) for row in rows)


def archive_objects_of(user_id: str) -> list[str]:
    from companion.content_store import content_store
    from companion.retention import archive_prefix

    return content_store().list_keys(archive_prefix(user_id))


def test_the_export_covers_archived_attempts():
    user_id, _, api = registered()
    archived_ids = archive_old_attempts(user_id)
    assert archive_objects_of(user_id)

    export = api.get("/v1/me/export")

    assert export.status == 200 and export["quiz_attempts"] == []
    archived = export["archived_quiz_attempts"]
    assert sorted(a["attempt_id"] for a in archived) == archived_ids
    first = archived[0]
    assert first["answers"] == {"q10": "my own words"} and first["score"] == 40
    assert first["quiz_id"] == "01-quiz" and first["submitted_at"].endswith("Z")
    assert export.headers["cache-control"] == "no-store"


def test_delete_erases_the_students_archived_attempts_and_nobody_elses():
    user_id, _, api = registered()
    other_id, _, other = registered()
    archive_old_attempts(user_id)
    archive_old_attempts(other_id)

    assert api.delete("/v1/me").status == 204

    assert archive_objects_of(user_id) == []
    assert len(other.get("/v1/me/export")["archived_quiz_attempts"]) == 2


def test_token_responses_are_not_stored_by_caches():
    email = new_email()
    register(email)
    assert login(email).headers["cache-control"] == "no-store"


def test_a_duplicate_registration_raises_no_unique_violation_in_the_database():
    """A unique violation's error (which the server logs, e-mail included) aborts its
    transaction; registering a taken e-mail must leave the transaction usable."""
    from companion.repositories import students

    email = new_email()
    assert register(email).status == 201
    with database() as conn, conn.transaction():
        again = students.create(
            conn, email=email, password_hash="x", full_name=None, timezone="UTC"
        )
        assert again is None
        counted = conn.execute("SELECT count(*) AS n FROM students WHERE email = %s", (email,))
        assert counted.fetchone()["n"] == 1
    assert register(email).status == 409
