"""QuizFunction and ProgressFunction through their real handlers, against Postgres through
PgBouncer: grading, attempts, progress, reading time, streaks, concurrency, idempotency."""

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from api import Api

CONTENT = Path(__file__).resolve().parents[2] / "shared" / "content"


def quiz_file(quiz_id: str) -> dict:
    return json.loads((CONTENT / "quizzes" / f"{quiz_id}.json").read_text())


def perfect_answers(quiz_id: str) -> dict:
    answers = {}
    for question in quiz_file(quiz_id)["questions"]:
        if question["type"] == "short-answer":
            answers[question["question_id"]] = question["explanation"]
        else:
            answers[question["question_id"]] = question["correct_answer"]
    return answers


def wrong_answers(quiz_id: str) -> dict:
    answers = {}
    for question in quiz_file(quiz_id)["questions"]:
        if question["type"] == "multiple-choice":
            answers[question["question_id"]] = next(
                o for o in question["options"] if o != question["correct_answer"]
            )
        elif question["type"] == "true-false":
            answers[question["question_id"]] = not question["correct_answer"]
        else:
            answers[question["question_id"]] = "I am not sure."
    return answers


def test_a_quiz_is_served_without_any_answer_key(new_student):
    response = new_student().get("/v1/quizzes/01-quiz")
    assert response.status == 200
    assert response["quiz_id"] == "01-quiz" and response["chapter_id"] == "01-intro-genai"
    text = json.dumps(response.body)
    for secret in ("correct_answer", "keywords", "explanation"):
        assert secret not in text
    types = {q["type"] for q in response["questions"]}
    assert types == {"multiple-choice", "true-false", "short-answer"}
    assert all(("options" in q) == (q["type"] == "multiple-choice") for q in response["questions"])


def test_premium_quizzes_are_gated_and_unknown_ones_404(new_student):
    free = new_student()
    assert free.get("/v1/quizzes/04-quiz").status == 403
    assert free.post("/v1/quizzes/04-quiz/submit", {"answers": {}}).status == 403
    assert free.get("/v1/quizzes/nope").status == 404
    assert new_student(tier="premium").get("/v1/quizzes/04-quiz").status == 200


def test_a_perfect_submission_completes_the_chapter_and_starts_the_streak(new_student):
    student = new_student()
    result = student.post("/v1/quizzes/01-quiz/submit", {"answers": perfect_answers("01-quiz")})
    assert result.status == 200, result.body
    assert result["score"] == 100.0 and result["passed"] is True
    assert result["best_score"] == 100.0 and result["chapter_status"] == "completed"
    assert result["review_sections"] == []
    assert result["streak"] == {"current_streak": 1, "longest_streak": 1, "milestone_message": None}
    assert all(detail["correct"] for detail in result["grading_details"].values())
    progress = student.get("/v1/progress")
    first = progress["chapters"][0]
    assert first["completion_status"] == "completed" and first["quiz_score"] == 100.0
    assert first["completed_at"] is not None
    assert progress["completed_chapters"] == 1 and progress["progress_percentage"] == 16.67


def test_a_failed_attempt_points_to_sections_and_best_score_is_kept(new_student):
    student = new_student()
    good = student.post("/v1/quizzes/02-quiz/submit", {"answers": perfect_answers("02-quiz")})
    bad = student.post("/v1/quizzes/02-quiz/submit", {"answers": wrong_answers("02-quiz")})
    assert bad.status == 200 and bad["passed"] is False and bad["score"] == 0.0
    assert bad["best_score"] == 100.0 and bad["chapter_status"] == "completed"
    questions = {q["question_id"]: q for q in quiz_file("02-quiz")["questions"]}
    for question_id, detail in bad["grading_details"].items():
        assert detail["correct"] is False
        assert detail["review"]["section_id"] == questions[question_id]["section_id"]
    chapter = json.loads((CONTENT / "chapters" / "02-how-llms-work.json").read_text())
    order = [s["section_id"] for s in sorted(chapter["sections"], key=lambda s: s["order"])]
    reviewed = [s["section_id"] for s in bad["review_sections"]]
    assert reviewed == [s for s in order if s in reviewed]
    assert len(set(reviewed)) == len(reviewed)

    listing = student.get("/v1/quizzes/02-quiz/attempts")
    assert [a["attempt_id"] for a in listing["attempts"]] == [bad["attempt_id"], good["attempt_id"]]
    assert listing["best_score"] == 100.0
    detail = student.get(f"/v1/quizzes/02-quiz/attempts/{bad['attempt_id']}")
    assert detail.status == 200
    assert detail["answers"] == wrong_answers("02-quiz")
    assert detail["grading_details"] == bad["grading_details"]
    assert detail["review_sections"] == bad["review_sections"]


def test_multiple_choice_takes_letters_and_text_and_explains_the_choice(new_student):
    quiz = quiz_file("01-quiz")
    question = next(q for q in quiz["questions"] if q["type"] == "multiple-choice")
    right_letter = "abcdefgh"[question["options"].index(question["correct_answer"])]
    wrong = next(o for o in question["options"] if o != question["correct_answer"])
    student = new_student()
    by_letter = student.post(
        "/v1/quizzes/01-quiz/submit", {"answers": {question["question_id"]: right_letter.upper()}}
    )
    assert by_letter["grading_details"][question["question_id"]]["correct"] is True
    by_text = student.post(
        "/v1/quizzes/01-quiz/submit", {"answers": {question["question_id"]: f"  {wrong.lower()} "}}
    )
    detail = by_text["grading_details"][question["question_id"]]
    assert detail["correct"] is False
    assert detail["explanation"] == question["explanation_incorrect"].replace("{selected}", wrong)


@pytest.mark.parametrize(
    "answers",
    [
        {"q1": "z"},
        {"no-such-question": "a"},
        {"q1": 3},
        {"q1": ["a"]},
    ],
)
def test_invalid_answers_are_422_and_store_nothing(new_student, sql, answers):
    student = new_student()
    response = student.post("/v1/quizzes/01-quiz/submit", {"answers": answers})
    assert response.status == 422
    assert isinstance(response["detail"], str) and response["detail"]
    assert (
        sql("SELECT count(*) AS n FROM quiz_attempts WHERE student_id = %s", (student.user_id,))[0][
            "n"
        ]
        == 0
    )
    assert student.get("/v1/streak")["current_streak"] == 0


def test_malformed_bodies_are_4xx(new_student):
    student = new_student()
    assert student.request("POST", "/v1/quizzes/01-quiz/submit", raw_body="{").status == 400
    assert student.request("POST", "/v1/quizzes/01-quiz/submit", raw_body="[]").status == 400
    assert student.post("/v1/quizzes/01-quiz/submit", {"answers": {}, "extra": 1}).status == 422
    too_big = {"answers": {"q1": "x" * 70_000}}
    response = student.post("/v1/quizzes/01-quiz/submit", too_big)
    assert response.status == 413 and response["code"] == "payload_too_large"
    nul = student.post("/v1/quizzes/01-quiz/submit", {"answers": {"q10": "a\u0000b"}})
    assert nul.status == 422
    raw_nul = student.request(
        "POST", "/v1/quizzes/01-quiz/submit", raw_body='{"answers": {"q10": "a\x00b"}}'
    )
    assert raw_nul.status == 400 and raw_nul["code"] == "bad_request"


def test_attempts_are_private(new_student):
    owner, other = new_student(), new_student()
    attempt = owner.post("/v1/quizzes/01-quiz/submit", {"answers": perfect_answers("01-quiz")})
    assert other.get(f"/v1/quizzes/01-quiz/attempts/{attempt['attempt_id']}").status == 404
    assert other.get("/v1/quizzes/01-quiz/attempts")["attempts"] == []
    assert owner.get("/v1/quizzes/01-quiz/attempts/not-a-uuid").status == 404


def test_reading_time_adds_up_and_is_validated(new_student):
    student = new_student()
    first = student.post("/v1/progress/01-intro-genai/time", {"minutes": 10})
    assert first.status == 200
    assert first["time_spent_minutes"] == 10 and first["completion_status"] == "in_progress"
    assert (
        student.post("/v1/progress/01-intro-genai/time", {"minutes": 5})["time_spent_minutes"] == 15
    )
    for bad in ({"minutes": 0}, {"minutes": 241}, {"minutes": "ten"}, {}):
        assert student.post("/v1/progress/01-intro-genai/time", bad).status == 422
    assert student.post("/v1/progress/99-nope/time", {"minutes": 5}).status == 404
    assert student.post("/v1/progress/04-rag/time", {"minutes": 5}).status == 403
    assert student.get("/v1/streak")["active_today"] is True


def test_progress_lists_all_chapters_and_the_streak_view(new_student):
    progress = new_student(timezone="Asia/Kathmandu").get("/v1/progress")
    assert progress.status == 200
    assert [c["completion_status"] for c in progress["chapters"]] == ["not_started"] * 6
    assert progress["total_chapters"] == 6 and progress["progress_percentage"] == 0.0
    streak = progress["streak"]
    assert streak["timezone"] == "Asia/Kathmandu" and streak["current_streak"] == 0
    assert streak["day_ends_at"].endswith("+05:45") and streak["at_risk"] is False


def test_a_streak_that_lapsed_reads_zero_and_resumes_at_one(new_student, sql):
    student = new_student()
    student.get("/v1/chapters/01-intro-genai")
    sql(
        "UPDATE streaks SET current_streak = 5, longest_streak = 5,"
        " last_activity_date = current_date - 3 WHERE student_id = %s",
        (student.user_id,),
    )
    assert student.get("/v1/streak")["current_streak"] == 0
    student.get("/v1/chapters/01-intro-genai")
    streak = student.get("/v1/streak")
    assert streak["current_streak"] == 1 and streak["longest_streak"] == 5


def test_yesterdays_activity_is_at_risk_and_today_extends_it(new_student, sql):
    student = new_student()
    sql(
        "UPDATE streaks SET current_streak = 2, longest_streak = 2,"
        " last_activity_date = (now() AT TIME ZONE 'UTC')::date - 1 WHERE student_id = %s",
        (student.user_id,),
    )
    before = student.get("/v1/streak")
    assert before["current_streak"] == 2 and before["at_risk"] is True
    student.get("/v1/chapters/01-intro-genai")
    after = student.get("/v1/streak")
    assert after["current_streak"] == 3 and after["at_risk"] is False
    assert after["milestone_message"] == "Great start! 3 days in a row!"


# A submission and reading time take their caller as their Lambda instance last read them
# (deps.StudentAsLastSeen), and their write checks that nothing they decided from is different
# now: each test records activity once (the instance reads the caller), changes the caller
# elsewhere, records activity again.
CHAPTERS = {1: "01-intro-genai", 2: "02-how-llms-work", 4: "04-rag"}


def submit(student, chapter: int):
    quiz = f"0{chapter}-quiz"
    return student.post(f"/v1/quizzes/{quiz}/submit", {"answers": perfect_answers(quiz)})


def read_for_a_while(student, chapter: int):
    return student.post(f"/v1/progress/{CHAPTERS[chapter]}/time", {"minutes": 5})


ACTIVITIES = pytest.mark.parametrize("activity", [submit, read_for_a_while])


@ACTIVITIES
def test_activity_counts_a_new_day_reached_by_a_timezone_move_east(new_student, activity):
    # Tonga is always exactly a day ahead of American Samoa (neither has summer time).
    student = new_student(timezone="Pacific/Pago_Pago")
    assert activity(student, 1).status == 200
    assert student.get("/v1/streak")["current_streak"] == 1

    assert student.patch("/v1/me", {"timezone": "Pacific/Tongatapu"}).status == 200
    result = activity(student, 2)

    assert result.status == 200, result.body
    assert student.get("/v1/streak")["current_streak"] == 2


@ACTIVITIES
def test_activity_counts_today_when_the_streak_changed_since_the_last(new_student, sql, activity):
    student = new_student()
    assert activity(student, 1).status == 200
    sql(
        "UPDATE streaks SET current_streak = 4, longest_streak = 4, active_run = 4,"
        " last_activity_date = (now() AT TIME ZONE 'UTC')::date - 1 WHERE student_id = %s",
        (student.user_id,),
    )

    result = activity(student, 1)

    assert result.status == 200, result.body
    if activity is submit:
        assert result["streak"]["current_streak"] == 5 and result["streak"]["longest_streak"] == 5
    assert student.get("/v1/streak")["current_streak"] == 5


@ACTIVITIES
def test_activity_sees_a_plan_taken_away_or_granted_since_the_last(new_student, sql, activity):
    from companion_dev.admin import set_tier

    student = new_student(tier="premium")
    assert activity(student, 4).status == 200
    written = "SELECT count(*) AS attempts, (SELECT time_spent_minutes FROM chapter_progress p"
    written += " WHERE p.student_id = %s AND chapter_id = '04-rag') AS minutes"
    written += " FROM quiz_attempts WHERE student_id = %s"
    before = sql(written, (student.user_id, student.user_id))

    set_tier(student.email, "free", None)
    refused = activity(student, 4)
    assert refused.status == 403 and refused["code"] == "premium_required"
    assert sql(written, (student.user_id, student.user_id)) == before

    set_tier(student.email, "premium", None)
    assert activity(student, 4).status == 200


@ACTIVITIES
def test_activity_after_the_account_was_deleted_is_401_and_stores_nothing(
    new_student, sql, activity
):
    student = new_student()
    assert activity(student, 1).status == 200
    assert student.delete("/v1/me").status == 204

    assert activity(student, 1).status == 401
    assert sql("SELECT 1 FROM quiz_attempts WHERE student_id = %s", (student.user_id,)) == []
    assert sql("SELECT 1 FROM chapter_progress WHERE student_id = %s", (student.user_id,)) == []


def at_once(requests):
    """Run zero-argument requests at once, each in its own emulated Lambda instance with its
    own connection, as concurrent Lambdas would."""
    import asyncio

    from companion import db

    def run(index_request):
        index, request = index_request
        asyncio.set_event_loop(asyncio.new_event_loop())
        token = db.lambda_instance.set(1000 + index)
        try:
            return request()
        finally:
            db.close()
            db.lambda_instance.reset(token)

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(run, enumerate(requests)))


def _parallel(calls):
    """POST (api, path, body, headers) calls at once."""
    return at_once(
        [
            lambda api=api, path=path, body=body, headers=headers: api.post(
                path, body, headers=headers
            )
            for api, path, body, headers in calls
        ]
    )


def test_concurrent_submissions_lose_nothing(new_student, sql):
    student = new_student()
    scores = [perfect_answers("03-quiz"), wrong_answers("03-quiz")] * 4
    results = _parallel(
        [(student, "/v1/quizzes/03-quiz/submit", {"answers": a}, None) for a in scores]
    )
    assert [r.status for r in results] == [200] * 8
    rows = sql("SELECT count(*) AS n FROM quiz_attempts WHERE student_id = %s", (student.user_id,))
    assert rows[0]["n"] == 8
    progress = student.get("/v1/progress")["chapters"][2]
    assert progress["quiz_score"] == 100.0 and progress["completion_status"] == "completed"
    streak = student.get("/v1/streak")
    assert streak["current_streak"] == 1 and streak["longest_streak"] == 1


def test_concurrent_activity_of_a_caller_every_instance_remembers_counts_a_new_day_once(
    new_student, sql
):
    student = new_student()
    reading = (student, "/v1/progress/01-intro-genai/time", {"minutes": 5}, None)
    assert [r.status for r in _parallel([reading] * 8)] == [200] * 8  # each instance reads them
    # Yesterday's activity, as far as the database knows: today is new to this streak, while
    # every instance remembers a streak that counted today already.
    sql(
        "UPDATE streaks SET current_streak = 2, longest_streak = 2, active_run = 2,"
        " last_activity_date = (now() AT TIME ZONE 'UTC')::date - 1 WHERE student_id = %s",
        (student.user_id,),
    )
    submission = (student, "/v1/quizzes/01-quiz/submit", {"answers": perfect_answers("01-quiz")})

    results = _parallel([(*submission, None), reading] * 4)

    assert [r.status for r in results] == [200] * 8
    assert sql(
        "SELECT count(*) AS n FROM quiz_attempts WHERE student_id = %s", (student.user_id,)
    ) == [{"n": 4}]
    assert student.get("/v1/progress")["chapters"][0]["time_spent_minutes"] == 12 * 5
    streak = student.get("/v1/streak")
    assert streak["current_streak"] == 3 and streak["longest_streak"] == 3


# --- idempotent submission (API.md "Study guidance") ------------------------------------


def test_a_retry_with_the_same_key_replays_the_original(new_student, sql):
    student = new_student()
    key = str(uuid.uuid4())
    body = {"answers": perfect_answers("01-quiz"), "idempotency_key": key}
    first = student.post("/v1/quizzes/01-quiz/submit", body)
    again = student.post("/v1/quizzes/01-quiz/submit", body)
    assert first.status == again.status == 200
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    for field in ("attempt_id", "score", "grading_details", "passed"):
        assert again[field] == first[field]
    assert (
        sql("SELECT count(*) AS n FROM quiz_attempts WHERE student_id = %s", (student.user_id,))[0][
            "n"
        ]
        == 1
    )
    header = student.post(
        "/v1/quizzes/01-quiz/submit", {"answers": body["answers"]}, headers={"Idempotency-Key": key}
    )
    assert header.status == 200 and header["attempt_id"] == first["attempt_id"]


def test_a_key_reused_for_other_answers_or_quiz_is_refused(new_student):
    student = new_student()
    key = str(uuid.uuid4())
    student.post(
        "/v1/quizzes/01-quiz/submit",
        {"answers": perfect_answers("01-quiz"), "idempotency_key": key},
    )
    other_answers = student.post(
        "/v1/quizzes/01-quiz/submit", {"answers": wrong_answers("01-quiz"), "idempotency_key": key}
    )
    assert other_answers.status == 422 and other_answers["code"] == "idempotency_key_reused"
    other_quiz = student.post(
        "/v1/quizzes/02-quiz/submit",
        {"answers": perfect_answers("02-quiz"), "idempotency_key": key},
    )
    assert other_quiz.status == 422 and other_quiz["code"] == "idempotency_key_reused"
    differing = student.post(
        "/v1/quizzes/01-quiz/submit",
        {"answers": {}, "idempotency_key": "a"},
        headers={"Idempotency-Key": "b"},
    )
    assert differing.status == 422


def test_keys_belong_to_a_student(new_student):
    key = "shared-key-123"
    one, two = new_student(), new_student()
    first = one.post(
        "/v1/quizzes/01-quiz/submit",
        {"answers": perfect_answers("01-quiz"), "idempotency_key": key},
    )
    second = two.post(
        "/v1/quizzes/01-quiz/submit",
        {"answers": perfect_answers("01-quiz"), "idempotency_key": key},
    )
    assert first.status == second.status == 200
    assert first["attempt_id"] != second["attempt_id"]
    assert "idempotent-replayed" not in second.headers


def test_a_burst_with_one_key_stores_one_attempt(new_student, sql):
    student = new_student()
    body = {"answers": perfect_answers("01-quiz"), "idempotency_key": str(uuid.uuid4())}
    results = _parallel([(student, "/v1/quizzes/01-quiz/submit", body, None)] * 6)
    assert [r.status for r in results] == [200] * 6
    assert len({r["attempt_id"] for r in results}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in results) == 5
    assert sorted("idempotent-replayed" in r.headers for r in results) == [False] + [True] * 5
    assert {r["best_score"] for r in results} == {100.0}
    assert (
        sql("SELECT count(*) AS n FROM quiz_attempts WHERE student_id = %s", (student.user_id,))[0][
            "n"
        ]
        == 1
    )


def test_no_token_on_the_learning_routes_is_401(stack):
    for path in ("/v1/quizzes/01-quiz", "/v1/progress", "/v1/streak"):
        assert Api().get(path).status == 401
