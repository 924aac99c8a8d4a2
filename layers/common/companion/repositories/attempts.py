"""The quiz_attempts table."""

from __future__ import annotations

import re
from typing import Any

from companion.formats import iso, number

DETAIL_COLUMNS = """
    id, quiz_id, chapter_id, answers_json, score, passed, grading_details_json, submitted_at,
    request_fingerprint
"""


def summary(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "attempt_id": str(row["id"]),
        "score": number(row["score"]),
        "passed": row["passed"],
        "submitted_at": iso(row["submitted_at"]),
    }


def detail(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **summary(row),
        "quiz_id": row["quiz_id"],
        "chapter_id": row["chapter_id"],
        "answers": row["answers_json"],
        "grading_details": row["grading_details_json"] or {},
    }


def insert(
    conn,
    *,
    student_id: str,
    quiz_id: str,
    chapter_id: str,
    answers: dict,
    score: float,
    passed: bool,
    grading_details: dict,
    idempotency_key: str | None,
    fingerprint: str,
) -> dict[str, Any] | None:
    """The new attempt, or None when this student already used the idempotency key.

    A concurrent insert with the same key waits on the unique index until the first
    transaction ends, so exactly one row is ever stored for a key.
    """
    from psycopg.types.json import Jsonb  # psycopg loads with the first query, not at import

    return conn.execute(
        f"""
        INSERT INTO quiz_attempts
               (student_id, quiz_id, chapter_id, answers_json, score, passed,
                grading_details_json, idempotency_key, request_fingerprint)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (student_id, idempotency_key) WHERE idempotency_key IS NOT NULL
        DO NOTHING
        RETURNING {DETAIL_COLUMNS}
        """,
        (
            student_id,
            quiz_id,
            chapter_id,
            Jsonb(answers),
            score,
            passed,
            Jsonb(grading_details),
            idempotency_key,
            fingerprint,
        ),
    ).fetchone()


def by_idempotency_key(conn, student_id: str, key: str) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {DETAIL_COLUMNS} FROM quiz_attempts"
        " WHERE student_id = %s AND idempotency_key = %s",
        (student_id, key),
    ).fetchone()


def for_quiz(conn, student_id: str, quiz_id: str) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT id, score, passed, submitted_at FROM quiz_attempts"
        " WHERE student_id = %s AND quiz_id = %s ORDER BY submitted_at DESC, id",
        (student_id, quiz_id),
    ).fetchall()


def get(conn, student_id: str, quiz_id: str, attempt_id: str) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {DETAIL_COLUMNS} FROM quiz_attempts"
        " WHERE id = %s AND student_id = %s AND quiz_id = %s",
        (attempt_id, student_id, quiz_id),
    ).fetchone()


# One probe of idx_attempts_student_chapter per chapter, however many attempts. The only
# other index ordered by submitted_at alone (the pruner's) is partial, WHERE submitted_at IS
# NOT NULL, which this query does not imply: so the planner cannot walk it backwards over
# the whole table hoping to meet this student soon (it did, on a small table dominated by
# a few students: 7.2 ms against 0.1 ms; migration 0008).
LATEST_PER_CHAPTER = """
    SELECT chapter.id AS chapter_id, latest.passed, latest.grading_details_json
      FROM unnest(%s::text[]) AS chapter(id)
     CROSS JOIN LATERAL (
           SELECT passed, grading_details_json
             FROM quiz_attempts
            WHERE student_id = %s AND chapter_id = chapter.id
            ORDER BY submitted_at DESC, id DESC
            LIMIT 1
     ) AS latest
"""


def latest_per_chapter(conn, student_id: str, chapter_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each chapter's newest attempt, keyed by chapter id (chapters never attempted absent)."""
    rows = conn.execute(LATEST_PER_CHAPTER, (chapter_ids, student_id)).fetchall()
    return {row["chapter_id"]: row for row in rows}


# The one spelling of an attempt id the API hands out. Python's uuid.UUID also takes
# "urn:uuid:…", braces and hyphens anywhere, which Postgres refuses (a 500 if passed on).
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def looks_like_id(value: str) -> bool:
    """Whether `value` is an attempt id as the API writes them, before asking the database."""
    return _ID.fullmatch(value) is not None
