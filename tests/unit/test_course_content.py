"""The course itself: valid files that fit together, the size the issue asks for, quizzes
that cover all three question types, and keywords a good answer actually meets."""

import json
from pathlib import Path

import pytest

from companion import catalogue
from companion.domain.grading import grade_quiz
from companion.domain.text import words

CONTENT = Path(__file__).resolve().parents[2] / "shared" / "content"
DATA = Path(__file__).resolve().parents[1] / "data"
COURSE = catalogue.validate_source(CONTENT)


def test_six_chapters_three_free_then_three_premium():
    assert [c.chapter_number for c in COURSE.chapters] == [1, 2, 3, 4, 5, 6]
    assert [c.access_tier for c in COURSE.chapters] == ["free"] * 3 + ["premium"] * 3
    assert COURSE.chapters[0].chapter_id == "01-intro-genai"
    assert sorted(COURSE.quizzes) == [f"0{n}-quiz" for n in range(1, 7)]


@pytest.mark.parametrize("chapter", COURSE.chapters, ids=lambda c: c.chapter_id)
def test_each_chapter_has_the_size_and_shape_asked_for(chapter):
    assert 4 <= len(chapter.sections) <= 6
    total = sum(len(words(section.content_markdown)) for section in chapter.sections)
    assert 1_500 <= total <= 3_000
    assert any("#" in section.content_markdown for section in chapter.sections)


@pytest.mark.parametrize("quiz_id", sorted(COURSE.quizzes))
def test_each_quiz_covers_its_chapter_with_all_three_types(quiz_id):
    quiz = COURSE.quiz(quiz_id)
    assert 8 <= len(quiz.questions) <= 12
    assert {q.type for q in quiz.questions} == {"multiple-choice", "true-false", "short-answer"}
    assert all(len(q.options) == 4 for q in quiz.questions if q.type == "multiple-choice")


def test_model_answers_of_good_students_pass_every_short_answer_question():
    answers = {}
    for path in DATA.glob("model_answers_*.json"):
        answers.update(json.loads(path.read_text()))
    for quiz_id, quiz in COURSE.quizzes.items():
        chapter = COURSE.chapter(quiz.chapter_id)
        short = [q.question_id for q in quiz.questions if q.type == "short-answer"]
        assert set(answers[quiz_id]) == set(short)
        grade = grade_quiz(quiz, chapter, answers[quiz_id])
        for question_id in short:
            detail = grade.grading_details[question_id]
            assert detail["correct"], (quiz_id, question_id, detail)


def test_a_broken_link_between_files_is_refused(tmp_path):
    for kind in ("chapters", "quizzes"):
        (tmp_path / kind).mkdir()
        for path in (CONTENT / kind).glob("*.json"):
            (tmp_path / kind / path.name).write_bytes(path.read_bytes())
    quiz_path = tmp_path / "quizzes" / "01-quiz.json"
    quiz = json.loads(quiz_path.read_text())
    quiz["questions"][0]["section_id"] = "04-why-rag"
    quiz_path.write_text(json.dumps(quiz))
    with pytest.raises(ValueError, match="04-why-rag"):
        catalogue.validate_source(tmp_path)
