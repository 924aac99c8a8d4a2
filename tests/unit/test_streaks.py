from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_guidance import one_sentence

from companion.domain.streaks import (
    FREEZE_EVERY,
    FREEZES_LISTED,
    MAX_FREEZES_HELD,
    MILESTONES,
    StreakState,
    is_valid_timezone,
    local_date,
    streak_after_activity,
    streak_after_missed_days,
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
    assert state == StreakState(1, 1, date(2026, 3, 1), active_run=1)


def test_consecutive_days_grow_the_streak_and_the_record():
    state = NEW
    for day in range(1, 5):
        state = streak_after_activity(state, date(2026, 3, day))
    assert state == StreakState(4, 4, date(2026, 3, 4), active_run=4)


def test_a_missed_day_resets_to_one_but_keeps_the_record():
    state = StreakState(5, 5, date(2026, 3, 5), active_run=5)
    assert streak_after_activity(state, date(2026, 3, 7)) == StreakState(
        1, 5, date(2026, 3, 7), active_run=1
    )


def test_same_day_activity_changes_nothing():
    state = StreakState(2, 4, date(2026, 3, 5))
    assert streak_after_activity(state, date(2026, 3, 5)) == state


def test_an_earlier_local_date_after_moving_west_counts_as_the_same_day():
    # Active on 6 March in Tokyo, then a few hours later it is still 5 March in Los Angeles.
    state = StreakState(3, 3, date(2026, 3, 6), active_run=3)
    assert streak_after_activity(state, date(2026, 3, 5)) == state
    # ... and the next day there continues the streak instead of breaking it.
    assert streak_after_activity(state, date(2026, 3, 7)) == StreakState(
        4, 4, date(2026, 3, 7), active_run=4
    )


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


def day_by_day(days: set[date]) -> StreakState:
    """The rule read one calendar day at a time, from the first active day to the last: an
    independent statement of it to check streak_after_activity's date arithmetic against."""
    current = longest = run = held = 0
    used: list[date] = []
    kept_yesterday = active_yesterday = False
    day = min(days)
    while day <= max(days):
        if day in days:
            current = current + 1 if kept_yesterday else 1
            run = run + 1 if active_yesterday else 1
            if run % FREEZE_EVERY == 0:
                held = min(MAX_FREEZES_HELD, held + 1)
            longest = max(longest, current)
            kept_yesterday = active_yesterday = True
        elif held:
            held -= 1
            used.insert(0, day)
            kept_yesterday, active_yesterday = True, False
        else:
            kept_yesterday = active_yesterday = False
        day += timedelta(days=1)
    return StreakState(current, longest, max(days), held, tuple(used[:FREEZES_LISTED]), run)


def active_on(days, state=NEW) -> StreakState:
    for day in sorted(days):
        state = streak_after_activity(state, day)
        state = streak_after_activity(state, day)  # a second activity the same day
    return state


@settings(deadline=None)
@given(st.sets(st.dates(min_value=date(2020, 1, 1), max_value=date(2020, 6, 1)), min_size=1))
def test_in_one_zone_the_streak_is_the_rule_read_day_by_day(days):
    assert active_on(days) == day_by_day(days)


# A few weeks, so that runs long enough to earn freezes are common.
weeks_of_instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 3, 15), timezones=st.just(UTC)
)


@settings(deadline=None)  # the first calls load zone data
@given(
    st.lists(
        st.tuples(st.one_of(instants, weeks_of_instants), st.sampled_from(ZONES)),
        min_size=1,
        max_size=60,
    )
)
def test_any_activity_in_any_zones_keeps_the_streak_consistent(activities):
    state = NEW
    for moment, zone_name in sorted(activities):
        today = local_date(moment, zone_name)
        before = state
        state = streak_after_activity(state, today)
        assert 1 <= state.current_streak <= state.longest_streak
        assert state.longest_streak >= before.longest_streak
        assert 0 <= state.freezes_held <= MAX_FREEZES_HELD
        assert len(state.freezes_used) <= FREEZES_LISTED
        assert list(state.freezes_used) == sorted(set(state.freezes_used), reverse=True)
        assert streak_after_activity(state, today) == state
        last = before.last_activity_date
        if last is not None and today <= last:
            assert state == before  # a zone change that moves the date back breaks nothing
            continue
        assert state.last_activity_date == today
        missed = (today - before.kept_through).days - 1 if last is not None else 0
        spent = state.freezes_used[: min(missed, before.freezes_held)]
        assert all(before.kept_through < day < today for day in spent)
        if last is not None and missed <= before.freezes_held:
            assert state.current_streak == before.current_streak + 1  # kept, and counted
        else:
            assert state.current_streak == 1


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
        "freezes_held": 0,
        "freezes_used": [],
        "freeze_message": None,
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
    st.integers(0, MAX_FREEZES_HELD),
    zone_and_instant,
)
def test_view_fields_agree_with_each_other(current, extra, last, held, zone_and_now):
    zone_name, now = zone_and_now
    state = StreakState(current, current + extra, last, freezes_held=held if current else 0)
    view = streak_view(state, now, zone_name)
    assert view["current_streak"] in (0, current)
    assert view["current_streak"] <= view["longest_streak"]
    assert view["at_risk"] == (
        view["current_streak"] > 0 and not view["active_today"] and view["freezes_held"] == 0
    )
    assert len(view["freezes_used"]) == state.freezes_held - view["freezes_held"]
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


# --- freezes -----------------------------------------------------------------------------


def days_from(first: date, *offsets: int) -> list[date]:
    return [first + timedelta(days=offset) for offset in offsets]


MONDAY = date(2026, 3, 2)


def test_seven_active_days_in_a_row_earn_a_freeze_and_two_at_most_are_held():
    state = active_on(days_from(MONDAY, *range(6)))
    assert state.freezes_held == 0
    state = active_on(days_from(MONDAY, 6), state)
    assert (state.current_streak, state.freezes_held) == (7, 1)
    state = active_on(days_from(MONDAY, *range(7, 14)), state)
    assert (state.current_streak, state.freezes_held) == (14, 2)
    state = active_on(days_from(MONDAY, *range(14, 28)), state)
    assert (state.current_streak, state.freezes_held) == (28, MAX_FREEZES_HELD)


def test_a_missed_day_spends_a_freeze_and_the_streak_survives_without_counting_it():
    state = active_on(days_from(MONDAY, *range(7)))  # one freeze earned on Sunday
    after = streak_after_activity(state, MONDAY + timedelta(days=8))  # Monday 9 missed
    assert after.current_streak == 8  # kept, but the frozen day is not an active one
    assert after.freezes_held == 0
    assert after.freezes_used == (date(2026, 3, 9),)
    assert after.longest_streak == 8


def test_two_missed_days_need_two_freezes():
    two_held = active_on(days_from(MONDAY, *range(14)))
    assert two_held.freezes_held == 2
    survived = streak_after_activity(two_held, MONDAY + timedelta(days=16))
    assert survived.current_streak == 15
    assert survived.freezes_used == (date(2026, 3, 17), date(2026, 3, 16))
    assert survived.freezes_held == 0

    one_held = active_on(days_from(MONDAY, *range(7)))
    broken = streak_after_activity(one_held, MONDAY + timedelta(days=9))
    # The freeze covered the first missed day; the second ended the streak.
    assert broken.current_streak == 1 and broken.longest_streak == 7
    assert broken.freezes_used == (date(2026, 3, 9),) and broken.freezes_held == 0


def test_a_freeze_earned_and_spent_in_the_same_week():
    # Active from Thursday 26 February to Wednesday 4 March: the seventh day earns a freeze;
    # Thursday 5 March is missed and Friday's activity spends it, all in the week of 2 March.
    state = active_on(days_from(date(2026, 2, 26), *range(7)))
    assert state.freezes_held == 1 and state.last_activity_date == date(2026, 3, 4)
    state = streak_after_activity(state, date(2026, 3, 6))
    assert state.freezes_used == (date(2026, 3, 5),) and state.freezes_held == 0
    assert state.current_streak == 8
    view = streak_view(state, datetime(2026, 3, 6, 18, 0, tzinfo=UTC), "UTC")
    assert view["current_streak"] == 8 and view["freezes_used"] == ["2026-03-05"]


def test_a_frozen_day_ends_the_run_that_earns_the_next_freeze():
    state = active_on(days_from(MONDAY, *range(7), *range(8, 14)))  # 7 days, a freeze, 6 days
    assert state.freezes_held == 0 and state.active_run == 6 and state.current_streak == 13
    state = active_on(days_from(MONDAY, 14), state)
    assert state.freezes_held == 1 and state.active_run == 7


def test_milestones_count_frozen_days_as_kept_not_as_active():
    state = active_on(days_from(MONDAY, *range(13)))  # 13 active days, one freeze held
    state = streak_after_activity(state, MONDAY + timedelta(days=14))  # day 14 missed
    view = streak_view(state, datetime(2026, 3, 16, 9, 0, tzinfo=UTC), "UTC")
    assert view["current_streak"] == 14
    assert view["milestone_message"] == MILESTONES[14]
    assert view["next_milestone"] == 30


def test_only_the_last_ten_spent_dates_are_kept_newest_first():
    state, day = NEW, MONDAY
    for _ in range(12):  # seven active days, one missed, twelve times over
        state = active_on(days_from(day, *range(7)), state)
        day += timedelta(days=8)
    state = streak_after_activity(state, day)
    assert len(state.freezes_used) == FREEZES_LISTED
    assert state.freezes_used[0] == day - timedelta(days=1)
    assert list(state.freezes_used) == sorted(state.freezes_used, reverse=True)
    assert state.current_streak == 7 * 12 + 1


@pytest.mark.parametrize(
    ("zone_name", "before", "after", "frozen"),
    [
        # Spring forward: the missed Sunday is 23 hours long; still one whole day.
        (
            "America/New_York",
            datetime(2026, 3, 8, 4, 59, tzinfo=UTC),  # Saturday 7 March 23:59 EST
            datetime(2026, 3, 9, 4, 1, tzinfo=UTC),  # Monday 9 March 00:01 EDT
            ["2026-03-08"],
        ),
        # Fall back: the missed Sunday is 25 hours long; still one day.
        (
            "America/New_York",
            datetime(2026, 11, 1, 3, 59, tzinfo=UTC),  # Saturday 31 October 23:59 EDT
            datetime(2026, 11, 2, 5, 1, tzinfo=UTC),  # Monday 2 November 00:01 EST
            ["2026-11-01"],
        ),
        # Lord Howe moves its clocks by 30 minutes.
        (
            "Australia/Lord_Howe",
            datetime(2026, 4, 4, 12, 59, tzinfo=UTC),  # Saturday 4 April 23:59 +11:00
            datetime(2026, 4, 5, 13, 31, tzinfo=UTC),  # Monday 6 April 00:01 +10:30
            ["2026-04-05"],
        ),
        # Kathmandu is UTC+05:45: two UTC days apart, but three local ones (two missed).
        (
            "Asia/Kathmandu",
            datetime(2026, 3, 1, 18, 14, tzinfo=UTC),  # Sunday 1 March 23:59
            datetime(2026, 3, 3, 18, 16, tzinfo=UTC),  # Wednesday 4 March 00:01
            ["2026-03-03", "2026-03-02"],
        ),
        # Chatham, UTC+13:45 in summer.
        (
            "Pacific/Chatham",
            datetime(2026, 1, 10, 10, 14, tzinfo=UTC),  # Saturday 10 January 23:59
            datetime(2026, 1, 11, 10, 16, tzinfo=UTC),  # Monday 12 January 00:01
            ["2026-01-11"],
        ),
    ],
)
def test_freezes_cover_whole_local_days_across_clock_changes_and_odd_offsets(
    zone_name, before, after, frozen
):
    state = active_on([local_date(before, zone_name)])
    state = replace(state, current_streak=9, longest_streak=9, freezes_held=2, active_run=9)
    state = streak_after_activity(state, local_date(after, zone_name))
    assert [day.isoformat() for day in state.freezes_used] == frozen
    assert state.current_streak == 10 and state.freezes_held == 2 - len(frozen)


@st.composite
def activity_around_a_clock_change(draw):
    """Instants within a few weeks of a zone's offset change, several a day, some days none."""
    zone_name = draw(st.sampled_from(TRICKY_ZONES))
    changes = offset_changes(zone_name) or [datetime(2020, 1, 1, tzinfo=UTC)]
    change = draw(st.sampled_from(changes))
    seconds = st.integers(min_value=-21 * 86400, max_value=7 * 86400)
    moments = draw(st.lists(seconds, min_size=1, max_size=80))
    return zone_name, sorted(change + timedelta(seconds=s) for s in moments)


@settings(max_examples=200, deadline=None)
@given(activity_around_a_clock_change())
@example(
    (
        "America/St_Johns",
        [
            datetime(2000, 10, 27, 12, 0, tzinfo=UTC),
            datetime(2000, 10, 29, 2, 30, 59, tzinfo=UTC),  # Sunday 29th, 00:00:59 local
            datetime(2000, 10, 29, 2, 31, 0, tzinfo=UTC),  # Saturday 28th, 23:01 local again
        ],
    )
)
def test_around_clock_changes_the_streak_is_the_rule_read_day_by_local_day(zone_and_moments):
    zone_name, moments = zone_and_moments
    state = NEW
    for moment in moments:
        state = streak_after_activity(state, local_date(moment, zone_name))
    # Where the clock goes back over midnight (St John's, 2000: 00:01 became 23:01), a later
    # instant can fall on an earlier local date; API.md counts such activity as the day
    # already counted. So the day-by-day reading takes each date no earlier than the last.
    counted_days, latest = set(), None
    for moment in moments:
        day = local_date(moment, zone_name)
        latest = day if latest is None or day > latest else latest
        counted_days.add(latest)
    assert state == day_by_day(counted_days)


@settings(deadline=None)
@given(
    st.sets(st.dates(min_value=date(2020, 1, 1), max_value=date(2020, 4, 1)), min_size=1),
    st.sets(st.dates(min_value=date(2020, 1, 1), max_value=date(2020, 5, 1))),
)
def test_reads_in_between_spend_freezes_but_change_no_outcome(active_days, read_days):
    """Spending at a read (GET /v1/streak) or at the next activity gives the same streak."""
    without_reads = active_on(active_days)
    state = NEW
    for day in sorted(active_days | read_days):
        if day in active_days:
            state = streak_after_activity(state, day)
        else:
            state = streak_after_missed_days(state, day)
    end = max(active_days | read_days)
    assert state == streak_after_missed_days(without_reads, end)
    now = datetime.combine(end, time(12), tzinfo=UTC)
    assert streak_view(state, now, "UTC") == streak_view(without_reads, now, "UTC")


def test_a_read_after_a_missed_day_spends_the_freeze_and_says_so():
    state = active_on(days_from(MONDAY, *range(8)))  # 8 days to Monday 9 March, 1 freeze
    now = datetime(2026, 3, 11, 8, 0, tzinfo=UTC)  # Wednesday: Tuesday was missed
    view = streak_view(state, now, "UTC")
    assert view["current_streak"] == 8 and view["freezes_held"] == 0
    assert view["freezes_used"] == ["2026-03-10"]
    assert view["at_risk"] is True  # no freeze left to cover today
    assert view["freeze_message"] == (
        "A streak freeze covered Tuesday 10 March, so your 8-day streak is still alive."
    )


def test_a_held_freeze_takes_the_risk_out_of_today():
    state = active_on(days_from(MONDAY, *range(7)))  # to Sunday 8 March, 1 freeze held
    view = streak_view(state, datetime(2026, 3, 9, 20, 0, tzinfo=UTC), "UTC")
    assert view["active_today"] is False and view["current_streak"] == 7
    assert view["at_risk"] is False
    assert view["freeze_message"] == (
        "You hold 1 streak freeze, so missing today would not end your 7-day streak."
    )
    on_the_day = streak_view(state, datetime(2026, 3, 8, 20, 0, tzinfo=UTC), "UTC")
    assert on_the_day["freeze_message"] == (
        "7 active days in a row: you hold 1 streak freeze, so a missed day will not end your "
        "streak."
    )


def test_a_streak_that_ran_out_of_freezes_is_over():
    state = active_on(days_from(MONDAY, *range(7)))  # 1 freeze, last active Sunday 8 March
    view = streak_view(state, datetime(2026, 3, 11, 8, 0, tzinfo=UTC), "UTC")  # Wednesday
    assert view["current_streak"] == 0 and view["at_risk"] is False
    assert view["freezes_used"] == ["2026-03-09"] and view["freezes_held"] == 0
    assert view["freeze_message"] is None


@settings(deadline=None)
@given(
    st.sets(st.dates(min_value=date(2020, 1, 1), max_value=date(2020, 3, 1)), min_size=1),
    st.integers(0, 6),
    st.sampled_from(TRICKY_ZONES),
)
def test_every_freeze_message_is_one_sentence(days, days_later, zone_name):
    now = datetime.combine(max(days) + timedelta(days=days_later), time(12), tzinfo=UTC)
    message = streak_view(active_on(days), now, zone_name)["freeze_message"]
    assert message is None or one_sentence(message)
