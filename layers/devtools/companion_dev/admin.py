"""Operator commands on accounts (`companion set-tier`), on the database of the settings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from companion import db
from companion.accounts import normalise_email, profile_view
from companion.repositories import students

TIERS = ("free", "premium")


def set_tier(email: str, tier: str, expires_at: datetime | None = None) -> dict[str, Any]:
    """Give the student with `email` the `tier` plan, until `expires_at` (premium only; no
    expiry: until changed). A time without an offset is taken as UTC.

    Returns the profile as GET /v1/me shows it. Raises ValueError for an unknown tier or an
    expiry on the free plan, LookupError when no student has that e-mail.

    Expiry and downgrades take effect at once (every request reads the plan fresh); a
    grant shows in the token's `tier` claim from the next login.
    """
    if tier not in TIERS:
        raise ValueError(f"tier must be one of {', '.join(TIERS)}, not {tier!r}")
    if tier == "free" and expires_at is not None:
        raise ValueError("the free plan does not expire: give --expires with premium only")
    if expires_at is not None and expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    address = normalise_email(email)
    row = db.run(lambda conn: students.set_tier(conn, address, tier, expires_at), transaction=True)
    if row is None:
        raise LookupError(f"no student has the e-mail address {address}")
    return profile_view(row, datetime.now(UTC))


def mcp_access_token(email: str, base_url: str) -> str:
    """An access token for the MCP server at `<base_url>/mcp`, for the student with `email`
    (to try the server locally with curl, the Inspector or an event file; MCP hosts get
    theirs by signing the student in). Raises LookupError when no student has that e-mail.
    """
    from companion.resources import mcp_resource
    from companion.security import issue_access_token

    address = normalise_email(email)
    row = db.run(lambda conn: students.get_by_email(conn, address))
    if row is None:
        raise LookupError(f"no student has the e-mail address {address}")
    audience = mcp_resource(base_url.rstrip("/"))
    return issue_access_token(str(row.id), row.effective_tier(), audience=audience).token
