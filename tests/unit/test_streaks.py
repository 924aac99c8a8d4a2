from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from companion.domain.streaks import (
    MILESTONES,
    StreakState,
    is_valid_timezone,
    local_date,
    streak_after_activity,
    streak_view,
)

NEW = StreakState(current_streak=0, longest_streak=0, last_activity_date=None)
ZONES = sorted(name for name in available_timezones() if is_valid_timezone(name))
# Zones with DST, 30-minute DST, midnight jumps, clocks going back across midnight, a
# skipped calendar day, and odd offsets.
TRICKY_ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "America/Santiago",
    "America/Havana",
    "America/Sao_Paulo",
    "America/Asuncion",
    "Africa/Cairo",
    "Asia/Beirut",
    "Asia/Tehran",
    "America/St_Johns",
    "America/Goose_Bay",
    "Antarctica/Casey",
    "Antarctica/Troll",
    "Pacific/Apia",
    "Pacific/Chatham",
    "Asia/Kathmandu",
]
instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC)
)


@cache
def offset_changes(zone_name: str) -> list[datetime]:
    """The UTC instants in 2000-2030 at which `zone_name` changes its offset."""
    zone = ZoneInfo(zone_name)
    step = 6 * 3600
    moment = int(datetime(2000, 1, 1, tzinfo=UTC).timestamp())
    end = int(datetime(2031, 1, 1, tzinfo=UTC).timestamp())
    changes = []
    while moment < end:
        before, after = moment, moment + step
        if (
            datetime.fromtimestamp(before, zone).utcoffset()
            != datetime.fromtimestamp(after, zone).utcoffset()
        ):
            while after - before > 1:
                middle = (before + after) // 2
                same = (
                    datetime.fromtimestamp(middle, zone).utcoffset()
                    == datetime.fromtimestamp(before, zone).utcoffset()
                )
                before, after = (middle, after) if same else (before, middle)
            changes.append(datetime.fromtimestamp(after, UTC))
        moment += step
    return changes


@st.composite
def near_an_offset_change(draw):
    zone_name = draw(st.sampled_from(TRICKY_ZONES))
    changes = offset_changes(zone_name)
    change = draw(st.sampled_from(changes)) if changes else datetime(2020, 1, 1, tzinfo=UTC)
    seconds = draw(st.integers(min_value=-30 * 3600, max_value=30 * 3600))
    return zone_name, change + timedelta(seconds=seconds)


zone_and_instant = st.one_of(
    st.tuples(st.sampled_from(ZONES), instants),
    st.tuples(st.sampled_from(TRICKY_ZONES), instants),
    near_an_offset_change(),
)


def day_ends_at(now: datetime, zone_name: str) -> datetime:
    return datetime.fromisoformat(streak_view(NEW, now, zone_name)["day_ends_at"])


# --- streak_after_activity ---------------------------------------------------------------


def test_first_activity_starts_a_streak_of_one():
    state = streak_after_activity(NEW, date(2026, 3, 1))
    assert state == StreakState(1, 1, date(2026, 3, 1))


def test_consecutive_days_grow_the_streak_and_the_record():
    state = NEW
    for day in range(1, 5):
        state = streak_after_activity(state, date(2026, 3, day))
    assert state == StreakState(4, 4, date(2026, 3, 4))


def test_a_missed_day_resets_to_one_but_keeps_the_record():
    state = StreakState(5, 5, date(2026, 3, 5))
    assert streak_after_activity(state, date(2026, 3, 7)) == StreakState(1, 5, date(2026, 3, 7))


def test_same_day_activity_changes_nothing():
    state = StreakState(2, 4, date(2026, 3, 5))
    assert streak_after_activity(state, date(2026, 3, 5)) == state


def test_an_earlier_local_date_after_moving_west_counts_as_the_same_day():
    # Active on 6 March in Tokyo, then a few hours later it is still 5 March in Los Angeles.
    state = StreakState(3, 3, date(2026, 3, 6))
    assert streak_after_activity(state, date(2026, 3, 5)) == state
    # ... and the next day there continues the streak instead of breaking it.
    assert streak_after_activity(state, date(2026, 3, 7)) == StreakState(4, 4, date(2026, 3, 7))


def test_streak_crosses_month_and_year_ends():
    state = StreakState(1, 1, date(2025, 12, 31))
    assert streak_after_activity(state, date(2026, 1, 1)).current_streak == 2
    state = StreakState(1, 1, date(2028, 2, 28))
    assert streak_after_activity(state, date(2028, 2, 29)).current_streak == 2


def test_local_date_uses_the_students_zone():
    now = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
    assert local_date(now, "UTC") == date(2026, 3, 1)
    assert local_date(now, "America/New_York") == date(2026, 2, 28)
    assert local_date(datetime(2026, 3, 1, 11, 0, tzinfo=UTC), "Pacific/Kiritimati") == date(
        2026, 3, 2
    )


def runs_of_consecutive_days(days: set[date]) -> list[int]:
    runs, length, previous = [], 0, None
    for day in sorted(days):
        length = length + 1 if previous and day - previous == timedelta(days=1) else 1
        runs.append(length)
        previous = day
    return runs


@settings(deadline=None)  # the first calls load zone data
@given(st.sets(st.dates(min_value=date(2020, 1, 1), max_value=date(2020, 4, 1)), min_size=1))
def test_in_one_zone_the_streak_is_the_run_of_days_ending_at_the_last_one(days):
    state = NEW
    for day in sorted(days):
        state = streak_after_activity(state, day)
        state = streak_after_activity(state, day)  # a second activity the same day
    runs = runs_of_consecutive_days(days)
    assert state.current_streak == runs[-1]
    assert state.longest_streak == max(runs)
    assert state.last_activity_date == max(days)


@settings(deadline=None)  # the first calls load zone data
@given(st.lists(st.tuples(instants, st.sampled_from(ZONES)), min_size=1, max_size=40))
def test_any_activity_in_any_zones_keeps_the_streak_consistent(activities):
    state = NEW
    for moment, zone_name in sorted(activities):
        today = local_date(moment, zone_name)
        before = state
        state = streak_after_activity(state, today)
        assert 1 <= state.current_streak <= state.longest_streak
        assert state.longest_streak >= before.longest_streak
        assert streak_after_activity(state, today) == state
        last = before.last_activity_date
        if last is not None and today <= last:
            assert state == before  # a zone change that moves the date back breaks nothing
        elif last is not None and today - last > timedelta(days=1):
            assert state.current_streak == 1
        elif last is not None:
            assert state.current_streak == before.current_streak + 1


# --- streak_view -------------------------------------------------------------------------


NOON_UTC = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_view_of_a_new_student():
    assert streak_view(NEW, NOON_UTC, "UTC") == {
        "current_streak": 0,
        "longest_streak": 0,
        "last_activity_date": None,
        "timezone": "UTC",
        "active_today": False,
        "next_milestone": 3,
        "milestone_message": None,
        "at_risk": False,
        "day_ends_at": "2026-03-11T00:00:00+00:00",
    }


def test_active_today_on_a_milestone_day_celebrates_it():
    view = streak_view(StreakState(7, 9, date(2026, 3, 10)), NOON_UTC, "UTC")
    assert view["current_streak"] == 7
    assert view["active_today"] is True
    assert view["milestone_message"] == "One week streak! You're building a habit."
    assert view["next_milestone"] == 14
    assert view["at_risk"] is False
    assert view["last_activity_date"] == "2026-03-10"


def test_active_yesterday_only_keeps_the_streak_but_puts_it_at_risk():
    view = streak_view(StreakState(3, 3, date(2026, 3, 9)), NOON_UTC, "UTC")
    assert view["current_streak"] == 3
    assert view["active_today"] is False
    assert view["at_risk"] is True
    assert view["milestone_message"] is None  # the milestone was yesterday's news
    assert view["next_milestone"] == 7


def test_last_activity_before_yesterday_means_no_streak_now():
    view = streak_view(StreakState(12, 12, date(2026, 3, 8)), NOON_UTC, "UTC")
    assert view["current_streak"] == 0
    assert view["longest_streak"] == 12
    assert view["at_risk"] is False
    assert view["next_milestone"] == 3


def test_yesterday_and_today_are_the_students_local_days():
    # 02:00 UTC on 11 March is still 10 March in New York: activity on the 10th is today.
    view = streak_view(
        StreakState(2, 2, date(2026, 3, 10)),
        datetime(2026, 3, 11, 2, 0, tzinfo=UTC),
        "America/New_York",
    )
    assert view["active_today"] is True
    assert view["day_ends_at"] == "2026-03-11T00:00:00-04:00"


def test_last_activity_ahead_of_the_local_date_counts_as_today():
    view = streak_view(StreakState(3, 3, date(2026, 3, 11)), NOON_UTC, "America/Los_Angeles")
    assert view["active_today"] is True
    assert view["current_streak"] == 3
    assert view["milestone_message"] == MILESTONES[3]


def test_no_next_milestone_past_thirty_days():
    assert (
        streak_view(StreakState(29, 29, date(2026, 3, 10)), NOON_UTC, "UTC")["next_milestone"] == 30
    )
    view = streak_view(StreakState(30, 30, date(2026, 3, 10)), NOON_UTC, "UTC")
    assert view["next_milestone"] is None
    assert view["milestone_message"] == "30-day streak! You're unstoppable!"
    assert (
        streak_view(StreakState(45, 45, date(2026, 3, 10)), NOON_UTC, "UTC")["next_milestone"]
        is None
    )


@pytest.mark.parametrize(
    ("now", "zone_name", "expected"),
    [
        (
            datetime(2026, 11, 26, 20, 0, tzinfo=UTC),
            "America/New_York",
            "2026-11-27T00:00:00-05:00",
        ),
        # The night clocks go back: the day that follows is 25 hours long.
        (
            datetime(2026, 10, 31, 20, 0, tzinfo=UTC),
            "America/New_York",
            "2026-11-01T00:00:00-04:00",
        ),
        (datetime(2026, 11, 1, 12, 0, tzinfo=UTC), "America/New_York", "2026-11-02T00:00:00-05:00"),
        (datetime(2026, 3, 1, 10, 0, tzinfo=UTC), "Asia/Kathmandu", "2026-03-02T00:00:00+05:45"),
        (datetime(2026, 1, 15, 0, 0, tzinfo=UTC), "Pacific/Chatham", "2026-01-16T00:00:00+13:45"),
        (datetime(2026, 7, 15, 0, 0, tzinfo=UTC), "Pacific/Chatham", "2026-07-16T00:00:00+12:45"),
        # Midnight itself is skipped: the new day starts at 01:00.
        (datetime(2024, 3, 9, 15, 0, tzinfo=UTC), "America/Havana", "2024-03-10T01:00:00-04:00"),
        (
            datetime(2018, 11, 3, 15, 0, tzinfo=UTC),
            "America/Sao_Paulo",
            "2018-11-04T01:00:00-02:00",
        ),
        # Samoa skipped 30 December 2011 altogether.
        (datetime(2011, 12, 29, 20, 0, tzinfo=UTC), "Pacific/Apia", "2011-12-31T00:00:00+14:00"),
        # St. John's went back from 00:01 to 23:01 in 2009: the second 23:xx is still the
        # 31st, and that day ends at the second midnight.
        (datetime(2009, 11, 1, 1, 30, tzinfo=UTC), "America/St_Johns", "2009-11-01T00:00:00-02:30"),
        (datetime(2009, 11, 1, 3, 0, tzinfo=UTC), "America/St_Johns", "2009-11-01T00:00:00-03:30"),
    ],
)
def test_day_ends_at_the_next_local_midnight(now, zone_name, expected):
    assert streak_view(NEW, now, zone_name)["day_ends_at"] == expected


@settings(max_examples=400, deadline=None)
@given(zone_and_instant)
@example(("America/Havana", datetime(2024, 3, 10, 4, 59, 59, tzinfo=UTC)))
@example(("Antarctica/Casey", datetime(2010, 3, 4, 15, 30, tzinfo=UTC)))
def test_day_ends_at_is_where_the_local_date_next_changes(zone_and_now):
    zone_name, now = zone_and_now
    zone = ZoneInfo(zone_name)
    today = local_date(now, zone_name)
    end = day_ends_at(now, zone_name)
    assert now < end <= now + timedelta(hours=27)
    assert end.utcoffset() == end.astimezone(zone).utcoffset()  # written with the zone's offset
    assert end.astimezone(zone).date() > today
    assert (end - timedelta(seconds=1)).astimezone(zone).date() == today
    noon_tomorrow = datetime.combine(today + timedelta(days=1), time(12), tzinfo=zone)
    tomorrow_exists = noon_tomorrow.astimezone(UTC).astimezone(zone) == noon_tomorrow
    if tomorrow_exists:  # not a day the calendar skipped
        assert end.astimezone(zone).date() == today + timedelta(days=1)


@settings(deadline=None)  # the first calls load zone data
@given(
    st.integers(0, 40),
    st.integers(0, 40),
    st.dates(min_value=date(2026, 2, 1), max_value=date(2026, 3, 20)),
    zone_and_instant,
)
def test_view_fields_agree_with_each_other(current, extra, last, zone_and_now):
    zone_name, now = zone_and_now
    state = StreakState(current, current + extra, last)
    view = streak_view(state, now, zone_name)
    assert view["current_streak"] in (0, current)
    assert view["current_streak"] <= view["longest_streak"]
    assert view["at_risk"] == (view["current_streak"] > 0 and not view["active_today"])
    if view["next_milestone"] is None:
        assert view["current_streak"] >= max(MILESTONES)
    else:
        assert view["next_milestone"] > view["current_streak"]
    if view["milestone_message"] is not None:
        assert view["active_today"]
        assert view["milestone_message"] == MILESTONES[view["current_streak"]]


# --- is_valid_timezone -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["UTC", "America/New_York", "Asia/Kathmandu", "America/Argentina/Buenos_Aires"]
)
def test_iana_names_are_valid(name):
    assert is_valid_timezone(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        " ",
        "localtime",
        "Factory",
        "Mars/Olympus_Mons",
        "america/new_york",
        "America/New_York ",
        "/etc/localtime",
        "../../etc/passwd",
        "America/../UTC",
        "UTC\x00",
        "America/New_York/",
        "+05:00",
    ],
)
def test_other_names_are_not(name):
    assert not is_valid_timezone(name)
