"""The streaks table, and counting activity (reading, logging time, submitting a quiz) in it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from companion.domain.streaks import (
    StoredStreak,
    StreakState,
    counting_zone,
    local_date,
    streak_after_activity,
    streak_after_missed_days,
)
from companion.domain.student import StudentProfile

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


def get(conn, student_id: str) -> StoredStreak | None:
    row = conn.execute(
        f"SELECT {COLUMNS} FROM streaks WHERE student_id = %s", (student_id,)
    ).fetchone()
    return stored_streak(row) if row is not None else None


def stored_streak(row: dict[str, Any]) -> StoredStreak:
    """A streaks row (COLUMNS) as read."""
    return StoredStreak(
        state=StreakState(
            current_streak=row["current_streak"] or 0,
            longest_streak=row["longest_streak"] or 0,
            last_activity_date=row["last_activity_date"],
            freezes_held=row["freezes_held"] or 0,
            freezes_used=tuple(row["freezes_used"] or ()),
            active_run=row["active_run"] or 0,
        ),
        timezone=row["timezone"],
    )


def columns_as_read(alias: str) -> tuple[str, ...]:
    """The COLUMNS of the streaks row `alias` as stored_streak reads them (a NULL count is
    0), in the order of column_values."""
    counts = ("current_streak", "longest_streak")
    return tuple(
        f"coalesce({alias}.{name}, 0)" if name in counts else f"{alias}.{name}"
        for name in COLUMN_NAMES
    )


def column_values(streak: StoredStreak) -> tuple:
    """A stored streak as the values of COLUMNS, as stored_streak read them."""
    state = streak.state
    return (
        state.current_streak,
        state.longest_streak,
        state.last_activity_date,
        streak.timezone,
        state.freezes_held,
        list(state.freezes_used),
        state.active_run,
    )


# What recording activity decides from its caller: the plan (the gate), the timezone and the
# streak (whether today already counts, and the streak it answers with). A write for a caller
# as last seen (deps.StudentAsLastSeen) is made only where AS_SEEN holds: `s` the students row
# and `k` the streaks row, compared with as_seen_parameters.
_SEEN_STUDENT_FIELDS = ("timezone", "subscription_tier", "subscription_expires_at")
_SEEN_COLUMNS = (*(f"s.{name}" for name in _SEEN_STUDENT_FIELDS), *columns_as_read("k"))
AS_SEEN = (
    f"({', '.join(_SEEN_COLUMNS)}) IS NOT DISTINCT FROM "
    f"({', '.join(f'%(seen_{number})s' for number in range(len(_SEEN_COLUMNS)))})"
)


def as_seen_parameters(student: StudentProfile, streak: StoredStreak) -> dict[str, Any]:
    values = (*(getattr(student, name) for name in _SEEN_STUDENT_FIELDS), *column_values(streak))
    return {f"seen_{number}": value for number, value in enumerate(values)}


def _apply(
    conn, student_id: str, rule: Callable[[StreakState, date], StreakState], now: datetime
) -> StoredStreak:
    """Apply a streak rule to the student's row under its lock, writing what changed. Call
    inside a transaction: concurrent requests of one student wait here and then apply the
    rule to what the first wrote, so a day is counted, and a freeze earned or spent, once."""
    row = conn.execute(
        f"SELECT {COLUMNS} FROM streaks WHERE student_id = %s FOR UPDATE", (student_id,)
    ).fetchone()
    if row is None:  # a student from before streak rows existed: start one
        zone = conn.execute(
            "SELECT timezone FROM students WHERE id = %s", (student_id,)
        ).fetchone()["timezone"]
        create(conn, student_id, counting_zone(zone))
        stored = StoredStreak(StreakState(0, 0, None), counting_zone(zone))
    else:
        stored = stored_streak(row)
    before = stored.state
    after = rule(before, local_date(now, counting_zone(stored.timezone)))
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
    return StoredStreak(after, stored.timezone)


def advance(conn, student_id: str, now: datetime | None = None) -> StoredStreak:
    """Count activity now in the streak (days missed first spend the freezes held). Call
    inside the request's transaction. (last_active_at is stamped by the progress write.)"""
    return _apply(conn, student_id, streak_after_activity, now or datetime.now(UTC))


def spend_freezes(conn, student_id: str, now: datetime | None = None) -> StoredStreak:
    """Let the whole days missed so far spend the freezes held. Call inside a transaction."""
    return _apply(conn, student_id, streak_after_missed_days, now or datetime.now(UTC))
