"""ContentFunction: chapters, sections, navigation, search and health."""

from typing import Annotated

from fastapi import Query
from fastapi.responses import JSONResponse

from companion import cache, catalogue, db
from companion.content_store import content_store
from companion.deps import Student, StudentWithProgress
from companion.errors import NotFound
from companion.learning import record_visit
from companion.web import create_app, documented, lambda_handler

app = create_app(
    "Course Companion - content",
    "Read the Generative AI course verbatim, move between chapters and search it.",
)


@app.get(
    "/v1/chapters",
    summary="List the six chapters, in order, with what is locked.",
)
@documented("content.ChapterList", "The chapters.", 401)
async def list_chapters(student: Student):
    course = catalogue.course()
    chapters = [
        course.summary(chapter, locked=not student.may_open(chapter.access_tier))
        for chapter in course.chapters
    ]
    return {"chapters": chapters, "total": len(chapters)}


@app.get(
    "/v1/chapters/{chapter_id}",
    summary="A whole chapter, exactly as written.",
)
@documented("content.Chapter", "The chapter and its neighbours.", 401, 403, 404)
async def get_chapter(chapter_id: str, student: StudentWithProgress):
    course = catalogue.course()
    chapter = course.openable_chapter(chapter_id, student.may_open)
    record_visit(student, chapter.chapter_id)
    previous, following = course.neighbour(chapter_id, -1), course.neighbour(chapter_id, 1)
    return {
        **course.raw_chapters[chapter_id],
        "navigation": {
            "previous_chapter_id": previous.chapter_id if previous else None,
            "next_chapter_id": following.chapter_id if following else None,
        },
    }


@app.get(
    "/v1/chapters/{chapter_id}/sections/{section_id}",
    summary="One section of a chapter, exactly as written.",
)
@documented("content.SectionInChapter", "The section.", 401, 403, 404)
async def get_section(chapter_id: str, section_id: str, student: StudentWithProgress):
    chapter = catalogue.course().openable_chapter(chapter_id, student.may_open)
    section = chapter.section(section_id)
    if section is None:
        raise NotFound(f"Chapter '{chapter_id}' has no section '{section_id}'.")
    record_visit(student, chapter.chapter_id, section.section_id)
    return {"chapter_id": chapter.chapter_id, **section.model_dump()}


def _neighbour_summary(chapter_id: str, step: int, student):
    course = catalogue.course()
    course.known_chapter(chapter_id)
    neighbour = course.neighbour(chapter_id, step)
    if neighbour is None:
        where = "last" if step > 0 else "first"
        raise NotFound(f"'{chapter_id}' is the {where} chapter of the course.")
    return course.summary(neighbour, locked=not student.may_open(neighbour.access_tier))


@app.get(
    "/v1/chapters/{chapter_id}/next",
    summary="The chapter after this one.",
)
@documented("content.ChapterSummary", "Its summary.", 401, 404)
async def get_next_chapter(chapter_id: str, student: Student):
    return _neighbour_summary(chapter_id, 1, student)


@app.get(
    "/v1/chapters/{chapter_id}/previous",
    summary="The chapter before this one.",
)
@documented("content.ChapterSummary", "Its summary.", 401, 404)
async def get_previous_chapter(chapter_id: str, student: Student):
    return _neighbour_summary(chapter_id, -1, student)


@app.get(
    "/v1/search",
    summary="The course sections that best answer a question.",
)
@documented("content.SearchResults", "Sections, best first.", 401, 422)
async def search_course(
    student: Student,
    q: Annotated[str, Query(min_length=1, max_length=200, description="What to look for.")],
    limit: Annotated[int, Query(ge=1, le=20, description="How many sections at most.")] = 5,
):
    course = catalogue.course()
    results = course.search_index.search(
        q, limit, can_open=lambda chapter: student.may_open(chapter.access_tier)
    )
    return {"query": q, "results": results}


@app.get(
    "/health",
    summary="Whether the database, cache and content store answer.",
)
@documented(
    "content.Health",
    "Everything needed answers (a cache that is down is only reported).",
    also={503: ("content.Health", "The database or content store is down.")},
)
async def health():
    report = {
        "status": "ok",
        "database": "ok" if db.ping() else "down",
        "cache": cache.status(),
        "content": "ok" if content_store().ping() else "down",
    }
    if report["database"] != "ok" or report["content"] != "ok":
        report["status"] = "unavailable"
        return JSONResponse(report, status_code=503)
    return report


handler = lambda_handler(app)
