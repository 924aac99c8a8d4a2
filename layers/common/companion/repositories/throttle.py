"""The throttled_tries table: tries counted against a key (an e-mail's or an address's hash)
inside a sliding window. Run `record_try` in a transaction."""

from __future__ import annotations

from datetime import timedelta


def record_try(conn, limits: dict[str, int], window_seconds: int, try_id: str) -> dict[str, float]:
    """Count one try against every key of `limits` (key -> most tries in the window), unless
    a key already holds its maximum: then count nothing.

    Returns {} when the try was counted, else each key at its limit with the seconds until
    it lets a try through. The keys are
    locked (transaction-scoped advisory locks, taken in one order) before they are counted,
    so concurrent tries cannot all pass the check before any of them is counted.
    """
    keys = sorted(limits)
    window = timedelta(seconds=window_seconds)
    conn.execute(
        """
        SELECT pg_advisory_xact_lock(hashtextextended(locked.key, 0))
          FROM (SELECT key FROM unnest(%s::text[]) AS key ORDER BY key OFFSET 0) AS locked
        """,
        (keys,),
    )
    # Per key: the try that has to leave the window before another one is let through (the
    # limit-th newest), when the key holds its limit.
    blocking = conn.execute(
        """
        SELECT k.key, oldest.tried_at + %(window)s - now() AS wait
          FROM unnest(%(keys)s::text[], %(limits)s::int[]) AS k(key, most)
         CROSS JOIN LATERAL (
               SELECT t.tried_at FROM throttled_tries AS t
                WHERE t.throttle_key = k.key AND t.tried_at > now() - %(window)s
                ORDER BY t.tried_at DESC
               OFFSET k.most - 1 LIMIT 1
         ) AS oldest
        """,
        {"keys": keys, "limits": [limits[key] for key in keys], "window": window},
    ).fetchall()
    if blocking:
        return {row["key"]: max(row["wait"].total_seconds(), 0.0) for row in blocking}
    conn.execute(
        """
        WITH expired AS (
            DELETE FROM throttled_tries
             WHERE throttle_key = ANY(%(keys)s) AND tried_at <= now() - %(window)s
        )
        INSERT INTO throttled_tries (throttle_key, try_id)
        SELECT key, %(try)s FROM unnest(%(keys)s::text[]) AS key
        """,
        {"keys": keys, "window": window, "try": try_id},
    )
    return {}


def forget_try(conn, keys: list[str], try_id: str) -> None:
    """The try did not count (it succeeded, or the service failed to check it)."""
    conn.execute(
        "DELETE FROM throttled_tries WHERE throttle_key = ANY(%s) AND try_id = %s",
        (keys, try_id),
    )


def forget_key(conn, key: str) -> None:
    conn.execute("DELETE FROM throttled_tries WHERE throttle_key = %s", (key,))


def delete_expired(conn, window_seconds: int) -> int:
    """Remove every try older than the window (the daily pruner); how many went."""
    return conn.execute(
        "DELETE FROM throttled_tries WHERE tried_at <= now() - %s",
        (timedelta(seconds=window_seconds),),
    ).rowcount
