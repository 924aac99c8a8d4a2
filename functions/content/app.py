"""ContentFunction: chapters, sections, navigation, search and health."""

from typing import Annotated

from fastapi import Query
from fastapi.responses import JSONResponse

from companion.deps import Student, StudentWithProgress
from companion.services import content
from companion.web import create_app, lambda_handler, operation

app = create_app(
    "Course Companion - content",
    "Read the Generative AI course verbatim, move between chapters and search it.",
)


@app.get(
    "/v1/chapters",
    summary="The six chapters, in order, with what is locked.",
)
@operation(
    operation_id="listChapters",
    description=(
        "Lists the course's six chapters in order: chapter_id, number, title, access_tier, "
        "estimated minutes, quiz_id and locked (true when the student's plan cannot open it). "
        "Call it to find chapter and quiz ids; never guess an id."
    ),
    returns="content.ChapterList",
    returns_description="chapters (in course order) and total.",
    errors=(401,),
)
async def list_chapters(student: Student):
    return content.list_chapters(student)


@app.get(
    "/v1/chapters/{chapter_id}",
    summary="A whole chapter, exactly as written.",
)
@operation(
    operation_id="getChapter",
    description=(
        "Returns a whole chapter exactly as written: learning objectives and every section's "
        "content_markdown, plus navigation ids. Quote from it rather than from memory. Marks the "
        "chapter in progress and counts as study for the streak."
    ),
    returns="content.Chapter",
    returns_description=(
        "Every field of the chapter (sections with content_markdown) and navigation "
        "{previous_chapter_id, next_chapter_id}."
    ),
    errors=(401, 403, 404),
)
async def get_chapter(chapter_id: str, student: StudentWithProgress):
    return content.read_chapter(student, chapter_id)


@app.get(
    "/v1/chapters/{chapter_id}/sections/{section_id}",
    summary="One section of a chapter, exactly as written.",
)
@operation(
    operation_id="getSection",
    description=(
        "Returns one section exactly as written (content_markdown). Prefer it to getChapter when "
        "one part is needed, such as a section from searchCourse or a quiz's review_sections. "
        "Counts as study for the streak."
    ),
    returns="content.SectionInChapter",
    returns_description=(
        "chapter_id, section_id, title, order, estimated_time_minutes, content_markdown."
    ),
    errors=(401, 403, 404),
)
async def get_section(chapter_id: str, section_id: str, student: StudentWithProgress):
    return content.read_section(student, chapter_id, section_id)


@app.get(
    "/v1/chapters/{chapter_id}/next",
    summary="The chapter after this one.",
)
@operation(
    operation_id="getNextChapter",
    description=(
        "Returns a summary of the chapter after chapter_id (id, title, quiz_id, locked) without "
        "opening it or recording progress. 404 not_found after the last chapter."
    ),
    returns="content.ChapterSummary",
    returns_description="A chapter summary, as in listChapters.",
    errors=(401, 404),
)
async def get_next_chapter(chapter_id: str, student: Student):
    return content.neighbour_chapter(student, chapter_id, 1)


@app.get(
    "/v1/chapters/{chapter_id}/previous",
    summary="The chapter before this one.",
)
@operation(
    operation_id="getPreviousChapter",
    description=(
        "Returns a summary of the chapter before chapter_id (id, title, quiz_id, locked) without "
        "opening it or recording progress. 404 not_found before the first chapter."
    ),
    returns="content.ChapterSummary",
    returns_description="A chapter summary, as in listChapters.",
    errors=(401, 404),
)
async def get_previous_chapter(chapter_id: str, student: Student):
    return content.neighbour_chapter(student, chapter_id, -1)


@app.get(
    "/v1/search",
    summary="The course sections that best answer a question.",
)
@operation(
    operation_id="searchCourse",
    description=(
        "Finds the course sections that best answer a question, best first, each with a verbatim "
        "excerpt and its chapter and section ids and titles. Use it before answering a course "
        "question and cite the chapter and section. A locked result has no excerpt: it is premium."
    ),
    returns="content.SearchResults",
    returns_description=(
        "query and results [{chapter_id, chapter_title, section_id, section_title, excerpt, "
        "score, locked}]; an empty list when nothing matches."
    ),
    errors=(401, 422),
)
async def search_course(
    student: Student,
    q: Annotated[str, Query(min_length=1, max_length=200, description="What to look for.")],
    limit: Annotated[int, Query(ge=1, le=20, description="How many sections at most.")] = 5,
):
    return content.search_course(student, q, limit)


@app.get(
    "/health",
    summary="Whether the service is up.",
)
@operation(
    operation_id="getHealth",
    description=(
        "Reports whether the service's database, cache and content store answer. Needs no "
        "sign-in. Use it only to tell the student whether the course service is down."
    ),
    returns="content.Health",
    returns_description="status, database, cache and content.",
    error_notes={
        503: "The database or content store is down; the body has the same fields as 200.",
    },
    error_models={503: "content.Health"},
)
async def health():
    report, healthy = content.health_report()
    return report if healthy else JSONResponse(report, status_code=503)


handler = lambda_handler(app)
