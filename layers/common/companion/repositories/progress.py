"""The chapter_progress table. Every write is one statement, settled by ON CONFLICT.

Each write is also the student's activity: the same statement stamps
students.last_active_at (a data-modifying CTE), so the pair is atomic even in autocommit.

Lock order: the row inserted comes *from* that CTE's output, so the students row is locked
before any chapter_progress row, the order in which DELETE /v1/me takes them (the student,
then its rows by cascade); the other order deadlocked with a deletion. A student deleted
meanwhile updates no row, so the write inserts none and returns None.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from companion.domain.chapter_progress import ChapterProgress
from companion.domain.streaks import StoredStreak
from companion.domain.student import StudentProfile
from companion.repositories import streaks

COLUMN_NAMES = tuple(field.name for field in fields(ChapterProgress))
COLUMNS = ", ".join(COLUMN_NAMES)

_STAMP_ACTIVE = """
    WITH active AS (
        UPDATE students SET last_active_at = now() WHERE id = %(student)s RETURNING id
    )
"""
# For a caller as last seen: stamped (and so written at all) only where the plan, timezone and
# streak are still as seen (streaks.AS_SEEN).
_STAMP_ACTIVE_IF_UNCHANGED = f"""
    WITH active AS (
        UPDATE students s SET last_active_at = now()
          FROM streaks k
         WHERE s.id = %(student)s AND k.student_id = s.id AND {streaks.AS_SEEN}
        RETURNING s.id
    )
"""

# A chapter that is opened, read or quizzed becomes in_progress, never downgrading completed.
_STARTED = """
    CASE WHEN chapter_progress.completion_status = 'completed' THEN 'completed'
         ELSE 'in_progress' END
"""


# The section pointer only moves forward in time: of two reads racing, the later one wins.
_NEWER_SECTION = """
    EXCLUDED.last_section_id IS NOT NULL
    AND (chapter_progress.last_section_opened_at IS NULL
         OR EXCLUDED.last_section_opened_at >= chapter_progress.last_section_opened_at)
"""


def touch_chapter(
    conn, student_id: str, chapter_id: str, section_id: str | None = None
) -> ChapterProgress | None:
    """A read of the chapter (or of one of its sections, which becomes where to resume)."""
    return _written(
        conn,
        f"""
        {_STAMP_ACTIVE}
        INSERT INTO chapter_progress (student_id, chapter_id, completion_status, last_accessed_at,
                                      last_section_id, last_section_opened_at)
        SELECT id, %(chapter)s, 'in_progress', now(),
               %(section)s::varchar, CASE WHEN %(section)s::varchar IS NOT NULL THEN now() END
          FROM active
        ON CONFLICT (student_id, chapter_id) DO UPDATE
           SET completion_status = {_STARTED},
               last_accessed_at = now(),
               last_section_id = CASE WHEN {_NEWER_SECTION} THEN EXCLUDED.last_section_id
                                      ELSE chapter_progress.last_section_id END,
               last_section_opened_at = CASE WHEN {_NEWER_SECTION}
                                             THEN EXCLUDED.last_section_opened_at
                                             ELSE chapter_progress.last_section_opened_at END
        RETURNING {COLUMNS}
        """,
        {"student": student_id, "chapter": chapter_id, "section": section_id},
    )


def add_reading_time(
    conn,
    student_id: str,
    chapter_id: str,
    minutes: int,
    as_seen: tuple[StudentProfile, StoredStreak] | None = None,
) -> ChapterProgress | None:
    """Minutes read in the chapter. With `as_seen` (the student and streak the caller's
    decisions were taken from), nothing is written either when those changed."""
    return _written(
        conn,
        f"""
        {_STAMP_ACTIVE if as_seen is None else _STAMP_ACTIVE_IF_UNCHANGED}
        INSERT INTO chapter_progress
               (student_id, chapter_id, completion_status, time_spent_minutes, last_accessed_at)
        SELECT id, %(chapter)s, 'in_progress', %(minutes)s, now() FROM active
        ON CONFLICT (student_id, chapter_id) DO UPDATE
           SET completion_status = {_STARTED},
               time_spent_minutes =
                   chapter_progress.time_spent_minutes + EXCLUDED.time_spent_minutes,
               last_accessed_at = now()
        RETURNING {COLUMNS}
        """,
        {
            **(streaks.as_seen_parameters(*as_seen) if as_seen is not None else {}),
            "student": student_id,
            "chapter": chapter_id,
            "minutes": minutes,
        },
    )


# The chapter's best score and completion (completed_at set once, when a score passes),
# for quiz_attempts.record's statement: its rows come from a CTE `active`, the students row
# stamped in the same statement.
QUIZ_SCORE_UPSERT = f"""
        INSERT INTO chapter_progress AS p
               (student_id, chapter_id, completion_status, quiz_score, last_accessed_at,
                completed_at)
        SELECT id, %(chapter)s,
               CASE WHEN %(score)s >= %(passing)s THEN 'completed' ELSE 'in_progress' END,
               %(score)s, now(),
               CASE WHEN %(score)s >= %(passing)s THEN now() END
          FROM active
        ON CONFLICT (student_id, chapter_id) DO UPDATE
           SET quiz_score = GREATEST(p.quiz_score, EXCLUDED.quiz_score),
               completion_status = CASE
                   WHEN p.completion_status = 'completed'
                     OR GREATEST(p.quiz_score, EXCLUDED.quiz_score) >= %(passing)s
                   THEN 'completed' ELSE 'in_progress' END,
               completed_at = COALESCE(
                   p.completed_at,
                   CASE WHEN GREATEST(p.quiz_score, EXCLUDED.quiz_score) >= %(passing)s
                        THEN now() END),
               last_accessed_at = now()
        RETURNING {COLUMNS}
"""


def _written(conn, query: str, params: dict[str, Any]) -> ChapterProgress | None:
    row = conn.execute(query, params).fetchone()
    return ChapterProgress(**row) if row is not None else None


def for_student(conn, student_id: str) -> dict[str, ChapterProgress]:
    """The student's rows by chapter id."""
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM chapter_progress WHERE student_id = %s", (student_id,)
    ).fetchall()
    return {row["chapter_id"]: ChapterProgress(**row) for row in rows}
