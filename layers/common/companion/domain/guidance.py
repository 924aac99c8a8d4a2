"""What a student should do next: the rule behind `next_step` in GET /v1/progress."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChapterStep:
    """One chapter as the student stands with it."""

    chapter_id: str
    chapter_number: int
    title: str
    quiz_id: str
    first_section_id: str
    first_section_title: str
    completion_status: str  # "not_started" | "in_progress" | "completed"
    can_open: bool
    latest_attempt_passed: bool | None  # None: no attempt on record
    latest_review_sections: list[dict] = field(default_factory=list)
    best_score: float | None = None  # kept by progress when old attempts are pruned
    last_section_id: str = ""  # the chapter's final section
    opened_section_id: str | None = None  # the section last opened in it
    opened_section_title: str | None = None

    @property
    def quiz_attempted(self) -> bool:
        return self.latest_attempt_passed is not None or self.best_score is not None

    @property
    def left_mid_chapter(self) -> bool:
        return self.opened_section_id is not None and self.opened_section_id != self.last_section_id


def _titles(sections: list[dict]) -> str:
    quoted = [f"'{section['section_title']}'" for section in sections]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def next_step(chapters: list[ChapterStep]) -> dict:
    """The next step on the first chapter (by number) that is not completed."""
    pending = sorted(
        (c for c in chapters if c.completion_status != "completed"),
        key=lambda c: c.chapter_number,
    )
    if not pending:
        return {
            "action": "course_complete",
            "chapter_id": None,
            "quiz_id": None,
            "section_ids": [],
            "message": f"You have completed all {len(chapters)} chapters: congratulations!",
        }
    chapter = pending[0]
    name = f"Chapter {chapter.chapter_number}, '{chapter.title}'"
    section_ids: list[str] = []
    if not chapter.can_open:
        action = "upgrade"
        message = f"{name}, is part of the premium plan: upgrade to keep going."
    elif chapter.latest_attempt_passed is False:
        action = "review"
        sections = chapter.latest_review_sections
        section_ids = [section["section_id"] for section in sections]
        reread = f"reread {_titles(sections)}" if sections else "review the chapter"
        message = f"The quiz of {name}, is not passed yet: {reread}, then try it again."
    elif chapter.completion_status == "not_started":
        action = "start_chapter"
        section_ids = [chapter.first_section_id]
        message = (
            f"Chapter {chapter.chapter_number} is next: start '{chapter.title}' with "
            f"'{chapter.first_section_title}'."
        )
    elif chapter.left_mid_chapter and not chapter.quiz_attempted:
        action = "continue_reading"
        section_ids = [chapter.opened_section_id]
        message = (
            f"Pick up {name}, where you left off: carry on with '{chapter.opened_section_title}'."
        )
    else:
        action = "take_quiz"
        message = f"{name}, is under way: when you have read it, take its quiz."
    return {
        "action": action,
        "chapter_id": chapter.chapter_id,
        "quiz_id": chapter.quiz_id,
        "section_ids": section_ids,
        "message": message,
    }
