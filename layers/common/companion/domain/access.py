"""The freemium rule: who may open which chapter."""

from __future__ import annotations

from datetime import UTC, datetime


def _as_utc(moment: datetime) -> datetime:
    # The database stores naive timestamps, which mean UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def effective_tier(
    subscription_tier: str, subscription_expires_at: datetime | None, now: datetime
) -> str:
    """`premium` while the plan is premium and has not expired (no expiry: never), else `free`."""
    if subscription_tier != "premium":
        return "free"
    if subscription_expires_at is None or _as_utc(subscription_expires_at) > _as_utc(now):
        return "premium"
    return "free"


def can_open(access_tier: str, effective: str) -> bool:
    """A free chapter is open to everyone; anything else needs an effective premium plan."""
    return access_tier == "free" or effective == "premium"
