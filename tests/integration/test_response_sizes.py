"""Every response the course can give fits in a ChatGPT Action: the body of an Action's
response must stay under 100,000 characters, or the call fails for the student.

Driven through the real handlers, as a premium student (who sees the most: whole premium
chapters and every search excerpt)."""

import json
from pathlib import Path

import pytest

ACTIONS_RESPONSE_LIMIT = 100_000  # characters
MAX_SHORT_ANSWER = 2_000  # characters, API.md
DATA = Path(__file__).resolve().parents[1] / "data"

BROAD_QUERIES = [
    "model",
    "what is a large language model and how does it work",
    "prompt examples",
    "retrieval augmented generation with documents and embeddings",
    "fine tuning evaluation metrics data",
    "agents tools safety deployment",
    # Common course words up to the 200-character limit: as many matches as a query can get.
    "the model data language training text tokens prompt answer output input examples "
    "evaluation retrieval generation fine tuning agents tools context users system "
    "learning neural network weights",
]


def characters(response) -> int:
    """What the Action receives: the response body as sent, in characters."""
    return len(response.raw.get("body") or "")


class TooLargeForActions(AssertionError):
    pass


def assert_fits(response, what: str) -> None:
    assert response.status == 200, (what, response.status, response.body)
    size = characters(response)
    if size >= ACTIONS_RESPONSE_LIMIT:
        raise TooLargeForActions(f"{what}: {size:,} characters")


@pytest.fixture(scope="module")
def model_answers():
    answers = {}
    for file in sorted(DATA.glob("model_answers_*.json")):
        answers.update(json.loads(file.read_text()))
    return answers


def quiz_answers(quiz: dict, short_answers: dict[str, str], wrong: bool) -> dict:
    """Answers to every question: the last option and `false` when `wrong` (most of these
    are wrong, which makes the longest grading: explanations and review pointers)."""
    answers = {}
    for question in quiz["questions"]:
        qid = question["question_id"]
        if question["type"] == "multiple-choice":
            answers[qid] = chr(ord("a") + len(question["options"]) - 1) if wrong else "a"
        elif question["type"] == "true-false":
            answers[qid] = not wrong
        else:
            answers[qid] = short_answers.get(qid, "I am not sure.")
    return answers


def test_every_chapter_and_every_section_fits(new_student):
    student = new_student(tier="premium")
    listing = student.get("/v1/chapters")
    assert_fits(listing, "GET /v1/chapters")
    assert len(listing["chapters"]) == 6
    for summary in listing["chapters"]:
        chapter_id = summary["chapter_id"]
        chapter = student.get(f"/v1/chapters/{chapter_id}")
        assert_fits(chapter, f"chapter {chapter_id}")
        for section in chapter["sections"]:
            path = f"/v1/chapters/{chapter_id}/sections/{section['section_id']}"
            assert_fits(student.get(path), path)


@pytest.mark.parametrize("query", BROAD_QUERIES)
def test_search_with_the_largest_limit_fits(new_student, query):
    response = new_student(tier="premium").get("/v1/search", query={"q": query, "limit": 20})
    assert_fits(response, f"search {query!r}")
    assert response["results"], "a broad query should match sections"
    assert all(result["excerpt"] for result in response["results"])


def test_a_submission_with_the_longest_answers_and_its_attempt_fit(new_student):
    student = new_student(tier="premium")
    long_answer = (
        "Retrieval augmented generation retrieves relevant documents and passes them to the "
        "model as context so that the answer is grounded in the sources. "
    )
    long_answer = (long_answer * (MAX_SHORT_ANSWER // len(long_answer) + 1))[:MAX_SHORT_ANSWER]
    for summary in student.get("/v1/chapters")["chapters"]:
        quiz = student.get(f"/v1/quizzes/{summary['quiz_id']}")
        assert_fits(quiz, f"quiz {summary['quiz_id']}")
        short = {q["question_id"]: long_answer for q in quiz["questions"]}
        result = student.post(
            f"/v1/quizzes/{quiz['quiz_id']}/submit",
            {"answers": quiz_answers(quiz.body, short, wrong=True)},
        )
        assert_fits(result, f"submission to {quiz['quiz_id']}")
        attempt = student.get(f"/v1/quizzes/{quiz['quiz_id']}/attempts/{result['attempt_id']}")
        assert_fits(attempt, f"attempt at {quiz['quiz_id']}")


SUBMISSIONS = 30  # five tries at each of the six quizzes


def study_and_submit(student, model_answers) -> list[str]:
    """Open and read every chapter, then submit SUBMISSIONS quizzes with realistic answers
    (the model short answers; every other submission with wrong choices). The quiz ids."""
    chapters = student.get("/v1/chapters")["chapters"]
    quizzes = {c["quiz_id"]: student.get(f"/v1/quizzes/{c['quiz_id']}").body for c in chapters}
    for chapter in chapters:
        student.get(f"/v1/chapters/{chapter['chapter_id']}")
        student.post(f"/v1/progress/{chapter['chapter_id']}/time", {"minutes": 25})
    for number in range(SUBMISSIONS):
        quiz_id = chapters[number % len(chapters)]["quiz_id"]
        answers = quiz_answers(quizzes[quiz_id], model_answers[quiz_id], wrong=number % 2 == 0)
        result = student.post(f"/v1/quizzes/{quiz_id}/submit", {"answers": answers})
        assert result.status == 200, result.body
    return list(quizzes)


def test_progress_streak_and_attempt_lists_fit_after_thirty_submissions(new_student, model_answers):
    student = new_student(tier="premium")
    quiz_ids = study_and_submit(student, model_answers)
    assert_fits(student.get("/v1/progress"), "GET /v1/progress")
    assert_fits(student.get("/v1/streak"), "GET /v1/streak")
    assert_fits(student.get("/v1/me"), "GET /v1/me")
    for quiz_id in quiz_ids:
        attempts = student.get(f"/v1/quizzes/{quiz_id}/attempts")
        assert_fits(attempts, f"attempts at {quiz_id}")
        assert len(attempts["attempts"]) == SUBMISSIONS // len(quiz_ids)


def test_the_data_export_fits_page_by_page_and_the_pages_hold_every_attempt(
    new_student, model_answers
):
    """An unpaged export holds every attempt (and grows with them, ~4,600 characters
    each); an Actions client pages it with attempts_limit, and each page fits."""
    student = new_student(tier="premium")
    study_and_submit(student, model_answers)
    everything = student.get("/v1/me/export")
    assert everything.status == 200
    assert len(everything["quiz_attempts"]) == SUBMISSIONS
    assert everything["quiz_attempts_next"] is None

    paged, cursor = [], None
    while True:
        query = {"attempts_limit": 10, **({"attempts_after": cursor} if cursor else {})}
        page = student.get("/v1/me/export", query=query)
        assert page.status == 200
        assert_fits(page, "GET /v1/me/export?attempts_limit=10")
        paged.extend(page["quiz_attempts"])
        cursor = page["quiz_attempts_next"]
        if cursor is None:
            break
    assert paged == everything["quiz_attempts"]
    assert student.get("/v1/me/export", query={"attempts_after": "nope"}).status == 422
