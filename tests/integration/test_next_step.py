"""GET /v1/progress's next_step, walked through the whole course by one student: every row
of API.md's table ("Study guidance" / "Next step")."""

from test_learning import perfect_answers, wrong_answers

from companion import catalogue

CHAPTERS = [
    ("01-intro-genai", "01-quiz"),
    ("02-how-llms-work", "02-quiz"),
    ("03-prompt-engineering", "03-quiz"),
    ("04-rag", "04-quiz"),
    ("05-fine-tuning-evaluation", "05-quiz"),
    ("06-agents-deployment", "06-quiz"),
]


def next_step(student):
    return student.get("/v1/progress")["next_step"]


def test_a_student_is_guided_from_the_first_chapter_to_the_end(new_student):
    from companion_dev.admin import set_tier

    student = new_student()
    course = catalogue.course()
    for index, (chapter_id, quiz_id) in enumerate(CHAPTERS):
        chapter = course.chapter(chapter_id)
        if index == 3:
            step = next_step(student)
            assert step["action"] == "upgrade" and step["chapter_id"] == chapter_id
            assert step["section_ids"] == [] and step["quiz_id"] == quiz_id
            set_tier(student.email, "premium", None)

        step = next_step(student)
        first_section = chapter.sections_in_order()[0]
        assert step == {
            **step,
            "action": "start_chapter",
            "chapter_id": chapter_id,
            "quiz_id": quiz_id,
            "section_ids": [first_section.section_id],
        }
        assert f"Chapter {chapter.chapter_number}" in step["message"]
        assert first_section.title in step["message"]

        student.get(f"/v1/chapters/{chapter_id}")
        step = next_step(student)
        assert (step["action"], step["chapter_id"], step["section_ids"]) == (
            "take_quiz",
            chapter_id,
            [],
        )

        failed = student.post(f"/v1/quizzes/{quiz_id}/submit", {"answers": wrong_answers(quiz_id)})
        step = next_step(student)
        assert step["action"] == "review" and step["chapter_id"] == chapter_id
        assert step["section_ids"] == [s["section_id"] for s in failed["review_sections"]]
        assert step["section_ids"]

        passed = student.post(
            f"/v1/quizzes/{quiz_id}/submit", {"answers": perfect_answers(quiz_id)}
        )
        assert passed["chapter_status"] == "completed"

    final = student.get("/v1/progress")
    assert final["completed_chapters"] == 6 and final["progress_percentage"] == 100.0
    step = final["next_step"]
    assert step["action"] == "course_complete"
    assert step["chapter_id"] is None and step["quiz_id"] is None and step["section_ids"] == []
    assert step["message"]
