"""Daily learning streaks, counted in calendar days of the student's own timezone.

A streak counts active days. Every FREEZE_EVERY consecutive active days earn a freeze (at
most MAX_FREEZES_HELD held); a whole local day missed while a freeze is held spends it, and
the streak survives: the frozen day is kept, not counted. Missed days spend freezes oldest
first, as long as any are held, whether or not enough are held for every missed day, so the
state after any sequence of reads and activity depends only on the days the student was
active (two missed days need two freezes; with one, it covers the first and the streak ends
on the second).
"""

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


FREEZE_EVERY = 7  # consecutive active days that earn a freeze
MAX_FREEZES_HELD = 2
FREEZES_LISTED = 10  # the spent dates kept (and shown), newest first


@dataclass(frozen=True)
class StreakState:
    current_streak: int  # active days; frozen days keep it but add nothing
    longest_streak: int
    last_activity_date: date | None
    freezes_held: int = 0
    freezes_used: tuple[date, ...] = ()  # local dates spent, newest first
    active_run: int = 0  # consecutive active days ending at last_activity_date

    @property
    def kept_through(self) -> date | None:
        """The last local day the streak holds: the last active day, or a later frozen one."""
        last = self.last_activity_date
        if last is None or not self.freezes_used:
            return last
        return max(last, self.freezes_used[0])


@dataclass(frozen=True)
class StoredStreak:
    """A student's streaks row: the state, and the timezone its days are counted in (None
    in rows from before the timezone was stored)."""

    state: StreakState
    timezone: str | None


def counting_zone(*zones: str | None) -> str:
    """The timezone days are counted in: the first of `zones` set (the streak's own, then
    its student's), else UTC."""
    return next((zone for zone in zones if zone), "UTC")


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


def streak_after_missed_days(state: StreakState, today_local: date) -> StreakState:
    """The streak once the whole days missed before `today_local` have spent the freezes
    held, oldest day first. Nothing changes when no day was missed or no freeze is held."""
    kept = state.kept_through
    if kept is None or state.freezes_held == 0:
        return state
    missed = (today_local - kept).days - 1
    if missed <= 0:
        return state
    spent = min(missed, state.freezes_held)
    frozen = tuple(kept + timedelta(days=spent - n) for n in range(spent))  # newest first
    return replace(
        state,
        freezes_held=state.freezes_held - spent,
        freezes_used=(frozen + state.freezes_used)[:FREEZES_LISTED],
    )


def streak_after_activity(state: StreakState, today_local: date) -> StreakState:
    """The streak after activity on `today_local` (missed days spend freezes first).

    A date that is not after the last activity date (the same day, or an earlier one right
    after moving west) was already counted: nothing changes but the freezes spent.
    """
    state = streak_after_missed_days(state, today_local)
    last = state.last_activity_date
    if last is not None and today_local <= last:
        return state
    kept = state.kept_through
    if kept is not None and today_local <= kept + timedelta(days=1):
        current = state.current_streak + 1
    else:
        current = 1
    if last is not None and today_local - last == timedelta(days=1):
        run = state.active_run + 1
    else:
        run = 1
    held = state.freezes_held
    if run % FREEZE_EVERY == 0:
        held = min(MAX_FREEZES_HELD, held + 1)
    return replace(
        state,
        current_streak=current,
        longest_streak=max(state.longest_streak, current),
        last_activity_date=today_local,
        freezes_held=held,
        active_run=run,
    )


def already_counted(state: StreakState, today_local: date) -> bool:
    """Whether activity on `today_local` would leave the streak as it is (today already
    counted, or a timezone move west put the last activity date ahead of the local date)."""
    return state.last_activity_date is not None and today_local <= state.last_activity_date


def freezes_to_spend(state: StreakState, today_local: date) -> bool:
    """Whether a whole day was missed before `today_local` while a freeze is held."""
    return streak_after_missed_days(state, today_local) != state


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


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _days(days: list[date]) -> str:
    names = [f"{day:%A} {day.day} {day:%B}" for day in days]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def freeze_message(state: StreakState, today: date, current: int) -> str | None:
    """One sentence about the freezes for the chat app to relay, or None: the days they
    covered since the last activity, the run that earned one, or the cover they give today."""
    last = state.last_activity_date
    if current == 0 or last is None:
        return None
    covered = sorted(day for day in state.freezes_used if day > last)
    held = state.freezes_held
    if covered:
        spent = "A streak freeze" if len(covered) == 1 else f"{len(covered)} streak freezes"
        return f"{spent} covered {_days(covered)}, so your {current}-day streak is still alive."
    if last >= today and held and state.active_run and state.active_run % FREEZE_EVERY == 0:
        return (
            f"{state.active_run} active days in a row: you hold {_plural(held, 'streak freeze')}, "
            "so a missed day will not end your streak."
        )
    if last < today and held:
        return (
            f"You hold {_plural(held, 'streak freeze')}, so missing today would not end your "
            f"{current}-day streak."
        )
    return None


def streak_view(state: StreakState, now: datetime, timezone: str) -> dict:
    """The body of GET /v1/streak: the streak as it holds at `now`, the days missed so far
    having spent the freezes held."""
    today = local_date(now, timezone)
    state = streak_after_missed_days(state, today)
    last, kept = state.last_activity_date, state.kept_through
    active_today = last is not None and last >= today
    alive = kept is not None and kept >= today - timedelta(days=1)
    current = state.current_streak if alive else 0
    return {
        "current_streak": current,
        "longest_streak": state.longest_streak,
        "last_activity_date": last.isoformat() if last is not None else None,
        "timezone": timezone,
        "active_today": active_today,
        "next_milestone": min((m for m in MILESTONES if m > current), default=None),
        "milestone_message": MILESTONES.get(current) if active_today else None,
        # Today is not kept yet, and no freeze would keep it.
        "at_risk": current > 0 and kept < today and state.freezes_held == 0,
        "day_ends_at": end_of_local_day(now, timezone).isoformat(),
        "freezes_held": state.freezes_held,
        "freezes_used": [day.isoformat() for day in state.freezes_used],
        "freeze_message": freeze_message(state, today, current),
    }
