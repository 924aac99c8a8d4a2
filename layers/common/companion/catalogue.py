"""The course as the functions see it, read through three layers.

The warm Lambda's memory (refreshed every few minutes), then Upstash (`chapter:{id}`,
`quiz:{id}`, 24 h), then the bucket. A cache that is down is skipped; a bucket that is down
while a cached copy exists still serves; with neither, the caller gets 503.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from companion import cache
from companion.content_store import ContentUnavailable, content_store
from companion.domain.content_models import Chapter, Quiz, validate_course
from companion.errors import NotFound, PremiumRequired

CHAPTER_PREFIX = "content/chapters/"
QUIZ_PREFIX = "content/quizzes/"
INDEX_CACHE_KEY = "content:index"
CACHE_TTL_SECONDS = 24 * 3600
MEMORY_TTL_SECONDS = 300


def chapter_key(chapter_id: str) -> str:
    return f"{CHAPTER_PREFIX}{chapter_id}.json"


def quiz_key(quiz_id: str) -> str:
    return f"{QUIZ_PREFIX}{quiz_id}.json"


@dataclass
class Course:
    raw_chapters: dict[str, dict[str, Any]]
    raw_quizzes: dict[str, dict[str, Any]]
    chapters: list[Chapter] = field(init=False)
    quizzes: dict[str, Quiz] = field(init=False)

    def __post_init__(self) -> None:
        chapters = [Chapter.model_validate(raw) for raw in self.raw_chapters.values()]
        self.chapters = sorted(chapters, key=lambda chapter: chapter.chapter_number)
        self.quizzes = {
            quiz.quiz_id: quiz for quiz in map(Quiz.model_validate, self.raw_quizzes.values())
        }
        self._chapter_by_id = {chapter.chapter_id: chapter for chapter in self.chapters}
        self._quiz_by_chapter = {quiz.chapter_id: quiz for quiz in self.quizzes.values()}

    @property
    def chapter_ids(self) -> list[str]:
        """In chapter order."""
        return [chapter.chapter_id for chapter in self.chapters]

    def chapter(self, chapter_id: str) -> Chapter | None:
        return self._chapter_by_id.get(chapter_id)

    def quiz(self, quiz_id: str) -> Quiz | None:
        return self.quizzes.get(quiz_id)

    def known_chapter(self, chapter_id: str) -> Chapter:
        chapter = self.chapter(chapter_id)
        if chapter is None:
            raise NotFound(f"There is no chapter '{chapter_id}'. GET /v1/chapters lists them.")
        return chapter

    def openable_chapter(self, chapter_id: str, may_open: Callable[[str], bool]) -> Chapter:
        """The chapter, if it exists (404) and the caller's plan opens it (403)."""
        chapter = self.known_chapter(chapter_id)
        if not may_open(chapter.access_tier):
            raise PremiumRequired(f"Chapter {chapter.chapter_number} is part of the premium plan.")
        return chapter

    def openable_quiz(self, quiz_id: str, may_open: Callable[[str], bool]) -> tuple[Quiz, Chapter]:
        """The quiz and its chapter, under the chapter's gate."""
        quiz = self.quiz(quiz_id)
        if quiz is None:
            raise NotFound(f"There is no quiz '{quiz_id}'.")
        chapter = self.chapter(quiz.chapter_id)
        if not may_open(chapter.access_tier):
            raise PremiumRequired(
                f"Chapter {chapter.chapter_number}'s quiz is part of the premium plan."
            )
        return quiz, chapter

    def quiz_for(self, chapter_id: str) -> Quiz | None:
        return self._quiz_by_chapter.get(chapter_id)

    def neighbour(self, chapter_id: str, step: int) -> Chapter | None:
        chapter = self.chapter(chapter_id)
        if chapter is None:
            return None
        position = self.chapters.index(chapter) + step
        return self.chapters[position] if 0 <= position < len(self.chapters) else None

    def summary(self, chapter: Chapter, locked: bool) -> dict[str, Any]:
        quiz = self.quiz_for(chapter.chapter_id)
        return {
            "chapter_id": chapter.chapter_id,
            "chapter_number": chapter.chapter_number,
            "title": chapter.title,
            "subtitle": chapter.subtitle,
            "access_tier": chapter.access_tier,
            "estimated_time_minutes": chapter.estimated_time_minutes,
            "difficulty_level": chapter.difficulty_level,
            "quiz_id": quiz.quiz_id if quiz else None,
            "locked": locked,
        }

    @cached_property
    def search_index(self):
        from companion.domain.search import SearchIndex

        return SearchIndex.build(self.chapters)


_memory: tuple[float, Course] | None = None


def course() -> Course:
    """The course, from this process's memory when fresh enough."""
    global _memory
    now = time.monotonic()
    if _memory is not None and now - _memory[0] < MEMORY_TTL_SECONDS:
        return _memory[1]
    try:
        loaded = _load()
    except ContentUnavailable:
        if _memory is not None:  # keep serving what we have rather than failing
            return _memory[1]
        raise
    _memory = (now, loaded)
    return loaded


def drop_copy_in_memory() -> None:
    """Drop this process's copy (tests; after a publish)."""
    global _memory
    _memory = None


def _load() -> Course:
    index = cache.get_json(INDEX_CACHE_KEY)
    if not (isinstance(index, dict) and index.get("chapters") and index.get("quizzes")):
        keys = content_store().list_keys("content/")
        index = {
            "chapters": [_id_of(key) for key in keys if key.startswith(CHAPTER_PREFIX)],
            "quizzes": [_id_of(key) for key in keys if key.startswith(QUIZ_PREFIX)],
        }
        if not index["chapters"]:
            raise ContentUnavailable()
        cache.set_json(INDEX_CACHE_KEY, index, CACHE_TTL_SECONDS)
    chapters = {cid: _document(f"chapter:{cid}", chapter_key(cid)) for cid in index["chapters"]}
    quizzes = {qid: _document(f"quiz:{qid}", quiz_key(qid)) for qid in index["quizzes"]}
    return Course(raw_chapters=chapters, raw_quizzes=quizzes)


def _id_of(key: str) -> str:
    return key.rsplit("/", 1)[-1].removesuffix(".json")


def _document(cache_key: str, store_key: str) -> dict[str, Any]:
    cached = cache.get_json(cache_key)
    if isinstance(cached, dict):
        return cached
    data = content_store().get(store_key)
    if data is None:
        raise ContentUnavailable()
    document = json.loads(data)
    cache.set_json(cache_key, document, CACHE_TTL_SECONDS)
    return document


# --- the repo's source of truth, and publishing it -------------------------------------


def read_source(source_dir: Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The raw files of shared/content: ({chapter_id: bytes}, {quiz_id: bytes})."""
    chapters = {p.stem: p.read_bytes() for p in sorted((source_dir / "chapters").glob("*.json"))}
    quizzes = {p.stem: p.read_bytes() for p in sorted((source_dir / "quizzes").glob("*.json"))}
    return chapters, quizzes


def validate_source(source_dir: Path) -> Course:
    """Every file against its model, file names against ids, and the links between files."""
    chapters, quizzes = read_source(source_dir)
    raw_chapters = {name: json.loads(data) for name, data in chapters.items()}
    raw_quizzes = {name: json.loads(data) for name, data in quizzes.items()}
    loaded = Course(raw_chapters=raw_chapters, raw_quizzes=raw_quizzes)
    for name, raw in raw_chapters.items():
        if raw.get("chapter_id") != name:
            raise ValueError(f"chapters/{name}.json holds chapter_id {raw.get('chapter_id')!r}")
    for name, raw in raw_quizzes.items():
        if raw.get("quiz_id") != name:
            raise ValueError(f"quizzes/{name}.json holds quiz_id {raw.get('quiz_id')!r}")
    validate_course(loaded.chapters, list(loaded.quizzes.values()))
    return loaded


def publish(source_dir: Path, store=None) -> list[str]:
    """Validate, upload every file as it is in the repo, and drop the cached copies."""
    validate_source(source_dir)
    store = store or content_store()
    chapters, quizzes = read_source(source_dir)
    uploaded = []
    for chapter_id, data in chapters.items():
        store.put(chapter_key(chapter_id), data)
        uploaded.append(chapter_key(chapter_id))
    for quiz_id, data in quizzes.items():
        store.put(quiz_key(quiz_id), data)
        uploaded.append(quiz_key(quiz_id))
    cache.delete(
        INDEX_CACHE_KEY,
        *(f"chapter:{chapter_id}" for chapter_id in chapters),
        *(f"quiz:{quiz_id}" for quiz_id in quizzes),
    )
    drop_copy_in_memory()
    return uploaded
