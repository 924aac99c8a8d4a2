"""The quiz_attempts table."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from companion.domain.chapter_progress import ChapterProgress
from companion.domain.streaks import StoredStreak
from companion.domain.student import StudentProfile
from companion.repositories import progress, streaks


@dataclass(frozen=True)
class AttemptSummary:
    id: UUID
    score: Decimal
    passed: bool
    submitted_at: datetime


@dataclass(frozen=True)
class Attempt(AttemptSummary):
    quiz_id: str
    chapter_id: str
    answers: dict[str, Any]
    grading_details: dict[str, Any]
    request_fingerprint: str | None  # what makes a retry "the same submission"


@dataclass(frozen=True)
class LatestAttempt:
    chapter_id: str
    passed: bool
    grading_details: dict[str, Any]


DETAIL_COLUMNS = """
    id, score, passed, submitted_at, quiz_id, chapter_id, answers_json AS answers,
    coalesce(grading_details_json, '{}'::jsonb) AS grading_details, request_fingerprint
"""


def _attempt(row: dict[str, Any] | None) -> Attempt | None:
    return Attempt(**row) if row is not None else None


@dataclass(frozen=True)
class Recorded:
    """What `record` did: whether the student still exists, whether their rows were as seen
    (always, unless `as_seen` was given), the new attempt (None when the idempotency key was
    used already, the student is gone or their rows changed) and the chapter's progress row
    as the attempt left it."""

    student_found: bool
    unchanged: bool
    attempt: Attempt | None
    progress: ChapterProgress | None


# What the database decides about a new attempt; the rest is what was sent (and JSONB is not
# parsed back).
_DECIDED_FIELDS = tuple(field.name for field in fields(AttemptSummary))
# The students row is locked, and every write to the streak (and every timezone change)
# takes that lock first: the streak compared is the one such a write left.
_LOCK_IF_UNCHANGED = f"""
        SELECT s.id, {streaks.AS_SEEN} AS unchanged
          FROM students s LEFT JOIN streaks k ON k.student_id = s.id
         WHERE s.id = %(student)s
           FOR NO KEY UPDATE OF s
"""
_LOCK = "SELECT id, true AS unchanged FROM students WHERE id = %(student)s FOR NO KEY UPDATE"


def _record_statement(lock: str) -> str:
    return f"""
    WITH locked AS (
        {lock}
    ), attempt AS (
        INSERT INTO quiz_attempts
               (student_id, quiz_id, chapter_id, answers_json, score, passed,
                grading_details_json, idempotency_key, request_fingerprint)
        SELECT id, %(quiz)s, %(chapter)s, %(answers)s, %(score)s, %(passed)s, %(details)s,
               %(key)s, %(fingerprint)s
          FROM locked
         WHERE unchanged
        ON CONFLICT (student_id, idempotency_key) WHERE idempotency_key IS NOT NULL
        DO NOTHING
        RETURNING {", ".join(_DECIDED_FIELDS)}
    ), active AS (
        UPDATE students SET last_active_at = now()
         WHERE id = %(student)s AND EXISTS (SELECT 1 FROM attempt)
        RETURNING id
    ), scored AS (
        {progress.QUIZ_SCORE_UPSERT}
    )
    SELECT EXISTS (SELECT 1 FROM locked) AS student_found,
           coalesce((SELECT unchanged FROM locked), false) AS unchanged,
           {", ".join(f"attempt.{name} AS attempt_{name}" for name in _DECIDED_FIELDS)},
           {", ".join(f"scored.{name} AS scored_{name}" for name in progress.COLUMN_NAMES)}
      FROM (SELECT) AS one
      LEFT JOIN attempt ON true
      LEFT JOIN scored ON true
"""


_RECORD = _record_statement(_LOCK)
_RECORD_IF_UNCHANGED = _record_statement(_LOCK_IF_UNCHANGED)


def record(
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
    passing_score: float,
    as_seen: tuple[StudentProfile, StoredStreak] | None = None,
) -> Recorded:
    """Store an attempt with what it changes, in one statement (atomic even in autocommit):
    the student's row locked first (the lock order of every write, see
    repositories.progress), the attempt, last_active_at, and the chapter's best score and
    completion. Nothing is written when the student is gone or already used the key.

    A concurrent insert with the same key waits on the unique index until the first
    transaction ends, so exactly one row is ever stored for a key.

    `as_seen`: the student and streak the caller's decisions were taken from (read for an
    earlier request); nothing is written either when what a submission decides from them
    (the plan, the timezone, the whole streak) is no longer so.
    """
    from psycopg.types.json import Jsonb  # psycopg loads with the first query, not at import

    row = conn.execute(
        _RECORD if as_seen is None else _RECORD_IF_UNCHANGED,
        {
            **(streaks.as_seen_parameters(*as_seen) if as_seen is not None else {}),
            "student": student_id,
            "quiz": quiz_id,
            "chapter": chapter_id,
            "answers": Jsonb(answers),
            "score": score,
            "passed": passed,
            "details": Jsonb(grading_details),
            "key": idempotency_key,
            "fingerprint": fingerprint,
            "passing": passing_score,
        },
    ).fetchone()
    decided = {name: row[f"attempt_{name}"] for name in _DECIDED_FIELDS}
    scored = {name: row[f"scored_{name}"] for name in progress.COLUMN_NAMES}
    attempt = None
    if decided["id"] is not None:
        attempt = Attempt(
            **decided,
            quiz_id=quiz_id,
            chapter_id=chapter_id,
            answers=answers,
            grading_details=grading_details,
            request_fingerprint=fingerprint,
        )
    return Recorded(
        student_found=row["student_found"],
        unchanged=row["unchanged"],
        attempt=attempt,
        progress=ChapterProgress(**scored) if scored["chapter_id"] is not None else None,
    )


def by_idempotency_key(conn, student_id: str, key: str) -> Attempt | None:
    row = conn.execute(
        f"SELECT {DETAIL_COLUMNS} FROM quiz_attempts"
        " WHERE student_id = %s AND idempotency_key = %s",
        (student_id, key),
    ).fetchone()
    return _attempt(row)


def for_quiz(conn, student_id: str, quiz_id: str) -> list[AttemptSummary]:
    rows = conn.execute(
        "SELECT id, score, passed, submitted_at FROM quiz_attempts"
        " WHERE student_id = %s AND quiz_id = %s ORDER BY submitted_at DESC, id",
        (student_id, quiz_id),
    ).fetchall()
    return [AttemptSummary(**row) for row in rows]


def get(conn, student_id: str, quiz_id: str, attempt_id: str) -> Attempt | None:
    row = conn.execute(
        f"SELECT {DETAIL_COLUMNS} FROM quiz_attempts"
        " WHERE id = %s AND student_id = %s AND quiz_id = %s",
        (attempt_id, student_id, quiz_id),
    ).fetchone()
    return _attempt(row)


# One probe of idx_attempts_student_chapter per chapter, however many attempts. The only
# other index ordered by submitted_at alone (the pruner's) is partial, WHERE submitted_at IS
# NOT NULL, which this query does not imply: so the planner cannot walk it backwards over
# the whole table hoping to meet this student soon (it did, on a small table dominated by
# a few students: 7.2 ms against 0.1 ms; migration 0008).
def latest_per_chapter_of(chapters: str, student: str) -> str:
    """The query for each of `chapters`' newest attempt by `student` (SQL expressions: a
    text[] parameter, a student id), for a query of its own or inside the caller's read."""
    return f"""
    SELECT chapter.id AS chapter_id, latest.passed,
           coalesce(latest.grading_details_json, '{{}}'::jsonb) AS grading_details
      FROM unnest({chapters}::text[]) AS chapter(id)
     CROSS JOIN LATERAL (
           SELECT passed, grading_details_json
             FROM quiz_attempts
            WHERE student_id = {student} AND chapter_id = chapter.id
            ORDER BY submitted_at DESC, id DESC
            LIMIT 1
     ) AS latest
"""


LATEST_PER_CHAPTER = latest_per_chapter_of("%s", "%s")


def latest_per_chapter(conn, student_id: str, chapter_ids: list[str]) -> dict[str, LatestAttempt]:
    """Each chapter's newest attempt, keyed by chapter id (chapters never attempted absent)."""
    rows = conn.execute(LATEST_PER_CHAPTER, (chapter_ids, student_id)).fetchall()
    return {row["chapter_id"]: LatestAttempt(**row) for row in rows}


# The one spelling of an attempt id the API hands out. Python's uuid.UUID also takes
# "urn:uuid:…", braces and hyphens anywhere, which Postgres refuses (a 500 if passed on).
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def looks_like_id(value: str) -> bool:
    """Whether `value` is an attempt id as the API writes them, before asking the database."""
    return _ID.fullmatch(value) is not None
