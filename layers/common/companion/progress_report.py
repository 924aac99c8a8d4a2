"""GET /v1/progress: every chapter's progress, the streak and the next step, in one read."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from companion import db
from companion.domain.content_models import Chapter
from companion.domain.guidance import ChapterStep, next_step
from companion.domain.review import review_sections_of
from companion.domain.streaks import streak_view
from companion.formats import iso, number
from companion.repositories import attempts, progress, streaks


def chapter_entry(chapter: Chapter, row: dict[str, Any] | None) -> dict[str, Any]:
    row = row or {}
    return {
        "chapter_id": chapter.chapter_id,
        "chapter_number": chapter.chapter_number,
        "title": chapter.title,
        "completion_status": row.get("completion_status") or "not_started",
        "quiz_score": number(row.get("quiz_score")),
        "time_spent_minutes": row.get("time_spent_minutes") or 0,
        "last_accessed_at": iso(row.get("last_accessed_at")),
        "completed_at": iso(row.get("completed_at")),
    }


def percentage(completed: int, total: int) -> float:
    exact = Decimal(completed * 100) / Decimal(total or 1)
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def progress_report(student, course) -> dict[str, Any]:
    def read(conn):
        return (
            progress.for_student(conn, student.id),
            attempts.latest_per_chapter(
                conn, student.id, [chapter.chapter_id for chapter in course.chapters]
            ),
        )

    rows, latest = db.run(read)
    streak_row = student.streak  # read with the caller
    entries = [chapter_entry(chapter, rows.get(chapter.chapter_id)) for chapter in course.chapters]
    completed = sum(entry["completion_status"] == "completed" for entry in entries)
    steps = []
    for chapter, entry in zip(course.chapters, entries, strict=True):
        first = chapter.sections_in_order()[0]
        attempt = latest.get(chapter.chapter_id)
        quiz = course.quiz_for(chapter.chapter_id)
        steps.append(
            ChapterStep(
                chapter_id=chapter.chapter_id,
                chapter_number=chapter.chapter_number,
                title=chapter.title,
                quiz_id=quiz.quiz_id if quiz else None,
                first_section_id=first.section_id,
                first_section_title=first.title,
                completion_status=entry["completion_status"],
                can_open=student.may_open(chapter.access_tier),
                latest_attempt_passed=attempt["passed"] if attempt else None,
                latest_review_sections=(
                    review_sections_of(attempt["grading_details_json"] or {}, chapter)
                    if attempt
                    else []
                ),
            )
        )
    timezone = (streak_row or {}).get("timezone") or student.timezone
    return {
        "chapters": entries,
        "completed_chapters": completed,
        "total_chapters": len(entries),
        "progress_percentage": percentage(completed, len(entries)),
        "streak": streak_view(streaks.state_of(streak_row), datetime.now(UTC), timezone),
        "next_step": next_step(steps),
    }
