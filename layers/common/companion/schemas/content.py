"""Bodies of the content routes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from companion.schemas import ExtensibleModel


class ChapterSummary(ExtensibleModel):
    chapter_id: str
    chapter_number: int
    title: str
    subtitle: str
    access_tier: Literal["free", "premium"]
    estimated_time_minutes: int
    difficulty_level: str
    quiz_id: str | None
    locked: bool = Field(description="True when the student's plan cannot open the chapter.")


class ChapterList(ExtensibleModel):
    chapters: list[ChapterSummary]
    total: int


class Navigation(ExtensibleModel):
    previous_chapter_id: str | None
    next_chapter_id: str | None


class Section(ExtensibleModel):
    section_id: str
    title: str
    order: int
    estimated_time_minutes: int
    content_markdown: str = Field(description="The section's text, verbatim: quote it as is.")


class Chapter(ExtensibleModel):
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


class SearchResult(ExtensibleModel):
    chapter_id: str
    chapter_title: str
    section_id: str
    section_title: str
    excerpt: str | None = Field(
        description="A verbatim passage around the best match; null when locked."
    )
    score: float
    locked: bool


class SearchResults(ExtensibleModel):
    query: str
    results: list[SearchResult] = Field(description="Best first; empty when nothing matches.")


class Health(ExtensibleModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "down"]
    cache: Literal["ok", "disabled", "down"]
    content: Literal["ok", "down"]
