"""QuizFunction: quizzes, submission and grading, attempts."""

from typing import Annotated

from fastapi import Header, Response

from companion.deps import Student
from companion.schemas.requests import IDEMPOTENCY_KEY_PATTERN, Submission
from companion.services import quizzes
from companion.web import create_app, documented, lambda_handler

app = create_app(
    "Course Companion - quizzes",
    "Take a chapter's quiz, get it graded by fixed rules, and review your attempts.",
)


@app.get(
    "/v1/quizzes/{quiz_id}",
    summary="A chapter's quiz: its questions, without answers.",
)
@documented("learning.QuizView", "The questions.", 401, 403, 404)
async def get_quiz(quiz_id: str, student: Student):
    return quizzes.quiz_view(student, quiz_id)


@app.post(
    "/v1/quizzes/{quiz_id}/submit",
    summary="Submit answers; get the graded result.",
)
@documented(
    "learning.SubmissionResult",
    "The graded attempt. A retry with a used idempotency key replays the original result "
    "with the header Idempotent-Replayed: true.",
    400,
    401,
    403,
    404,
    413,
    422,
    headers={
        "Idempotent-Replayed": {
            "description": "true when this is the replay of an earlier submission.",
            "schema": {"type": "string"},
        }
    },
)
async def submit_quiz(
    quiz_id: str,
    submission: Submission,
    student: Student,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key", min_length=1, max_length=255, pattern=IDEMPOTENCY_KEY_PATTERN
        ),
    ] = None,
):
    result, replayed = quizzes.submit_quiz(
        student,
        quiz_id,
        submission.answers,
        submission.idempotency_key,
        header_idempotency_key=idempotency_key,
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return result


@app.get(
    "/v1/quizzes/{quiz_id}/attempts",
    summary="Your attempts at a quiz, newest first.",
)
@documented("learning.AttemptList", "Your attempts.", 401, 403, 404)
async def list_attempts(quiz_id: str, student: Student):
    return quizzes.list_attempts(student, quiz_id)


@app.get(
    "/v1/quizzes/{quiz_id}/attempts/{attempt_id}",
    summary="One of your attempts, with your answers and the grading.",
)
@documented("learning.AttemptDetail", "The attempt.", 401, 403, 404)
async def get_attempt(quiz_id: str, attempt_id: str, student: Student):
    return quizzes.attempt_detail(student, quiz_id, attempt_id)


handler = lambda_handler(app)
