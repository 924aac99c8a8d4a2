"""Retention: archive quiz attempts past the retention period to the bucket, then delete them.

Batch by batch, oldest first (keyset order submitted_at, id): select a batch, write it as
one gzip JSON-lines object under `archive/quiz_attempts/`, then delete exactly those ids in
a transaction of its own, then the next batch. Memory holds one batch at a time however
many rows there are.

Safety when cut off or repeated:
- A row is deleted only after the object holding it was written; a failure between the
  two leaves the rows in place, and the next run archives them again.
- An object's key is derived from its batch's first row alone
  (`archive/quiz_attempts/<YYYY-MM-DD>/<submitted_at>_<id>.jsonl.gz`, the first row's UTC
  date and instant), so keys sort by time and a rerun after a crash starts at the same
  row and overwrites the same object (the bytes are identical when the batch is full).
  If rows vanished in between (a student deleted their account) or the batch size changed,
  the rerun's batch starts elsewhere and a row can sit in two objects: readers of the
  archive dedupe by `id` (the primary key; an attempt is never modified after insert).

Progress is untouched: chapter_progress already holds each chapter's best score and
completion, so deleting old attempts never changes what the student sees there. Where the
student left off (the section last opened in each chapter) is on those rows too: one per
chapter, nothing that grows, so nothing to prune; and the next step counts a best score as
a tried quiz, so an attempt pruned away is never mistaken for none.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from companion import db
from companion.formats import iso
from companion.observability import logger
from companion.repositories import retention as queries

ARCHIVE_PREFIX = "archive/quiz_attempts/"
BATCH_SIZE = 5_000
# Stop before a batch unless this much time is left, or twice the slowest batch so far if
# that is more: a batch's statements and upload are bounded by their own timeouts.
MIN_MARGIN_MS = 10_000


class ArchiveStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str = ...) -> None: ...


@dataclass
class PruneSummary:
    cutoff: str
    dry_run: bool
    archived: int = 0
    deleted: int = 0
    archive_keys: list[str] = field(default_factory=list)
    complete: bool = True
    # submitted_at of the last attempt handled; the next run starts after it.
    processed_through: str | None = None
    # Dry run only: how many attempts a real run would archive and delete.
    would_archive: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def archive_key(first_row: dict[str, Any]) -> str:
    moment = first_row["submitted_at"].astimezone(UTC)
    return (
        f"{ARCHIVE_PREFIX}{moment:%Y-%m-%d}/{moment:%Y%m%dT%H%M%S.%fZ}_{first_row['id']}.jsonl.gz"
    )


def archive_bytes(lines: Iterable[str]) -> bytes:
    """JSON lines, gzip-compressed as they come (no second copy of the batch's text); the
    header carries no timestamp, so the same lines always give the same bytes."""
    # Level 1: about four times faster than the default 6 on these rows, for a fifth more
    # bytes; the Lambda's CPU time is scarcer than the bucket's storage.
    compressor = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
    chunks = [compressor.compress(line.encode("utf-8") + b"\n") for line in lines]
    chunks.append(compressor.flush())
    return b"".join(chunks)


def prune_attempts(
    *,
    retention_days: int,
    dry_run: bool = False,
    remaining_ms: Callable[[], int] | None = None,
    store: ArchiveStore | None = None,
    batch_size: int = BATCH_SIZE,
    now: datetime | None = None,
) -> PruneSummary:
    """Archive, then delete, every quiz attempt submitted before now - retention_days.

    Stops cleanly before a batch when `remaining_ms()` (the Lambda's remaining time) runs
    low, with `complete` False; the next run continues where this one stopped. A dry run
    walks the same batches and counts them, writing and deleting nothing.
    """
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    if store is None and not dry_run:
        from companion.content_store import content_store

        store = content_store()
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    summary = PruneSummary(cutoff=iso(cutoff), dry_run=dry_run)
    if dry_run:
        summary.would_archive = 0
    slowest_batch_ms = 0.0
    after: tuple[datetime, UUID] | None = None

    while True:
        if remaining_ms is not None:
            left = remaining_ms()
            if left < max(MIN_MARGIN_MS, 2 * slowest_batch_ms):
                summary.complete = False
                logger.info(
                    "Stopping before the time runs out",
                    extra={"remaining_ms": left, "slowest_batch_ms": round(slowest_batch_ms)},
                )
                break
        started = time.monotonic()
        handled, after = _prune_batch(summary, cutoff, after, batch_size, store)
        if handled < batch_size:
            break
        slowest_batch_ms = max(slowest_batch_ms, (time.monotonic() - started) * 1000)
    return summary


def _prune_batch(
    summary: PruneSummary,
    cutoff: datetime,
    after: tuple[datetime, UUID] | None,
    batch_size: int,
    store: ArchiveStore | None,
) -> tuple[int, tuple[datetime, UUID] | None]:
    """One batch, counted into `summary`: how many rows it held, and the key to go on after.

    A function of its own so that the batch is released before the next one is read.
    """
    rows = db.run(
        lambda conn: queries.oldest_batch(
            conn, cutoff=cutoff, after=after, limit=batch_size, with_lines=not summary.dry_run
        )
    )
    if not rows:
        return 0, after
    last = (rows[-1]["submitted_at"], rows[-1]["id"])
    if summary.dry_run:
        summary.would_archive += len(rows)
    else:
        key = archive_key(rows[0])
        store.put(key, archive_bytes(row["line"] for row in rows), "application/gzip")
        summary.archive_keys.append(key)
        summary.archived += len(rows)
        ids = [row["id"] for row in rows]
        summary.deleted += db.run(
            lambda conn: queries.delete_archived(conn, ids, cutoff), transaction=True
        )
        logger.debug("Archived and deleted a batch", extra={"key": key, "rows": len(rows)})
    summary.processed_through = iso(last[0])
    return len(rows), last
