import json
from pathlib import Path

import pytest

from companion.domain.content_models import Chapter
from companion.domain.search import SearchIndex

CHAPTERS_DIR = Path(__file__).resolve().parents[2] / "shared" / "content" / "chapters"

FILLER = (
    "Students often read this part slowly and take notes while they go. "
    "Practice helps the ideas settle, and short breaks keep attention fresh. "
)


def make_chapter(number: int, sections: list[tuple[str, str]], tier: str = "free") -> Chapter:
    return Chapter.model_validate(
        {
            "chapter_id": f"ch{number}",
            "chapter_number": number,
            "title": f"Chapter {number}",
            "subtitle": "A synthetic chapter",
            "access_tier": tier,
            "estimated_time_minutes": 30,
            "difficulty_level": "beginner",
            "learning_objectives": ["Learn something"],
            "sections": [
                {
                    "section_id": f"s{order}",
                    "title": title,
                    "order": order,
                    "estimated_time_minutes": 5,
                    "content_markdown": body,
                }
                for order, (title, body) in enumerate(sections, start=1)
            ],
        }
    )


RAG_BODY = (
    "## How retrieval works\n\n"
    + FILLER * 3
    + "**Retrieval-augmented generation** (RAG) retrieves relevant documents from a vector "
    "store and adds them to the prompt, so the model answers from your own data. "
    + "The retriever ranks documents by similarity; retrieval quality decides answer quality. "
    + FILLER * 3
)
TOKENS_BODY = (
    "# Tokens\n\nA *tokenizer* splits text into tokens. Tokenization matters for cost. "
    + FILLER * 2
    + "Models read tokens, never raw characters. "
    + FILLER
)
PROMPT_BODY = (
    "Prompting is the craft of writing instructions. "
    + FILLER * 2
    + "One could also use retrieval here, but that is a later chapter. "
    + FILLER * 2
)


def always_open(chapter: Chapter) -> bool:
    return True


@pytest.fixture(scope="module")
def course() -> list[Chapter]:
    return [
        make_chapter(1, [("Tokens and tokenization", TOKENS_BODY), ("Prompts", PROMPT_BODY)]),
        make_chapter(2, [("Retrieval-augmented generation", RAG_BODY)], tier="premium"),
    ]


@pytest.fixture(scope="module")
def index(course) -> SearchIndex:
    return SearchIndex.build(course)


def ids(results: list[dict]) -> list[tuple[str, str]]:
    return [(result["chapter_id"], result["section_id"]) for result in results]


def test_a_word_finds_its_whole_stem_family(index):
    for query in ["retrieves", "retrieval", "retrieving", "retrieved"]:
        assert ("ch2", "s1") in ids(index.search(query, 5, always_open)), query


def test_matching_ignores_case_and_accents(index):
    lower = index.search("tokenization", 5, always_open)
    assert lower
    assert index.search("TOKENIZATION", 5, always_open) == lower
    assert index.search("Tökenizätion", 5, always_open) == lower


def test_a_section_about_a_topic_outranks_one_that_mentions_it_once(index):
    results = index.search("how does retrieval work", 5, always_open)
    assert ids(results)[:2] == [("ch2", "s1"), ("ch1", "s2")]
    assert results[0]["score"] > results[1]["score"] > 0


def test_results_carry_titles_and_a_json_number_score(index):
    [result] = index.search("tokenizer", 1, always_open)
    assert result["chapter_title"] == "Chapter 1"
    assert result["section_title"] == "Tokens and tokenization"
    assert isinstance(result["score"], float)
    assert result["score"] == round(result["score"], 4)
    json.dumps(result)


def test_excerpt_is_a_verbatim_slice_around_a_query_word(course, index):
    [result] = index.search("vector store", 1, always_open)
    body = course[1].sections[0].content_markdown
    excerpt = result["excerpt"]
    assert excerpt in body
    assert "vector store" in excerpt
    assert 150 <= len(excerpt) <= 320
    assert excerpt == excerpt.strip()
    # cut between words, not inside one
    start = body.index(excerpt)
    end = start + len(excerpt)
    assert start == 0 or body[start - 1].isspace()
    assert end == len(body) or body[end].isspace()


def test_excerpt_prefers_the_passage_with_most_distinct_query_words(index):
    # "similarity" and "prompt" only occur together in the RAG paragraph, not in the filler.
    [result] = index.search("similarity prompt students", 1, always_open)
    assert "similarity" in result["excerpt"]
    assert "prompt" in result["excerpt"]


def test_a_title_only_match_excerpts_the_opening_of_the_section(course):
    chapter = make_chapter(1, [("Embeddings", "Vectors place similar meanings close together.")])
    [result] = SearchIndex.build([chapter]).search("embedding", 5, always_open)
    assert result["excerpt"] == "Vectors place similar meanings close together."


def test_locked_results_are_listed_without_an_excerpt(index):
    def free_only(chapter: Chapter) -> bool:
        return chapter.access_tier == "free"

    results = index.search("retrieval", 5, free_only)
    by_id = {(r["chapter_id"], r["section_id"]): r for r in results}
    assert by_id[("ch2", "s1")]["locked"] is True
    assert by_id[("ch2", "s1")]["excerpt"] is None
    assert by_id[("ch1", "s2")]["locked"] is False
    assert "retrieval" in by_id[("ch1", "s2")]["excerpt"]


def test_limit_caps_the_number_of_results(index):
    assert len(index.search("tokens retrieval prompting", 5, always_open)) == 3
    assert len(index.search("tokens retrieval prompting", 2, always_open)) == 2
    assert index.search("tokens retrieval prompting", 0, always_open) == []


@pytest.mark.parametrize(
    "query", ["quantum chromodynamics", "", "   ", "?!… —", "🙂🙂", "how is it"]
)
def test_queries_without_a_matching_word_find_nothing(index, query):
    assert index.search(query, 5, always_open) == []


def test_equal_scores_keep_course_order_and_repeat_exactly():
    same = "Attention lets each token look at the others."
    chapters = [
        make_chapter(2, [("Part one", same), ("Part two", same)]),
        make_chapter(1, [("Part six", same)]),
    ]
    index = SearchIndex.build(chapters)
    results = index.search("attention", 5, always_open)
    assert ids(results) == [("ch1", "s1"), ("ch2", "s1"), ("ch2", "s2")]
    assert len({result["score"] for result in results}) == 1
    rebuilt = SearchIndex.build(list(reversed(chapters)))
    assert rebuilt.search("attention", 5, always_open) == results


def load_course_chapters() -> list[Chapter]:
    return [
        Chapter.model_validate_json(path.read_text(encoding="utf-8"))
        for path in sorted(CHAPTERS_DIR.glob("*.json"))
    ]


def test_the_real_course_answers_a_rag_question_from_the_rag_chapter():
    if not (CHAPTERS_DIR / "04-rag.json").exists():
        pytest.skip("shared/content/chapters/04-rag.json is not written yet")
    chapters = load_course_chapters()
    rag = Chapter.model_validate_json((CHAPTERS_DIR / "04-rag.json").read_text(encoding="utf-8"))
    index = SearchIndex.build(chapters)
    results = index.search("how does retrieval augmented generation find documents", 5, always_open)
    assert results
    assert results[0]["chapter_id"] == rag.chapter_id
    for result in results:
        chapter = next(c for c in chapters if c.chapter_id == result["chapter_id"])
        assert result["excerpt"] in chapter.section(result["section_id"]).content_markdown
