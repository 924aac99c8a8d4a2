"""The plans Postgres chooses for the attempt queries on a table skewed towards a few
students, once ANALYZE has seen it (as autovacuum does): each plan, not its timing.

The table is a temporary copy of quiz_attempts with the migrated table's indexes (LIKE ...
INCLUDING ALL), so the skew is this test's own whatever other tests have stored.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from companion.repositories import attempts, retention, students

CONTENT = Path(__file__).resolve().parents[2] / "shared" / "content"
CHAPTERS = sorted(p.stem for p in (CONTENT / "chapters").glob("*.json"))
ROWS = 4000


@pytest.fixture
def skewed(stack):
    """A week-old course's attempts: 4,000 rows in time order, 95% of them by three heavy
    students, all at the first chapter's quiz. Yields (connection, heavy student, light one)."""
    heavy = [str(uuid.uuid4()) for _ in range(3)]
    light = [str(uuid.uuid4()) for _ in range(37)]
    start = datetime.now(UTC) - timedelta(minutes=ROWS)
    rows = []
    for number in range(ROWS):
        student = light[number // 20 % len(light)] if number % 20 == 0 else heavy[number % 3]
        rows.append((student, start + timedelta(minutes=number)))
    with psycopg.connect(stack["direct_url"], autocommit=True, row_factory=dict_row) as conn:
        conn.execute("CREATE TEMP TABLE quiz_attempts (LIKE public.quiz_attempts INCLUDING ALL)")
        details = json.dumps({"q1": {"correct": True, "explanation": "x" * 200}})
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO pg_temp.quiz_attempts (student_id, quiz_id, chapter_id,"
                " answers_json, score, passed, grading_details_json, submitted_at)"
                " VALUES (%s, '01-quiz', '01-intro-genai', '{}', 80, true, %s, %s)",
                [(student, details, at) for student, at in rows],
            )
        conn.execute("ANALYZE pg_temp.quiz_attempts")
        yield conn, heavy[0], light[0]


def plan(conn, query: str, params) -> dict:
    return conn.execute("EXPLAIN (FORMAT JSON) " + query, params).fetchone()["QUERY PLAN"][0]


def scans(node: dict) -> list[tuple[str, str | None]]:
    """(node type, index columns) of every scan in a plan, outermost first."""
    found = []
    if "Scan" in node["Node Type"] and node.get("Relation Name") == "quiz_attempts":
        found.append((node["Node Type"], node.get("Index Name")))
    for child in node.get("Plans", []):
        found.extend(scans(child))
    return found


def index_definition(conn, name: str) -> str:
    return conn.execute(
        "SELECT pg_get_indexdef(%s::regclass) AS definition", (f"pg_temp.{name}",)
    ).fetchone()["definition"]


def test_the_latest_attempt_per_chapter_probes_the_per_student_index_for_a_heavy_student(
    skewed,
):
    conn, heavy, light = skewed
    for student in (heavy, light):
        chosen = scans(plan(conn, attempts.LATEST_PER_CHAPTER, (CHAPTERS, student))["Plan"])
        assert len(chosen) == 1, chosen
        node_type, index = chosen[0]
        assert node_type in ("Index Scan", "Index Only Scan"), chosen
        assert "(student_id, chapter_id, submitted_at DESC, id DESC)" in index_definition(
            conn, index
        )
    latest = attempts.latest_per_chapter(conn, heavy, CHAPTERS)
    assert set(latest) == {"01-intro-genai"}  # the other chapters: never attempted


def test_the_progress_report_read_with_the_caller_probes_the_same_index(skewed):
    conn, heavy, light = skewed
    query = students.CALLER_WITH_PROGRESS_AND_LATEST_ATTEMPTS
    for student in (heavy, light):
        chosen = scans(plan(conn, query, (CHAPTERS, student))["Plan"])
        assert len(chosen) == 1, chosen
        node_type, index = chosen[0]
        assert node_type in ("Index Scan", "Index Only Scan"), chosen
        assert "(student_id, chapter_id, submitted_at DESC, id DESC)" in index_definition(
            conn, index
        )


def test_the_pruner_still_finds_old_attempts_by_the_submitted_at_index(skewed):
    conn, _heavy, _light = skewed
    cutoff = datetime.now(UTC) - timedelta(minutes=ROWS // 2)
    query = retention._batch_sql(with_lines=True, after=False)
    chosen = scans(plan(conn, query, {"cutoff": cutoff, "limit": 500})["Plan"])
    assert len(chosen) == 1, chosen
    node_type, index = chosen[0]
    assert node_type == "Index Scan", chosen
    assert "(submitted_at)" in index_definition(conn, index)
