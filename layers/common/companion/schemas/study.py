"""Bodies of the quiz and progress routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from companion.schemas import ExtensibleModel

# --- quizzes --------------------------------------------------------------------------------


class QuizQuestion(ExtensibleModel):
    question_id: str
    question_text: str
    type: Literal["multiple-choice", "true-false", "short-answer"]
    options: list[str] | None = Field(
        default=None, description="Multiple-choice only: answer with the letter a, b, ... or text."
    )


class QuizView(ExtensibleModel):
    quiz_id: str
    chapter_id: str
    passing_score: float
    questions: list[QuizQuestion]


class ReviewSection(ExtensibleModel):
    chapter_id: str
    section_id: str
    section_title: str


class QuestionResult(ExtensibleModel):
    correct: bool
    explanation: str | None = Field(default=None, description="Multiple-choice and true-false.")
    score: float | None = Field(default=None, description="Short-answer: 0 to 10, one decimal.")
    feedback: str | None = Field(
        default=None,
        description="Short-answer: the concepts found and missing, then a model answer.",
    )
    review: ReviewSection | None = Field(
        default=None, description="Where the course teaches this question; absent when correct."
    )


class StreakSummary(ExtensibleModel):
    current_streak: int
    longest_streak: int
    milestone_message: str | None


class SubmissionResult(ExtensibleModel):
    attempt_id: str
    quiz_id: str
    chapter_id: str
    score: float = Field(description="0 to 100, two decimals.")
    passed: bool
    passing_score: float
    grading_details: dict[str, QuestionResult]
    review_sections: list[ReviewSection] = Field(
        description="The sections to reread, in the chapter's order; empty when all correct."
    )
    best_score: float | None
    chapter_status: str | None
    streak: StreakSummary
    submitted_at: str | None


class AttemptSummary(ExtensibleModel):
    attempt_id: str
    score: float
    passed: bool
    submitted_at: str | None


class AttemptList(ExtensibleModel):
    attempts: list[AttemptSummary] = Field(description="Newest first.")
    best_score: float | None


class AttemptDetail(AttemptSummary):
    quiz_id: str
    chapter_id: str
    answers: dict[str, Any]
    grading_details: dict[str, QuestionResult]
    review_sections: list[ReviewSection]


# --- progress -------------------------------------------------------------------------------


class ChapterProgress(ExtensibleModel):
    chapter_id: str
    chapter_number: int
    title: str
    completion_status: Literal["not_started", "in_progress", "completed"]
    quiz_score: float | None
    time_spent_minutes: int
    last_accessed_at: str | None
    completed_at: str | None


class Streak(ExtensibleModel):
    current_streak: int = Field(description="What holds now: 0 once a day was missed.")
    longest_streak: int
    last_activity_date: str | None
    timezone: str
    active_today: bool
    next_milestone: int | None
    milestone_message: str | None
    at_risk: bool = Field(
        description="The streak ends unless the student is active before day_ends_at (no "
        "freeze is held to cover today)."
    )
    day_ends_at: str = Field(description="The end of the student's local day, with its offset.")
    freezes_held: int = Field(
        description="Streak freezes held (0 to 2): each covers one whole day missed, spent "
        "automatically; one is earned for every 7 active days in a row."
    )
    freezes_used: list[str] = Field(
        description="The local dates (YYYY-MM-DD) a freeze was spent on, newest first, at most 10."
    )
    freeze_message: str | None = Field(
        description="One friendly sentence about the freezes to relay (days they covered, one "
        "earned, or the cover they give today), or null when there is nothing to say."
    )


class NextStep(ExtensibleModel):
    action: Literal[
        "course_complete", "upgrade", "review", "start_chapter", "continue_reading", "take_quiz"
    ]
    chapter_id: str | None
    quiz_id: str | None
    section_ids: list[str]
    message: str = Field(description="One friendly sentence to relay to the student.")


class ResumePoint(ExtensibleModel):
    chapter_id: str
    section_id: str
    section_title: str
    opened_at: str = Field(description="When the student last opened the section.")


class ProgressReport(ExtensibleModel):
    chapters: list[ChapterProgress]
    completed_chapters: int
    total_chapters: int
    progress_percentage: float
    resume: ResumePoint | None = Field(
        description="The section the student opened most recently (where they left off); "
        "null before any section was opened."
    )
    streak: Streak
    next_step: NextStep
