"""The quiz_attempts statements of the retention pruner: keyset batches, then deletes by id."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

# Keyset pagination in (submitted_at, id) order, never OFFSET: each batch starts at the
# index position after the previous one, so every batch costs the same however deep the
# run is. `submitted_at >= after` lets the submitted_at index bound the scan; the row
# comparison then breaks ties between rows stamped with the same instant.
_AFTER = """
   AND submitted_at >= %(after_at)s
   AND (submitted_at, id) > (%(after_at)s, %(after_id)s)
"""


def _batch_sql(columns: str, after: bool) -> str:
    return f"""
        SELECT {columns}
          FROM quiz_attempts
         WHERE submitted_at < %(cutoff)s {_AFTER if after else ""}
         ORDER BY submitted_at, id
         LIMIT %(limit)s
    """


def oldest_batch(
    conn,
    *,
    cutoff: datetime,
    after: tuple[datetime, UUID] | None,
    limit: int,
    full_rows: bool = True,
) -> list[dict[str, Any]]:
    """Up to `limit` attempts submitted before `cutoff`, oldest first, after the `after` key.

    Full rows (every column, so the archive keeps whatever the table holds) or, for a dry
    run, just the keys.
    """
    columns = "*" if full_rows else "id, submitted_at"
    params: dict[str, Any] = {"cutoff": cutoff, "limit": limit}
    if after is not None:
        params["after_at"], params["after_id"] = after
    return conn.execute(_batch_sql(columns, after is not None), params).fetchall()


def delete_archived(conn, ids: list[UUID], cutoff: datetime) -> int:
    """Delete exactly these attempts (still guarded by the cutoff); how many went."""
    return conn.execute(
        "DELETE FROM quiz_attempts WHERE id = ANY(%s) AND submitted_at < %s", (ids, cutoff)
    ).rowcount
