"""ProgressFunction: progress through the course, reading time, the streak."""

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from companion import catalogue, db
from companion.deps import Student
from companion.domain.streaks import streak_view
from companion.progress_report import chapter_entry, progress_report
from companion.repositories import progress, streaks
from companion.schemas import errors, ok
from companion.schemas.learning import ChapterProgress, ProgressReport, Streak
from companion.web import create_app, lambda_handler

app = create_app(
    "Course Companion - progress",
    "Your progress through the course, your reading time, your streak and what to do next.",
)


class ReadingTime(BaseModel):
    model_config = ConfigDict(extra="forbid")

    minutes: int = Field(ge=1, le=240, description="Minutes spent reading, 1 to 240.")


@app.get(
    "/v1/progress",
    summary="All six chapters' progress, your streak and the next step.",
    responses={**ok(ProgressReport, "Your progress."), **errors(401)},
)
async def get_progress(student: Student):
    return progress_report(student, catalogue.course())


@app.post(
    "/v1/progress/{chapter_id}/time",
    summary="Add reading time to a chapter.",
    responses={
        **ok(ChapterProgress, "The chapter's progress."),
        **errors(400, 401, 403, 404, 413, 422),
    },
)
async def log_reading_time(chapter_id: str, body: ReadingTime, student: Student):
    chapter = catalogue.course().openable_chapter(chapter_id, student.may_open)

    def add(conn):
        row = progress.add_reading_time(conn, student.id, chapter_id, body.minutes)
        streaks.record_activity(conn, student.id)
        return row

    return chapter_entry(chapter, db.run(add, transaction=True))


@app.get(
    "/v1/streak",
    summary="Your learning streak, and whether it is at risk today.",
    responses={**ok(Streak, "Your streak."), **errors(401)},
)
async def get_streak(student: Student):
    row = db.run(lambda conn: streaks.get(conn, student.id))
    timezone = (row or {}).get("timezone") or student.timezone
    return streak_view(streaks.state_of(row), datetime.now(UTC), timezone)


handler = lambda_handler(app)
