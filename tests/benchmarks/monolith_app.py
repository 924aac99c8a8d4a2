"""A typical FastAPI + SQLAlchemy monolith doing the same work as our functions, for the
side-by-side benchmark (bench_monolith.py) only.

Written the way such an app usually is: SQLAlchemy 2.0 ORM models mapped onto the same
tables, a pooled engine straight to Postgres, a session per request from a dependency,
`def` routes (FastAPI runs them in its worker threads), the caller from a bearer JWT and a
user lookup, pydantic response models. The course rules are ours (the pure functions of
companion.domain, and the course read once into memory), so both sides grade, gate and
count streaks alike; what differs is the plumbing around them.

Routes: GET /v1/me, GET /v1/chapters/{chapter_id} (records the visit), GET /v1/progress,
POST /v1/quizzes/{quiz_id}/submit.
"""

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    create_engine,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from companion import catalogue
from companion.domain.access import can_open, effective_tier
from companion.domain.grading import InvalidAnswers, grade_quiz
from companion.domain.guidance import ChapterStep, next_step
from companion.domain.review import review_sections_of
from companion.domain.streaks import StreakState, local_date, streak_after_activity, streak_view
from companion.settings import get_settings

CONTENT = Path(__file__).resolve().parents[2] / "shared" / "content"


class Base(DeclarativeBase):
    pass


class Student(Base):
    __tablename__ = "students"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str | None] = mapped_column(String(255))
    timezone: Mapped[str | None] = mapped_column(String(50))
    subscription_tier: Mapped[str | None] = mapped_column(String(20))
    subscription_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_active_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Streak(Base):
    __tablename__ = "streaks"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), unique=True)
    current_streak: Mapped[int] = mapped_column(Integer, default=0)
    longest_streak: Mapped[int] = mapped_column(Integer, default=0)
    last_activity_date: Mapped[date | None] = mapped_column(Date)
    timezone: Mapped[str | None] = mapped_column(String(50))


class ChapterProgress(Base):
    __tablename__ = "chapter_progress"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"))
    chapter_id: Mapped[str] = mapped_column(String(50))
    completion_status: Mapped[str | None] = mapped_column(String(20))
    quiz_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    time_spent_minutes: Mapped[int | None] = mapped_column(Integer, default=0)
    last_accessed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class QuizAttempt(Base):
    __tablename__ = "quiz_attempts"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"))
    quiz_id: Mapped[str] = mapped_column(String(50))
    chapter_id: Mapped[str] = mapped_column(String(50))
    answers_json: Mapped[dict] = mapped_column(JSONB)
    score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    passed: Mapped[bool] = mapped_column(Boolean)
    grading_details_json: Mapped[dict | None] = mapped_column(JSONB)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))


class StudentOut(BaseModel):
    user_id: str
    email: str
    full_name: str | None
    timezone: str
    subscription_tier: str
    created_at: datetime | None


class ChapterEntry(BaseModel):
    chapter_id: str
    chapter_number: int
    title: str
    completion_status: str
    quiz_score: float | None
    time_spent_minutes: int
    last_accessed_at: datetime | None
    completed_at: datetime | None


class ProgressOut(BaseModel):
    chapters: list[ChapterEntry]
    completed_chapters: int
    total_chapters: int
    progress_percentage: float
    streak: dict[str, Any]
    next_step: dict[str, Any]


class Submission(BaseModel):
    answers: dict[str, Any]
    idempotency_key: str | None = None


class SubmissionOut(BaseModel):
    attempt_id: str
    quiz_id: str
    chapter_id: str
    score: float
    passed: bool
    passing_score: float
    grading_details: dict[str, Any]
    review_sections: list[dict[str, Any]]
    best_score: float | None
    chapter_status: str
    streak: dict[str, Any]
    submitted_at: datetime | None


def create_monolith(database_url: str) -> FastAPI:
    engine = create_engine(
        database_url.replace("postgresql://", "postgresql+psycopg://", 1),
        pool_size=5,
        max_overflow=10,
        pool_pre_ping=True,
    )
    sessions = sessionmaker(engine, expire_on_commit=False)
    course = catalogue.validate_source(CONTENT)
    settings = get_settings()
    app = FastAPI(title="Course Companion monolith")

    def get_db() -> Iterator[Session]:
        with sessions() as session:
            yield session

    def current_student(
        db: Annotated[Session, Depends(get_db)],
        authorization: Annotated[str | None, Header()] = None,
    ) -> Student:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise HTTPException(401, "Not authenticated")
        try:
            claims = jwt.decode(
                authorization[7:],
                settings.jwt_secret,
                algorithms=["HS256"],
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
            )
        except jwt.PyJWTError as exc:
            raise HTTPException(401, "Invalid token") from exc
        student = db.get(Student, uuid.UUID(claims["sub"]))
        if student is None:
            raise HTTPException(401, "Unknown student")
        return student

    Db = Annotated[Session, Depends(get_db)]
    Caller = Annotated[Student, Depends(current_student)]

    def tier_of(student: Student) -> str:
        return effective_tier(
            student.subscription_tier, student.subscription_expires_at, datetime.now(UTC)
        )

    def count_activity(db: Session, student: Student, now: datetime) -> Streak:
        student.last_active_at = now
        streak = db.scalars(select(Streak).where(Streak.student_id == student.id)).first()
        if streak is None:
            streak = Streak(student_id=student.id, timezone=student.timezone or "UTC")
            db.add(streak)
        state = StreakState(
            streak.current_streak or 0, streak.longest_streak or 0, streak.last_activity_date
        )
        after = streak_after_activity(state, local_date(now, streak.timezone or "UTC"))
        streak.current_streak = after.current_streak
        streak.longest_streak = after.longest_streak
        streak.last_activity_date = after.last_activity_date
        return streak

    def progress_row(db: Session, student: Student, chapter_id: str) -> ChapterProgress:
        row = db.scalars(
            select(ChapterProgress).where(
                ChapterProgress.student_id == student.id, ChapterProgress.chapter_id == chapter_id
            )
        ).first()
        if row is None:
            row = ChapterProgress(
                student_id=student.id,
                chapter_id=chapter_id,
                completion_status="not_started",
                time_spent_minutes=0,
            )
            db.add(row)
        return row

    @app.get("/v1/me", response_model=StudentOut)
    def me(student: Caller):
        return StudentOut(
            user_id=str(student.id),
            email=student.email,
            full_name=student.full_name,
            timezone=student.timezone or "UTC",
            subscription_tier=tier_of(student),
            created_at=student.created_at,
        )

    @app.get("/v1/chapters/{chapter_id}")
    def get_chapter(chapter_id: str, student: Caller, db: Db):
        chapter = course.chapter(chapter_id)
        if chapter is None:
            raise HTTPException(404, "No such chapter")
        if not can_open(chapter.access_tier, tier_of(student)):
            raise HTTPException(403, "Premium chapter")
        now = datetime.now(UTC)
        row = progress_row(db, student, chapter_id)
        if row.completion_status != "completed":
            row.completion_status = "in_progress"
        row.last_accessed_at = now
        count_activity(db, student, now)
        db.commit()
        previous, following = course.neighbour(chapter_id, -1), course.neighbour(chapter_id, 1)
        return {
            **course.raw_chapters[chapter_id],
            "navigation": {
                "previous_chapter_id": previous.chapter_id if previous else None,
                "next_chapter_id": following.chapter_id if following else None,
            },
        }

    @app.get("/v1/progress", response_model=ProgressOut)
    def get_progress(student: Caller, db: Db):
        rows = {
            row.chapter_id: row
            for row in db.scalars(
                select(ChapterProgress).where(ChapterProgress.student_id == student.id)
            )
        }
        latest = {
            attempt.chapter_id: attempt
            for attempt in db.scalars(
                select(QuizAttempt)
                .where(QuizAttempt.student_id == student.id)
                .order_by(
                    QuizAttempt.chapter_id,
                    QuizAttempt.submitted_at.desc(),
                    QuizAttempt.id.desc(),
                )
                .distinct(QuizAttempt.chapter_id)
            )
        }
        streak = db.scalars(select(Streak).where(Streak.student_id == student.id)).first()
        tier = tier_of(student)
        entries, steps = [], []
        for chapter in course.chapters:
            row = rows.get(chapter.chapter_id)
            entry = ChapterEntry(
                chapter_id=chapter.chapter_id,
                chapter_number=chapter.chapter_number,
                title=chapter.title,
                completion_status=(row.completion_status if row else None) or "not_started",
                quiz_score=float(row.quiz_score) if row and row.quiz_score is not None else None,
                time_spent_minutes=(row.time_spent_minutes if row else 0) or 0,
                last_accessed_at=row.last_accessed_at if row else None,
                completed_at=row.completed_at if row else None,
            )
            entries.append(entry)
            first = chapter.sections_in_order()[0]
            attempt = latest.get(chapter.chapter_id)
            quiz = course.quiz_for(chapter.chapter_id)
            steps.append(
                ChapterStep(
                    chapter_id=chapter.chapter_id,
                    chapter_number=chapter.chapter_number,
                    title=chapter.title,
                    quiz_id=quiz.quiz_id if quiz else None,
                    first_section_id=first.section_id,
                    first_section_title=first.title,
                    completion_status=entry.completion_status,
                    can_open=can_open(chapter.access_tier, tier),
                    latest_attempt_passed=attempt.passed if attempt else None,
                    latest_review_sections=(
                        review_sections_of(attempt.grading_details_json or {}, chapter)
                        if attempt
                        else []
                    ),
                )
            )
        completed = sum(entry.completion_status == "completed" for entry in entries)
        state = StreakState(
            streak.current_streak if streak else 0,
            streak.longest_streak if streak else 0,
            streak.last_activity_date if streak else None,
        )
        return ProgressOut(
            chapters=entries,
            completed_chapters=completed,
            total_chapters=len(entries),
            progress_percentage=round(completed * 100 / len(entries), 2),
            streak=streak_view(state, datetime.now(UTC), student.timezone or "UTC"),
            next_step=next_step(steps),
        )

    @app.post("/v1/quizzes/{quiz_id}/submit", response_model=SubmissionOut)
    def submit(quiz_id: str, submission: Submission, student: Caller, db: Db):
        quiz = course.quiz(quiz_id)
        if quiz is None:
            raise HTTPException(404, "No such quiz")
        chapter = course.chapter(quiz.chapter_id)
        if not can_open(chapter.access_tier, tier_of(student)):
            raise HTTPException(403, "Premium quiz")
        try:
            grade = grade_quiz(quiz, chapter, submission.answers)
        except InvalidAnswers as exc:
            raise HTTPException(422, exc.detail) from exc
        now = datetime.now(UTC)
        attempt = QuizAttempt(
            student_id=student.id,
            quiz_id=quiz.quiz_id,
            chapter_id=chapter.chapter_id,
            answers_json=grade.answers,
            score=Decimal(str(grade.score)),
            passed=grade.passed,
            grading_details_json=grade.grading_details,
            submitted_at=now,
            idempotency_key=submission.idempotency_key,
        )
        db.add(attempt)
        row = progress_row(db, student, chapter.chapter_id)
        score = Decimal(str(grade.score))
        if row.quiz_score is None or score > row.quiz_score:
            row.quiz_score = score
        if row.quiz_score >= Decimal(str(quiz.passing_score)):
            if row.completion_status != "completed":
                row.completed_at = now
            row.completion_status = "completed"
        elif row.completion_status != "completed":
            row.completion_status = "in_progress"
        row.last_accessed_at = now
        streak = count_activity(db, student, now)
        db.commit()
        view = streak_view(
            StreakState(streak.current_streak, streak.longest_streak, streak.last_activity_date),
            now,
            streak.timezone or "UTC",
        )
        return SubmissionOut(
            attempt_id=str(attempt.id),
            quiz_id=quiz.quiz_id,
            chapter_id=chapter.chapter_id,
            score=float(attempt.score),
            passed=attempt.passed,
            passing_score=quiz.passing_score,
            grading_details=grade.grading_details,
            review_sections=review_sections_of(grade.grading_details, chapter),
            best_score=float(row.quiz_score),
            chapter_status=row.completion_status,
            streak={
                "current_streak": view["current_streak"],
                "longest_streak": view["longest_streak"],
                "milestone_message": view["milestone_message"],
            },
            submitted_at=attempt.submitted_at,
        )

    return app
