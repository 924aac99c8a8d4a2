"""The students table, and everything held about one student (export, delete)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from companion.repositories import oauth, streaks

PROFILE_COLUMNS = """
    id, email, full_name, timezone, subscription_tier, subscription_expires_at,
    created_at, last_active_at
"""


def get(conn, student_id: str) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {PROFILE_COLUMNS} FROM students WHERE id = %s", (student_id,)
    ).fetchone()


def get_with_streak(conn, student_id: str) -> dict[str, Any] | None:
    """The profile with the student's streak row under "streak" (None when it has none):
    what every authenticated request reads first, in one round trip."""
    row = conn.execute(
        """
        SELECT s.id, s.email, s.full_name, s.timezone, s.subscription_tier,
               s.subscription_expires_at, s.created_at, s.last_active_at,
               k.current_streak, k.longest_streak, k.last_activity_date,
               k.timezone AS streak_timezone, k.student_id AS streak_student
          FROM students s LEFT JOIN streaks k ON k.student_id = s.id
         WHERE s.id = %s
        """,
        (student_id,),
    ).fetchone()
    if row is None:
        return None
    streak_fields = ("current_streak", "longest_streak", "last_activity_date")
    streak = {name: row.pop(name) for name in streak_fields}
    streak["timezone"] = row.pop("streak_timezone")
    has_streak = row.pop("streak_student") is not None
    row["streak"] = streak if has_streak else None
    return row


def get_by_email(conn, email: str) -> dict[str, Any] | None:
    """The profile and password hash of the student with this (normalised) e-mail."""
    return conn.execute(
        f"SELECT {PROFILE_COLUMNS}, password_hash FROM students WHERE email = %s", (email,)
    ).fetchone()


def create(
    conn, *, email: str, password_hash: str, full_name: str | None, timezone: str
) -> dict[str, Any] | None:
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
    return student


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


def update_profile(conn, student_id: str, changes: dict[str, Any]) -> dict[str, Any] | None:
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
    return student


def set_tier(conn, email: str, tier: str, expires_at: datetime | None) -> dict[str, Any] | None:
    """Set the plan of the student with this (normalised) e-mail; None when there is none."""
    return conn.execute(
        f"""
        UPDATE students SET subscription_tier = %s, subscription_expires_at = %s
         WHERE email = %s
        RETURNING {PROFILE_COLUMNS}
        """,
        (tier, expires_at, email),
    ).fetchone()


def delete(conn, student_id: str) -> dict[str, Any] | None:
    """Delete the student; progress, attempts and streak go with it (ON DELETE CASCADE).
    Returns the deleted row's id and e-mail, or None when it was already gone."""
    return conn.execute(
        "DELETE FROM students WHERE id = %s RETURNING id, email", (student_id,)
    ).fetchone()


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
        """
        SELECT chapter_id, completion_status, quiz_score, time_spent_minutes,
               last_accessed_at, completed_at
          FROM chapter_progress
         WHERE student_id = %s
         ORDER BY chapter_id
        """,
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
        "streak": streaks.get(conn, student_id),
        "signed_in_clients": oauth.signed_in_clients(conn, student_id),
    }
