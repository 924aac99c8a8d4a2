from datetime import UTC, datetime, timedelta, timezone

import pytest

from companion.domain.access import can_open, effective_tier

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_free_plan_is_free_whatever_the_expiry():
    assert effective_tier("free", None, NOW) == "free"
    assert effective_tier("free", NOW + timedelta(days=30), NOW) == "free"


def test_premium_without_expiry_never_lapses():
    assert effective_tier("premium", None, NOW) == "premium"


def test_premium_holds_until_the_expiry_instant_and_not_at_it():
    assert effective_tier("premium", NOW + timedelta(seconds=1), NOW) == "premium"
    assert effective_tier("premium", NOW, NOW) == "free"
    assert effective_tier("premium", NOW - timedelta(days=1), NOW) == "free"


def test_naive_expiry_from_the_database_means_utc():
    naive_expiry = datetime(2026, 3, 1, 12, 30)
    assert effective_tier("premium", naive_expiry, NOW) == "premium"
    assert effective_tier("premium", naive_expiry, NOW + timedelta(hours=1)) == "free"


def test_expiry_in_another_offset_is_compared_as_an_instant():
    # 13:00 at +02:00 is 11:00 UTC: already past at 12:00 UTC.
    expiry = datetime(2026, 3, 1, 13, 0, tzinfo=timezone(timedelta(hours=2)))
    assert effective_tier("premium", expiry, NOW) == "free"


@pytest.mark.parametrize(
    ("access_tier", "effective", "expected"),
    [
        ("free", "free", True),
        ("free", "premium", True),
        ("premium", "premium", True),
        ("premium", "free", False),
        ("unknown-tier", "free", False),
    ],
)
def test_can_open(access_tier, effective, expected):
    assert can_open(access_tier, effective) is expected
