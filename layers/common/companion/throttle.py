"""Throttling of failed logins and registrations, counted in Postgres.

- Per e-mail (normalised): at most `login_max_failures` failed logins in any window of
  `login_window_seconds` (5 in 15 minutes). After that every login for the address is
  refused with 429 and a `Retry-After`, even with the right password, until the oldest of
  those failures leaves the window.
- Per client address: at most `address_max_tries` failed logins and registrations together
  in the same window (100 by default: a classroom behind one address still works).

A try is recorded *before* the password is checked, in the same transaction that checks the
count (companion.repositories.throttle locks the keys first), and forgotten again when it
did not fail. So concurrent guesses cannot all pass the check before any of them is
counted; only failures stay counted.

Why Postgres and not the cache: a throttle in the cache had to let logins through unthrottled
whenever the cache was down, hung or unset, so a locked account logged in again. Logging in
reads the student from Postgres anyway; the throttle adds a few statements to that
transaction and holds whenever a login can be checked at all.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass

from companion import db
from companion.errors import RateLimited
from companion.repositories import throttle as tries
from companion.settings import get_settings


def key_for(email: str) -> str:
    """The throttle key of an e-mail address (hashed: no addresses in the table)."""
    return "email:" + hashlib.sha256(email.encode("utf-8")).hexdigest()


def key_for_address(client_address: str) -> str:
    return "address:" + hashlib.sha256(client_address.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CountedTry:
    """One login try, counted as a failure until `uncount` says it was not one."""

    keys: tuple[str, ...]
    try_id: str

    def uncount(self) -> None:
        """The try did not fail (it succeeded, or the service could not check it)."""
        db.run(lambda conn: tries.forget_try(conn, list(self.keys), self.try_id))


def login_limits(email: str, client_address: str | None) -> dict[str, int]:
    settings = get_settings()
    limits = {key_for(email): settings.login_max_failures}
    if client_address:
        limits[key_for_address(client_address)] = settings.address_max_tries
    return limits


def registration_limits(client_address: str | None) -> dict[str, int]:
    if not client_address:
        return {}
    return {key_for_address(client_address): get_settings().address_max_tries}


def count_try(conn, limits: dict[str, int]) -> CountedTry:
    """Count a try against `limits` (throttle key -> most tries in the window) inside the
    caller's transaction, or raise RateLimited (429) when a key already holds its maximum."""
    try_id = str(uuid.uuid4())
    if not limits:
        return CountedTry(keys=(), try_id=try_id)
    window = get_settings().login_window_seconds
    blocked = tries.record_try(conn, limits, window, try_id)
    if not blocked:
        return CountedTry(keys=tuple(limits), try_id=try_id)
    retry_after = max(1, math.ceil(max(blocked.values())))
    what = (
        "Too many failed logins for this e-mail address."
        if any(key.startswith("email:") for key in blocked)
        else "Too many failed logins and registrations from your network."
    )
    raise RateLimited(f"{what} Please wait {_in_words(retry_after)} and try again.", retry_after)


def forget_address(conn, email: str) -> None:
    """Drop an e-mail's failures (its account is being deleted)."""
    tries.forget_key(conn, key_for(email))


def delete_expired() -> int:
    """Remove the tries older than the window (the daily pruner)."""
    window = get_settings().login_window_seconds
    return db.run(lambda conn: tries.delete_expired(conn, window))


def _in_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
