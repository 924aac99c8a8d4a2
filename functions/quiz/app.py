"""QuizFunction: quizzes, submission and grading, attempts."""

from typing import Annotated

from fastapi import Header, Response

from companion.deps import Student, StudentAsLastSeen
from companion.schemas.requests import IDEMPOTENCY_KEY_PATTERN, Submission
from companion.services import quizzes
from companion.web import create_app, lambda_handler, operation

app = create_app(
    "Course Companion - quizzes",
    "Take a chapter's quiz, get it graded by fixed rules, and review your attempts.",
)


@app.get(
    "/v1/quizzes/{quiz_id}",
    summary="A chapter's quiz questions, without answers.",
)
@operation(
    operation_id="getQuiz",
    description=(
        "Returns a chapter's quiz: passing_score and its questions (question_id, text, type, "
        "options for multiple-choice), never the answers. Show the questions as written and "
        "collect the student's own answers; do not answer them yourself."
    ),
    returns="study.QuizView",
    returns_description="quiz_id, chapter_id, passing_score and questions.",
    errors=(401, 403, 404),
)
async def get_quiz(quiz_id: str, student: Student):
    return quizzes.quiz_view(student, quiz_id)


@app.post(
    "/v1/quizzes/{quiz_id}/submit",
    summary="Grade the student's answers and record the attempt.",
)
@operation(
    operation_id="submitQuiz",
    description=(
        "Grades the student's answers by fixed rules and records the attempt. Send only the "
        "student's own answers, never your guesses. Always send a new UUID as idempotency_key; "
        "reuse it only to retry this same submission after a timeout."
    ),
    returns="study.SubmissionResult",
    returns_description=(
        "attempt_id, score, passed, passing_score, grading_details per question (with feedback "
        "and a review pointer when wrong), review_sections to reread, best_score, chapter_status "
        "and streak."
    ),
    errors=(400, 401, 403, 404, 413, 422),
    headers={
        "Idempotent-Replayed": {
            "description": "true when this is the replay of an earlier submission.",
            "schema": {"type": "string"},
        }
    },
    error_notes={
        422: (
            "An answer or field is invalid (detail names the valid choices), an unknown question "
            "id (code invalid_input), or an idempotency_key already used for a different "
            "submission (code idempotency_key_reused: make a new key)."
        ),
    },
    consequential=True,
)
async def submit_quiz(
    quiz_id: str,
    submission: Submission,
    student: StudentAsLastSeen,
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
    summary="The student's attempts at a quiz, newest first.",
)
@operation(
    operation_id="listAttempts",
    description=(
        "Lists the student's attempts at a quiz, newest first (attempt_id, score, passed, "
        "submitted_at), with the best score so far."
    ),
    returns="study.AttemptList",
    returns_description="attempts (newest first) and best_score.",
    errors=(401, 403, 404),
)
async def list_attempts(quiz_id: str, student: Student):
    return quizzes.list_attempts(student, quiz_id)


@app.get(
    "/v1/quizzes/{quiz_id}/attempts/{attempt_id}",
    summary="One past attempt with its grading.",
)
@operation(
    operation_id="getAttempt",
    description=(
        "Returns one of the student's past attempts with their answers, the grading of each "
        "question and the review_sections to reread."
    ),
    returns="study.AttemptDetail",
    returns_description=(
        "attempt_id, quiz_id, score, passed, answers, grading_details, submitted_at and "
        "review_sections."
    ),
    errors=(401, 403, 404),
)
async def get_attempt(quiz_id: str, attempt_id: str, student: Student):
    return quizzes.attempt_detail(student, quiz_id, attempt_id)


handler = lambda_handler(app)
