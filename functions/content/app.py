"""ContentFunction: chapters, sections, navigation, search and health."""

from typing import Annotated

from fastapi import Query
from fastapi.responses import JSONResponse

from companion.deps import Student, StudentWithProgress
from companion.services import content
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
    return content.list_chapters(student)


@app.get(
    "/v1/chapters/{chapter_id}",
    summary="A whole chapter, exactly as written.",
)
@documented("content.Chapter", "The chapter and its neighbours.", 401, 403, 404)
async def get_chapter(chapter_id: str, student: StudentWithProgress):
    return content.read_chapter(student, chapter_id)


@app.get(
    "/v1/chapters/{chapter_id}/sections/{section_id}",
    summary="One section of a chapter, exactly as written.",
)
@documented("content.SectionInChapter", "The section.", 401, 403, 404)
async def get_section(chapter_id: str, section_id: str, student: StudentWithProgress):
    return content.read_section(student, chapter_id, section_id)


@app.get(
    "/v1/chapters/{chapter_id}/next",
    summary="The chapter after this one.",
)
@documented("content.ChapterSummary", "Its summary.", 401, 404)
async def get_next_chapter(chapter_id: str, student: Student):
    return content.neighbour_chapter(student, chapter_id, 1)


@app.get(
    "/v1/chapters/{chapter_id}/previous",
    summary="The chapter before this one.",
)
@documented("content.ChapterSummary", "Its summary.", 401, 404)
async def get_previous_chapter(chapter_id: str, student: Student):
    return content.neighbour_chapter(student, chapter_id, -1)


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
    return content.search_course(student, q, limit)


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
    report, healthy = content.health_report()
    return report if healthy else JSONResponse(report, status_code=503)


handler = lambda_handler(app)
