"""When reading a chapter or a section is worth a write.

A read records a visit: the chapter starts, `last_accessed_at` moves, the section opened
becomes where to resume, and the day counts for the streak. Read again and again (a chat
app fetches the same chapter several times in one conversation), most reads change none of
that, so a read writes only when it teaches the database something new, and otherwise at
most once per chapter per VISIT_REFRESH (to keep `last_accessed_at` and `last_active_at`
that close to the truth).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from companion.domain.chapter_progress import ChapterProgress

VISIT_REFRESH = timedelta(minutes=5)


def sections_opened(progress: dict[str, ChapterProgress]) -> list[ChapterProgress]:
    """The chapter rows that remember a section opened, the most recent first."""
    opened = [row for row in progress.values() if row.last_section_id is not None]
    return sorted(opened, key=lambda row: row.last_section_opened_at, reverse=True)


def visit_is_news(
    progress: dict[str, ChapterProgress],
    chapter_id: str,
    section_id: str | None,
    activity_already_counted: bool,
    now: datetime,
) -> bool:
    """Whether a read of a chapter (`section_id` None) or of one of its sections must be
    written, given the student's progress rows (by chapter id) and streak as the request
    read them."""
    row = progress.get(chapter_id)
    if row is None or row.completion_status not in ("in_progress", "completed"):
        return True  # the first visit starts the chapter
    if not activity_already_counted:
        return True  # the day's first activity counts for the streak
    if section_id is not None:
        opened = sections_opened(progress)
        latest = (opened[0].chapter_id, opened[0].last_section_id) if opened else None
        if latest != (chapter_id, section_id):
            return True  # another section is now where the student left off
    last_write = row.last_accessed_at
    return last_write is None or now - last_write >= VISIT_REFRESH
