"""Bodies of the content routes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from companion.schemas import Open


class ChapterSummary(Open):
    chapter_id: str
    chapter_number: int
    title: str
    subtitle: str
    access_tier: Literal["free", "premium"]
    estimated_time_minutes: int
    difficulty_level: str
    quiz_id: str | None
    locked: bool = Field(description="True when the student's plan cannot open the chapter.")


class ChapterList(Open):
    chapters: list[ChapterSummary]
    total: int


class Navigation(Open):
    previous_chapter_id: str | None
    next_chapter_id: str | None


class Section(Open):
    section_id: str
    title: str
    order: int
    estimated_time_minutes: int
    content_markdown: str = Field(description="The section's text, verbatim: quote it as is.")


class Chapter(Open):
    chapter_id: str
    chapter_number: int
    title: str
    subtitle: str
    access_tier: Literal["free", "premium"]
    estimated_time_minutes: int
    difficulty_level: str
    learning_objectives: list[str]
    sections: list[Section]
    navigation: Navigation


class SectionInChapter(Section):
    chapter_id: str


class SearchResult(Open):
    chapter_id: str
    chapter_title: str
    section_id: str
    section_title: str
    excerpt: str | None = Field(
        description="A verbatim passage around the best match; null when locked."
    )
    score: float
    locked: bool


class SearchResults(Open):
    query: str
    results: list[SearchResult] = Field(description="Best first; empty when nothing matches.")


class Health(Open):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "down"]
    cache: Literal["ok", "disabled", "down"]
    content: Literal["ok", "down"]
