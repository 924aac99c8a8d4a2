"""Login throttling: at most `login_max_failures` failed logins per e-mail in any window of
`login_window_seconds` (5 in 15 minutes), counted in the cache.

After that every login for the address is refused with 429 and a `Retry-After` (even with
the right password) until the oldest of those failures leaves the window.

Why not upstash-ratelimit's limiters: its FixedWindow lets 2 × 5 failures through across
a window boundary, and its SlidingWindow weighs the previous window down (5 failures at
the end of one window, then another try goes through a minute into the next), so neither
keeps "5 within any 15 minutes". The failures are kept instead as a sorted set of
timestamps per address (a sliding log), changed by one Lua script, so the rule is exact.

A try is recorded *before* the password is checked, in the same atomic step that checks
the count, and forgotten again when it did not fail. So concurrent guesses cannot all pass
the check before any of them is counted; only failures stay counted.

The cache is an optimisation of the whole service, and this throttle shares its fate: when
the cache is unset, down or cooling down, logins are served without a throttle (logged).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
import uuid
from dataclasses import dataclass

from companion import cache
from companion.errors import RateLimited
from companion.settings import get_settings

logger = logging.getLogger("course-companion.throttle")

KEY_PREFIX = "login_failures"

# KEYS[1] the address's log; ARGV: now (ms), window (ms), limit, this try's member.
# Returns {1, tries left} when the try is recorded, else {0, ms until a try is let through}.
_RECORD_TRY = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count >= limit then
  local freeing = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
  return {0, tonumber(freeing[2]) + window - now}
end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, window)
return {1, limit - count - 1}
"""

_warned_disabled = False


def key_for(email: str) -> str:
    """The cache key of an address's failures (hashed: no e-mail addresses in the cache)."""
    digest = hashlib.sha256(email.encode("utf-8")).hexdigest()
    return f"{KEY_PREFIX}:{digest}"


@dataclass
class LoginAttempt:
    """One login try, counted as a failure until `forget` says it was not one."""

    key: str | None
    member: str | None

    def forget(self) -> None:
        """The try did not fail (it succeeded, or the service could not check it)."""
        if self.key is None or self.member is None:
            return
        redis = cache.client()
        if redis is None:
            return
        try:
            redis.zrem(self.key, self.member)
        except Exception as exc:  # noqa: BLE001 - the cache must never break a login
            cache.record_failure(exc)


def start_attempt(email: str) -> LoginAttempt:
    """Record a login try for `email` (normalised), or refuse it with 429 when the address
    already has the maximum number of failures inside the window."""
    settings = get_settings()
    redis = cache.client()
    if redis is None:
        _log_unthrottled()
        return LoginAttempt(key=None, member=None)
    key = key_for(email)
    member = uuid.uuid4().hex
    window_ms = settings.login_window_seconds * 1000
    try:
        recorded, value = redis.eval(
            _RECORD_TRY,
            keys=[key],
            args=[str(_now_ms()), str(window_ms), str(settings.login_max_failures), member],
        )
    except Exception as exc:  # noqa: BLE001 - the cache must never break a login
        cache.record_failure(exc)
        _log_unthrottled()
        return LoginAttempt(key=None, member=None)
    if int(recorded) == 1:
        return LoginAttempt(key=key, member=member)
    retry_after = max(1, math.ceil(int(value) / 1000))
    raise RateLimited(
        "Too many failed logins for this e-mail address. "
        f"Please wait {_in_words(retry_after)} and try again.",
        retry_after,
    )


def forget_address(email: str) -> None:
    """Drop an address's failures (its account was deleted)."""
    cache.delete(key_for(email))


def _now_ms() -> int:
    return int(time.time() * 1000)


def _in_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _log_unthrottled() -> None:
    global _warned_disabled
    if not get_settings().cache_enabled:
        if not _warned_disabled:
            _warned_disabled = True
            logger.warning("the cache is not configured: logins are not throttled")
        return
    logger.warning("the cache is unavailable: this login is not throttled")
