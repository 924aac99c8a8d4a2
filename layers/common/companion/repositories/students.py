"""The students table, and everything held about one student (export, delete)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from companion.domain.chapter_progress import ChapterProgress
from companion.domain.streaks import StoredStreak
from companion.domain.student import StudentProfile, StudentWithPassword
from companion.repositories import attempts, oauth, progress, streaks
from companion.repositories.attempts import LatestAttempt

PROFILE_FIELDS = tuple(field.name for field in fields(StudentProfile))
PROFILE_COLUMNS = ", ".join(PROFILE_FIELDS)


@dataclass(frozen=True)
class CallerRows:
    """What every authenticated request reads first: the student and, when asked for, their
    streak, their chapter_progress rows and each chapter's newest attempt."""

    student: StudentProfile
    streak_read: bool
    streak: StoredStreak | None  # None: no streak row, or not read
    progress: dict[str, ChapterProgress] | None  # by chapter id; None when not read
    latest_attempts: dict[str, LatestAttempt] | None = None  # by chapter id; None: not read


def _student(row: dict[str, Any] | None) -> StudentProfile | None:
    return StudentProfile(**row) if row is not None else None


def get(conn, student_id: str) -> StudentProfile | None:
    return _student(
        conn.execute(
            f"SELECT {PROFILE_COLUMNS} FROM students WHERE id = %s", (student_id,)
        ).fetchone()
    )


# The streak's timezone is read under another name: the profile has one too.
_STREAK_FIELDS = tuple(name for name in streaks.COLUMN_NAMES if name != "timezone")
# The chapter_progress rows come as one array per column (at most one row per chapter), so
# each value keeps its type; zipped back into rows below. The arrays are filled from the
# same rows in the same order, so their n-th items are one row. The same for the newest
# attempt of each chapter.
_PROGRESS_FIELDS = progress.COLUMN_NAMES
_LATEST_FIELDS = tuple(field.name for field in fields(attempts.LatestAttempt))


def _arrays(alias: str, names: tuple[str, ...], prefix: str) -> str:
    return ", ".join(f"array_agg({alias}.{name}) AS {prefix}_{name}" for name in names)


_PROGRESS_JOIN = f"""
      CROSS JOIN LATERAL (
            SELECT {_arrays("p", _PROGRESS_FIELDS, "progress")}
              FROM chapter_progress p WHERE p.student_id = s.id
      ) AS progress
"""
_LATEST_JOIN = f"""
      CROSS JOIN LATERAL (
            SELECT {_arrays("l", _LATEST_FIELDS, "latest")}
              FROM ({attempts.latest_per_chapter_of("%s", "s.id")}) AS l
      ) AS latest
"""


_STREAK_JOIN = "LEFT JOIN streaks k ON k.student_id = s.id"
_STREAK_COLUMNS = f"""
           , {", ".join(f"k.{name}" for name in _STREAK_FIELDS)},
           k.timezone AS streak_timezone, k.student_id AS streak_student"""


def _caller_query(*, with_streak: bool, with_progress: bool, with_latest: bool) -> str:
    """The read of the caller and, when asked, their streak, their chapter_progress rows
    and each chapter's newest attempt (its one parameter before the student id: the
    chapter ids)."""
    joins = (_PROGRESS_JOIN if with_progress else "") + (_LATEST_JOIN if with_latest else "")
    streak_columns = _STREAK_COLUMNS if with_streak else ""
    return f"""
    SELECT {", ".join(f"s.{name}" for name in PROFILE_FIELDS)}{streak_columns}
           {", progress.*" if with_progress else ""}{", latest.*" if with_latest else ""}
      FROM students s
      {_STREAK_JOIN if with_streak else ""}
      {joins}
     WHERE s.id = %s
"""


_CALLER = _caller_query(with_streak=False, with_progress=False, with_latest=False)
_CALLER_WITH_STREAK = _caller_query(with_streak=True, with_progress=False, with_latest=False)
_CALLER_WITH_STREAK_AND_PROGRESS = _caller_query(
    with_streak=True, with_progress=True, with_latest=False
)
CALLER_WITH_PROGRESS_AND_LATEST_ATTEMPTS = _caller_query(
    with_streak=True, with_progress=True, with_latest=True
)


def _zipped(row: dict[str, Any], prefix: str, names: tuple[str, ...]) -> list[tuple]:
    columns = [row.pop(f"{prefix}_{name}") or [] for name in names]
    return list(zip(*columns, strict=True))


def get_caller(
    conn,
    student_id: str,
    *,
    with_streak: bool = False,
    with_progress: bool = False,
    latest_of: list[str] | None = None,
) -> CallerRows | None:
    """The student and, `with_streak`, their streak, and, `with_progress` (streak included),
    their chapter_progress rows and, with `latest_of` (chapter ids, with_progress only),
    each of those chapters' newest attempt, in one round trip."""
    if latest_of is not None:
        row = conn.execute(
            CALLER_WITH_PROGRESS_AND_LATEST_ATTEMPTS, (latest_of, student_id)
        ).fetchone()
    elif with_progress:
        row = conn.execute(_CALLER_WITH_STREAK_AND_PROGRESS, (student_id,)).fetchone()
    else:
        query = _CALLER_WITH_STREAK if with_streak else _CALLER
        row = conn.execute(query, (student_id,)).fetchone()
    if row is None:
        return None
    stored = None
    streak_read = "streak_student" in row
    if streak_read:
        streak = {name: row.pop(name) for name in _STREAK_FIELDS}
        streak["timezone"] = row.pop("streak_timezone")
        if row.pop("streak_student") is not None:
            stored = streaks.stored_streak(streak)
    by_chapter = latest = None
    if with_progress or latest_of is not None:
        rows = (ChapterProgress(*values) for values in _zipped(row, "progress", _PROGRESS_FIELDS))
        by_chapter = {entry.chapter_id: entry for entry in rows}
    if latest_of is not None:
        attempts_read = (
            attempts.LatestAttempt(*values) for values in _zipped(row, "latest", _LATEST_FIELDS)
        )
        latest = {attempt.chapter_id: attempt for attempt in attempts_read}
    return CallerRows(
        student=StudentProfile(**row),
        streak_read=streak_read,
        streak=stored,
        progress=by_chapter,
        latest_attempts=latest,
    )


def get_by_email(conn, email: str) -> StudentWithPassword | None:
    """The profile and password hash of the student with this (normalised) e-mail."""
    row = conn.execute(
        f"SELECT {PROFILE_COLUMNS}, password_hash FROM students WHERE email = %s", (email,)
    ).fetchone()
    return StudentWithPassword(**row) if row is not None else None


def create(
    conn, *, email: str, password_hash: str, full_name: str | None, timezone: str
) -> StudentProfile | None:
    """Insert a free student and its streak row (0/0, same timezone); None when the e-mail
    is taken. Run in a transaction.

    The UNIQUE constraint settles two registrations of one address at the same moment;
    DO NOTHING rather than a unique violation, whose error text (with the e-mail in it)
    the server would log.
    """
    student = conn.execute(
        f"""
        INSERT INTO students (email, password_hash, full_name, timezone, subscription_tier)
        VALUES (%s, %s, %s, %s, 'free')
        ON CONFLICT (email) DO NOTHING
        RETURNING {PROFILE_COLUMNS}
        """,
        (email, password_hash, full_name, timezone),
    ).fetchone()
    if student is not None:
        streaks.create(conn, str(student["id"]), timezone)
    return _student(student)


def set_password_hash(conn, student_id, password_hash: str) -> None:
    conn.execute(
        "UPDATE students SET password_hash = %s WHERE id = %s", (password_hash, student_id)
    )


def lock_for_writing(conn, student_id: str) -> bool:
    """Hold the student's row until the transaction ends, so it cannot be deleted under a
    write about it; False when it is gone already.

    Writers take this lock before any other row of the student's, and the lock they will
    need anyway (the UPDATE of last_active_at takes FOR NO KEY UPDATE): a weaker one
    upgraded later can deadlock with a deletion waiting in between.
    """
    row = conn.execute(
        "SELECT 1 FROM students WHERE id = %s FOR NO KEY UPDATE", (student_id,)
    ).fetchone()
    return row is not None


def update_profile(conn, student_id: str, changes: dict[str, Any]) -> StudentProfile | None:
    """Apply `changes` (any of full_name, timezone); a new timezone also becomes the
    streak's. Run in a transaction. None when the student no longer exists."""
    assignments = {name: changes[name] for name in ("full_name", "timezone") if name in changes}
    if not assignments:
        return get(conn, student_id)
    columns = ", ".join(f"{name} = %s" for name in assignments)  # names from the fixed list
    student = conn.execute(
        f"UPDATE students SET {columns} WHERE id = %s RETURNING {PROFILE_COLUMNS}",
        (*assignments.values(), student_id),
    ).fetchone()
    if student is not None and "timezone" in assignments:
        conn.execute(
            "UPDATE streaks SET timezone = %s WHERE student_id = %s",
            (assignments["timezone"], student_id),
        )
    return _student(student)


def set_tier(conn, email: str, tier: str, expires_at: datetime | None) -> StudentProfile | None:
    """Set the plan of the student with this (normalised) e-mail; None when there is none."""
    row = conn.execute(
        f"""
        UPDATE students SET subscription_tier = %s, subscription_expires_at = %s
         WHERE email = %s
        RETURNING {PROFILE_COLUMNS}
        """,
        (tier, expires_at, email),
    ).fetchone()
    return _student(row)


def delete(conn, student_id: str) -> str | None:
    """Delete the student; progress, attempts and streak go with it (ON DELETE CASCADE).
    Returns the deleted student's e-mail, or None when it was already gone."""
    row = conn.execute(
        "DELETE FROM students WHERE id = %s RETURNING email", (student_id,)
    ).fetchone()
    return row["email"] if row is not None else None


def export_rows(
    conn, student_id: str, attempts_limit: int | None = None, attempts_after: str | None = None
) -> dict[str, Any] | None:
    """Every row held about the student, as stored (no password hash), or None when the
    student does not exist. Run in a transaction: the reads are one snapshot.

    Attempts come oldest first; with `attempts_limit`, one page of them after the attempt
    `attempts_after` (keyset on submitted_at, id), one more row read to tell if more follow.
    """
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    student = get(conn, student_id)
    if student is None:
        return None
    chapter_progress = conn.execute(
        f"SELECT {progress.COLUMNS} FROM chapter_progress WHERE student_id = %s"
        " ORDER BY chapter_id",
        (student_id,),
    ).fetchall()
    quiz_attempts = conn.execute(
        """
        SELECT a.id AS attempt_id, a.quiz_id, a.chapter_id, a.score, a.passed,
               a.answers_json AS answers, a.grading_details_json AS grading_details,
               a.submitted_at, a.idempotency_key
          FROM quiz_attempts a
         WHERE a.student_id = %(student)s
           AND (%(after)s::uuid IS NULL OR (a.submitted_at, a.id) > (
                SELECT submitted_at, id FROM quiz_attempts
                 WHERE id = %(after)s::uuid AND student_id = %(student)s))
         ORDER BY a.submitted_at, a.id
         LIMIT %(limit)s
        """,
        {
            "student": student_id,
            "after": attempts_after,
            "limit": attempts_limit + 1 if attempts_limit else None,
        },
    ).fetchall()
    return {
        "student": student,
        "chapter_progress": chapter_progress,
        "quiz_attempts": quiz_attempts,
        "streak": conn.execute(
            f"SELECT {streaks.COLUMNS} FROM streaks WHERE student_id = %s", (student_id,)
        ).fetchone(),
        "signed_in_clients": oauth.signed_in_clients(conn, student_id),
    }
