"""The streaks table, and counting activity (reading, logging time, submitting a quiz) in it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from companion.domain.streaks import StreakState, local_date, streak_after_activity


def create(conn, student_id: str, timezone: str) -> None:
    conn.execute(
        "INSERT INTO streaks (student_id, current_streak, longest_streak, timezone)"
        " VALUES (%s, 0, 0, %s) ON CONFLICT (student_id) DO NOTHING",
        (student_id, timezone),
    )


def get(conn, student_id: str) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT current_streak, longest_streak, last_activity_date, timezone"
        " FROM streaks WHERE student_id = %s",
        (student_id,),
    ).fetchone()


def state_of(row: dict[str, Any] | None) -> StreakState:
    if row is None:
        return StreakState(current_streak=0, longest_streak=0, last_activity_date=None)
    return StreakState(
        current_streak=row["current_streak"] or 0,
        longest_streak=row["longest_streak"] or 0,
        last_activity_date=row["last_activity_date"],
    )


def advance(conn, student_id: str, now: datetime | None = None) -> dict[str, Any]:
    """Count activity now in the streak, by the rule in the layer. Call inside the request's
    transaction; the row lock serialises concurrent activity of one student so the result is
    what serial requests give. (last_active_at is stamped by the progress write itself.)"""
    now = now or datetime.now(UTC)
    row = conn.execute(
        "SELECT current_streak, longest_streak, last_activity_date, timezone"
        " FROM streaks WHERE student_id = %s FOR UPDATE",
        (student_id,),
    ).fetchone()
    if row is None:  # a student from before streak rows existed: start one
        timezone = (
            conn.execute("SELECT timezone FROM students WHERE id = %s", (student_id,)).fetchone()[
                "timezone"
            ]
            or "UTC"
        )
        create(conn, student_id, timezone)
        row = {
            "current_streak": 0,
            "longest_streak": 0,
            "last_activity_date": None,
            "timezone": timezone,
        }
    timezone = row["timezone"] or "UTC"
    after = streak_after_activity(state_of(row), local_date(now, timezone))
    if after != state_of(row):
        conn.execute(
            "UPDATE streaks SET current_streak = %s, longest_streak = %s, last_activity_date = %s"
            " WHERE student_id = %s",
            (after.current_streak, after.longest_streak, after.last_activity_date, student_id),
        )
    return {
        "current_streak": after.current_streak,
        "longest_streak": after.longest_streak,
        "last_activity_date": after.last_activity_date,
        "timezone": timezone,
    }


def counts_today(row: dict[str, Any] | None, now: datetime | None = None) -> bool:
    """Whether activity now would leave this streak row as it is (today already counted, or a
    timezone move west put the last activity date ahead of the local date)."""
    if row is None or row.get("last_activity_date") is None:
        return False
    now = now or datetime.now(UTC)
    return local_date(now, row.get("timezone") or "UTC") <= row["last_activity_date"]
