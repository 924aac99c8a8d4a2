"""ContentFunction through its real handler: listing, verbatim chapters, the gate,
navigation, search, the side effects on progress and streak, and health."""

import json
from pathlib import Path

import pytest
from api import Api

from companion import catalogue

CONTENT = Path(__file__).resolve().parents[2] / "shared" / "content"
CHAPTER_IDS = sorted(p.stem for p in (CONTENT / "chapters").glob("*.json"))


def test_list_shows_six_chapters_in_order_with_locks_for_a_free_student(new_student):
    student = new_student()
    listing = student.get("/v1/chapters")
    assert listing.status == 200
    assert listing["total"] == 6
    assert [c["chapter_number"] for c in listing["chapters"]] == [1, 2, 3, 4, 5, 6]
    assert [c["locked"] for c in listing["chapters"]] == [False] * 3 + [True] * 3
    first = listing["chapters"][0]
    assert first["chapter_id"] == "01-intro-genai" and first["quiz_id"] == "01-quiz"
    assert set(first) >= {
        "title",
        "subtitle",
        "access_tier",
        "estimated_time_minutes",
        "difficulty_level",
    }


@pytest.mark.parametrize("chapter_id", CHAPTER_IDS)
def test_every_chapter_round_trips_verbatim_from_the_bucket(new_student, chapter_id):
    student = new_student(tier="premium")
    response = student.get(f"/v1/chapters/{chapter_id}")
    assert response.status == 200
    source = json.loads((CONTENT / "chapters" / f"{chapter_id}.json").read_bytes())
    served = dict(response.body)
    navigation = served.pop("navigation")
    assert served == source
    for served_section, source_section in zip(served["sections"], source["sections"], strict=True):
        assert (
            served_section["content_markdown"].encode()
            == source_section["content_markdown"].encode()
        )
    assert set(navigation) == {"previous_chapter_id", "next_chapter_id"}


def test_navigation_is_null_at_both_ends_and_next_previous_404_there(new_student):
    student = new_student(tier="premium")
    first = student.get("/v1/chapters/01-intro-genai")["navigation"]
    assert first == {"previous_chapter_id": None, "next_chapter_id": "02-how-llms-work"}
    last = student.get("/v1/chapters/06-agents-deployment")["navigation"]
    assert last["next_chapter_id"] is None
    assert student.get("/v1/chapters/01-intro-genai/previous").status == 404
    assert student.get("/v1/chapters/06-agents-deployment/next").status == 404
    following = student.get("/v1/chapters/01-intro-genai/next")
    assert following.status == 200 and following["chapter_id"] == "02-how-llms-work"
    assert following["locked"] is False
    locked_summary = new_student().get("/v1/chapters/03-prompt-engineering/next")
    assert locked_summary.status == 200 and locked_summary["locked"] is True


def test_premium_chapters_sections_and_search_excerpts_are_gated(new_student):
    free = new_student()
    denied = free.get("/v1/chapters/04-rag")
    assert denied.status == 403
    assert denied.body == {
        "detail": "Chapter 4 is part of the premium plan.",
        "code": "premium_required",
    }
    section_id = catalogue.course().chapter("04-rag").sections[0].section_id
    assert free.get(f"/v1/chapters/04-rag/sections/{section_id}").status == 403
    assert new_student(tier="premium").get("/v1/chapters/04-rag").status == 200


def test_an_expired_plan_is_free_at_once(new_student):
    from datetime import UTC, datetime, timedelta

    from companion_dev.admin import set_tier

    student = new_student(tier="premium")
    assert student.get("/v1/chapters/04-rag").status == 200
    set_tier(student.email, "premium", datetime.now(UTC) - timedelta(minutes=1))
    assert student.get("/v1/chapters/04-rag").status == 403


def test_sections_are_verbatim_and_unknown_ids_are_404(new_student):
    student = new_student()
    chapter = json.loads((CONTENT / "chapters" / "02-how-llms-work.json").read_bytes())
    section = chapter["sections"][0]
    response = student.get(f"/v1/chapters/02-how-llms-work/sections/{section['section_id']}")
    assert response.status == 200
    assert response.body == {"chapter_id": "02-how-llms-work", **section}
    assert student.get("/v1/chapters/02-how-llms-work/sections/nope").status == 404
    missing = student.get("/v1/chapters/99-nope")
    assert missing.status == 404 and missing["code"] == "not_found"


def test_reading_starts_the_chapter_and_counts_for_the_streak(new_student):
    student = new_student()
    before = student.get("/v1/streak")
    assert before["current_streak"] == 0 and before["active_today"] is False
    student.get("/v1/chapters/01-intro-genai")
    progress = student.get("/v1/progress")
    first = progress["chapters"][0]
    assert first["completion_status"] == "in_progress" and first["last_accessed_at"]
    streak = student.get("/v1/streak")
    assert streak["current_streak"] == 1 and streak["active_today"] is True


def test_search_finds_the_rag_chapter_first_and_locks_its_excerpt_for_free_students(new_student):
    premium = new_student(tier="premium")
    found = premium.get("/v1/search", query={"q": "how does RAG retrieve documents?"})
    assert found.status == 200
    top = found["results"][0]
    assert top["chapter_id"] == "04-rag" and top["locked"] is False
    markdown = catalogue.course().chapter("04-rag").section(top["section_id"]).content_markdown
    assert top["excerpt"] in markdown
    free = new_student().get("/v1/search", query={"q": "how does RAG retrieve documents?"})
    locked = [r for r in free["results"] if r["chapter_id"] == "04-rag"]
    assert locked and all(r["excerpt"] is None and r["locked"] for r in locked)


def test_search_matches_word_families_and_validates_its_parameters(new_student):
    student = new_student()
    stemmed = student.get("/v1/search", query={"q": "tokenized", "limit": 3})
    assert stemmed.status == 200 and 1 <= len(stemmed["results"]) <= 3
    assert student.get("/v1/search", query={"q": "zzzqqxx"})["results"] == []
    assert student.get("/v1/search", query={"q": ""}).status == 422
    assert student.get("/v1/search", query={"q": "x" * 201}).status == 422
    assert student.get("/v1/search", query={"q": "rag", "limit": 0}).status == 422
    assert student.get("/v1/search", query={"q": "rag", "limit": 21}).status == 422
    assert student.get("/v1/search").status == 422


def test_health_reports_every_dependency(stack):
    response = Api().get("/health")
    assert response.status == 200
    assert response.body == {"status": "ok", "database": "ok", "cache": "ok", "content": "ok"}


def test_no_token_is_401_with_www_authenticate(stack):
    response = Api().get("/v1/chapters")
    assert response.status == 401
    assert response.headers.get("www-authenticate") == (
        'Bearer resource_metadata="http://localhost/.well-known/oauth-protected-resource"'
    )
    assert response["code"] == "unauthorized"


def test_every_read_stamps_last_active_at_and_a_day_counts_once(new_student):
    student = new_student()
    student.get("/v1/chapters/01-intro-genai")
    first = student.get("/v1/me")["last_active_at"]
    student.get("/v1/chapters/02-how-llms-work/sections/02-tokens-and-embeddings")
    second = student.get("/v1/me")["last_active_at"]
    assert second > first
    streak = student.get("/v1/streak")
    assert streak["current_streak"] == 1 and streak["longest_streak"] == 1
    chapters = student.get("/v1/progress")["chapters"]
    assert [c["completion_status"] for c in chapters[:3]] == [
        "in_progress",
        "in_progress",
        "not_started",
    ]


def test_a_client_that_accepts_gzip_gets_the_same_chapter_compressed(new_student):
    import base64
    import gzip

    student = new_student()
    plain = student.get("/v1/chapters/01-intro-genai").raw
    compressed = student.get(
        "/v1/chapters/01-intro-genai", headers={"Accept-Encoding": "gzip, deflate, br"}
    ).raw

    assert plain["isBase64Encoded"] is False
    assert "content-encoding" not in plain["headers"]
    # API Gateway sends a binary body only when the function returns it base64-encoded.
    assert compressed["isBase64Encoded"] is True
    assert compressed["headers"]["content-encoding"] == "gzip"
    assert "accept-encoding" in compressed["headers"]["vary"].lower()
    body = gzip.decompress(base64.b64decode(compressed["body"]))
    assert body == plain["body"].encode()
    assert int(compressed["headers"]["content-length"]) < len(body) / 2


def test_small_responses_and_errors_are_not_compressed(new_student):
    student = new_student()
    gzip_please = {"Accept-Encoding": "gzip"}
    streak = student.get("/v1/streak", headers=gzip_please)
    missing = student.get("/v1/chapters/99-nope", headers=gzip_please)
    assert (streak.status, missing.status) == (200, 404)
    for response in (streak, missing):
        assert "content-encoding" not in response.headers
        assert response.raw["isBase64Encoded"] is False
        assert response.body["detail" if response.status == 404 else "current_streak"] is not None
