import re
from dataclasses import replace

import pytest

from companion.domain.guidance import ChapterStep, next_step


def chapter(number: int, status: str = "not_started", **changes) -> ChapterStep:
    step = ChapterStep(
        chapter_id=f"0{number}-chapter",
        chapter_number=number,
        title=f"Title {number}",
        quiz_id=f"0{number}-quiz",
        first_section_id=f"0{number}-first",
        first_section_title=f"First of {number}",
        completion_status=status,
        can_open=number <= 3,
        latest_attempt_passed=None,
        latest_review_sections=[],
    )
    return replace(step, **changes)


def review(number: int, section: str, title: str) -> dict:
    return {"chapter_id": f"0{number}-chapter", "section_id": section, "section_title": title}


def test_a_new_student_starts_chapter_one_at_its_first_section():
    steps = [chapter(n) for n in range(1, 7)]
    assert next_step(steps) == {
        "action": "start_chapter",
        "chapter_id": "01-chapter",
        "quiz_id": "01-quiz",
        "section_ids": ["01-first"],
        "message": "Chapter 1 is next: start 'Title 1' with 'First of 1'.",
    }


def test_the_first_unfinished_chapter_by_number_decides_whatever_the_list_order():
    steps = [chapter(3), chapter(1, "completed"), chapter(2, "in_progress")]
    step = next_step(steps)
    assert (step["action"], step["chapter_id"]) == ("take_quiz", "02-chapter")


def test_a_chapter_opened_but_not_yet_quizzed_asks_for_its_quiz():
    step = next_step([chapter(1, "completed"), chapter(2, "in_progress")])
    assert step == {
        "action": "take_quiz",
        "chapter_id": "02-chapter",
        "quiz_id": "02-quiz",
        "section_ids": [],
        "message": "Chapter 2, 'Title 2', is under way: when you have read it, take its quiz.",
    }


def test_a_failed_latest_attempt_sends_the_student_to_its_review_sections():
    sections = [review(2, "02-a", "Tokens"), review(2, "02-c", "Attention")]
    steps = [
        chapter(1, "completed"),
        chapter(2, "in_progress", latest_attempt_passed=False, latest_review_sections=sections),
    ]
    assert next_step(steps) == {
        "action": "review",
        "chapter_id": "02-chapter",
        "quiz_id": "02-quiz",
        "section_ids": ["02-a", "02-c"],
        "message": "The quiz of Chapter 2, 'Title 2', is not passed yet: reread 'Tokens' and "
        "'Attention', then try it again.",
    }


def test_review_names_one_or_several_sections():
    one = chapter(
        1,
        "in_progress",
        latest_attempt_passed=False,
        latest_review_sections=[review(1, "01-a", "A")],
    )
    assert "reread 'A', then" in next_step([one])["message"]
    three = replace(one, latest_review_sections=[review(1, s, s.upper()) for s in "abc"])
    assert "reread 'A', 'B' and 'C', then" in next_step([three])["message"]


def test_a_failed_attempt_outranks_the_chapter_not_being_started():
    step = next_step(
        [
            chapter(
                1,
                "not_started",
                latest_attempt_passed=False,
                latest_review_sections=[review(1, "01-b", "B")],
            )
        ]
    )
    assert (step["action"], step["section_ids"]) == ("review", ["01-b"])


def test_an_in_progress_chapter_whose_latest_attempt_passed_asks_for_the_quiz():
    step = next_step([chapter(1, "in_progress", latest_attempt_passed=True)])
    assert step["action"] == "take_quiz"


def test_a_locked_chapter_asks_for_an_upgrade_before_anything_else():
    steps = [chapter(n, "completed") for n in (1, 2, 3)] + [
        chapter(
            4,
            "in_progress",
            latest_attempt_passed=False,
            latest_review_sections=[review(4, "04-a", "A")],
        ),
        chapter(5),
    ]
    assert next_step(steps) == {
        "action": "upgrade",
        "chapter_id": "04-chapter",
        "quiz_id": "04-quiz",
        "section_ids": [],
        "message": "Chapter 4, 'Title 4', is part of the premium plan: upgrade to keep going.",
    }


def test_premium_students_go_on_into_premium_chapters():
    steps = [chapter(n, "completed") for n in (1, 2, 3)] + [chapter(4, can_open=True)]
    assert next_step(steps)["action"] == "start_chapter"


@pytest.mark.parametrize("can_open", [True, False])
def test_every_chapter_completed_is_the_end_of_the_course(can_open):
    steps = [chapter(n, "completed", can_open=can_open) for n in range(1, 7)]
    assert next_step(steps) == {
        "action": "course_complete",
        "chapter_id": None,
        "quiz_id": None,
        "section_ids": [],
        "message": "You have completed all 6 chapters: congratulations!",
    }


def left_off(number: int, section: str, **changes) -> ChapterStep:
    """A chapter under way whose section `section` (of a, b, c) was opened last."""
    return chapter(
        number,
        "in_progress",
        last_section_id=f"0{number}-c",
        opened_section_id=f"0{number}-{section}",
        opened_section_title=f"Section {section.upper()}",
        **changes,
    )


def test_a_chapter_left_mid_way_continues_at_the_section_last_opened():
    assert next_step([chapter(1, "completed"), left_off(2, "b")]) == {
        "action": "continue_reading",
        "chapter_id": "02-chapter",
        "quiz_id": "02-quiz",
        "section_ids": ["02-b"],
        "message": "Pick up Chapter 2, 'Title 2', where you left off: carry on with 'Section B'.",
    }


def test_a_chapter_read_to_its_last_section_asks_for_the_quiz():
    assert next_step([left_off(1, "c")])["action"] == "take_quiz"


@pytest.mark.parametrize(
    "attempt",
    [
        {"latest_attempt_passed": True},
        # The attempts were pruned: the best score kept by progress still says it was tried.
        {"best_score": 40.0},
    ],
)
def test_once_the_quiz_was_tried_reading_on_is_not_the_next_step(attempt):
    assert next_step([left_off(1, "a", **attempt)])["action"] == "take_quiz"


def test_a_failed_attempt_sends_to_review_even_mid_chapter():
    step = next_step(
        [
            left_off(
                1,
                "a",
                latest_attempt_passed=False,
                latest_review_sections=[review(1, "01-b", "B")],
            )
        ]
    )
    assert (step["action"], step["section_ids"]) == ("review", ["01-b"])


def test_a_locked_chapter_left_mid_way_asks_for_an_upgrade():
    steps = [chapter(n, "completed") for n in (1, 2, 3)] + [left_off(4, "a")]
    assert next_step(steps)["action"] == "upgrade"


def one_sentence(text: str) -> bool:
    return text[-1] in ".!?" and re.search(r"[.!?]\s", text[:-1]) is None and "\n" not in text


def test_every_message_is_one_sentence():
    sections = [review(1, "01-a", "What is Generative AI?"), review(1, "01-b", "B")]
    situations = [
        [chapter(1)],
        [chapter(1, "in_progress")],
        [left_off(1, "a")],
        [chapter(1, "in_progress", latest_attempt_passed=False, latest_review_sections=sections)],
        [chapter(n, "completed") for n in (1, 2, 3)] + [chapter(4)],
        [chapter(n, "completed") for n in range(1, 7)],
    ]
    messages = [next_step(steps)["message"] for steps in situations]
    assert len(set(messages)) == len(situations)
    assert all(one_sentence(message) for message in messages), messages
