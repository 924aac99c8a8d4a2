"""QuizFunction: quizzes, submission and grading, attempts."""

from typing import Annotated, Any

from fastapi import Header, Response
from pydantic import BaseModel, ConfigDict, Field

from companion import catalogue, db
from companion.deps import Student
from companion.domain.review import review_sections_of
from companion.errors import InvalidInput, NotFound
from companion.formats import number
from companion.learning import submit_quiz_attempt
from companion.repositories import attempts, progress
from companion.web import create_app, documented, lambda_handler

app = create_app(
    "Course Companion - quizzes",
    "Take a chapter's quiz, get it graded by fixed rules, and review your attempts.",
)

IdempotencyKey = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=255,
        pattern=r"^[\x20-\x7e]+$",
        description=(
            "A fresh random value per submission (e.g. a UUID); send the same value again "
            "when retrying a call that timed out, and the original result is replayed."
        ),
    ),
]


class Submission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[str, Any] = Field(
        description=(
            'Answers by question id: multiple-choice as the option letter ("b") or text, '
            "true-false as true/false, short-answer as text."
        )
    )
    idempotency_key: IdempotencyKey = None


@app.get(
    "/v1/quizzes/{quiz_id}",
    summary="A chapter's quiz: its questions, without answers.",
)
@documented("learning.QuizView", "The questions.", 401, 403, 404)
async def get_quiz(quiz_id: str, student: Student):
    quiz, _chapter = catalogue.course().openable_quiz(quiz_id, student.may_open)
    questions = []
    for question in quiz.questions:
        shown = {
            "question_id": question.question_id,
            "question_text": question.question_text,
            "type": question.type,
        }
        if question.type == "multiple-choice":
            shown["options"] = list(question.options)
        questions.append(shown)
    return {
        "quiz_id": quiz.quiz_id,
        "chapter_id": quiz.chapter_id,
        "passing_score": quiz.passing_score,
        "questions": questions,
    }


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
        Header(alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[\x20-\x7e]+$"),
    ] = None,
):
    if (
        idempotency_key
        and submission.idempotency_key
        and idempotency_key != submission.idempotency_key
    ):
        raise InvalidInput(
            "The Idempotency-Key header and the body's idempotency_key differ; send one value."
        )
    quiz, chapter = catalogue.course().openable_quiz(quiz_id, student.may_open)
    result, replayed = submit_quiz_attempt(
        student,
        quiz,
        chapter,
        submission.answers,
        idempotency_key or submission.idempotency_key,
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
    quiz, _chapter = catalogue.course().openable_quiz(quiz_id, student.may_open)

    def read(conn):
        rows = attempts.for_quiz(conn, student.id, quiz.quiz_id)
        chapter_progress = progress.for_student(conn, student.id).get(quiz.chapter_id)
        return rows, chapter_progress

    rows, chapter_progress = db.run(read)
    return {
        "attempts": [attempts.summary(row) for row in rows],
        "best_score": number(chapter_progress["quiz_score"]) if chapter_progress else None,
    }


@app.get(
    "/v1/quizzes/{quiz_id}/attempts/{attempt_id}",
    summary="One of your attempts, with your answers and the grading.",
)
@documented("learning.AttemptDetail", "The attempt.", 401, 403, 404)
async def get_attempt(quiz_id: str, attempt_id: str, student: Student):
    quiz, chapter = catalogue.course().openable_quiz(quiz_id, student.may_open)
    row = None
    if attempts.looks_like_id(attempt_id):
        row = db.run(lambda conn: attempts.get(conn, student.id, quiz.quiz_id, attempt_id))
    if row is None:
        raise NotFound(f"You have no attempt '{attempt_id}' at quiz '{quiz_id}'.")
    detail = attempts.detail(row)
    return {**detail, "review_sections": review_sections_of(detail["grading_details"], chapter)}


handler = lambda_handler(app)
