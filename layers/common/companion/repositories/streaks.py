"""The streaks table, and counting activity (reading, logging time, submitting a quiz) in it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from companion.domain.streaks import (
    StreakState,
    local_date,
    streak_after_activity,
    streak_after_missed_days,
)

COLUMN_NAMES = (
    "current_streak",
    "longest_streak",
    "last_activity_date",
    "timezone",
    "freezes_held",
    "freezes_used",  # local dates spent, newest first
    "active_run",  # consecutive active days, toward the next freeze
)
COLUMNS = ", ".join(COLUMN_NAMES)


def create(conn, student_id: str, timezone: str) -> None:
    conn.execute(
        "INSERT INTO streaks (student_id, current_streak, longest_streak, timezone)"
        " VALUES (%s, 0, 0, %s) ON CONFLICT (student_id) DO NOTHING",
        (student_id, timezone),
    )


def get(conn, student_id: str) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {COLUMNS} FROM streaks WHERE student_id = %s", (student_id,)
    ).fetchone()


def state_of(row: dict[str, Any] | None) -> StreakState:
    if row is None:
        return StreakState(current_streak=0, longest_streak=0, last_activity_date=None)
    return StreakState(
        current_streak=row["current_streak"] or 0,
        longest_streak=row["longest_streak"] or 0,
        last_activity_date=row["last_activity_date"],
        freezes_held=row.get("freezes_held") or 0,
        freezes_used=tuple(row.get("freezes_used") or ()),
        active_run=row.get("active_run") or 0,
    )


def row_of(state: StreakState, timezone: str) -> dict[str, Any]:
    return {
        "current_streak": state.current_streak,
        "longest_streak": state.longest_streak,
        "last_activity_date": state.last_activity_date,
        "timezone": timezone,
        "freezes_held": state.freezes_held,
        "freezes_used": list(state.freezes_used),
        "active_run": state.active_run,
    }


def _apply(
    conn, student_id: str, rule: Callable[[StreakState, date], StreakState], now: datetime
) -> dict[str, Any]:
    """Apply a streak rule to the student's row under its lock, writing what changed. Call
    inside a transaction: concurrent requests of one student wait here and then apply the
    rule to what the first wrote, so a day is counted, and a freeze earned or spent, once."""
    row = conn.execute(
        f"SELECT {COLUMNS} FROM streaks WHERE student_id = %s FOR UPDATE", (student_id,)
    ).fetchone()
    if row is None:  # a student from before streak rows existed: start one
        timezone = (
            conn.execute("SELECT timezone FROM students WHERE id = %s", (student_id,)).fetchone()[
                "timezone"
            ]
            or "UTC"
        )
        create(conn, student_id, timezone)
        row = row_of(state_of(None), timezone)
    timezone = row["timezone"] or "UTC"
    before = state_of(row)
    after = rule(before, local_date(now, timezone))
    if after != before:
        conn.execute(
            """
            UPDATE streaks
               SET current_streak = %s, longest_streak = %s, last_activity_date = %s,
                   freezes_held = %s, freezes_used = %s, active_run = %s
             WHERE student_id = %s
            """,
            (
                after.current_streak,
                after.longest_streak,
                after.last_activity_date,
                after.freezes_held,
                list(after.freezes_used),
                after.active_run,
                student_id,
            ),
        )
    return row_of(after, timezone)


def advance(conn, student_id: str, now: datetime | None = None) -> dict[str, Any]:
    """Count activity now in the streak (days missed first spend the freezes held). Call
    inside the request's transaction. (last_active_at is stamped by the progress write.)"""
    return _apply(conn, student_id, streak_after_activity, now or datetime.now(UTC))


def spend_freezes(conn, student_id: str, now: datetime | None = None) -> dict[str, Any]:
    """Let the whole days missed so far spend the freezes held. Call inside a transaction."""
    return _apply(conn, student_id, streak_after_missed_days, now or datetime.now(UTC))


def counts_today(row: dict[str, Any] | None, now: datetime | None = None) -> bool:
    """Whether activity now would leave this streak row as it is (today already counted, or a
    timezone move west put the last activity date ahead of the local date)."""
    if row is None or row.get("last_activity_date") is None:
        return False
    now = now or datetime.now(UTC)
    return local_date(now, row.get("timezone") or "UTC") <= row["last_activity_date"]


def freezes_to_spend(row: dict[str, Any] | None, now: datetime | None = None) -> bool:
    """Whether a whole day was missed while a freeze is held (as this row was read)."""
    if row is None or not row.get("freezes_held"):
        return False
    today = local_date(now or datetime.now(UTC), row.get("timezone") or "UTC")
    state = state_of(row)
    return streak_after_missed_days(state, today) != state
