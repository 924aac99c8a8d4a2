"""Retention: archive quiz attempts past the retention period to the bucket, then delete them.

Batch by batch, oldest first (keyset order submitted_at, id): select a batch, write each
student's rows of it as one gzip JSON-lines object under that student's own prefix,
`archive/quiz_attempts/<student_id>/`, then delete exactly those ids in a transaction of its
own, then the next batch. Memory holds one batch at a time however many rows there are.

One prefix per student, so that the archive can answer for one student: `GET /v1/me/export`
reads their archived attempts, and `DELETE /v1/me` erases them (`erase_archive`). An
account deleted while a batch holding its rows is being archived is caught by both sides:
the deletion erases the prefix after its rows are gone, and the pruner drops any object it
wrote for a student that no longer exists.

Safety when cut off or repeated:
- A row is deleted only after the object holding it was written; a failure between the
  two leaves the rows in place, and the next run archives them again.
- An object's key is derived from the student and their first row in the batch alone
  (`archive/quiz_attempts/<student_id>/<YYYY-MM-DD>/<submitted_at>_<id>.jsonl.gz`, that
  row's UTC date and instant), so a student's keys sort by time and a rerun after a crash
  starts at the same row and overwrites the same objects (identical bytes when the batch is
  full).
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
from companion.repositories.retention import OldAttempt

ARCHIVE_PREFIX = "archive/quiz_attempts/"
BATCH_SIZE = 5_000
# Stop before a batch unless this much time is left, or twice the slowest batch so far if
# that is more: a batch's statements and upload are bounded by their own timeouts.
MIN_MARGIN_MS = 10_000


class ArchiveStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str = ...) -> None: ...
    def get(self, key: str) -> bytes | None: ...
    def list_keys(self, prefix: str) -> list[str]: ...
    def delete(self, keys: list[str]) -> None: ...


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


def archive_prefix(student_id: str | UUID) -> str:
    """Where every archived attempt of one student lies."""
    return f"{ARCHIVE_PREFIX}{UUID(str(student_id))}/"


def archive_key(first_row: OldAttempt) -> str:
    moment = first_row.submitted_at.astimezone(UTC)
    return (
        f"{archive_prefix(first_row.student_id)}"
        f"{moment:%Y-%m-%d}/{moment:%Y%m%dT%H%M%S.%fZ}_{first_row.id}.jsonl.gz"
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
        store = _store()
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
    last = (rows[-1].submitted_at, rows[-1].id)
    if summary.dry_run:
        summary.would_archive += len(rows)
    else:
        by_student: dict[UUID, list[OldAttempt]] = {}
        for row in rows:
            by_student.setdefault(row.student_id, []).append(row)
        keys = {}
        for student_id, own in by_student.items():
            keys[student_id] = archive_key(own[0])
            store.put(keys[student_id], archive_bytes(r.line for r in own), "application/gzip")
        summary.archive_keys.extend(keys.values())
        summary.archived += len(rows)
        ids = [row.id for row in rows]
        summary.deleted += db.run(
            lambda conn: queries.delete_archived(conn, ids, cutoff), transaction=True
        )
        # A student who deleted their account since the batch was read: no line of theirs
        # may stay (their deletion may have erased their prefix before these were written).
        gone = db.run(lambda conn: queries.students_gone(conn, list(keys)))
        if gone:
            store.delete([keys[student_id] for student_id in gone])
        logger.debug(
            "Archived and deleted a batch", extra={"objects": len(keys), "rows": len(rows)}
        )
    summary.processed_through = iso(last[0])
    return len(rows), last


def archived_attempts(student_id: str, store: ArchiveStore | None = None) -> list[dict[str, Any]]:
    """Every archived attempt of the student, as archived (one dict per row, deduplicated by
    id, oldest first). Raises ContentUnavailable when the bucket cannot be read."""
    import gzip
    import json

    store = store or _store()
    rows: dict[str, dict[str, Any]] = {}
    for key in store.list_keys(archive_prefix(student_id)):
        data = store.get(key)
        if data is None:
            continue  # erased meanwhile
        for line in gzip.decompress(data).splitlines():
            row = json.loads(line)
            rows[row["id"]] = row
    return sorted(rows.values(), key=lambda row: (row["submitted_at"], row["id"]))


def erase_archive(student_id: str, store: ArchiveStore | None = None) -> int:
    """Delete every archived attempt of the student; how many objects went."""
    store = store or _store()
    keys = store.list_keys(archive_prefix(student_id))
    if keys:
        store.delete(keys)
    return len(keys)


def _store() -> ArchiveStore:
    from companion.content_store import content_store

    return content_store()
