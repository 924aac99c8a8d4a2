"""A student's progress through one chapter, as stored (the chapter_progress table)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class ChapterProgress:
    chapter_id: str
    completion_status: str  # not_started, in_progress or completed
    quiz_score: Decimal | None  # the best score
    time_spent_minutes: int | None
    last_accessed_at: datetime | None
    completed_at: datetime | None
    last_section_id: str | None  # the section last opened in the chapter (where to resume)
    last_section_opened_at: datetime | None
