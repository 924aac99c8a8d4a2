"""Input a hostile tester sent (issue #14): every answer is a clear 4xx, never a 500, and a
refused request leaves the database as it was."""

from __future__ import annotations

import json
import uuid

import pytest
from api import Api

from companion_dev import template

PASSWORD = "correct horse battery"
LONE_SURROGATE = "\ud800"


@pytest.fixture(autouse=True)
def _stack(stack):
    return stack


def body_routes() -> list[tuple[str, str]]:
    """(method, path) of every route that takes a body, with real ids in its path."""
    ids = {"{quiz_id}": "01-quiz", "{chapter_id}": "01-intro-genai"}
    routes = []
    for route in template.load_routes():
        if route.method in ("POST", "PUT", "PATCH"):
            path = route.path
            for name, value in ids.items():
                path = path.replace(name, value)
            routes.append((route.method, path))
    return routes


def assert_4xx(response, status: int | None = None) -> None:
    assert 400 <= response.status < 500, (response.status, response.body)
    if status is not None:
        assert response.status == status, response.body
    assert isinstance(response.body, dict) and response.body["detail"], response.body
    assert "Traceback" not in response.raw["body"]


@pytest.mark.parametrize(
    "credentials",
    [
        {"email": f"ada{LONE_SURROGATE}@example.com", "password": PASSWORD},
        {"email": "ada@example.com", "password": f"correct horse {LONE_SURROGATE}"},
    ],
    ids=["in-the-email", "in-the-password"],
)
@pytest.mark.parametrize("path", ["/auth/register", "/auth/login"])
def test_a_lone_surrogate_in_credentials_is_a_4xx(path, credentials, sql):
    before = sql("SELECT count(*) AS n FROM students")[0]["n"]
    # json.dumps writes the surrogate as the escape \ud800, as a hostile client would.
    response = Api().request("POST", path, raw_body=json.dumps(credentials))
    assert_4xx(response, 422)
    assert sql("SELECT count(*) AS n FROM students")[0]["n"] == before


def nested(levels: int, innermost) -> object:
    value = innermost
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


@pytest.mark.parametrize(("method", "path"), body_routes())
def test_deeply_nested_json_is_refused_before_authentication(method, path):
    anonymous = Api()
    with_nul = json.dumps({"answers": nested(600, "a\u0000b")})
    assert_4xx(anonymous.request(method, path, raw_body=with_nul), 422)
    deepest = "[" * 30_000 + "]" * 30_000  # within the 64 KiB limit
    assert_4xx(anonymous.request(method, path, raw_body=deepest), 422)
    just_deep = json.dumps({"minutes": nested(40, 1)})
    assert_4xx(anonymous.request(method, path, raw_body=just_deep), 422)


@pytest.mark.parametrize(("method", "path"), body_routes())
def test_a_lone_surrogate_anywhere_in_a_body_is_refused_before_authentication(method, path):
    body = json.dumps({"answers": {"q10": f"retrieval {LONE_SURROGATE}"}, "x": [LONE_SURROGATE]})
    assert_4xx(Api().request(method, path, raw_body=body), 422)
    key_only = json.dumps({f"q{LONE_SURROGATE}": 1})
    assert_4xx(Api().request(method, path, raw_body=key_only), 422)


def test_a_lone_surrogate_in_an_answer_is_422_and_stores_nothing(new_student, sql):
    student = new_student()
    body = json.dumps({"answers": {"q10": f"retrieval {LONE_SURROGATE}"}})
    response = student.request("POST", "/v1/quizzes/01-quiz/submit", raw_body=body)
    assert_4xx(response, 422)
    rows = sql("SELECT count(*) AS n FROM quiz_attempts WHERE student_id = %s", (student.user_id,))
    assert rows[0]["n"] == 0


def odd_spellings(attempt_id: str) -> list[str]:
    """Spellings of an id that Python's uuid.UUID accepts and Postgres refuses or reads
    otherwise."""
    plain = attempt_id.replace("-", "")
    return [
        f"urn:uuid:{attempt_id}",
        f"{{{attempt_id}}}",
        "-".join(plain[i : i + 4] for i in range(0, 32, 4)),  # hyphens every 4 digits
        plain[:7] + "-" + plain[7:],  # a hyphen where none belongs
        attempt_id.upper().replace("-", "--", 1),
        plain,
    ]


def test_attempt_ids_spelt_oddly_are_404_never_500(new_student):
    student = new_student()
    submitted = student.post("/v1/quizzes/01-quiz/submit", {"answers": {"q1": "a"}})
    attempt_id = submitted["attempt_id"]
    for spelling in odd_spellings(attempt_id):
        response = student.get(f"/v1/quizzes/01-quiz/attempts/{spelling}")
        assert_4xx(response, 404)
    assert student.get(f"/v1/quizzes/01-quiz/attempts/{attempt_id}").status == 200


def test_export_cursors_spelt_oddly_are_422_never_500(new_student):
    student = new_student()
    submitted = student.post("/v1/quizzes/01-quiz/submit", {"answers": {"q1": "a"}})
    for spelling in odd_spellings(submitted["attempt_id"]):
        response = student.get(
            "/v1/me/export", query={"attempts_limit": 1, "attempts_after": spelling}
        )
        assert_4xx(response, 422)
    fine = student.get(
        "/v1/me/export", query={"attempts_limit": 1, "attempts_after": submitted["attempt_id"]}
    )
    assert fine.status == 200 and fine["quiz_attempts"] == []
    assert student.get("/v1/me/export", query={"attempts_after": str(uuid.uuid4())}).status == 200


# --- input rules ------------------------------------------------------------------------


@pytest.mark.parametrize("minutes", [True, "5", " 5 ", 5.0, "5.0", None])
def test_reading_minutes_are_strict_integers(new_student, sql, minutes):
    student = new_student()
    response = student.post("/v1/progress/01-intro-genai/time", {"minutes": minutes})
    assert_4xx(response, 422)
    rows = sql(
        "SELECT count(*) AS n FROM chapter_progress WHERE student_id = %s", (student.user_id,)
    )
    assert rows[0]["n"] == 0
    assert student.post("/v1/progress/01-intro-genai/time", {"minutes": 5}).status == 200


def test_a_422_stays_small_whatever_the_body(new_student):
    student = new_student()
    many_fields = {"minutes": 5, **{f"{n:x}": 0 for n in range(6_000)}}
    body = json.dumps(many_fields, separators=(",", ":"))
    assert len(body) < 64 * 1024
    response = student.request("POST", "/v1/progress/01-intro-genai/time", raw_body=body)
    assert_4xx(response, 422)
    assert len(response.raw["body"]) < 4_000
    assert response["detail"][-1]["msg"] == "5990 more problems not listed."
    long_name = {"minutes": 5, "x" * 60_000: 1}
    response = student.post("/v1/progress/01-intro-genai/time", long_name)
    assert_4xx(response, 422)
    assert len(response.raw["body"]) < 1_000


def test_an_idempotent_replay_compares_what_the_grader_reads(new_student, sql):
    student = new_student()
    key = str(uuid.uuid4())
    first = student.post(
        "/v1/quizzes/01-quiz/submit",
        {"answers": {"q1": "b", "q7": False, "q10": "Generative AI creates new content."}},
        headers={"Idempotency-Key": key},
    )
    assert first.status == 200, first.body
    # The same answers spelt otherwise: the option's letter in capitals, true/false as text,
    # the short answer with other case, spacing and punctuation.
    again = student.post(
        "/v1/quizzes/01-quiz/submit",
        {"answers": {"q1": " B ", "q7": "FALSE", "q10": "generative AI  creates new content"}},
        headers={"Idempotency-Key": key},
    )
    assert again.status == 200, again.body
    assert again.headers["idempotent-replayed"] == "true"
    assert again["attempt_id"] == first["attempt_id"]
    other = student.post(
        "/v1/quizzes/01-quiz/submit",
        {"answers": {"q1": "c", "q7": False, "q10": "Generative AI creates new content."}},
        headers={"Idempotency-Key": key},
    )
    assert other.status == 422 and other["code"] == "idempotency_key_reused"
    rows = sql("SELECT count(*) AS n FROM quiz_attempts WHERE student_id = %s", (student.user_id,))
    assert rows[0]["n"] == 1


# "Café crème" with precomposed letters (NFC) and with combining accents (NFD).
NFC_PASSWORD = "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e"
NFD_PASSWORD = "Cafe\u0301 cre\u0300me bru\u0302le\u0301e"


def test_a_password_typed_in_another_unicode_form_is_the_same_password():
    email = f"nfc-{uuid.uuid4().hex}@example.com"
    created = Api().post("/auth/register", {"email": email, "password": NFD_PASSWORD})
    assert created.status == 201
    for password in (NFC_PASSWORD, NFD_PASSWORD):
        assert Api().post("/auth/login", {"email": email, "password": password}).status == 200
    wrong = Api().post("/auth/login", {"email": email, "password": NFC_PASSWORD[:-1]})
    assert wrong.status == 401


@pytest.mark.parametrize("registered_as", [NFC_PASSWORD, NFD_PASSWORD])
def test_accounts_hashed_before_normalisation_still_log_in(sql, registered_as):
    """An account whose hash was made of the password as typed (NFC or NFD) logs in with
    the form it was registered with, and with either form once that login rehashed it."""
    import bcrypt

    email = f"legacy-{uuid.uuid4().hex}@example.com"
    legacy_hash = bcrypt.hashpw(registered_as.encode(), bcrypt.gensalt(4)).decode()
    sql("INSERT INTO students (email, password_hash) VALUES (%s, %s)", (email, legacy_hash))
    sql("INSERT INTO streaks (student_id) SELECT id FROM students WHERE email = %s", (email,))
    first = Api().post("/auth/login", {"email": email, "password": registered_as})
    assert first.status == 200, first.body
    stored = sql("SELECT password_hash FROM students WHERE email = %s", (email,))[0]
    assert bcrypt.checkpw(NFC_PASSWORD.encode(), stored["password_hash"].encode())
    for password in (NFC_PASSWORD, NFD_PASSWORD):
        assert Api().post("/auth/login", {"email": email, "password": password}).status == 200
