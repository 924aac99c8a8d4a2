"""The course's file formats (the seed's Chapter and Quiz JSON), as strict pydantic models.

`validate_course` checks one whole course: every file on its own, then the links between
them (quiz to chapter, question to section, unique numbers and ids).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,49}$")]
Text = Annotated[str, StringConstraints(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Section(_Strict):
    section_id: Identifier
    title: Text
    order: int = Field(ge=1)
    estimated_time_minutes: int = Field(ge=1, le=240)
    content_markdown: Text


class Chapter(_Strict):
    chapter_id: Identifier
    chapter_number: int = Field(ge=1)
    title: Text
    subtitle: Text
    access_tier: Literal["free", "premium"]
    estimated_time_minutes: int = Field(ge=1, le=600)
    difficulty_level: Literal["beginner", "intermediate", "advanced"]
    learning_objectives: list[Text] = Field(min_length=1)
    sections: list[Section] = Field(min_length=1)

    @model_validator(mode="after")
    def _sections_are_consistent(self) -> Chapter:
        ids = [section.section_id for section in self.sections]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{self.chapter_id}: section ids repeat")
        orders = [section.order for section in self.sections]
        if len(set(orders)) != len(orders):
            raise ValueError(f"{self.chapter_id}: section orders repeat")
        return self

    def sections_in_order(self) -> list[Section]:
        return sorted(self.sections, key=lambda section: section.order)

    def section(self, section_id: str) -> Section | None:
        return next((s for s in self.sections if s.section_id == section_id), None)


class _Question(_Strict):
    question_id: Identifier
    question_text: Text
    section_id: Identifier


class MultipleChoiceQuestion(_Question):
    type: Literal["multiple-choice"]
    options: list[Text] = Field(min_length=2, max_length=8)
    correct_answer: Text
    explanation_correct: Text
    explanation_incorrect: Text

    @model_validator(mode="after")
    def _answer_is_an_option(self) -> MultipleChoiceQuestion:
        if self.correct_answer not in self.options:
            raise ValueError(f"{self.question_id}: correct_answer is not one of the options")
        if len(set(self.options)) != len(self.options):
            raise ValueError(f"{self.question_id}: options repeat")
        return self


class TrueFalseQuestion(_Question):
    type: Literal["true-false"]
    correct_answer: bool
    explanation_correct: Text
    explanation_incorrect: Text


# A keyword is a word or phrase, or a list of alternatives any one of which counts.
Keyword = Text | Annotated[list[Text], Field(min_length=1)]


class ShortAnswerQuestion(_Question):
    type: Literal["short-answer"]
    keywords: list[Keyword] = Field(min_length=1)
    explanation: Text


def keyword_problems(question: ShortAnswerQuestion) -> list[str]:
    """Keyword alternatives a non-answer or the question's own text would match: each
    needs a word that is neither too common (a stop word, "know", "idea"...) nor one of
    the question's words (companion.domain.grading.telling_words)."""
    from companion.domain.grading import telling_words

    problems = []
    for keyword in question.keywords:
        for alternative in [keyword] if isinstance(keyword, str) else keyword:
            if not telling_words(alternative, question.question_text):
                problems.append(
                    f'keyword alternative "{alternative}" shows no understanding: its words '
                    "are too common or given away by the question"
                )
    return problems


Question = Annotated[
    MultipleChoiceQuestion | TrueFalseQuestion | ShortAnswerQuestion,
    Field(discriminator="type"),
]


class Quiz(_Strict):
    quiz_id: Identifier
    chapter_id: Identifier
    passing_score: float = Field(ge=0, le=100)
    questions: list[Question] = Field(min_length=1)

    @model_validator(mode="after")
    def _question_ids_unique(self) -> Quiz:
        ids = [question.question_id for question in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{self.quiz_id}: question ids repeat")
        return self


class CourseError(ValueError):
    """The course's files do not fit together."""


def validate_course(chapters: list[Chapter], quizzes: list[Quiz]) -> None:
    """Raise CourseError naming every link that is broken between the files."""
    problems = []
    by_id = {chapter.chapter_id: chapter for chapter in chapters}
    if len(by_id) != len(chapters):
        problems.append("chapter ids repeat")
    numbers = sorted(chapter.chapter_number for chapter in chapters)
    if numbers != list(range(1, len(chapters) + 1)):
        problems.append(f"chapter numbers must be 1..{len(chapters)}, found {numbers}")
    quiz_ids = [quiz.quiz_id for quiz in quizzes]
    if len(set(quiz_ids)) != len(quiz_ids):
        problems.append("quiz ids repeat")
    quizzed_chapters = [quiz.chapter_id for quiz in quizzes]
    if len(set(quizzed_chapters)) != len(quizzed_chapters):
        problems.append("a chapter has more than one quiz")
    for chapter in chapters:
        if chapter.chapter_id not in quizzed_chapters:
            problems.append(f"{chapter.chapter_id} has no quiz")
    for quiz in quizzes:
        chapter = by_id.get(quiz.chapter_id)
        if chapter is None:
            problems.append(f"{quiz.quiz_id}: unknown chapter {quiz.chapter_id}")
            continue
        for question in quiz.questions:
            if chapter.section(question.section_id) is None:
                problems.append(
                    f"{quiz.quiz_id}/{question.question_id}: section {question.section_id} "
                    f"is not in {chapter.chapter_id}"
                )
            if isinstance(question, ShortAnswerQuestion):
                problems.extend(
                    f"{quiz.quiz_id}/{question.question_id}: {problem}"
                    for problem in keyword_problems(question)
                )
    if problems:
        raise CourseError("; ".join(problems))
