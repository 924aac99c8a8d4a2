"""ProgressFunction: progress through the course, reading time, the streak."""

from companion.deps import Student, StudentWithProgress
from companion.schemas.requests import ReadingTime
from companion.services import progress
from companion.web import create_app, documented, lambda_handler

app = create_app(
    "Course Companion - progress",
    "Your progress through the course, your reading time, your streak and what to do next.",
)


@app.get(
    "/v1/progress",
    summary="All six chapters' progress, your streak and the next step.",
)
@documented("learning.ProgressReport", "Your progress.", 401)
async def get_progress(student: StudentWithProgress):
    return progress.progress_overview(student)


@app.post(
    "/v1/progress/{chapter_id}/time",
    summary="Add reading time to a chapter.",
)
@documented("learning.ChapterProgress", "The chapter's progress.", 400, 401, 403, 404, 413, 422)
async def log_reading_time(chapter_id: str, body: ReadingTime, student: Student):
    return progress.log_reading_time(student, chapter_id, body.minutes)


@app.get(
    "/v1/streak",
    summary="Your learning streak, and whether it is at risk today.",
)
@documented("learning.Streak", "Your streak.", 401)
async def get_streak(student: Student):
    return progress.current_streak(student)


handler = lambda_handler(app)
