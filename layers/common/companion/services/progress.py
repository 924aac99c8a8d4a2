"""Progress through the course, reading time, and the streak."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from companion import catalogue
from companion.activity import as_caller_is, record_activity
from companion.progress_report import chapter_entry, progress_report, streak_report
from companion.repositories import progress

if TYPE_CHECKING:  # the caller's type only: services do not depend on FastAPI
    from companion.deps import CurrentStudent


def progress_overview(student: CurrentStudent) -> dict[str, Any]:
    """Every chapter's progress, the streak and the next step."""
    return progress_report(student, catalogue.course())


def log_reading_time(student: CurrentStudent, chapter_id: str, minutes: int) -> dict[str, Any]:
    """Add reading time to a chapter (starting it if needed); counts as activity."""

    def log(caller):
        chapter = catalogue.course().openable_chapter(chapter_id, caller.may_open)
        row = record_activity(
            caller,
            lambda conn: progress.add_reading_time(
                conn, caller.id, chapter_id, minutes, caller.as_seen
            ),
        )
        return chapter_entry(chapter, row)

    return as_caller_is(student, log)


def current_streak(student: CurrentStudent) -> dict[str, Any]:
    """The streak as it holds now (read with the caller; freezes spent by missed days are
    written first)."""
    return streak_report(student)
