"""The cache: Upstash Redis over HTTP, an optimisation that may be down or unset at any time.

Every function goes through here. When the cache is not configured every call is a cheap
no-op; when it fails (error, refused connection, timeout) we log one warning and skip it
for `cache_cooldown_seconds`, so a cache that is down or hung costs one short timeout, not
one per request. Nothing here raises because of the cache.

upstash-redis's defaults are unsafe in a Lambda (one retry after a 3 s sleep, and an HTTP
client with no timeout at all), so the client is built with `rest_retries=0` and its
internal httpx client gets a timeout of `cache_timeout_seconds` on connect, read, write and
pool. upstash_redis and httpx are imported on first use: they cost ~100 ms of cold start.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Literal

from companion.settings import Settings, get_settings

if TYPE_CHECKING:
    from upstash_redis import Redis

# A child of the Powertools Logger's "course-companion" logger: records reach its handler
# (JSON, correlation id) inside a function, and plain logging everywhere else.
logger = logging.getLogger("course-companion.cache")

CacheStatus = Literal["ok", "disabled", "down"]

_build_lock = threading.Lock()
_client: Redis | None = None
_skip_until = 0.0  # time.monotonic() before which the cache is not tried
_failing = False


def client() -> Redis | None:
    """The configured upstash Redis client, or None when disabled or cooling down.

    For callers that need more than get/set/delete. They must catch their own errors and
    report them with `record_failure`.
    """
    global _client
    settings = get_settings()
    if not settings.cache_enabled or time.monotonic() < _skip_until:
        return None
    if _client is None:
        with _build_lock:
            if _client is None:
                try:
                    _client = _build_client(settings)
                except Exception as exc:  # noqa: BLE001 - the cache must never break a request
                    record_failure(exc)
                    return None
    return _client


def get_json(key: str) -> Any | None:
    """The JSON value stored at `key`, or None when absent, unreadable or the cache is off."""
    redis = client()
    if redis is None:
        return None
    try:
        raw = redis.get(key)
    except Exception as exc:  # noqa: BLE001
        record_failure(exc)
        return None
    _record_success()
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        logger.warning("cache entry is not JSON; ignoring it", extra={"cache_key": key})
        return None


def set_json(key: str, value: Any, ttl_seconds: int) -> None:
    """Store `value` as compact JSON for `ttl_seconds`.

    A value that is not JSON-serialisable or a ttl below one second is the caller's bug
    and raises (TypeError/ValueError) whether or not the cache is up.
    """
    if ttl_seconds < 1:
        raise ValueError(f"ttl_seconds must be at least 1, got {ttl_seconds}")
    payload = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    redis = client()
    if redis is None:
        return
    try:
        redis.set(key, payload, ex=int(ttl_seconds))
    except Exception as exc:  # noqa: BLE001
        record_failure(exc)
        return
    _record_success()


def delete(*keys: str) -> None:
    """Remove `keys` (missing keys are fine)."""
    if not keys:
        return
    redis = client()
    if redis is None:
        return
    try:
        redis.delete(*keys)
    except Exception as exc:  # noqa: BLE001
        record_failure(exc)
        return
    _record_success()


def status() -> CacheStatus:
    """For /health: "disabled" when unset, "down" when failing or cooling down, else "ok"."""
    if not get_settings().cache_enabled:
        return "disabled"
    redis = client()
    if redis is None:
        return "down"
    try:
        answer = redis.ping()
    except Exception as exc:  # noqa: BLE001
        record_failure(exc)
        return "down"
    if answer != "PONG":
        record_failure(RuntimeError(f"unexpected PING answer {answer!r}"))
        return "down"
    _record_success()
    return "ok"


def record_failure(exc: BaseException) -> None:
    """Skip the cache for the cool-down; warn once per outage, not once per call."""
    global _skip_until, _failing
    cooldown = get_settings().cache_cooldown_seconds
    _skip_until = time.monotonic() + cooldown
    if not _failing:
        _failing = True
        logger.warning(
            "cache unavailable, skipping it for %.0f s: %s: %s",
            cooldown,
            type(exc).__name__,
            exc,
        )


def reset() -> None:
    """Forget the client and any cool-down (tests and the CLI change the environment)."""
    global _client, _skip_until, _failing
    with _build_lock:
        old, _client = _client, None
    _skip_until = 0.0
    _failing = False
    if old is not None:
        with contextlib.suppress(Exception):
            old.close()


def _record_success() -> None:
    global _failing
    if _failing:
        _failing = False
        logger.info("cache reachable again")


def _build_client(settings: Settings) -> Redis:
    import httpx
    from upstash_redis import Redis

    redis = Redis(
        url=settings.upstash_redis_rest_url,
        token=settings.upstash_redis_rest_token,
        rest_retries=0,
        rest_retry_interval=0,
        allow_telemetry=False,
    )
    timeout = httpx.Timeout(settings.cache_timeout_seconds)  # connect, read, write and pool
    inner = getattr(getattr(redis, "_http", None), "_client", None)
    if not isinstance(inner, httpx.Client):
        with contextlib.suppress(Exception):
            redis.close()
        # upstash-redis changed its internals. Without a bounded timeout a hung cache would
        # hang every request, so no cache is the safer choice.
        raise RuntimeError("cannot bound the upstash-redis HTTP timeout; cache left off")
    inner.timeout = timeout
    return redis
