"""PruneFunction against real Postgres and moto's S3, through the real Lambda handler.

Pruning removes every old attempt in the shared test database; other tests only create
recent attempts, and each test here asserts on its own students' rows.
"""

from __future__ import annotations

import gzip
import json
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import boto3
import psycopg
import pytest
from api import Api
from psycopg.rows import dict_row

from companion_dev import template
from companion_dev.invoke import LambdaContext, invoke

PREFIX = "archive/quiz_attempts/"
SCHEDULED = {"retention_days": 90, "dry_run": False}
MANY = 12_000  # more than two batches of 5,000


@pytest.fixture
def sql(stack):
    with psycopg.connect(stack["direct_url"], autocommit=True, row_factory=dict_row) as conn:
        yield conn


@pytest.fixture
def s3(stack):
    return boto3.client(
        "s3", endpoint_url=os.environ["CONTENT_ENDPOINT_URL"], region_name="us-east-1"
    )


def new_student(sql) -> str:
    email = f"prune-{uuid.uuid4().hex[:12]}@example.com"
    row = sql.execute(
        "INSERT INTO students (email, password_hash) VALUES (%s, 'not-a-hash') RETURNING id",
        (email,),
    ).fetchone()
    return str(row["id"])


def add_attempts(
    sql, student_id: str, count: int, age: str, spacing: str = "1 second"
) -> list[str]:
    """`count` attempts submitted `age` ago, `spacing` apart going back, varied contents."""
    rows = sql.execute(
        """
        INSERT INTO quiz_attempts
               (student_id, quiz_id, chapter_id, answers_json, score, passed,
                grading_details_json, submitted_at, idempotency_key, request_fingerprint)
        SELECT %(student)s, '01-quiz', '01-intro-genai',
               jsonb_build_object('q1', 'b', 'q7', n %% 2 = 0, 'q10', 'réponse ' || n),
               ((n * 37) %% 10001) / 100.0,
               ((n * 37) %% 10001) / 100.0 >= 70,
               CASE WHEN n %% 3 = 0 THEN NULL
                    ELSE jsonb_build_object('q1', jsonb_build_object('correct', true)) END,
               now() - %(age)s::interval - n * %(spacing)s::interval,
               CASE WHEN n %% 2 = 0 THEN gen_random_uuid()::text END,
               repeat('f', 64)
          FROM generate_series(1, %(count)s) AS n
        RETURNING id
        """,
        {"student": student_id, "age": age, "count": count, "spacing": spacing},
    ).fetchall()
    return [str(row["id"]) for row in rows]


def rows_of(sql, student_id: str) -> dict[str, dict]:
    rows = sql.execute("SELECT * FROM quiz_attempts WHERE student_id = %s", (student_id,))
    return {str(row["id"]): row for row in rows.fetchall()}


def old_attempt_count(sql) -> int:
    """Attempts past the 90-day retention, whoever's they are."""
    return sql.execute(
        "SELECT count(*) AS n FROM quiz_attempts WHERE submitted_at < now() - interval '90 days'"
    ).fetchone()["n"]


def archive_keys(s3) -> set[str]:
    keys, token = set(), None
    while True:
        extra = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=os.environ["CONTENT_BUCKET"], Prefix=PREFIX, **extra)
        keys.update(item["Key"] for item in page.get("Contents", []))
        token = page.get("NextContinuationToken")
        if not token:
            return keys


def archived_lines(s3, keys) -> list[dict]:
    lines = []
    for key in keys:
        body = s3.get_object(Bucket=os.environ["CONTENT_BUCKET"], Key=key)["Body"].read()
        lines.extend(json.loads(line) for line in gzip.decompress(body).splitlines())
    return lines


def assert_line_is_row(line: dict, row: dict) -> None:
    """A full row: every column, instants as ISO UTC, numbers as numbers, JSON as JSON."""
    assert set(line) == set(row)
    assert line["id"] == str(row["id"])
    assert line["student_id"] == str(row["student_id"])
    submitted_at = datetime.fromisoformat(line["submitted_at"])
    assert submitted_at == row["submitted_at"] and submitted_at.utcoffset() == timedelta(0)
    assert isinstance(line["score"], int | float) and line["score"] == float(row["score"])
    for column in ("quiz_id", "chapter_id", "answers_json", "passed", "grading_details_json"):
        assert line[column] == row[column]
    assert line["idempotency_key"] == row["idempotency_key"]
    assert line["request_fingerprint"] == row["request_fingerprint"]


def mine(lines: list[dict], student_id: str) -> list[dict]:
    return [line for line in lines if line["student_id"] == student_id]


def test_only_old_attempts_are_archived_then_deleted(sql, s3):
    student = new_student(sql)
    old = add_attempts(sql, student, MANY, "100 days")
    # Stamped with one same instant across a batch boundary: none skipped, none twice.
    old += add_attempts(sql, student, 6_000, "95 days", spacing="0 seconds")
    recent = add_attempts(sql, student, 5, "1 day")
    almost_old = add_attempts(sql, student, 3, "89 days")
    before = rows_of(sql, student)
    keys_before = archive_keys(s3)

    result = invoke("PruneFunction", SCHEDULED)

    assert result["complete"] is True and result["dry_run"] is False
    cutoff = datetime.fromisoformat(result["cutoff"])
    assert abs(cutoff - (datetime.now(UTC) - timedelta(days=90))) < timedelta(minutes=1)
    assert set(rows_of(sql, student)) == set(recent + almost_old)

    # One object per student per batch of at most 5,000, under the student's own prefix,
    # a student's keys sorting by time, all of them new.
    keys = result["archive_keys"]
    own_keys = [key for key in keys if key.startswith(f"{PREFIX}{student}/")]
    assert len(own_keys) >= 3 and own_keys == sorted(own_keys)
    assert all(key.startswith(PREFIX) and key.endswith(".jsonl.gz") for key in keys)
    assert archive_keys(s3) - keys_before == set(keys)

    lines = archived_lines(s3, keys)
    assert len(lines) == result["archived"] == result["deleted"]
    assert len({line["id"] for line in lines}) == len(lines)
    # Every archived line is a row that is gone now, and older than the cutoff.
    still_there = sql.execute(
        "SELECT count(*) AS n FROM quiz_attempts WHERE id = ANY(%s::uuid[])",
        ([line["id"] for line in lines],),
    ).fetchone()["n"]
    assert still_there == 0
    assert all(datetime.fromisoformat(line["submitted_at"]) < cutoff for line in lines)
    # Ours are exactly the old ones, each exactly as it was stored, oldest first.
    own = mine(lines, student)
    assert sorted(line["id"] for line in own) == sorted(old)
    for line in own:
        assert_line_is_row(line, before[line["id"]])
    stamps = [(line["submitted_at"], line["id"]) for line in lines]
    assert [datetime.fromisoformat(s) for s, _ in stamps] == sorted(
        datetime.fromisoformat(s) for s, _ in stamps
    )


def test_a_second_run_is_a_no_op(sql, s3):
    student = new_student(sql)
    add_attempts(sql, student, 4, "120 days")
    recent = add_attempts(sql, student, 2, "2 hours")
    first = invoke("PruneFunction", SCHEDULED)
    assert first["deleted"] >= 4
    keys_after_first = archive_keys(s3)

    second = invoke("PruneFunction", SCHEDULED)

    assert second == {
        **second,
        "archived": 0,
        "deleted": 0,
        "archive_keys": [],
        "complete": True,
    }
    assert archive_keys(s3) == keys_after_first
    assert set(rows_of(sql, student)) == set(recent)


def test_a_dry_run_counts_and_changes_nothing(sql, s3):
    student = new_student(sql)
    add_attempts(sql, student, 7, "100 days")
    add_attempts(sql, student, 6_000, "100 days", spacing="0 seconds")
    add_attempts(sql, student, 2, "10 days")
    before = rows_of(sql, student)
    keys_before = archive_keys(s3)

    result = invoke("PruneFunction", {"retention_days": 90, "dry_run": True})

    assert result["dry_run"] is True and result["complete"] is True
    assert result["archived"] == 0 and result["deleted"] == 0 and result["archive_keys"] == []
    old_in_database = sql.execute(
        "SELECT count(*) AS n FROM quiz_attempts WHERE submitted_at < %s",
        (datetime.fromisoformat(result["cutoff"]),),
    ).fetchone()["n"]
    assert result["would_archive"] == old_in_database >= 6_007
    assert rows_of(sql, student) == before
    assert archive_keys(s3) == keys_before


def test_a_crash_between_archive_and_delete_loses_nothing_and_a_rerun_completes(sql, s3):
    student = new_student(sql)
    old = add_attempts(sql, student, MANY, "100 days")
    before = rows_of(sql, student)
    keys_before = archive_keys(s3)
    # The database refuses to delete this student's attempts: the first batch is written
    # to the bucket, then its delete fails and the invocation dies.
    sql.execute(
        f"""
        CREATE FUNCTION refuse_prune_{student.replace("-", "")}() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected crash'; END $$;
        CREATE TRIGGER refuse_prune BEFORE DELETE ON quiz_attempts FOR EACH ROW
        WHEN (OLD.student_id = '{student}')
        EXECUTE FUNCTION refuse_prune_{student.replace("-", "")}();
        """
    )
    try:
        with pytest.raises(psycopg.errors.RaiseException, match="injected crash"):
            invoke("PruneFunction", SCHEDULED)
    finally:
        sql.execute(
            f"""
            DROP TRIGGER refuse_prune ON quiz_attempts;
            DROP FUNCTION refuse_prune_{student.replace("-", "")}();
            """
        )

    assert rows_of(sql, student) == before
    crashed_keys = archive_keys(s3) - keys_before
    assert len(crashed_keys) == 1
    assert mine(archived_lines(s3, crashed_keys), student)

    rerun = invoke("PruneFunction", SCHEDULED)

    assert rerun["complete"] is True
    assert rows_of(sql, student) == {}
    # The rerun starts at the same row, so it overwrites the crashed run's object: every
    # old attempt is in the archive exactly once.
    assert crashed_keys <= set(rerun["archive_keys"])
    new_keys = archive_keys(s3) - keys_before
    assert new_keys == set(rerun["archive_keys"])
    own = mine(archived_lines(s3, new_keys), student)
    assert sorted(line["id"] for line in own) == sorted(old)
    for line in own:
        assert_line_is_row(line, before[line["id"]])


def test_a_failed_archive_write_deletes_nothing(sql, s3, environment):
    student = new_student(sql)
    add_attempts(sql, student, 10, "100 days")
    before = rows_of(sql, student)
    old_before = old_attempt_count(sql)
    with (
        environment(CONTENT_BUCKET="no-such-bucket"),
        pytest.raises(Exception, match="unreachable"),
    ):
        invoke("PruneFunction", SCHEDULED)

    assert old_attempt_count(sql) == old_before
    assert rows_of(sql, student) == before
    assert invoke("PruneFunction", SCHEDULED)["complete"] is True
    assert rows_of(sql, student) == {}


@dataclass
class NearTimeoutAfterFirstCheck(LambdaContext):
    """A Lambda context with minutes left at the first look, then only five seconds."""

    looks: int = 0

    def get_remaining_time_in_millis(self) -> int:
        self.looks += 1
        return 300_000 if self.looks == 1 else 5_000


def test_a_run_short_of_time_stops_cleanly_and_the_next_one_finishes(sql, s3):
    student = new_student(sql)
    old = add_attempts(sql, student, MANY, "100 days")
    before = rows_of(sql, student)
    handler = template.load_handler("PruneFunction")

    # Five seconds left from the start: nothing is touched.
    at_deadline = LambdaContext(deadline_ms=time.time() * 1000 + 5_000)
    idle = handler(SCHEDULED, at_deadline)
    assert idle["complete"] is False
    assert idle["archived"] == idle["deleted"] == 0 and idle["archive_keys"] == []
    assert rows_of(sql, student) == before

    # Time runs low after the first batch: that batch is archived and deleted, then stop.
    partial = handler(SCHEDULED, NearTimeoutAfterFirstCheck())
    assert partial["complete"] is False
    assert 0 < partial["deleted"] == partial["archived"] < MANY
    left = rows_of(sql, student)
    assert 0 < len(left) < MANY
    through = datetime.fromisoformat(partial["processed_through"])
    assert all(row["submitted_at"] >= through for row in left.values())

    rest = invoke("PruneFunction", SCHEDULED)
    assert rest["complete"] is True
    assert rows_of(sql, student) == {}
    own = mine(archived_lines(s3, partial["archive_keys"] + rest["archive_keys"]), student)
    assert sorted(line["id"] for line in own) == sorted(old)


def test_pruning_keeps_the_best_score_the_student_sees():
    email = f"prune-{uuid.uuid4().hex[:12]}@example.com"
    api = Api()
    assert api.post("/auth/register", {"email": email, "password": "long enough 1"}).status == 201
    api.token = api.post("/auth/login", {"email": email, "password": "long enough 1"})[
        "access_token"
    ]
    good = {"q1": "b", "q2": "a", "q3": "a", "q4": "a", "q5": "a", "q6": "a"}
    good |= {"q7": False, "q8": True, "q9": False}
    best = api.post("/v1/quizzes/01-quiz/submit", {"answers": good})
    assert best.status == 200 and best["passed"] is True
    worse = api.post("/v1/quizzes/01-quiz/submit", {"answers": {"q1": "a"}})
    assert worse.status == 200 and worse["score"] < best["score"]
    with psycopg.connect(os.environ["DATABASE_DIRECT_URL"], autocommit=True) as conn:
        conn.execute(
            "UPDATE quiz_attempts SET submitted_at = now() - interval '100 days' WHERE id = %s",
            (best["attempt_id"],),
        )
    progress_before = api.get("/v1/progress").body

    invoke("PruneFunction", SCHEDULED)

    attempts = api.get("/v1/quizzes/01-quiz/attempts")
    assert [a["attempt_id"] for a in attempts["attempts"]] == [worse["attempt_id"]]
    assert attempts["best_score"] == best["score"]
    progress_after = api.get("/v1/progress").body
    assert progress_after["chapters"] == progress_before["chapters"]
    assert progress_after["chapters"][0]["quiz_score"] == best["score"]
    assert progress_after["chapters"][0]["completion_status"] == "completed"
    assert progress_after["progress_percentage"] == progress_before["progress_percentage"]


def test_a_plain_scheduled_event_uses_the_defaults_and_a_bad_one_is_refused(sql):
    student = new_student(sql)
    add_attempts(sql, student, 2, "91 days")
    kept = add_attempts(sql, student, 2, "89 days")
    eventbridge_event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": datetime.now(UTC).isoformat(),
        "region": "eu-west-1",
        "resources": ["arn:aws:events:eu-west-1:000000000000:rule/daily-prune"],
        "detail": {},
    }
    with pytest.raises(ValueError, match="retention_days"):
        invoke("PruneFunction", {"retention_days": 0})
    assert len(rows_of(sql, student)) == 4

    result = invoke("PruneFunction", eventbridge_event)

    assert result["dry_run"] is False and result["complete"] is True
    assert set(rows_of(sql, student)) == set(kept)


def test_login_throttle_counts_past_their_window_are_deleted(sql):
    key = f"email:{uuid.uuid4().hex}"
    sql.execute(
        "INSERT INTO throttled_tries (throttle_key, tried_at, try_id) VALUES"
        " (%(key)s, now() - interval '16 minutes', gen_random_uuid()),"
        " (%(key)s, now() - interval '1 minute', gen_random_uuid())",
        {"key": key},
    )

    result = invoke("PruneFunction", SCHEDULED)

    assert result["expired_login_tries"] >= 1
    left = sql.execute(
        "SELECT tried_at > now() - interval '2 minutes' AS recent FROM throttled_tries"
        " WHERE throttle_key = %s",
        (key,),
    ).fetchall()
    assert left == [{"recent": True}]


def test_each_students_lines_lie_under_their_own_prefix(sql, s3):
    first, second = new_student(sql), new_student(sql)
    # Interleaved in time, so that one batch holds both students' rows.
    add_attempts(sql, first, 30, "100 days", spacing="2 seconds")
    add_attempts(sql, second, 30, "100 days 1 second", spacing="2 seconds")

    result = invoke("PruneFunction", SCHEDULED)

    for student in (first, second):
        keys = archive_keys(s3) & {k for k in result["archive_keys"] if student in k}
        assert keys and all(key.startswith(f"{PREFIX}{student}/") for key in keys)
        lines = archived_lines(s3, keys)
        assert len(lines) == 30 and {line["student_id"] for line in lines} == {student}


class DeletingStudentOnFirstWrite:
    """The real bucket, through which the student deletes their account (and erases their
    prefix) just before the pruner writes a batch holding their rows: the race the pruner
    must catch."""

    def __init__(self, student_id: str, sql) -> None:
        from companion.content_store import content_store

        self.inner = content_store()
        self.student_id = student_id
        self.sql = sql

    def put(self, key, data, content_type="application/json"):
        if self.student_id in key:
            self.sql.execute("DELETE FROM students WHERE id = %s", (self.student_id,))
        self.inner.put(key, data, content_type)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_an_account_deleted_while_its_rows_are_archived_leaves_no_line(sql, s3):
    from companion.retention import prune_attempts

    gone, kept = new_student(sql), new_student(sql)
    add_attempts(sql, gone, 5, "100 days")
    add_attempts(sql, kept, 5, "100 days")

    summary = prune_attempts(retention_days=90, store=DeletingStudentOnFirstWrite(gone, sql))

    assert summary.complete
    assert not any(key.startswith(f"{PREFIX}{gone}/") for key in archive_keys(s3))
    assert len(archived_lines(s3, [k for k in archive_keys(s3) if kept in k])) == 5
