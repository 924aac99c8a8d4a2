"""Fault drills through the real Lambda handlers: the cache down or hung, the bucket down,
PgBouncer and Postgres dropping connections between invocations, the database down or hung,
and a transaction that fails half-way.

The stack is shared by the whole session, so every drill breaks a dependency by pointing
the functions' environment at a closed port or at a server that never answers, and restores
the environment and every cached client (settings, cache client, database connections) at
the end of the block, whatever happened, and drops the course held in memory (conftest's
`environment`). A drill that needs a warm function warms it itself.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from pathlib import Path

import pytest
from api import Api
from faults import SilentListener, closed_port

from companion import cache, catalogue

CONTENT = Path(__file__).resolve().parents[2] / "shared" / "content"
PASSWORD = "correct horse battery"
# The cache wrapper's timeout is 0.4 s with a cool-down after a failure, so a request never
# waits on a dead cache for long; this bound is generous on purpose (slow CI machines).
SLOW_REQUEST_SECONDS = 3.0


def timed(call, *args, **kwargs):
    started = time.monotonic()
    response = call(*args, **kwargs)
    elapsed = time.monotonic() - started
    assert elapsed < SLOW_REQUEST_SECONDS, f"{args[0]} took {elapsed:.2f} s"
    return response


def source_chapter(chapter_id: str) -> dict:
    return json.loads((CONTENT / "chapters" / f"{chapter_id}.json").read_bytes())


def perfect_answers(quiz_id: str) -> dict:
    quiz = json.loads((CONTENT / "quizzes" / f"{quiz_id}.json").read_bytes())
    return {
        q["question_id"]: q["explanation"] if q["type"] == "short-answer" else q["correct_answer"]
        for q in quiz["questions"]
    }


def assert_unavailable(response, what: str = "") -> None:
    """503 with the contract's body: a sentence and a code, never a stack trace."""
    assert response.status == 503, (what, response.status, response.body)
    assert set(response.body) == {"detail", "code"}, response.body
    assert response["code"] == "unavailable"
    assert isinstance(response["detail"], str) and response["detail"]
    assert "Traceback" not in response.raw["body"]


def health():
    return Api().get("/health")


# --- the cache down ---------------------------------------------------------------------------


def walk_every_route() -> None:
    """A new student's whole journey, each answer checked and each request quick."""
    email = f"faults-{uuid.uuid4().hex[:12]}@example.com"
    registered = timed(Api().post, "/auth/register", {"email": email, "password": PASSWORD})
    assert registered.status == 201, registered.body
    login = timed(Api().post, "/auth/login", {"email": email, "password": PASSWORD})
    assert login.status == 200, login.body
    student = Api(login["access_token"])

    me = timed(student.get, "/v1/me")
    assert me.status == 200 and me["email"] == email

    listing = timed(student.get, "/v1/chapters")
    assert listing.status == 200 and listing["total"] == 6
    assert [c["locked"] for c in listing["chapters"]] == [False] * 3 + [True] * 3

    chapter = timed(student.get, "/v1/chapters/01-intro-genai")
    assert chapter.status == 200
    served = dict(chapter.body)
    served.pop("navigation")
    assert served == source_chapter("01-intro-genai")
    section_id = served["sections"][0]["section_id"]
    section = timed(student.get, f"/v1/chapters/01-intro-genai/sections/{section_id}")
    assert section.status == 200 and section["section_id"] == section_id
    assert timed(student.get, "/v1/chapters/04-rag").status == 403

    search = timed(student.get, "/v1/search", query={"q": "what is a token"})
    assert search.status == 200 and search["results"]

    quiz = timed(student.get, "/v1/quizzes/01-quiz")
    assert quiz.status == 200 and len(quiz["questions"]) > 0
    assert all("correct_answer" not in q for q in quiz["questions"])
    submitted = timed(
        student.post, "/v1/quizzes/01-quiz/submit", {"answers": perfect_answers("01-quiz")}
    )
    assert submitted.status == 200, submitted.body
    assert submitted["score"] == 100.0 and submitted["chapter_status"] == "completed"
    attempts = timed(student.get, "/v1/quizzes/01-quiz/attempts")
    assert [a["attempt_id"] for a in attempts["attempts"]] == [submitted["attempt_id"]]

    progress = timed(student.get, "/v1/progress")
    assert progress.status == 200 and progress["completed_chapters"] == 1
    logged = timed(student.post, "/v1/progress/02-how-llms-work/time", {"minutes": 5})
    assert logged.status == 200 and logged["time_spent_minutes"] == 5
    streak = timed(student.get, "/v1/streak")
    assert streak.status == 200 and streak["current_streak"] == 1 and streak["active_today"]

    report = timed(health)
    assert report.status == 200
    assert report.body == {"status": "ok", "database": "ok", "cache": "down", "content": "ok"}


def test_with_the_cache_endpoint_refusing_connections_every_route_still_answers(stack, environment):
    with environment(UPSTASH_REDIS_REST_URL=f"http://127.0.0.1:{closed_port()}"):
        catalogue.drop_copy_in_memory()  # the course must come from the bucket, past the dead cache
        walk_every_route()
    assert health().body["cache"] == "ok"


def test_with_the_cache_endpoint_hung_every_route_still_answers_quickly(stack, environment):
    with SilentListener() as hung, environment(UPSTASH_REDIS_REST_URL=hung.url()):
        catalogue.drop_copy_in_memory()
        walk_every_route()
        # One short timeout, then the cool-down: the hung cache is not asked per request.
        assert 1 <= hung.accepted <= 2
    assert health().body["cache"] == "ok"


# --- the bucket down --------------------------------------------------------------------------


def test_with_the_bucket_down_the_course_is_served_from_upstash(new_student, stack, environment):
    student = new_student(tier="premium")
    catalogue.drop_copy_in_memory()
    assert student.get("/v1/chapters").status == 200  # loads the course through Upstash
    assert cache.get_json("chapter:04-rag") == source_chapter("04-rag")

    with environment(CONTENT_ENDPOINT_URL=f"http://127.0.0.1:{closed_port()}"):
        catalogue.drop_copy_in_memory()  # nothing in memory: only Upstash can serve the course now
        listing = student.get("/v1/chapters")
        assert listing.status == 200 and listing["total"] == 6
        chapter = student.get("/v1/chapters/04-rag")
        assert chapter.status == 200
        assert {k: v for k, v in chapter.body.items() if k != "navigation"} == source_chapter(
            "04-rag"
        )
        assert student.get("/v1/search", query={"q": "retrieval"})["results"]
        submitted = student.post(
            "/v1/quizzes/04-quiz/submit", {"answers": perfect_answers("04-quiz")}
        )
        assert submitted.status == 200 and submitted["score"] == 100.0

        report = health()
        assert report.status == 503
        assert report.body == {
            "status": "unavailable",
            "database": "ok",
            "cache": "ok",
            "content": "down",
        }
    assert health().status == 200


def test_with_the_bucket_and_the_cache_down_a_warm_function_serves_from_memory(
    new_student, stack, environment
):
    student = new_student(tier="premium")
    catalogue.drop_copy_in_memory()
    # The function's first request loads the course (from Upstash or the bucket): now warm.
    assert student.get("/v1/chapters/05-fine-tuning-evaluation").status == 200

    with environment(
        CONTENT_ENDPOINT_URL=f"http://127.0.0.1:{closed_port()}",
        UPSTASH_REDIS_REST_URL=f"http://127.0.0.1:{closed_port()}",
    ):
        chapter = timed(student.get, "/v1/chapters/05-fine-tuning-evaluation")
        assert chapter.status == 200
        assert chapter["sections"] == source_chapter("05-fine-tuning-evaluation")["sections"]
        quiz = timed(student.get, "/v1/quizzes/05-quiz")
        assert quiz.status == 200
        report = health()  # its bucket probe retries once: not bounded like the reads
        assert report.status == 503
        assert report.body == {
            "status": "unavailable",
            "database": "ok",
            "cache": "down",
            "content": "down",
        }

        # A cold function (nothing in memory) with neither source can only say so.
        catalogue.drop_copy_in_memory()
        assert_unavailable(student.get("/v1/chapters"))
        assert_unavailable(student.get("/v1/quizzes/05-quiz"))

    # The services back (and nothing in memory): the course loads again.
    assert student.get("/v1/chapters").status == 200


# --- connections dropped between invocations -------------------------------------------------


def terminate_other_backends(sql) -> int:
    """Kill every other server connection to the test database, as a Postgres restart or an
    idle timeout would; returns how many there were."""
    rows = sql(
        "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    return sum(1 for row in rows if row["killed"])


def test_a_pgbouncer_restart_between_invocations_costs_nothing(new_student, stack, sql):
    if stack["pgbouncer"] is None:
        pytest.skip("pgbouncer is not installed: the functions talk to Postgres directly")
    student = new_student()
    assert student.get("/v1/me").status == 200  # a warm connection through the pooler

    stack["pgbouncer"].restart()

    assert student.get("/v1/me").status == 200
    submitted = student.post("/v1/quizzes/01-quiz/submit", {"answers": perfect_answers("01-quiz")})
    assert submitted.status == 200
    attempts = sql(
        "SELECT count(*) AS n FROM quiz_attempts WHERE student_id = %s", (student.user_id,)
    )
    assert attempts[0]["n"] == 1


@pytest.mark.parametrize("path", ["pooled", "direct"])
def test_server_connections_killed_between_invocations_cost_nothing(
    new_student, stack, sql, path, environment
):
    url = stack["pooled_url"] if path == "pooled" else stack["direct_url"]
    with environment(DATABASE_URL=url):
        student = new_student()
        assert student.get("/v1/me").status == 200  # a warm connection

        assert terminate_other_backends(sql) >= 1

        assert student.get("/v1/me").status == 200
        assert terminate_other_backends(sql) >= 1
        # The write whose first try met the dead connection is stored exactly once.
        submitted = student.post(
            "/v1/quizzes/01-quiz/submit", {"answers": perfect_answers("01-quiz")}
        )
        assert submitted.status == 200, submitted.body
        attempts = sql(
            "SELECT count(*) AS n FROM quiz_attempts WHERE student_id = %s", (student.user_id,)
        )
        assert attempts[0]["n"] == 1


# --- the database down ------------------------------------------------------------------------


def every_database_route(student: Api, email: str) -> dict[str, object]:
    return {
        "register": Api().post("/auth/register", {"email": f"x{email}", "password": PASSWORD}),
        "login": Api().post("/auth/login", {"email": email, "password": PASSWORD}),
        "me": student.get("/v1/me"),
        "update me": student.patch("/v1/me", {"full_name": "Ada"}),
        "export": student.get("/v1/me/export"),
        "chapters": student.get("/v1/chapters"),
        "chapter": student.get("/v1/chapters/01-intro-genai"),
        "search": student.get("/v1/search", query={"q": "token"}),
        "quiz": student.get("/v1/quizzes/01-quiz"),
        "submit": student.post("/v1/quizzes/01-quiz/submit", {"answers": {"q7": False}}),
        "attempts": student.get("/v1/quizzes/01-quiz/attempts"),
        "progress": student.get("/v1/progress"),
        "reading time": student.post("/v1/progress/01-intro-genai/time", {"minutes": 3}),
        "streak": student.get("/v1/streak"),
        "delete me": student.delete("/v1/me"),
    }


def test_with_the_database_down_every_route_is_503_and_nothing_is_lost(
    new_student, stack, sql, environment
):
    student = new_student()
    with environment(DATABASE_URL=f"postgresql://postgres@127.0.0.1:{closed_port()}/companion"):
        for route, response in every_database_route(student, student.email).items():
            assert_unavailable(response, route)
        report = health()
        assert report.status == 503
        assert report.body == {
            "status": "unavailable",
            "database": "down",
            "cache": "ok",
            "content": "ok",
        }
        # Logins the service could not check are not failures of the student's.
        for _ in range(6):
            login = Api().post("/auth/login", {"email": student.email, "password": PASSWORD})
            assert_unavailable(login)

    assert health().status == 200
    assert student.get("/v1/me").status == 200  # the account survived its attempted deletion
    assert Api().post("/auth/login", {"email": student.email, "password": PASSWORD}).status == 200
    rows = sql("SELECT count(*) AS n FROM quiz_attempts WHERE student_id = %s", (student.user_id,))
    assert rows[0]["n"] == 0


def test_a_hung_database_is_a_503_within_the_connect_timeout(new_student, stack, environment):
    student = new_student()
    with (
        SilentListener() as hung,
        environment(
            DATABASE_URL=f"postgresql://postgres@127.0.0.1:{hung.port}/companion",
            DB_CONNECT_TIMEOUT_SECONDS="2",
        ),
    ):
        started = time.monotonic()
        assert_unavailable(student.get("/v1/me"))
        assert time.monotonic() - started < 2 + SLOW_REQUEST_SECONDS
        assert hung.accepted >= 1
    assert student.get("/v1/me").status == 200


# --- a transaction that fails half-way -------------------------------------------------------


@contextlib.contextmanager
def failing_progress_update(sql, student_id: str, action: str, table: str = "chapter_progress"):
    """Make a submission's update of `table` fail for one student, by `action` inside a
    trigger; the attempt (and, for streaks, the progress) was already written in that
    transaction."""
    sql(
        f"""
        CREATE FUNCTION fault_drill() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {action};
            RETURN NEW;
        END $$
        """
    )
    sql(
        f"CREATE TRIGGER fault_drill BEFORE UPDATE ON {table} FOR EACH ROW"
        f" WHEN (NEW.student_id = '{uuid.UUID(student_id)}') EXECUTE FUNCTION fault_drill()"
    )
    try:
        yield
    finally:
        sql(f"DROP TRIGGER IF EXISTS fault_drill ON {table}")
        sql("DROP FUNCTION IF EXISTS fault_drill()")


def stored_state(sql, student_id: str) -> dict:
    def rows(query):
        return [dict(row) for row in sql(query, (student_id,))]

    return {
        "attempts": rows("SELECT id FROM quiz_attempts WHERE student_id = %s"),
        "progress": rows(
            "SELECT chapter_id, completion_status, quiz_score, time_spent_minutes,"
            " last_accessed_at, completed_at FROM chapter_progress WHERE student_id = %s"
            " ORDER BY chapter_id"
        ),
        "streak": rows(
            "SELECT current_streak, longest_streak, last_activity_date FROM streaks"
            " WHERE student_id = %s"
        ),
        "last_active_at": rows("SELECT last_active_at FROM students WHERE id = %s"),
    }


@pytest.mark.parametrize(
    ("action", "status", "code"),
    [
        # The database refuses the last statement: an unexpected error.
        ("RAISE EXCEPTION 'fault drill'", 500, "internal"),
        # The connection is lost half-way: the database is unavailable.
        ("PERFORM pg_terminate_backend(pg_backend_pid())", 503, "unavailable"),
    ],
    ids=["statement-fails", "connection-lost"],
)
def test_a_submission_that_fails_half_way_leaves_nothing_behind(
    new_student, stack, sql, action, status, code
):
    student = new_student()
    assert student.get("/v1/chapters/01-intro-genai").status == 200  # progress: in_progress
    before = stored_state(sql, student.user_id)
    assert before["attempts"] == [] and before["progress"][0]["quiz_score"] is None
    submission = {"answers": perfect_answers("01-quiz"), "idempotency_key": uuid.uuid4().hex}

    with failing_progress_update(sql, student.user_id, action):
        failed = student.post("/v1/quizzes/01-quiz/submit", submission)
        assert failed.status == status, failed.body
        assert failed.body == {"detail": failed["detail"], "code": code}
        assert "Traceback" not in failed.raw["body"]
        assert stored_state(sql, student.user_id) == before

    # The retry with the same key is a first submission, not a replay of a ghost.
    retried = student.post("/v1/quizzes/01-quiz/submit", submission)
    assert retried.status == 200, retried.body
    assert "idempotent-replayed" not in retried.headers
    assert retried["score"] == 100.0 and retried["chapter_status"] == "completed"
    after = stored_state(sql, student.user_id)
    assert [row["id"] for row in after["attempts"]] == [uuid.UUID(retried["attempt_id"])]


def test_a_first_activity_of_the_day_whose_streak_write_fails_leaves_nothing(new_student, sql):
    student = new_student()  # no activity yet: the submission also advances the streak
    before = stored_state(sql, student.user_id)
    submission = {"answers": perfect_answers("01-quiz")}
    with failing_progress_update(sql, student.user_id, "RAISE EXCEPTION 'fault drill'", "streaks"):
        failed = student.post("/v1/quizzes/01-quiz/submit", submission)
        assert failed.status == 500 and failed["code"] == "internal"
        assert stored_state(sql, student.user_id) == before
    assert student.post("/v1/quizzes/01-quiz/submit", submission).status == 200
    assert student.get("/v1/streak")["current_streak"] == 1
