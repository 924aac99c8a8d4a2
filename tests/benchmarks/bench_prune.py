"""Pruning one million old quiz attempts: rows per second and peak memory.

A database of its own (companion_bench_prune, dropped at the end unless --keep), migrated,
behind PgBouncer in transaction mode as in production. It is filled with one INSERT ...
SELECT over generate_series: attempts 100 to ~130 days old whose answers and grading
details are real gradings of the course's quizzes (a passing and a failing submission for
each), spread over 2,000 students. Then the real PruneFunction handler is invoked, as the
schedule does, with a Lambda context that has the function's 300 s timeout, again and
again until it reports complete (each run continues where the last stopped). Archives go
to a local folder laid out like the bucket (LocalContentStore): the figures leave out the
upload round trip to R2, about one PUT of a few hundred KB per 5,000 rows.

Peak memory: the process's maximum resident set (getrusage) before and after pruning,
and, in a second pass over freshly generated rows, the Python heap's peak under
tracemalloc (which slows the run down, so that pass is not timed) over the first batch
and then over all the others.

    .venv/bin/python tests/benchmarks/bench_prune.py [--rows 1000000] [--no-record] [--keep]
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import shutil
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import _stack

from companion_dev.invoke import LambdaContext

DATABASE = "companion_bench_prune"
LAMBDA_TIMEOUT_MS = 300_000  # template.yaml, PruneFunction
STUDENTS = 2_000


@dataclass
class TimeForOneBatch(LambdaContext):
    """A Lambda context with the full timeout at the first look, then none left."""

    looks: int = 0

    def get_remaining_time_in_millis(self) -> int:
        self.looks += 1
        return LAMBDA_TIMEOUT_MS if self.looks == 1 else 0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def graded_templates() -> list[tuple]:
    """(quiz_id, chapter_id, answers, grading_details, score, passed): for each quiz, a
    passing and a failing submission, graded by the real grader."""
    from psycopg.types.json import Jsonb

    from companion.catalogue import validate_source
    from companion.domain.grading import grade_quiz

    course = validate_source(_stack.CONTENT_DIR)
    templates = []
    for quiz in course.quizzes.values():
        chapter = course.chapter(quiz.chapter_id)
        right = _stack.passing_answers(quiz.quiz_id)
        wrong = {qid: value for qid, value in list(right.items())[: len(right) // 3]}
        for answers in (right, wrong):
            grade = grade_quiz(quiz, chapter, answers)
            templates.append(
                (
                    quiz.quiz_id,
                    quiz.chapter_id,
                    Jsonb(grade.answers),
                    Jsonb(grade.grading_details),
                    grade.score,
                    grade.passed,
                )
            )
    return templates


def seed(direct_url: str, rows: int) -> float:
    """`rows` attempts older than 90 days; seconds taken."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(direct_url, autocommit=True) as conn:
        if conn.execute("SELECT count(*) FROM students").fetchone()[0] == 0:
            conn.execute(
                "INSERT INTO students (email, password_hash)"
                " SELECT 'bench-' || n || '@example.com', 'not-a-hash'"
                " FROM generate_series(1, %s) AS n",
                (STUDENTS,),
            )
        conn.execute(
            "CREATE TEMP TABLE graded (k serial, quiz_id text, chapter_id text, answers jsonb,"
            " details jsonb, score numeric, passed boolean)"
        )
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO graded (quiz_id, chapter_id, answers, details, score, passed)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                graded_templates(),
            )
        conn.execute(
            """
            INSERT INTO quiz_attempts
                   (student_id, quiz_id, chapter_id, answers_json, score, passed,
                    grading_details_json, submitted_at, idempotency_key, request_fingerprint)
            SELECT s.ids[1 + n %% array_length(s.ids, 1)], g.quiz_id, g.chapter_id, g.answers,
                   g.score, g.passed, g.details,
                   now() - interval '100 days' - n * interval '2.5 seconds',
                   CASE WHEN n %% 2 = 0 THEN gen_random_uuid()::text END,
                   md5(n::text) || md5(n::text)
              FROM generate_series(1, %s) AS n
              JOIN graded AS g ON g.k = 1 + n %% (SELECT count(*) FROM graded)
             CROSS JOIN (SELECT array_agg(id) AS ids FROM students) AS s
            """,
            (rows,),
        )
        conn.execute("DROP TABLE graded")
        conn.execute("VACUUM ANALYZE quiz_attempts")
    return time.perf_counter() - started


def table_size_mb(direct_url: str) -> float:
    import psycopg

    with psycopg.connect(direct_url, autocommit=True) as conn:
        size = conn.execute("SELECT pg_total_relation_size('quiz_attempts')").fetchone()[0]
    return size / 2**20


def prune_until_complete(handler, event: dict) -> tuple[float, list[dict]]:
    """Invoke as the schedule would, each run with the Lambda's full timeout, until done."""
    results = []
    started = time.perf_counter()
    while True:
        context = LambdaContext(
            function_name="PruneFunction", deadline_ms=time.time() * 1000 + LAMBDA_TIMEOUT_MS
        )
        with _stack.quiet_stdout():
            result = handler(event, context)
        results.append(result)
        if result["complete"]:
            return time.perf_counter() - started, results


def check_archive(archive_dir: Path, direct_url: str, rows: int) -> tuple[int, float]:
    """Every row is in the archive once and none is left in the table; (objects, MiB)."""
    import psycopg

    ids, objects, size = set(), 0, 0
    for path in sorted((archive_dir / "archive" / "quiz_attempts").rglob("*.jsonl.gz")):
        objects += 1
        data = path.read_bytes()
        size += len(data)
        ids.update(json.loads(line)["id"] for line in gzip.decompress(data).splitlines())
    with psycopg.connect(direct_url, autocommit=True) as conn:
        left = conn.execute("SELECT count(*) FROM quiz_attempts").fetchone()[0]
    if len(ids) != rows or left != 0:
        raise SystemExit(
            f"archive holds {len(ids)} distinct ids, {left} rows left: expected {rows} and 0"
        )
    return objects, size / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--no-record", action="store_true", help="print, do not write docs")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    import logging
    import os

    from companion import db
    from companion.settings import reset_settings
    from companion_dev import migrations, services, template

    if not services.pgbouncer_available():
        raise SystemExit("pgbouncer is not installed: the benchmark measures through it")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    saved_environment = dict(os.environ)
    admin_url = _stack.postgres_admin_url()
    direct_url = services.recreate_database(admin_url, DATABASE)
    migrations.upgrade(direct_url)
    bouncer = services.start_pgbouncer(direct_url, _stack.WORK_DIR / f"pgbouncer-{DATABASE}")
    archive_dir = _stack.WORK_DIR / "prune-archive"
    shutil.rmtree(archive_dir, ignore_errors=True)
    os.environ.pop("CONTENT_BUCKET", None)
    os.environ.update(
        {
            "DATABASE_URL": bouncer.url,
            "DATABASE_DIRECT_URL": direct_url,
            "CONTENT_DIR": str(archive_dir),
            "POWERTOOLS_METRICS_NAMESPACE": "CourseCompanionBench",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    reset_settings()
    db.close_all()
    try:
        handler = template.load_handler("PruneFunction")
        scheduled = {"retention_days": 90, "dry_run": False}

        say(f"seeding {args.rows:,} old attempts ...")
        seed_seconds = seed(direct_url, args.rows)
        table_mb = table_size_mb(direct_url)
        say(f"  {seed_seconds:.1f} s, quiz_attempts {table_mb:.0f} MiB")

        dry_seconds, dry = prune_until_complete(handler, {**scheduled, "dry_run": True})
        would = sum(result["would_archive"] for result in dry)
        say(f"dry run: {would:,} would go, {dry_seconds:.1f} s")

        load_before = os.getloadavg()[0]
        peak_before = peak_rss_mb()
        cpu_before = time.process_time()
        seconds, runs = prune_until_complete(handler, scheduled)
        cpu_seconds = time.process_time() - cpu_before
        peak_after = peak_rss_mb()
        archived = sum(result["archived"] for result in runs)
        deleted = sum(result["deleted"] for result in runs)
        say(
            f"pruned {deleted:,} in {seconds:.1f} s ({cpu_seconds:.1f} s CPU) over {len(runs)} "
            f"run(s): {deleted / seconds:,.0f} rows/s; peak RSS {peak_before:.0f} -> "
            f"{peak_after:.0f} MiB"
        )
        objects, archive_mb = check_archive(archive_dir, direct_url, args.rows)

        # Second pass over fresh rows under tracemalloc (slower, so not timed): the Python
        # heap's peak over one batch, then over all the rest.
        shutil.rmtree(archive_dir, ignore_errors=True)
        say(f"seeding {args.rows:,} again for the tracemalloc pass ...")
        seed(direct_url, args.rows)
        tracemalloc.start()
        with _stack.quiet_stdout():
            first = handler(scheduled, TimeForOneBatch(function_name="PruneFunction"))
        first_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.reset_peak()
        _, rest = prune_until_complete(handler, scheduled)
        rest_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        rest_rows = sum(result["deleted"] for result in rest)
        say(
            f"tracemalloc pass: heap peak {first_peak_mb:.1f} MiB over the first "
            f"{first['deleted']:,} rows, {rest_peak_mb:.1f} MiB over the other {rest_rows:,}"
        )
        check_archive(archive_dir, direct_url, args.rows)

        table = _stack.markdown_table(
            ["measure", "value"],
            [
                ["rows archived and deleted", f"{archived:,} / {deleted:,}"],
                ["time", f"{seconds:.1f} s over {len(runs)} invocation(s)"],
                ["throughput", f"**{deleted / seconds:,.0f} rows/s**"],
                ["CPU time of the function's process", f"{cpu_seconds:.1f} s"],
                ["archive", f"{objects} objects of up to 5,000 rows, {archive_mb:.0f} MiB gzip"],
                [
                    "peak RSS of the process",
                    f"{peak_before:.0f} MiB before pruning, **{peak_after:.0f} MiB** after",
                ],
                [
                    "Python heap peak (tracemalloc pass)",
                    f"{first_peak_mb:.1f} MiB over the first {first['deleted']:,} rows, "
                    f"**{rest_peak_mb:.1f} MiB** over the other {rest_rows:,}",
                ],
                ["dry run over the same rows", f"{dry_seconds:.1f} s ({would:,} counted)"],
                ["seeding (one INSERT ... SELECT)", f"{seed_seconds:.1f} s"],
                ["machine load when pruning began (1-minute average)", f"{load_before:.1f}"],
            ],
        )
        per_run = deleted / seconds * (LAMBDA_TIMEOUT_MS / 1000 - 10) / 1e6
        header = _stack.run_header(_stack.this_command(), direct_url)
        body = f"""
{header}

{args.rows:,} quiz attempts older than the 90-day cutoff ({table_mb:.0f} MiB with indexes;
real gradings of the six quizzes as answers and grading details), pruned by the real
PruneFunction handler through PgBouncer (transaction mode), each invocation given the
function's 300 s timeout, until it reported `complete`. Archive objects went to a local
folder laid out like the bucket, so an R2 upload per batch is not in these figures.

{table}

Memory holds one batch at a time (5,000 rows, their JSON lines and the gzip object), so
the heap's peak over all the rows is about its peak over the first batch. Most of the time is
Postgres's (reading and detoasting the rows, rendering them as JSON, deleting); the
function's own CPU time is the gzip and the copying. At this rate one 300 s invocation
prunes about {per_run:.1f} million rows before it stops itself with 10 s to spare; the next
run continues from there. A 512 MB Lambda has about a third of a vCPU, so expect the
function's CPU share to take about three times as long there.
"""
        print(body)
        if not args.no_record:
            _stack.record_section("Pruning", body)
            say(f"recorded in {_stack.BENCHMARKS_MD}")
    finally:
        db.close_all()
        bouncer.stop()
        os.environ.clear()
        os.environ.update(saved_environment)
        reset_settings()
        if not args.keep:
            import psycopg

            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            shutil.rmtree(archive_dir, ignore_errors=True)
    return 0


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
