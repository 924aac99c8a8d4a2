"""The learning loop's writes: activity (a progress write plus the streak), and a quiz
submission, graded and stored in one transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from companion import db
from companion.domain.content_models import Chapter, Quiz
from companion.domain.grading import InvalidAnswers, grade_quiz
from companion.domain.review import review_sections_of
from companion.domain.streaks import streak_view
from companion.domain.visits import visit_is_news
from companion.errors import IdempotencyKeyReused, InvalidInput, Unauthorized
from companion.formats import number
from companion.repositories import attempts, progress, streaks, students

T = TypeVar("T")


def request_fingerprint(quiz_id: str, answers_as_read: dict[str, Any]) -> str:
    """What makes a retry "the same submission": the quiz and the answers as the grader read
    them ("b" and "B" for one option are the same answer), never their raw spelling."""
    canonical = json.dumps(
        {"quiz_id": quiz_id, "answers": answers_as_read},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _account_gone() -> Unauthorized:
    return Unauthorized("This account no longer exists. Please register again.")


def record_activity(student, write: Callable[[Any], T | None]) -> T:
    """Run a progress write (which stamps last_active_at itself) as the student's activity:
    alone, one statement, when today already counts in the streak; else in one transaction
    with the streak's advance. The write returns None when the student was deleted
    meanwhile (companion.repositories.progress): 401, as for any request of theirs now."""

    def write_and_advance(conn):
        result = write(conn)
        if result is None:
            raise _account_gone()
        if not student.counted_today():
            streaks.advance(conn, student.id)
        return result

    return db.run(write_and_advance, transaction=not student.counted_today())


def record_visit(student, chapter_id: str, section_id: str | None = None) -> None:
    """A read of a chapter, or of one of its sections (which becomes where the student left
    off), as progress and activity; no write at all when it teaches the database nothing new
    (decided from the rows read with the caller: domain.visits)."""
    if visit_is_news(
        student.progress, chapter_id, section_id, student.counted_today(), datetime.now(UTC)
    ):
        record_activity(
            student, lambda conn: progress.touch_chapter(conn, student.id, chapter_id, section_id)
        )


def settled_streak(student) -> dict[str, Any] | None:
    """The caller's streak row as read with them; when a whole day was missed while a freeze
    is held, the freezes it spends are written first (under the row's lock, so concurrent
    reads spend a freeze once) and the row returned is the one written."""
    if not streaks.freezes_to_spend(student.streak):
        return student.streak

    def spend(conn):
        if not students.lock_for_writing(conn, student.id):  # the lock order of writes
            raise _account_gone()
        return streaks.spend_freezes(conn, student.id)

    return db.run(spend, transaction=True)


def submit_quiz_attempt(
    student,
    quiz: Quiz,
    chapter: Chapter,
    answers: dict[str, Any],
    idempotency_key: str | None,
) -> tuple[dict[str, Any], bool]:
    """Grade and store one submission; returns (the result, whether it was a replay).

    One transaction: the attempt row first (so a concurrent retry with the same key waits
    here and then replays), then the chapter's best score and completion with
    last_active_at, then the streak (unless today already counts).
    """
    student_id = student.id
    try:
        grade = grade_quiz(quiz, chapter, answers)
    except InvalidAnswers as exc:
        raise InvalidInput(exc.detail) from exc
    fingerprint = request_fingerprint(quiz.quiz_id, grade.as_read)

    def store(conn):
        # The student row first, as DELETE /v1/me locks it first (one lock order, no
        # deadlock); a student deleted meanwhile is a 401, not a foreign-key error.
        if not students.lock_for_writing(conn, student_id):
            raise _account_gone()
        row = attempts.insert(
            conn,
            student_id=student_id,
            quiz_id=quiz.quiz_id,
            chapter_id=chapter.chapter_id,
            answers=grade.answers,
            score=grade.score,
            passed=grade.passed,
            grading_details=grade.grading_details,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
        )
        if row is None:
            original = attempts.by_idempotency_key(conn, student_id, idempotency_key)
            if original["request_fingerprint"] != fingerprint:
                raise IdempotencyKeyReused(
                    "This idempotency_key was already used for a different submission. "
                    "Use a fresh key for new answers."
                )
            chapter_progress = progress.for_student(conn, student_id).get(chapter.chapter_id)
            return original, chapter_progress, streaks.get(conn, student_id), True
        chapter_progress = progress.record_quiz_score(
            conn, student_id, chapter.chapter_id, grade.score, quiz.passing_score
        )
        if student.counted_today():
            streak_row = student.streak
        else:
            streak_row = streaks.advance(conn, student_id)
        return row, chapter_progress, streak_row, False

    row, chapter_progress, streak_row, replayed = db.run(store, transaction=True)
    return attempt_result(row, quiz, chapter, chapter_progress, streak_row), replayed


def attempt_result(row, quiz: Quiz, chapter: Chapter, chapter_progress, streak_row) -> dict:
    details = row["grading_details_json"] or {}
    view = streak_view(
        streaks.state_of(streak_row), datetime.now(UTC), (streak_row or {}).get("timezone", "UTC")
    )
    return {
        "attempt_id": str(row["id"]),
        "quiz_id": quiz.quiz_id,
        "chapter_id": chapter.chapter_id,
        "score": number(row["score"]),
        "passed": row["passed"],
        "passing_score": quiz.passing_score,
        "grading_details": details,
        "review_sections": review_sections_of(details, chapter),
        "best_score": number(chapter_progress["quiz_score"]) if chapter_progress else None,
        "chapter_status": chapter_progress["completion_status"] if chapter_progress else None,
        "streak": {
            "current_streak": view["current_streak"],
            "longest_streak": view["longest_streak"],
            "milestone_message": view["milestone_message"],
        },
        "submitted_at": attempts.summary(row)["submitted_at"],
    }
