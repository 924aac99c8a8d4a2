"""Daily learning streaks, counted in calendar days of the student's own timezone."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

MILESTONES = {
    3: "Great start! 3 days in a row!",
    7: "One week streak! You're building a habit.",
    14: "Two weeks of consistent learning! Impressive dedication.",
    30: "30-day streak! You're unstoppable!",
}

# Present in the zone directory but not places: the host's own zone and tzdata's placeholder.
_NOT_PLACES = {"localtime", "Factory", "posixrules"}


@dataclass(frozen=True)
class StreakState:
    current_streak: int
    longest_streak: int
    last_activity_date: date | None


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones() - _NOT_PLACES)


def is_valid_timezone(name: str) -> bool:
    """True for an IANA zone name such as `America/New_York` (case as in the database)."""
    return isinstance(name, str) and name in _zone_names()


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def local_date(now: datetime, timezone: str) -> date:
    return _as_utc(now).astimezone(ZoneInfo(timezone)).date()


def streak_after_activity(state: StreakState, today_local: date) -> StreakState:
    """The streak after activity on `today_local`.

    A date that is not after the last activity date (the same day, or an earlier one right
    after moving west) was already counted: nothing changes.
    """
    last = state.last_activity_date
    if last is not None and today_local <= last:
        return state
    if last is not None and today_local - last == timedelta(days=1):
        current = state.current_streak + 1
    else:
        current = 1
    return replace(
        state,
        current_streak=current,
        longest_streak=max(state.longest_streak, current),
        last_activity_date=today_local,
    )


def end_of_local_day(now: datetime, timezone: str) -> datetime:
    """The first instant of the next local day, as an aware time in that zone."""
    zone = ZoneInfo(timezone)
    now = _as_utc(now)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    # When clocks go back across midnight (St. John's and Goose Bay did at 00:01 until 2010)
    # midnight happens twice: the day ends at the first one still ahead. When a jump forward
    # skips midnight (Havana, Santiago, Cairo), fold=0 maps it to the instant of the jump,
    # where the new day begins; in the tz database such jumps all start at midnight.
    for fold in (0, 1):
        midnight = datetime.combine(tomorrow, time(), tzinfo=zone).replace(fold=fold)
        if midnight.astimezone(UTC) > now:
            return midnight.astimezone(UTC).astimezone(zone)
    raise AssertionError("a local day always ends")


def streak_view(state: StreakState, now: datetime, timezone: str) -> dict:
    """The body of GET /v1/streak: the streak as it holds at `now`."""
    today = local_date(now, timezone)
    last = state.last_activity_date
    active_today = last is not None and last >= today
    alive = last is not None and last >= today - timedelta(days=1)
    current = state.current_streak if alive else 0
    return {
        "current_streak": current,
        "longest_streak": state.longest_streak,
        "last_activity_date": last.isoformat() if last is not None else None,
        "timezone": timezone,
        "active_today": active_today,
        "next_milestone": min((m for m in MILESTONES if m > current), default=None),
        "milestone_message": MILESTONES.get(current) if active_today else None,
        "at_risk": current > 0 and not active_today,
        "day_ends_at": end_of_local_day(now, timezone).isoformat(),
    }
