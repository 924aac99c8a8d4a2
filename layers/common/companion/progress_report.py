"""GET /v1/progress (every chapter's progress, where the student left off, the streak and the
next step) and GET /v1/streak, from the rows read with the caller."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from companion.activity import settled_streak, view_of_streak
from companion.domain.chapter_progress import ChapterProgress
from companion.domain.content_models import Chapter
from companion.domain.guidance import ChapterStep, next_step
from companion.domain.review import review_sections_of
from companion.domain.visits import sections_opened
from companion.formats import iso, number


def chapter_entry(chapter: Chapter, row: ChapterProgress | None) -> dict[str, Any]:
    return {
        "chapter_id": chapter.chapter_id,
        "chapter_number": chapter.chapter_number,
        "title": chapter.title,
        "completion_status": (row and row.completion_status) or "not_started",
        "quiz_score": number(row.quiz_score if row else None),
        "time_spent_minutes": (row and row.time_spent_minutes) or 0,
        "last_accessed_at": iso(row.last_accessed_at if row else None),
        "completed_at": iso(row.completed_at if row else None),
    }


def percentage(completed: int, total: int) -> float:
    exact = Decimal(completed * 100) / Decimal(total or 1)
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def resume_point(progress_rows: dict[str, ChapterProgress], course) -> dict[str, Any] | None:
    """The section opened most recently anywhere (one the course still has), or None."""
    for row in sections_opened(progress_rows):
        chapter = course.chapter(row.chapter_id)
        section = chapter.section(row.last_section_id) if chapter else None
        if section is not None:
            return {
                "chapter_id": chapter.chapter_id,
                "section_id": section.section_id,
                "section_title": section.title,
                "opened_at": iso(row.last_section_opened_at),
            }
    return None


def streak_report(student) -> dict[str, Any]:
    """The body of GET /v1/streak (freezes spent by the days missed are written first)."""
    return view_of_streak(student, settled_streak(student))


def progress_report(student, course) -> dict[str, Any]:
    rows = student.progress  # read with the caller
    latest = student.latest_attempts(course.chapter_ids)
    entries = [chapter_entry(chapter, rows.get(chapter.chapter_id)) for chapter in course.chapters]
    completed = sum(entry["completion_status"] == "completed" for entry in entries)
    steps = []
    for chapter, entry in zip(course.chapters, entries, strict=True):
        sections = chapter.sections_in_order()
        attempt = latest.get(chapter.chapter_id)
        quiz = course.quiz_for(chapter.chapter_id)
        row = rows.get(chapter.chapter_id)
        opened = chapter.section(row.last_section_id or "") if row else None
        steps.append(
            ChapterStep(
                chapter_id=chapter.chapter_id,
                chapter_number=chapter.chapter_number,
                title=chapter.title,
                quiz_id=quiz.quiz_id if quiz else None,
                first_section_id=sections[0].section_id,
                first_section_title=sections[0].title,
                completion_status=entry["completion_status"],
                can_open=student.may_open(chapter.access_tier),
                latest_attempt_passed=attempt.passed if attempt else None,
                latest_review_sections=(
                    review_sections_of(attempt.grading_details, chapter) if attempt else []
                ),
                best_score=entry["quiz_score"],
                last_section_id=sections[-1].section_id,
                opened_section_id=opened.section_id if opened else None,
                opened_section_title=opened.title if opened else None,
            )
        )
    return {
        "chapters": entries,
        "completed_chapters": completed,
        "total_chapters": len(entries),
        "progress_percentage": percentage(completed, len(entries)),
        "resume": resume_point(rows, course),
        "streak": streak_report(student),
        "next_step": next_step(steps),
    }
