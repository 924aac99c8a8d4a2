"""Sections to reread, from an attempt's grading details (API.md, "Sections to review")."""

from __future__ import annotations

from typing import Any

from companion.domain.content_models import Chapter


def review_sections_of(grading_details: dict[str, Any], chapter: Chapter) -> list[dict[str, str]]:
    """The distinct sections named by the questions that were not correct, in the
    chapter's section order (empty when everything was correct)."""
    wanted = {
        detail["review"]["section_id"]
        for detail in grading_details.values()
        if isinstance(detail, dict) and not detail.get("correct") and detail.get("review")
    }
    return [
        {"chapter_id": chapter.chapter_id, "section_id": s.section_id, "section_title": s.title}
        for s in chapter.sections_in_order()
        if s.section_id in wanted
    ]
