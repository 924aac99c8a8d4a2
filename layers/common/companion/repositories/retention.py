"""The quiz_attempts statements of the retention pruner: keyset batches, then deletes by id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class OldAttempt:
    """An attempt past the retention period, and its archive line (None in a dry run)."""

    id: UUID
    submitted_at: datetime
    student_id: UUID
    line: str | None = None


# Each row as one JSON object, built by the server: every column (a column added later is
# archived too), numbers as numbers, the JSON columns as JSON, instants as ISO-8601 in UTC
# (the transaction's TimeZone, set below).
_ARCHIVE_LINE = "row_to_json(a)::text AS line"

# Keyset pagination in (submitted_at, id) order, never OFFSET: each batch starts at the
# index position after the previous one, so every batch costs the same however deep the
# run is. `submitted_at >= after` lets the submitted_at index bound the scan; the row
# comparison then breaks ties between rows stamped with the same instant.
# That index is partial (WHERE submitted_at IS NOT NULL, migration 0008): the strict
# `submitted_at < cutoff` below is what lets the planner use it.
_AFTER = """
   AND a.submitted_at >= %(after_at)s
   AND (a.submitted_at, a.id) > (%(after_at)s, %(after_id)s)
"""


def _batch_sql(with_lines: bool, after: bool) -> str:
    return f"""
        SELECT a.id, a.submitted_at, a.student_id {"," + _ARCHIVE_LINE if with_lines else ""}
          FROM quiz_attempts AS a
         WHERE a.submitted_at < %(cutoff)s {_AFTER if after else ""}
         ORDER BY a.submitted_at, a.id
         LIMIT %(limit)s
    """


def oldest_batch(
    conn,
    *,
    cutoff: datetime,
    after: tuple[datetime, UUID] | None,
    limit: int,
    with_lines: bool = True,
) -> list[OldAttempt]:
    """Up to `limit` attempts submitted before `cutoff`, oldest first, after the `after` key:
    their id and submitted_at and, unless a dry run needs only those, their archive line."""
    params: dict[str, Any] = {"cutoff": cutoff, "limit": limit}
    if after is not None:
        params["after_at"], params["after_id"] = after
    with conn.transaction():
        conn.execute("SET LOCAL TimeZone = 'UTC'")
        rows = conn.execute(_batch_sql(with_lines, after is not None), params).fetchall()
    return [OldAttempt(**row) for row in rows]


def delete_archived(conn, ids: list[UUID], cutoff: datetime) -> int:
    """Delete exactly these attempts (still guarded by the cutoff); how many went."""
    return conn.execute(
        "DELETE FROM quiz_attempts WHERE id = ANY(%s) AND submitted_at < %s", (ids, cutoff)
    ).rowcount


def students_gone(conn, student_ids: list[UUID]) -> list[UUID]:
    """Those of `student_ids` that no longer exist (deleted their account)."""
    rows = conn.execute(
        """
        SELECT wanted.id FROM unnest(%s::uuid[]) AS wanted(id)
         WHERE NOT EXISTS (SELECT 1 FROM students WHERE students.id = wanted.id)
        """,
        (student_ids,),
    ).fetchall()
    return [row["id"] for row in rows]
