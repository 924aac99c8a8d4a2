"""ProgressFunction: progress through the course, reading time, the streak."""

from companion.deps import StudentAsLastSeen, StudentWithProgressReport, StudentWithStreak
from companion.schemas.requests import ReadingTime
from companion.services import progress
from companion.web import create_app, lambda_handler, operation

app = create_app(
    "Course Companion - progress",
    "Your progress through the course, your reading time, your streak and what to do next.",
)


@app.get(
    "/v1/progress",
    summary="The student's progress, streak and next step.",
)
@operation(
    operation_id="getProgress",
    description=(
        "Returns the student's progress on all six chapters (status, best quiz score, reading "
        "minutes), percentage complete, the streak, and next_step: the action to take next with a "
        "one-sentence message. Use it to coach the student."
    ),
    returns="study.ProgressReport",
    returns_description=(
        "chapters, completed_chapters, total_chapters, progress_percentage, streak and next_step "
        "{action, chapter_id, quiz_id, section_ids, message}."
    ),
    errors=(401,),
)
async def get_progress(student: StudentWithProgressReport):
    return progress.progress_overview(student)


@app.post(
    "/v1/progress/{chapter_id}/time",
    summary="Add reading time to a chapter.",
)
@operation(
    operation_id="logReadingTime",
    description=(
        "Adds minutes (1-240) the student spent reading a chapter; starts the chapter if needed "
        "and counts as study for the streak. Log only time the student reports or confirms."
    ),
    returns="study.ChapterProgress",
    returns_description="The chapter's progress entry, as in getProgress.",
    errors=(400, 401, 403, 404, 413, 422),
    consequential=False,
)
async def log_reading_time(chapter_id: str, body: ReadingTime, student: StudentAsLastSeen):
    return progress.log_reading_time(student, chapter_id, body.minutes)


@app.get(
    "/v1/streak",
    summary="The student's learning streak.",
)
@operation(
    operation_id="getStreak",
    description=(
        "Returns the learning streak in days: current and longest, active_today, at_risk (the "
        "streak ends unless the student studies before day_ends_at), next_milestone and "
        "milestone_message."
    ),
    returns="study.Streak",
    returns_description=(
        "current_streak, longest_streak, last_activity_date, timezone, active_today, at_risk, "
        "day_ends_at, next_milestone, milestone_message."
    ),
    errors=(401,),
)
async def get_streak(student: StudentWithStreak):
    return progress.current_streak(student)


handler = lambda_handler(app)
