"""The frequent queries at scale: 100,000 students and 1,000,000 quiz attempts.

A database of its own (`companion_bench_scale`, migrated to the latest revision) is filled
with INSERT ... SELECT generate_series: students (valid e-mails, a fifth of them premium),
a streak each, chapter progress for the chapters each has started, and attempts spread
over the last 180 days with a long tail (attempts for student n ~ 1/sqrt(n): most have a
handful, the heaviest a few thousand). Then each query runs for 200 random students and
for the heaviest one, timed as a round trip on a direct connection, and
EXPLAIN (ANALYZE, BUFFERS) shows its plan. The seed's budget is 100 ms
(data-model.md, "Performance Optimization").

Our own queries are the repository functions themselves (companion.repositories), run on a
connection that records the SQL they send, so the plans shown are of the code as it is.

The skewed case (its own section) is the opposite shape: a small table dominated by a few
heavy students, analysed as autovacuum would, where the latest attempt per chapter once
took the pruner's submitted_at index over the whole table; it is measured with the indexes
as migrated and, beside them, with that index as it was before migration 0008.

    .venv/bin/python tests/benchmarks/bench_scale.py [--students 100000]
        [--attempts 1000000] [--keep] [--skewed-only] [--no-record]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import _stack

DATABASE = "companion_bench_scale"
BUDGET_MS = 100.0
SAMPLES = 200
CHAPTERS = (
    "01-intro-genai",
    "02-how-llms-work",
    "03-prompt-engineering",
    "04-rag",
    "05-fine-tuning-evaluation",
    "06-agents-deployment",
)
# Sizes like the real ones: an answers object and grading details for 11 questions.
ANSWERS_JSON = (
    '{"q1": "b", "q2": "a", "q3": "c", "q4": "d", "q5": "b", "q6": "a", "q7": false, '
    '"q8": true, "q9": false, "q10": "It makes new content instead of choosing a label.", '
    '"q11": "It predicts likely words, not facts, so verify what it says."}'
)
GRADING_JSON = (
    '{"questions": ['
    + ", ".join(
        f'{{"question_id": "q{n}", "correct": {"true" if n % 3 else "false"}, '
        f'"points": {1 if n % 3 else 0}, "explanation": "'
        + "An explanation of the right answer and of why the others are wrong. " * 2
        + f'", "section_id": "01-section-{n}"}}'
        for n in range(1, 12)
    )
    + "]}"
)


# --- generating the data -----------------------------------------------------------------


def generate(conn, students: int, attempts: int) -> dict[str, float]:
    """Fill the tables; returns seconds per step."""
    took: dict[str, float] = {}

    def step(name: str, sql: str, params: dict | None = None) -> None:
        started = time.perf_counter()
        conn.execute(sql, params)
        took[name] = time.perf_counter() - started
        print(f"  {name}: {took[name]:.1f} s", file=sys.stderr)

    conn.execute("SET synchronous_commit = off")
    conn.execute("SET maintenance_work_mem = '256MB'")
    conn.execute("SELECT setseed(0.42)")
    step(
        f"{students:,} students",
        """
        INSERT INTO students (email, password_hash, full_name, timezone, subscription_tier,
                              subscription_expires_at, created_at, last_active_at)
        SELECT 'student' || g || '@example.com',
               '$2b$12$' || md5(g::text) || md5((g + 1)::text) || 'abcdefghijklmnopqrstu',
               'Student ' || g,
               (ARRAY['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Tokyo'])[1 + mod(g, 4)],
               CASE WHEN mod(g, 5) = 0 THEN 'premium' ELSE 'free' END,
               CASE WHEN mod(g, 5) = 0 THEN now() + (mod(g, 60)) * interval '1 day' END,
               now() - (mod(g, 365)) * interval '1 day',
               now() - (mod(g, 720)) * interval '1 hour'
          FROM generate_series(1, %(students)s) AS g
        """,
        {"students": students},
    )
    step(
        "numbering students",
        """
        CREATE TABLE bench_student_numbers AS
        SELECT row_number() OVER (ORDER BY email COLLATE "C") AS n, id, email
          FROM students;
        CREATE UNIQUE INDEX ON bench_student_numbers (n);
        """,
    )
    step(
        "streaks",
        """
        INSERT INTO streaks (student_id, current_streak, longest_streak, last_activity_date,
                             timezone)
        SELECT id, mod(n, 15), mod(n, 40), current_date - (mod(n, 20))::int, 'UTC'
          FROM bench_student_numbers
        """,
    )
    step(
        "chapter progress",
        """
        INSERT INTO chapter_progress (student_id, chapter_id, completion_status, quiz_score,
                                      time_spent_minutes, last_accessed_at, completed_at)
        SELECT s.id, c.chapter_id,
               CASE WHEN c.number < mod(s.n, 7) THEN 'completed' ELSE 'in_progress' END,
               CASE WHEN c.number < mod(s.n, 7) THEN 70 + mod(s.n + c.number, 31) END,
               mod(s.n + c.number * 7, 120),
               now() - (mod(s.n + c.number, 90)) * interval '1 day',
               CASE WHEN c.number < mod(s.n, 7) THEN now() - (mod(s.n + c.number, 90))
                    * interval '1 day' END
          FROM bench_student_numbers AS s
          JOIN (SELECT ordinality - 1 AS number, chapter_id
                  FROM unnest(%(chapters)s::text[])
                       WITH ORDINALITY AS t(chapter_id, ordinality)) AS c
            ON c.number <= mod(s.n, 7) AND c.number < 6
        """,
        {"chapters": list(CHAPTERS)},
    )
    step(
        f"{attempts:,} quiz attempts",
        """
        INSERT INTO quiz_attempts (student_id, quiz_id, chapter_id, answers_json, score, passed,
                                   grading_details_json, submitted_at, idempotency_key,
                                   request_fingerprint)
        SELECT s.id,
               lpad((1 + mod(a.g, 6))::text, 2, '0') || '-quiz',
               (%(chapters)s::text[])[1 + mod(a.g, 6)],
               %(answers)s::jsonb,
               mod(a.g, 101),
               mod(a.g, 101) >= 70,
               %(grading)s::jsonb,
               now() - a.age,
               CASE WHEN mod(a.g, 2) = 0 THEN md5(a.g::text) END,
               md5(a.g::text) || md5((a.g + 7)::text)
          FROM (SELECT g,
                       1 + floor(power(random(), 2) * %(students)s)::int AS n,
                       random() * interval '180 days' AS age
                  FROM generate_series(1, %(attempts)s) AS g) AS a
          JOIN bench_student_numbers AS s ON s.n = a.n
        """,
        {
            "chapters": list(CHAPTERS),
            "answers": ANSWERS_JSON,
            "grading": GRADING_JSON,
            "students": students,
            "attempts": attempts,
        },
    )
    started = time.perf_counter()
    for table in (
        "students",
        "streaks",
        "chapter_progress",
        "quiz_attempts",
        "bench_student_numbers",
    ):
        conn.execute(f"VACUUM (ANALYZE) {table}")
    took["vacuum analyze"] = time.perf_counter() - started
    return took


# --- the queries -------------------------------------------------------------------------


class RecordingConnection:
    """A psycopg connection that remembers each statement (and its parameters) it runs."""

    def __init__(self, conn) -> None:
        self._conn = conn
        self.statements: list[tuple[str, Any]] = []

    def execute(self, query, params=None, **kwargs):
        self.statements.append((query, params))
        return self._conn.execute(query, params, **kwargs)

    def __getattr__(self, name):
        return getattr(self._conn, name)


@dataclass(frozen=True)
class Subject:
    """Whom a query is about: a student's id, e-mail, and one of their attempted quizzes."""

    student_id: str
    email: str
    quiz_id: str
    chapter_id: str


@dataclass(frozen=True)
class Query:
    name: str
    source: str  # "seed" or the repository function
    run: Callable[[Any, Subject], Any]


def seed_sql(sql: str, params: Callable[[Subject], tuple]) -> Callable[[Any, Subject], Any]:
    return lambda conn, subject: conn.execute(sql, params(subject)).fetchall()


def queries() -> list[Query]:
    from companion.repositories import attempts, progress, streaks, students

    return [
        Query(
            "progress for a student",
            "seed",
            seed_sql(
                "SELECT * FROM chapter_progress WHERE student_id = %s"
                " ORDER BY last_accessed_at DESC",
                lambda s: (s.student_id,),
            ),
        ),
        Query(
            "highest quiz score for a student and chapter",
            "seed",
            seed_sql(
                "SELECT MAX(score) FROM quiz_attempts WHERE student_id = %s AND chapter_id = %s",
                lambda s: (s.student_id, s.chapter_id),
            ),
        ),
        Query(
            "subscription by e-mail",
            "seed",
            seed_sql(
                "SELECT subscription_tier, subscription_expires_at FROM students WHERE email = %s",
                lambda s: (s.email,),
            ),
        ),
        Query(
            "the caller with their streak (a route that records activity)",
            "students.get_caller",
            lambda conn, s: students.get_caller(conn, s.student_id, with_streak=True),
        ),
        Query(
            "login by e-mail",
            "students.get_by_email",
            lambda conn, s: students.get_by_email(conn, s.email),
        ),
        Query(
            "progress for a student",
            "progress.for_student",
            lambda conn, s: progress.for_student(conn, s.student_id),
        ),
        Query(
            "attempts at a quiz, newest first",
            "attempts.for_quiz",
            lambda conn, s: attempts.for_quiz(conn, s.student_id, s.quiz_id),
        ),
        Query(
            "latest attempt per chapter",
            "attempts.latest_per_chapter",
            lambda conn, s: attempts.latest_per_chapter(conn, s.student_id, list(CHAPTERS)),
        ),
        Query("streak by student", "streaks.get", lambda conn, s: streaks.get(conn, s.student_id)),
    ]


def subjects(conn, count: int, students: int) -> tuple[list[Subject], Subject]:
    """`count` students picked uniformly at random, and the one with the most attempts."""
    rng = random.Random(7)
    numbers = rng.sample(range(1, students + 1), count)
    found = []
    for number in numbers:
        row = conn.execute(
            """
            SELECT s.id, s.email, a.quiz_id, a.chapter_id
              FROM bench_student_numbers AS s
              LEFT JOIN LATERAL (SELECT quiz_id, chapter_id FROM quiz_attempts
                                  WHERE student_id = s.id LIMIT 1) AS a ON true
             WHERE s.n = %s
            """,
            (number,),
        ).fetchone()
        found.append(
            Subject(
                str(row["id"]),
                row["email"],
                row["quiz_id"] or "01-quiz",
                row["chapter_id"] or CHAPTERS[0],
            )
        )
    heaviest = conn.execute(
        """
        SELECT a.student_id AS id, s.email, count(*) AS attempts
          FROM quiz_attempts AS a JOIN students AS s ON s.id = a.student_id
         GROUP BY a.student_id, s.email ORDER BY count(*) DESC LIMIT 1
        """
    ).fetchone()
    most = conn.execute(
        "SELECT quiz_id, chapter_id FROM quiz_attempts WHERE student_id = %s"
        " GROUP BY quiz_id, chapter_id ORDER BY count(*) DESC LIMIT 1",
        (heaviest["id"],),
    ).fetchone()
    return found, Subject(
        str(heaviest["id"]), heaviest["email"], most["quiz_id"], most["chapter_id"]
    )


def explain(conn, query: Query, subject: Subject) -> tuple[list[str], float]:
    """The EXPLAIN (ANALYZE, BUFFERS) lines of each statement the query sends, and the
    execution time Postgres reports (summed over its statements)."""
    import psycopg
    from psycopg.rows import tuple_row

    recorder = RecordingConnection(conn)
    query.run(recorder, subject)
    lines, execution_ms = [], 0.0
    for sql, params in recorder.statements:
        cursor = psycopg.ClientCursor(conn, row_factory=tuple_row)
        plan = [
            row[0] for row in cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()
        ]
        for line in plan:
            match = re.match(r"Execution Time: ([\d.]+) ms", line.strip())
            if match:
                execution_ms += float(match.group(1))
        lines += [" ".join(sql.split()), *plan]
    return lines, execution_ms


def index_verdict(plan: list[str]) -> str:
    """Which indexes the plan uses, or the table it reads in full."""
    text = "\n".join(plan)
    used = set(re.findall(r"Index (?:Only )?Scan (?:Backward )?using (\w+)", text))
    used |= set(re.findall(r"Bitmap Index Scan on (\w+)", text))
    used = sorted(used)
    full = sorted(set(re.findall(r"Seq Scan on (\w+)", text)))
    if full:
        return "**sequential scan of " + ", ".join(full) + "**"
    return ", ".join(f"`{name}`" for name in used) or "?"


def time_query(conn, query: Query, subject: Subject) -> float:
    started = time.perf_counter()
    query.run(conn, subject)
    return (time.perf_counter() - started) * 1000


# --- the skewed case ----------------------------------------------------------------------

SKEWED_DATABASE = "companion_bench_scale_skewed"
SKEWED_ATTEMPTS = 4000
SKEWED_ROUNDS = 200
PLAIN_SUBMITTED_AT_INDEX = "CREATE INDEX idx_attempts_submitted_at ON quiz_attempts (submitted_at)"


def generate_skewed(conn) -> None:
    """A course's first week: 40 students, 4,000 attempts in time order, 19 in 20 by one of
    three heavy students, all at the first chapter's quiz."""
    conn.execute(
        """
        INSERT INTO students (email, password_hash)
        SELECT 'student' || g || '@example.com', 'x' FROM generate_series(1, 40) AS g;
        CREATE TEMP TABLE numbered AS
        SELECT id, row_number() OVER (ORDER BY email) AS n FROM students;
        """
    )
    conn.execute(
        """
        INSERT INTO quiz_attempts (student_id, quiz_id, chapter_id, answers_json, score, passed,
                                   grading_details_json, submitted_at)
        SELECT s.id, '01-quiz', %(chapter)s, %(answers)s::jsonb, 80, true, %(grading)s::jsonb,
               now() - (%(attempts)s - i) * interval '1 minute'
          FROM generate_series(1, %(attempts)s) AS i
          JOIN numbered AS s
            ON s.n = CASE WHEN i %% 20 = 0 THEN 4 + (i / 20) %% 37 ELSE 1 + i %% 3 END
         ORDER BY i
        """,
        {
            "chapter": CHAPTERS[0],
            "answers": ANSWERS_JSON,
            "grading": GRADING_JSON,
            "attempts": SKEWED_ATTEMPTS,
        },
    )
    conn.execute("ANALYZE")


def measure_skewed(conn, heavy: Subject) -> list[str]:
    query = next(q for q in queries() if q.source == "attempts.latest_per_chapter")
    for _ in range(20):
        query.run(conn, heavy)
    timings = [time_query(conn, query, heavy) for _ in range(SKEWED_ROUNDS)]
    plan, execution_ms = explain(conn, query, heavy)
    figures = _stack.summarise(timings)
    return [
        _stack.ms(figures.p50),
        _stack.ms(figures.p99),
        f"{execution_ms:.3f}",
        index_verdict(plan),
        "\n".join(plan),
    ]


def skewed_case(admin_url: str, record: bool) -> None:
    import psycopg
    from psycopg.rows import dict_row

    from companion_dev import migrations, services

    url = services.recreate_database(admin_url, SKEWED_DATABASE)
    try:
        migrations.upgrade(url)
        with psycopg.connect(
            url, autocommit=True, prepare_threshold=None, row_factory=dict_row
        ) as conn:
            generate_skewed(conn)
            top = conn.execute(
                """
                SELECT a.student_id AS id, s.email, count(*) AS attempts,
                       (SELECT count(*) FROM quiz_attempts) AS total
                  FROM quiz_attempts AS a JOIN students AS s ON s.id = a.student_id
                 GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 1
                """
            ).fetchone()
            heavy = Subject(str(top["id"]), top["email"], "01-quiz", CHAPTERS[0])
            migrated = measure_skewed(conn, heavy)
            with conn.transaction():
                conn.execute("DROP INDEX idx_attempts_submitted_at")
                conn.execute(PLAIN_SUBMITTED_AT_INDEX)
                conn.execute("ANALYZE quiz_attempts")
                before = measure_skewed(conn, heavy)
                raise psycopg.Rollback()
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{SKEWED_DATABASE}" WITH (FORCE)')
    rows = [
        ["as migrated (the pruner's index partial, 0008)", *migrated[:4]],
        ["before 0008 (a plain index on submitted_at)", *before[:4]],
    ]
    table = _stack.markdown_table(
        ["indexes", "p50 ms", "p99 ms", "server execution ms", "index used"], rows
    )
    print(table)
    print("\n" + migrated[4] + "\n\n" + before[4])
    body = "\n\n".join(
        [
            _stack.run_header(_stack.this_command(), admin_url),
            f"Database `{SKEWED_DATABASE}`: 40 students and {top['total']:,} quiz attempts in "
            "time order, 19 in 20 of them by one of three heavy students, all at the first "
            "chapter's quiz (a course's first week, or a class with a few keen testers), "
            "then ANALYZE, as autovacuum does to a table that grew. "
            f"`attempts.latest_per_chapter` for the heaviest student ({top['attempts']:,} "
            f"attempts, none in chapters 2-6), {SKEWED_ROUNDS} calls timed as a round trip "
            "on a direct connection, as the functions run; then the same with the pruner's "
            "index as it was before migration 0008, in a transaction rolled back afterwards.",
            table,
            "With a plain index on submitted_at, the planner walks it backwards over the "
            "whole table for each chapter the student never attempted (it expects to meet "
            "so frequent a student within a few rows). Migration 0008 makes that index "
            "partial (`WHERE submitted_at IS NOT NULL`): the pruner's `submitted_at < cutoff` "
            "implies the predicate, this query does not, so the plan cannot be chosen. "
            "tests/integration/test_query_plans.py checks the plans (not their timing).",
            "<details><summary>The plans</summary>\n\nAs migrated:\n\n```\n"
            + migrated[4]
            + "\n```\n\nBefore 0008:\n\n```\n"
            + before[4]
            + "\n```\n\n</details>",
        ]
    )
    if record:
        _stack.record_section("Scale: a small table skewed to a few students", body)
        print(f"\nrecorded in {_stack.BENCHMARKS_MD}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse", action="store_true", help="use the database a --keep run left (skips generating)"
    )
    parser.add_argument(
        "--skewed-only", action="store_true", help="run only the small skewed table's case"
    )
    parser.add_argument("--no-record", action="store_true", help="print only")
    options = parser.parse_args()

    import psycopg
    from psycopg.rows import dict_row

    from companion_dev import migrations, services

    admin_url = _stack.postgres_admin_url()
    skewed_case(admin_url, record=not options.no_record)
    if options.skewed_only:
        return
    took: dict[str, float] = {}
    if options.reuse:
        url = services.with_database(admin_url, DATABASE)
    else:
        url = services.recreate_database(admin_url, DATABASE)
        migrations.upgrade(url)
        print("generating", file=sys.stderr)
        with psycopg.connect(url, autocommit=True) as conn:
            took = generate(conn, options.students, options.attempts)
    try:
        # As the functions connect: autocommit, no server-side prepared statements.
        with psycopg.connect(
            url, autocommit=True, prepare_threshold=None, row_factory=dict_row
        ) as conn:
            counts = {
                table: conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]
                for table in ("students", "streaks", "chapter_progress", "quiz_attempts")
            }
            size = conn.execute(
                "SELECT pg_size_pretty(pg_database_size(current_database())) AS size"
            ).fetchone()["size"]
            typical, heaviest = subjects(conn, SAMPLES, counts["students"])
            heaviest_attempts = conn.execute(
                "SELECT count(*) AS n FROM quiz_attempts WHERE student_id = %s",
                (heaviest.student_id,),
            ).fetchone()["n"]
            per_student = conn.execute(
                """
                SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY c) AS median,
                       max(c) AS most
                  FROM (SELECT count(a.id) AS c FROM students s
                        LEFT JOIN quiz_attempts a ON a.student_id = s.id GROUP BY s.id) AS t
                """
            ).fetchone()
            rows, plans, over_budget = [], [], []
            for query in queries():
                for subject in typical[:20]:  # warm the cache a little, as in service
                    query.run(conn, subject)
                timings = [time_query(conn, query, subject) for subject in typical]
                heavy = statistics.median(time_query(conn, query, heaviest) for _ in range(5))
                plan, execution_ms = explain(conn, query, typical[0])
                heavy_plan, heavy_execution_ms = explain(conn, query, heaviest)
                figures = _stack.summarise(timings)
                if max(figures.max, heavy) > BUDGET_MS:
                    over_budget.append(query.name)
                rows.append(
                    [
                        query.name,
                        f"`{query.source}`" if query.source != "seed" else "seed",
                        _stack.ms(figures.p50),
                        _stack.ms(figures.p99),
                        _stack.ms(figures.max),
                        _stack.ms(heavy),
                        f"{execution_ms:.3f} / {heavy_execution_ms:.3f}",
                        index_verdict(plan + heavy_plan),
                    ]
                )
                # The heaviest student's plan only where it costs something.
                plans.append((query, plan, heavy_plan if heavy_execution_ms >= 1 else None))
                print(
                    f"{query.name} ({query.source}): p50 {figures.p50:.2f} ms, "
                    f"p99 {figures.p99:.2f} ms, heaviest {heavy:.2f} ms",
                    file=sys.stderr,
                )
        table = _stack.markdown_table(
            [
                "query",
                "source",
                "p50 ms",
                "p99 ms",
                "max ms",
                "heaviest student ms",
                "server execution ms (typical / heaviest)",
                "index used",
            ],
            rows,
        )
        print(table)
        for query, plan, _heavy_plan in plans:
            print(f"\n{query.name} ({query.source})\n" + "\n".join(plan))
        verdict = (
            f"Every query stays well under the {BUDGET_MS:.0f} ms budget, for the heaviest "
            "student too."
            if not over_budget
            else "Over the budget: " + ", ".join(over_budget) + "."
        )
        generated = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in took.items())
        plan_text = "\n\n".join(
            f"**{query.name}** (`{query.source}`), a typical student:\n\n```\n"
            + "\n".join(plan)
            + "\n```"
            + (
                "\n\nThe heaviest student:\n\n```\n" + "\n".join(heavy_plan) + "\n```"
                if heavy_plan
                else ""
            )
            for query, plan, heavy_plan in plans
        )
        body = "\n\n".join(
            [
                _stack.run_header(_stack.this_command(), url),
                f"Database `{DATABASE}` ({size}): {counts['students']:,} students, "
                f"{counts['streaks']:,} streaks, {counts['chapter_progress']:,} chapter "
                f"progress rows, {counts['quiz_attempts']:,} quiz attempts over the last 180 "
                f"days (attempts per student: median {per_student['median']}, most "
                f"{per_student['most']:,}), made with INSERT ... SELECT generate_series"
                + (f" ({generated})" if generated else "")
                + ", then VACUUM ANALYZE. "
                f"Each query ran for {SAMPLES} students picked at random, timed as a round "
                "trip from Python on a direct connection (autocommit, no server-side "
                "prepared statements, as the functions run), and for the student with the "
                f"most attempts ({heaviest_attempts:,}), median of 5. Postgres' own "
                "execution time is from EXPLAIN (ANALYZE, BUFFERS). Budget: "
                f"{BUDGET_MS:.0f} ms (data-model.md).",
                table,
                verdict,
                "<details><summary>The plans (the heaviest student's too where it runs 1 ms "
                "or more)</summary>\n\n" + plan_text + "\n\n</details>",
            ]
        )
        if not options.no_record:
            _stack.record_section("Scale", body)
            print(f"\nrecorded in {_stack.BENCHMARKS_MD}", file=sys.stderr)
    finally:
        if not options.keep:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    main()
