"""Quizzes: the questions without their answers, submission, and the caller's attempts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from companion import catalogue, db
from companion.activity import as_caller_is, submit_quiz_attempt
from companion.domain.review import review_sections_of
from companion.errors import InvalidInput, NotFound
from companion.formats import iso, number
from companion.repositories import attempts, progress

if TYPE_CHECKING:  # the caller's type only: services do not depend on FastAPI
    from companion.deps import CurrentStudent
    from companion.repositories.attempts import AttemptSummary


def quiz_view(student: CurrentStudent, quiz_id: str) -> dict[str, Any]:
    """The quiz as a student sees it: never a correct answer, keyword or explanation."""
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


def submit_quiz(
    student: CurrentStudent,
    quiz_id: str,
    answers: dict[str, Any],
    idempotency_key: str | None = None,
    header_idempotency_key: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """Grade and store a submission: (the result, whether it replays an earlier one).

    The key may come twice (REST: the Idempotency-Key header and the body field); when
    both are given they must be equal.
    """
    if header_idempotency_key and idempotency_key and header_idempotency_key != idempotency_key:
        raise InvalidInput(
            "The Idempotency-Key header and the body's idempotency_key differ; send one value."
        )
    key = header_idempotency_key or idempotency_key

    def submit(caller):
        quiz, chapter = catalogue.course().openable_quiz(quiz_id, caller.may_open)
        return submit_quiz_attempt(caller, quiz, chapter, answers, key)

    return as_caller_is(student, submit)


def list_attempts(student: CurrentStudent, quiz_id: str) -> dict[str, Any]:
    """The caller's attempts at a quiz, newest first, and the chapter's best score."""
    quiz, _chapter = catalogue.course().openable_quiz(quiz_id, student.may_open)

    def read(conn):
        rows = attempts.for_quiz(conn, student.id, quiz.quiz_id)
        chapter_progress = progress.for_student(conn, student.id).get(quiz.chapter_id)
        return rows, chapter_progress

    rows, chapter_progress = db.run(read)
    return {
        "attempts": [_summary(row) for row in rows],
        "best_score": number(chapter_progress.quiz_score) if chapter_progress else None,
    }


def attempt_detail(student: CurrentStudent, quiz_id: str, attempt_id: str) -> dict[str, Any]:
    """One of the caller's attempts with its answers and grading; another's is 404."""
    quiz, chapter = catalogue.course().openable_quiz(quiz_id, student.may_open)
    row = None
    if attempts.looks_like_id(attempt_id):
        row = db.run(lambda conn: attempts.get(conn, student.id, quiz.quiz_id, attempt_id))
    if row is None:
        raise NotFound(f"You have no attempt '{attempt_id}' at quiz '{quiz_id}'.")
    return {
        **_summary(row),
        "quiz_id": row.quiz_id,
        "chapter_id": row.chapter_id,
        "answers": row.answers,
        "grading_details": row.grading_details,
        "review_sections": review_sections_of(row.grading_details, chapter),
    }


def _summary(attempt: AttemptSummary) -> dict[str, Any]:
    return {
        "attempt_id": str(attempt.id),
        "score": number(attempt.score),
        "passed": attempt.passed,
        "submitted_at": iso(attempt.submitted_at),
    }
