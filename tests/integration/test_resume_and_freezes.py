"""Study guidance II through the real handlers, against Postgres through PgBouncer: where a
student left off (`resume`, `continue_reading`), streak freezes (spent at the next read,
earned and spent once however many requests race), and chapter reads that write only what
is new."""

from datetime import UTC, date, datetime, timedelta

from test_learning import at_once, perfect_answers, wrong_answers

from companion import catalogue
from companion_dev.invoke import invoke

CHAPTER, QUIZ = "01-intro-genai", "01-quiz"
OTHER_CHAPTER = "02-how-llms-work"


def sections(chapter_id: str) -> list:
    return catalogue.course().chapter(chapter_id).sections_in_order()


def open_section(student, chapter_id: str, section_id: str) -> None:
    response = student.get(f"/v1/chapters/{chapter_id}/sections/{section_id}")
    assert response.status == 200, response.body


def progress(student) -> dict:
    response = student.get("/v1/progress")
    assert response.status == 200, response.body
    return response.body


# --- resume -------------------------------------------------------------------------------


def test_resume_is_the_section_opened_most_recently_anywhere(new_student):
    student = new_student()
    assert progress(student)["resume"] is None
    student.get(f"/v1/chapters/{CHAPTER}")
    assert progress(student)["resume"] is None  # reading a whole chapter opens no section

    second = sections(CHAPTER)[1]
    open_section(student, CHAPTER, second.section_id)
    resume = progress(student)["resume"]
    assert resume == {
        "chapter_id": CHAPTER,
        "section_id": second.section_id,
        "section_title": second.title,
        "opened_at": resume["opened_at"],
    }
    opened_at = datetime.fromisoformat(resume["opened_at"].replace("Z", "+00:00"))
    assert abs(datetime.now(UTC) - opened_at) < timedelta(minutes=1)

    elsewhere = sections(OTHER_CHAPTER)[2]
    open_section(student, OTHER_CHAPTER, elsewhere.section_id)
    assert progress(student)["resume"]["section_id"] == elsewhere.section_id
    # Back to the first chapter's section a moment later: that is where the student is now.
    open_section(student, CHAPTER, second.section_id)
    assert progress(student)["resume"]["section_id"] == second.section_id
    student.get(f"/v1/chapters/{OTHER_CHAPTER}")
    assert progress(student)["resume"]["section_id"] == second.section_id


def test_next_step_continues_reading_where_the_student_left_off(new_student):
    student = new_student()
    ids = [section.section_id for section in sections(CHAPTER)]
    open_section(student, CHAPTER, ids[1])
    step = progress(student)["next_step"]
    assert {key: step[key] for key in ("action", "chapter_id", "quiz_id", "section_ids")} == {
        "action": "continue_reading",
        "chapter_id": CHAPTER,
        "quiz_id": QUIZ,
        "section_ids": [ids[1]],
    }
    assert sections(CHAPTER)[1].title in step["message"]

    open_section(student, CHAPTER, ids[-1])  # read to the end: time for the quiz
    assert progress(student)["next_step"]["action"] == "take_quiz"
    open_section(student, CHAPTER, ids[0])
    step = progress(student)["next_step"]
    assert (step["action"], step["section_ids"]) == ("continue_reading", [ids[0]])

    student.post(f"/v1/quizzes/{QUIZ}/submit", {"answers": wrong_answers(QUIZ)})
    assert progress(student)["next_step"]["action"] == "review"


def test_pruning_old_attempts_keeps_resume_and_the_quiz_counts_as_tried(new_student, sql):
    student = new_student()
    ids = [section.section_id for section in sections(CHAPTER)]
    open_section(student, CHAPTER, ids[0])
    student.post(f"/v1/quizzes/{QUIZ}/submit", {"answers": wrong_answers(QUIZ)})
    open_section(student, CHAPTER, ids[1])
    before = progress(student)
    sql(
        "UPDATE quiz_attempts SET submitted_at = now() - interval '100 days' WHERE student_id = %s",
        (student.user_id,),
    )

    result = invoke("PruneFunction", {"retention_days": 90})

    assert result["deleted"] >= 1
    assert sql("SELECT 1 FROM quiz_attempts WHERE student_id = %s", (student.user_id,)) == []
    after = progress(student)
    assert after["resume"] == before["resume"] and after["resume"]["section_id"] == ids[1]
    # The attempt is gone but its best score stays: the quiz was tried, so it is not
    # "continue reading" as if it never had been.
    assert after["chapters"][0]["quiz_score"] == before["chapters"][0]["quiz_score"]
    assert after["next_step"]["action"] == "take_quiz"


# --- reads that teach nothing new ------------------------------------------------------------


def stored_visit(sql, student_id: str, chapter_id: str) -> dict:
    """The chapter's progress row and the student's row as stored; xmin changes on every
    write to a row."""
    [row] = sql(
        """
        SELECT p.xmin::text AS progress_version, s.xmin::text AS student_version,
               p.last_accessed_at, p.last_section_id, s.last_active_at
          FROM chapter_progress p JOIN students s ON s.id = p.student_id
         WHERE p.student_id = %s AND p.chapter_id = %s
        """,
        (student_id, chapter_id),
    )
    return row


def test_reads_that_teach_nothing_new_write_nothing(new_student, sql):
    student = new_student()
    first, second = (section.section_id for section in sections(CHAPTER)[:2])
    open_section(student, CHAPTER, first)  # the first visit is written
    stored = stored_visit(sql, student.user_id, CHAPTER)
    assert stored["last_section_id"] == first
    for _ in range(3):
        open_section(student, CHAPTER, first)
        assert student.get(f"/v1/chapters/{CHAPTER}").status == 200
    assert stored_visit(sql, student.user_id, CHAPTER) == stored

    open_section(student, CHAPTER, second)  # a new place to resume is written at once
    moved = stored_visit(sql, student.user_id, CHAPTER)
    assert moved["last_section_id"] == second
    assert moved["progress_version"] != stored["progress_version"]
    assert moved["last_active_at"] > stored["last_active_at"]


def test_a_read_is_written_again_after_a_few_minutes(new_student, sql):
    student = new_student()
    student.get(f"/v1/chapters/{CHAPTER}")
    sql(
        "UPDATE chapter_progress SET last_accessed_at = now() - interval '6 minutes'"
        " WHERE student_id = %s",
        (student.user_id,),
    )
    aged = stored_visit(sql, student.user_id, CHAPTER)
    student.get(f"/v1/chapters/{CHAPTER}")
    after = stored_visit(sql, student.user_id, CHAPTER)
    assert after["last_accessed_at"] - aged["last_accessed_at"] >= timedelta(minutes=6)
    assert after["last_active_at"] > aged["last_active_at"]


def test_the_days_first_read_counts_even_right_after_a_visit(new_student, sql):
    student = new_student()
    first = sections(CHAPTER)[0].section_id
    open_section(student, CHAPTER, first)
    set_streak(sql, student, current=4, run=4, held=0, last_days_ago=1)
    open_section(student, CHAPTER, first)  # same section, same minute: but a new day
    streak = student.get("/v1/streak").body
    assert streak["current_streak"] == 5 and streak["active_today"] is True


# --- streak freezes -----------------------------------------------------------------------


def utc_today(sql) -> date:
    return sql("SELECT (now() AT TIME ZONE 'UTC')::date AS today")[0]["today"]


def set_streak(sql, student, *, current: int, run: int, held: int, last_days_ago: int) -> None:
    sql(
        """
        UPDATE streaks
           SET current_streak = %s, longest_streak = %s, active_run = %s, freezes_held = %s,
               freezes_used = '{}', last_activity_date = (now() AT TIME ZONE 'UTC')::date - %s
         WHERE student_id = %s
        """,
        (current, current, run, held, last_days_ago, student.user_id),
    )


def stored_streak(sql, student) -> dict:
    [row] = sql(
        "SELECT current_streak, last_activity_date, freezes_held, freezes_used, active_run"
        " FROM streaks WHERE student_id = %s",
        (student.user_id,),
    )
    return row


def test_a_missed_day_spends_a_held_freeze_at_the_next_read(new_student, sql):
    student = new_student()
    set_streak(sql, student, current=9, run=2, held=1, last_days_ago=2)
    yesterday = utc_today(sql) - timedelta(days=1)

    streak = student.get("/v1/streak").body

    assert streak["current_streak"] == 9 and streak["active_today"] is False
    assert streak["freezes_held"] == 0
    assert streak["freezes_used"] == [yesterday.isoformat()]
    assert streak["at_risk"] is True  # no freeze left for today
    assert "9-day streak is still alive" in streak["freeze_message"]
    stored = stored_streak(sql, student)  # spent by the read itself
    assert (stored["freezes_held"], stored["freezes_used"]) == (0, [yesterday])
    assert progress(student)["streak"] == streak

    student.get(f"/v1/chapters/{CHAPTER}")
    streak = student.get("/v1/streak").body
    assert streak["current_streak"] == 10 and streak["active_today"] is True
    assert streak["freezes_used"] == [yesterday.isoformat()] and streak["at_risk"] is False


def test_a_held_freeze_takes_today_out_of_risk(new_student, sql):
    student = new_student()
    set_streak(sql, student, current=7, run=7, held=1, last_days_ago=1)
    streak = student.get("/v1/streak").body
    assert streak["current_streak"] == 7 and streak["active_today"] is False
    assert streak["at_risk"] is False and streak["freezes_held"] == 1
    assert streak["freeze_message"] == (
        "You hold 1 streak freeze, so missing today would not end your 7-day streak."
    )


def test_the_seventh_active_day_in_a_row_earns_a_freeze(new_student, sql):
    student = new_student()
    set_streak(sql, student, current=6, run=6, held=0, last_days_ago=1)
    assert student.post(f"/v1/progress/{CHAPTER}/time", {"minutes": 5}).status == 200
    streak = student.get("/v1/streak").body
    assert streak["current_streak"] == 7 and streak["freezes_held"] == 1
    assert streak["milestone_message"] == "One week streak! You're building a habit."
    assert streak["freeze_message"].startswith("7 active days in a row")


def every_kind_of_request(student) -> list:
    """Reads that settle the streak and activity that counts in it, two of each."""
    ids = [section.section_id for section in sections(CHAPTER)]
    other = sections(OTHER_CHAPTER)[0].section_id
    kinds = [
        lambda: student.get("/v1/streak"),
        lambda: student.get("/v1/progress"),
        lambda: student.get(f"/v1/chapters/{CHAPTER}"),
        lambda: student.get(f"/v1/chapters/{OTHER_CHAPTER}/sections/{other}"),
        lambda: student.get(f"/v1/chapters/{CHAPTER}/sections/{ids[1]}"),
        lambda: student.post(f"/v1/progress/{OTHER_CHAPTER}/time", {"minutes": 3}),
        lambda: student.post(f"/v1/quizzes/{QUIZ}/submit", {"answers": perfect_answers(QUIZ)}),
    ]
    return kinds * 2


def at_once_behind_the_streak_lock(stack, sql, student, requests) -> list:
    """Run the requests at once while another transaction holds the student's streak row,
    until the writers among them queue on it; then let them all through together. Every one
    of them has read the row as it was before any wrote it: the worst interleaving."""
    import threading
    import time

    import psycopg

    responses = []
    with psycopg.connect(stack["direct_url"]) as holder:
        holder.execute("SELECT 1 FROM streaks WHERE student_id = %s FOR UPDATE", (student.user_id,))
        runner = threading.Thread(target=lambda: responses.extend(at_once(requests)))
        runner.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            [queued] = sql(  # another session: a transaction sees one snapshot of the stats
                "SELECT count(*) AS n FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if queued["n"] >= 5:
                break
            time.sleep(0.05)
        holder.commit()
        runner.join()
    return responses


def test_concurrent_requests_spend_a_freeze_once(new_student, sql, stack):
    student = new_student()
    set_streak(sql, student, current=9, run=3, held=2, last_days_ago=2)
    today = utc_today(sql)

    responses = at_once_behind_the_streak_lock(stack, sql, student, every_kind_of_request(student))

    assert {response.status for response in responses} == {200}
    stored = stored_streak(sql, student)
    assert stored["freezes_used"] == [today - timedelta(days=1)]
    assert stored["freezes_held"] == 1
    assert (stored["current_streak"], stored["last_activity_date"]) == (10, today)


def test_reads_racing_the_days_first_activity_neither_lose_it_nor_spend_twice(
    new_student, sql, stack
):
    student = new_student()
    set_streak(sql, student, current=9, run=3, held=2, last_days_ago=2)
    today = utc_today(sql)
    reads = [lambda: student.get("/v1/streak"), lambda: student.get("/v1/progress")] * 3
    activity = [lambda: student.get(f"/v1/chapters/{CHAPTER}")]

    responses = at_once_behind_the_streak_lock(stack, sql, student, activity + reads)

    assert {response.status for response in responses} == {200}
    stored = stored_streak(sql, student)
    assert (stored["current_streak"], stored["last_activity_date"]) == (10, today)
    assert (stored["freezes_held"], stored["freezes_used"]) == (1, [today - timedelta(days=1)])


def test_concurrent_activity_earns_a_freeze_once(new_student, sql, stack):
    student = new_student()
    set_streak(sql, student, current=13, run=6, held=0, last_days_ago=1)

    responses = at_once_behind_the_streak_lock(stack, sql, student, every_kind_of_request(student))

    assert {response.status for response in responses} == {200}
    stored = stored_streak(sql, student)
    assert (stored["current_streak"], stored["active_run"], stored["freezes_held"]) == (14, 7, 1)


def test_a_read_spending_a_freeze_while_the_account_is_deleted_answers_401(new_student, sql, stack):
    import threading
    import time

    import psycopg

    student = new_student()
    set_streak(sql, student, current=9, run=2, held=1, last_days_ago=2)
    answers = []
    with psycopg.connect(stack["direct_url"]) as deleting:
        deleting.execute("DELETE FROM students WHERE id = %s", (student.user_id,))
        reader = threading.Thread(
            target=lambda: answers.extend(at_once([lambda: student.get("/v1/streak")]))
        )
        reader.start()
        time.sleep(1.0)  # the read has found the student and waits to spend the freeze
        deleting.commit()
        reader.join()
    assert [answer.status for answer in answers] == [401]
    assert sql("SELECT 1 FROM streaks WHERE student_id = %s", (student.user_id,)) == []
