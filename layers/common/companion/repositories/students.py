"""The students table."""

from __future__ import annotations

from typing import Any

PROFILE_COLUMNS = """
    id, email, full_name, timezone, subscription_tier, subscription_expires_at,
    created_at, last_active_at
"""


def get(conn, student_id: str) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {PROFILE_COLUMNS} FROM students WHERE id = %s", (student_id,)
    ).fetchone()
