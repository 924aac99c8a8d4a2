"""ProgressFunction: progress through the course, reading time, the streak."""

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from companion import catalogue
from companion.deps import Student
from companion.domain.streaks import streak_view
from companion.learning import record_activity
from companion.progress_report import chapter_entry, progress_report
from companion.repositories import progress, streaks
from companion.web import create_app, documented, lambda_handler

app = create_app(
    "Course Companion - progress",
    "Your progress through the course, your reading time, your streak and what to do next.",
)


class ReadingTime(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Strict: a JSON integer, never true, "5" or 5.0.
    minutes: int = Field(strict=True, ge=1, le=240, description="Minutes spent reading, 1 to 240.")


@app.get(
    "/v1/progress",
    summary="All six chapters' progress, your streak and the next step.",
)
@documented("learning.ProgressReport", "Your progress.", 401)
async def get_progress(student: Student):
    return progress_report(student, catalogue.course())


@app.post(
    "/v1/progress/{chapter_id}/time",
    summary="Add reading time to a chapter.",
)
@documented("learning.ChapterProgress", "The chapter's progress.", 400, 401, 403, 404, 413, 422)
async def log_reading_time(chapter_id: str, body: ReadingTime, student: Student):
    chapter = catalogue.course().openable_chapter(chapter_id, student.may_open)

    row = record_activity(
        student, lambda conn: progress.add_reading_time(conn, student.id, chapter_id, body.minutes)
    )
    return chapter_entry(chapter, row)


@app.get(
    "/v1/streak",
    summary="Your learning streak, and whether it is at risk today.",
)
@documented("learning.Streak", "Your streak.", 401)
async def get_streak(student: Student):
    # The streak row was read with the caller, in the same round trip.
    row = student.streak
    timezone = (row or {}).get("timezone") or student.timezone
    return streak_view(streaks.state_of(row), datetime.now(UTC), timezone)


handler = lambda_handler(app)
