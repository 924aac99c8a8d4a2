"""Warm handler latency per route against a FastAPI + Mangum hello world, in the same run.

Every call is an API Gateway (HTTP API v2) event, built outside the timer by the suite's
client (tests/api.py), handed to the function's real Lambda handler (the one template.yaml
routes it to), warm, in this process: Powertools, the app's middleware, the token check,
Postgres through PgBouncer (transaction mode), the course from the in-memory copy with the
Upstash-compatible cache behind it. The targets are called in turn (one call each per
round), so whatever else the machine is doing falls on all alike.
Goals (issue 8): reads within 3x and a quiz submission within 6x the hello world's p50.

    .venv/bin/python tests/benchmarks/bench_latency.py [--calls 2000] [--no-record]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
import types
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import _stack

READ_GOAL, SUBMIT_GOAL = 3.0, 6.0
REFERENCE = "hello world (FastAPI + Mangum, `def` route)"
# The same hello world with a coroutine route: FastAPI runs a `def` route (and a `def`
# dependency) in a worker thread, a coroutine on the event loop itself.
HELLO_WORLD_ASYNC_SOURCE = _stack.HELLO_WORLD_SOURCE.replace("def health", "async def health")
STUDENTS = 20
SEARCHES = (
    "attention",
    "retrieval augmented generation",
    "temperature and sampling",
    "prompt injection",
    "few-shot examples",
    "what is a token",
)


@dataclass
class Target:
    label: str
    goal: float | None
    make_event: Callable[[int], dict]  # call number -> event
    handler: Callable


def hello_world_handler(source: str = _stack.HELLO_WORLD_SOURCE) -> Callable:
    module = types.ModuleType("hello_world_app")
    code = compile(source, "hello_world_app.py", "exec")
    exec(code, module.__dict__)  # noqa: S102 - our own constant source
    return module.handler


def durable_commit_handler() -> Callable:
    """Not a route: a one-row UPDATE in its own transaction through companion.db and
    PgBouncer, to show what a durable commit costs on this machine's disk."""
    from companion import db

    student_id = {}

    def handler(event, _context):
        db.run(
            lambda conn: conn.execute(
                "UPDATE students SET full_name = full_name WHERE id = %s",
                (student_id["id"],),
            ),
            transaction=True,
        )
        return {"statusCode": 200}

    handler.student_id = student_id
    return handler


def build_targets(
    students: list[_stack.BenchStudent], section_hoppers: list[_stack.BenchStudent]
) -> list[Target]:
    """`section_hoppers` are students of their own for the row that opens another section
    each time (with the others, it would make their repeated section reads new too)."""
    from api import Api

    from companion_dev.invoke import function_for

    clients = [Api(student.token) for student in students]
    hopper_clients = [Api(student.token) for student in section_hoppers]

    def routed_handler(make_event: Callable[[int], dict]) -> Callable:
        _logical_id, handler = function_for(make_event(0))
        return handler

    chapter = "01-intro-genai"
    section = _stack.first_section_id(chapter)
    second_section = _stack.section_ids(chapter)[1]

    def another_section_each_time(number: int) -> dict:
        """Each student opens the chapter's first and second sections in turn: every read is
        a new place to resume, so every one is written."""
        client = hopper_clients[number % len(hopper_clients)]
        opened = (section, second_section)[(number // len(hopper_clients)) % 2]
        return client.event("GET", f"/v1/chapters/{chapter}/sections/{opened}")

    answers = _stack.passing_answers("01-quiz")

    def get(path: str, query: Callable[[int], dict] | None = None):
        def make(number: int) -> dict:
            client = clients[number % len(clients)]
            return client.event("GET", path, query=query(number) if query else None)

        return make

    def submit(number: int) -> dict:
        client = clients[number % len(clients)]
        body = {"answers": answers, "idempotency_key": str(uuid.uuid4())}
        return client.event("POST", "/v1/quizzes/01-quiz/submit", body)

    def search_query(number: int) -> dict:
        return {"q": SEARCHES[number % len(SEARCHES)]}

    reads = [
        ("GET /v1/chapters", "/v1/chapters", None),
        ("GET /v1/chapters/{id}", f"/v1/chapters/{chapter}", None),
        ("GET /v1/chapters/{id}/sections/{id}", f"/v1/chapters/{chapter}/sections/{section}", None),
        ("GET /v1/search", "/v1/search", search_query),
        ("GET /v1/progress", "/v1/progress", None),
        ("GET /v1/streak", "/v1/streak", None),
        ("GET /v1/quizzes/{id}", "/v1/quizzes/01-quiz", None),
    ]
    hello_event = Api().event("GET", "/health")
    commit = durable_commit_handler()
    commit.student_id["id"] = students[0].user_id
    targets = [
        Target(REFERENCE, None, lambda _n: hello_event, hello_world_handler()),
        Target(
            "(info) hello world, `async def` route",
            None,
            lambda _n: hello_event,
            hello_world_handler(HELLO_WORLD_ASYNC_SOURCE),
        ),
        Target("(info) one-row UPDATE, durable commit", None, lambda _n: {}, commit),
    ]
    for label, path, query in reads:
        make = get(path, query)
        targets.append(Target(label, READ_GOAL, make, routed_handler(make)))
    targets.append(
        Target(
            "(info) GET /v1/chapters/{id}/sections/{id}, another section each time",
            None,
            another_section_each_time,
            routed_handler(another_section_each_time),
        )
    )
    targets.append(
        Target("POST /v1/quizzes/{id}/submit", SUBMIT_GOAL, submit, routed_handler(submit))
    )
    return targets


def invoke(target: Target, number: int) -> tuple[float, int]:
    from companion_dev.invoke import LambdaContext

    event = target.make_event(number)
    request_id = event.get("requestContext", {}).get("requestId", "x")
    context = LambdaContext(aws_request_id=request_id)
    started = time.perf_counter()
    result = target.handler(event, context)
    return (time.perf_counter() - started) * 1000, result["statusCode"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="timed calls per target")
    parser.add_argument("--warmup", type=int, default=100, help="untimed calls per target")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=170.0,
        help="stop the timed rounds early after this long",
    )
    parser.add_argument("--no-record", action="store_true", help="print only")
    options = parser.parse_args()

    stack = _stack.start_stack("companion_bench_latency", pool_size=4, bcrypt_rounds=4)
    try:
        students = [_stack.register_student() for _ in range(2 * STUDENTS)]
        targets = build_targets(students[:STUDENTS], students[STUDENTS:])
        expected = {target.label: 200 for target in targets}
        with _stack.quiet_stdout():
            for target, number in itertools.product(targets, range(options.warmup)):
                _ms, status = invoke(target, number)
                if status != expected[target.label]:
                    raise RuntimeError(f"{target.label} answered {status} while warming up")
        timings: dict[str, list[float]] = {target.label: [] for target in targets}
        errors: dict[str, int] = {target.label: 0 for target in targets}
        started = time.monotonic()
        with _stack.quiet_stdout():
            for number in range(options.calls):
                for target in targets:
                    elapsed, status = invoke(target, options.warmup + number)
                    timings[target.label].append(elapsed)
                    errors[target.label] += status != expected[target.label]
                if time.monotonic() - started > options.max_seconds:
                    print(f"stopped after {number + 1} rounds (--max-seconds)", file=sys.stderr)
                    break
                if number and number % 500 == 0:
                    print(f"{number} rounds", file=sys.stderr)
        wall = time.monotonic() - started

        hello = _stack.summarise(timings[targets[0].label])
        rows, misses = [], []
        for target in targets:
            figures = _stack.summarise(timings[target.label])
            ratio50, ratio99 = figures.p50 / hello.p50, figures.p99 / hello.p99
            verdict = ""
            if target.goal is not None:
                verdict = "yes" if ratio50 <= target.goal else "**no**"
                if ratio50 > target.goal:
                    misses.append(target.label)
            rows.append(
                [
                    target.label,
                    figures.count,
                    _stack.ms(figures.p50),
                    _stack.ms(figures.p90),
                    _stack.ms(figures.p99),
                    _stack.ms(figures.max),
                    f"{ratio50:.1f}x",
                    f"{ratio99:.1f}x",
                    f"{target.goal:.0f}x" if target.goal else "",
                    verdict,
                    errors[target.label],
                ]
            )
        table = _stack.markdown_table(
            [
                "target",
                "calls",
                "p50 ms",
                "p90 ms",
                "p99 ms",
                "max ms",
                "p50 vs hello",
                "p99 vs hello",
                "goal (p50)",
                "met",
                "non-200",
            ],
            rows,
        )
        print(table)
        verdict = (
            "Every route meets its goal."
            if not misses
            else "Over the goal: " + ", ".join(misses) + "."
        )
        body = "\n\n".join(
            [
                _stack.run_header(_stack.this_command(), stack.direct_url),
                f"Warm handler latency, in one process: each call builds an API Gateway "
                f"(HTTP API v2) event outside the timer, then times the function's real "
                f"`handler(event, context)` (the one template.yaml routes the path to). "
                f"Postgres through PgBouncer (transaction mode, pool {stack.pool_size}), the "
                f"cache on (the local Upstash-compatible endpoint over HTTP), {STUDENTS} "
                f"students registered through /auth/register and /auth/login taking turns, "
                f"every submission with a fresh idempotency key (so each one is graded and "
                f"written: attempt, best score, streak). {options.warmup} untimed calls per "
                f"target first; then rounds of one call per target, {wall:.0f} s in all. "
                f"Ratios divide by the reference, the {REFERENCE}, at the same percentile: a "
                "`def` route, the usual way to write one, which FastAPI hands to a worker "
                "thread and back. Ours are `async def` (a Lambda invocation is one request on "
                "Mangum's own loop, so they run inline, without that hop; see companion.web). "
                "Two *(info)* rows are not routes: the hello world with an `async def` route "
                "(no worker thread), and a one-row UPDATE committed through companion.db and "
                "PgBouncer, the floor under any request that writes (a submission stores the "
                "attempt). Chapter and section reads write only what is new (a first visit, "
                "the day's first activity, another section to resume at, or once per chapter "
                "every 5 minutes), so the two read rows, the same chapter and section again "
                "and again, mostly write nothing; the third *(info)* row opens a different "
                f"section at every call (its own {STUDENTS} students), so every call writes the "
                "visit: the difference is what a read that teaches the database nothing new "
                "no longer costs.",
                table,
                f"Goals: reads within {READ_GOAL:.0f}x and a submission within "
                f"{SUBMIT_GOAL:.0f}x the hello world (p50). {verdict}",
            ]
        )
        if not options.no_record:
            _stack.record_section("Warm latency", body)
            print(f"\nrecorded in {_stack.BENCHMARKS_MD}", file=sys.stderr)
    finally:
        stack.close()


if __name__ == "__main__":
    main()
