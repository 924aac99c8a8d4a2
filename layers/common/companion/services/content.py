"""The course: chapters, sections, neighbours, search, and the health report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from companion import activity, cache, catalogue, db
from companion.content_store import content_store
from companion.errors import NotFound

if TYPE_CHECKING:  # the caller's type only: services do not depend on FastAPI
    from companion.deps import CurrentStudent


def list_chapters(student: CurrentStudent) -> dict[str, Any]:
    course = catalogue.course()
    chapters = [
        course.summary(chapter, locked=not student.may_open(chapter.access_tier))
        for chapter in course.chapters
    ]
    return {"chapters": chapters, "total": len(chapters)}


def read_chapter(
    student: CurrentStudent, chapter_id: str, *, record_visit: bool = True
) -> dict[str, Any]:
    """The chapter exactly as stored, with its neighbours; records the visit unless the
    student is not the one reading (an MCP host fetching the chapter as a resource)."""
    course = catalogue.course()
    chapter = course.openable_chapter(chapter_id, student.may_open)
    if record_visit:
        activity.record_visit(student, chapter.chapter_id)
    previous, following = course.neighbour(chapter_id, -1), course.neighbour(chapter_id, 1)
    return {
        **course.raw_chapters[chapter_id],
        "navigation": {
            "previous_chapter_id": previous.chapter_id if previous else None,
            "next_chapter_id": following.chapter_id if following else None,
        },
    }


def read_section(student: CurrentStudent, chapter_id: str, section_id: str) -> dict[str, Any]:
    """One section exactly as stored; records the visit to its chapter, and the section as
    where the student left off."""
    chapter = catalogue.course().openable_chapter(chapter_id, student.may_open)
    section = chapter.section(section_id)
    if section is None:
        raise NotFound(f"Chapter '{chapter_id}' has no section '{section_id}'.")
    activity.record_visit(student, chapter.chapter_id, section.section_id)
    return {"chapter_id": chapter.chapter_id, **section.model_dump()}


def neighbour_chapter(student: CurrentStudent, chapter_id: str, step: int) -> dict[str, Any]:
    """The summary of the chapter `step` places away (1 next, -1 previous); not gated."""
    course = catalogue.course()
    course.known_chapter(chapter_id)
    neighbour = course.neighbour(chapter_id, step)
    if neighbour is None:
        where = "last" if step > 0 else "first"
        raise NotFound(f"'{chapter_id}' is the {where} chapter of the course.")
    return course.summary(neighbour, locked=not student.may_open(neighbour.access_tier))


def search_course(student: CurrentStudent, query: str, limit: int) -> dict[str, Any]:
    course = catalogue.course()
    results = course.search_index.search(
        query, limit, can_open=lambda chapter: student.may_open(chapter.access_tier)
    )
    return {"query": query, "results": results}


def health_report() -> tuple[dict[str, str], bool]:
    """(the report, whether the service can serve): a cache that is down is only reported."""
    report = {
        "status": "ok",
        "database": "ok" if db.ping() else "down",
        "cache": cache.status(),
        "content": "ok" if content_store().ping() else "down",
    }
    healthy = report["database"] == "ok" and report["content"] == "ok"
    if not healthy:
        report["status"] = "unavailable"
    return report, healthy
