"""Recording what a student does: a visit or reading time (a progress write plus the
streak), and a quiz submission, graded and stored in one transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from companion import db
from companion.domain.chapter_progress import ChapterProgress
from companion.domain.content_models import Chapter, Quiz
from companion.domain.grading import InvalidAnswers, grade_quiz
from companion.domain.review import review_sections_of
from companion.domain.streaks import (
    StoredStreak,
    StreakState,
    counting_zone,
    freezes_to_spend,
    local_date,
    streak_view,
)
from companion.domain.visits import visit_is_news
from companion.errors import AccountGone, IdempotencyKeyReused, InvalidInput, PremiumRequired
from companion.formats import iso, number
from companion.repositories import attempts, progress, streaks, students
from companion.repositories.attempts import Attempt

T = TypeVar("T")


class StaleCaller(Exception):
    """The caller as last seen (not read for this request) is not as they are now: nothing
    was written, read them again."""


def as_caller_is(student, act: Callable[[Any], T]) -> T:
    """`act(student)`; for a caller as last seen (deps.StudentAsLastSeen), once more with the
    caller read now when those rows said no (PremiumRequired: a plan may have been granted
    since) or a write found them changed (StaleCaller; nothing was written)."""
    if student.as_last_seen:
        try:
            return act(student)
        except (PremiumRequired, StaleCaller):
            student = student.read_again()
    return act(student)


def request_fingerprint(quiz_id: str, answers_as_read: dict[str, Any]) -> str:
    """What makes a retry "the same submission": the quiz and the answers as the grader read
    them ("b" and "B" for one option are the same answer), never their raw spelling."""
    canonical = json.dumps(
        {"quiz_id": quiz_id, "answers": answers_as_read},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_activity(student, write: Callable[[Any], T | None]) -> T:
    """Run a progress write (which stamps last_active_at itself) as the student's activity:
    alone, one statement, when today already counts in the streak; else in one transaction
    with the streak's advance. The write returns None when the student was deleted
    meanwhile (companion.repositories.progress): 401, as for any request of theirs now; for
    a caller as last seen, also when their rows changed: StaleCaller, nothing written."""

    # Decided once: asked twice across midnight, the answers could differ, and the streak
    # would then advance outside the transaction.
    counted_already = student.activity_already_counted()

    def write_and_advance(conn):
        result = write(conn)
        if result is None:
            raise StaleCaller() if student.as_last_seen else AccountGone()
        return result, None if counted_already else streaks.advance(conn, student.id)

    result, streak = db.run(write_and_advance, transaction=not counted_already)
    if not counted_already:
        student.streak_written(streak)
    return result


def record_visit(student, chapter_id: str, section_id: str | None = None) -> None:
    """A read of a chapter, or of one of its sections (which becomes where the student left
    off), as progress and activity; no write at all when it teaches the database nothing new
    (decided from the rows read with the caller: domain.visits)."""
    if visit_is_news(
        student.progress,
        chapter_id,
        section_id,
        student.activity_already_counted(),
        datetime.now(UTC),
    ):
        record_activity(
            student, lambda conn: progress.touch_chapter(conn, student.id, chapter_id, section_id)
        )


def settled_streak(student) -> StoredStreak | None:
    """The caller's streak as read with them; when a whole day was missed while a freeze
    is held, the freezes it spends are written first (under the row's lock, so concurrent
    reads spend a freeze once) and the row returned is the one written."""
    streak = student.streak
    if streak is None or not freezes_to_spend(
        streak.state, local_date(datetime.now(UTC), student.streak_zone)
    ):
        return streak

    def spend(conn):
        if not students.lock_for_writing(conn, student.id):  # the lock order of writes
            raise AccountGone()
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

    The attempt row first (so a concurrent retry with the same key waits there and then
    replays), with the chapter's best score and completion and last_active_at in the same
    statement; then, in the same transaction, the streak (unless today already counts).
    A caller as last seen is checked unchanged by that statement: StaleCaller if not.
    """
    student_id = student.id
    try:
        grade = grade_quiz(quiz, chapter, answers)
    except InvalidAnswers as exc:
        raise InvalidInput(exc.detail) from exc
    fingerprint = request_fingerprint(quiz.quiz_id, grade.as_read)

    def store(conn):
        recorded = attempts.record(
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
            passing_score=quiz.passing_score,
            as_seen=student.as_seen,
        )
        if not recorded.student_found:  # deleted meanwhile: a 401, not a foreign-key error
            raise AccountGone()
        if not recorded.unchanged:
            raise StaleCaller()
        if recorded.attempt is None:
            original = attempts.by_idempotency_key(conn, student_id, idempotency_key)
            if original is None:  # deleted with the account since the statement ended
                raise AccountGone()
            if original.request_fingerprint != fingerprint:
                raise IdempotencyKeyReused(
                    "This idempotency_key was already used for a different submission. "
                    "Use a fresh key for new answers."
                )
            chapter_progress = progress.for_student(conn, student_id).get(chapter.chapter_id)
            return original, chapter_progress, streaks.get(conn, student_id), True
        if counted_already:
            return recorded.attempt, recorded.progress, student.streak, False
        return recorded.attempt, recorded.progress, streaks.advance(conn, student_id), False

    # Usually today counts already, and the attempt with all it changes is one statement;
    # the day's first activity also advances the streak, in the same transaction.
    counted_already = student.activity_already_counted()
    row, chapter_progress, streak, replayed = db.run(store, transaction=not counted_already)
    if not counted_already:
        student.streak_written(streak)
    return attempt_result(student, row, quiz, chapter, chapter_progress, streak), replayed


def view_of_streak(student, streak: StoredStreak | None) -> dict[str, Any]:
    """The body of GET /v1/streak for the caller's `streak` (as read with them, or as just
    written), counted in its timezone (else the student's)."""
    state = streak.state if streak is not None else StreakState(0, 0, None)
    zone = counting_zone(streak.timezone if streak is not None else None, student.timezone)
    return streak_view(state, datetime.now(UTC), zone)


def attempt_result(
    student,
    row: Attempt,
    quiz: Quiz,
    chapter: Chapter,
    chapter_progress: ChapterProgress | None,
    streak: StoredStreak | None,
) -> dict:
    view = view_of_streak(student, streak)
    return {
        "attempt_id": str(row.id),
        "quiz_id": quiz.quiz_id,
        "chapter_id": chapter.chapter_id,
        "score": number(row.score),
        "passed": row.passed,
        "passing_score": quiz.passing_score,
        "grading_details": row.grading_details,
        "review_sections": review_sections_of(row.grading_details, chapter),
        "best_score": number(chapter_progress.quiz_score) if chapter_progress else None,
        "chapter_status": chapter_progress.completion_status if chapter_progress else None,
        "streak": {
            "current_streak": view["current_streak"],
            "longest_streak": view["longest_streak"],
            "milestone_message": view["milestone_message"],
        },
        "submitted_at": iso(row.submitted_at),
    }
