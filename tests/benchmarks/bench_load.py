"""A bounded local load test through the local gateway, then a check of what was stored.

The gateway (companion_dev.gateway, what `companion dev` serves: HTTP in, an API
Gateway event to the function template.yaml names, 8 emulated Lambda instances each with
its own warm connection) runs with uvicorn in a thread of this process, on a free loopback
port. PgBouncer's server pool is far smaller than the client count. A separate driver
process (async httpx, so it does not compete with the gateway for this process's GIL) runs
many simulated students at once, each: register, log in, then a fixed number of rounds of
list chapters, read a chapter, search, submit a quiz (a fresh idempotency key each time)
and get their progress. Bounded by count and by time; loopback only.

Afterwards the database must hold exactly the attempts whose submission was acknowledged
(200 with an attempt_id), no more, no fewer.

    .venv/bin/python tests/benchmarks/bench_load.py [--students 50] [--rounds 10] [--no-record]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict

import _stack

FREE_CHAPTERS = ("01-intro-genai", "02-how-llms-work", "03-prompt-engineering")
QUIZZES = ("01-quiz", "02-quiz", "03-quiz")
SEARCHES = (
    "attention",
    "retrieval augmented generation",
    "temperature and sampling",
    "prompt injection",
    "few-shot examples",
    "hallucination",
)
STEPS = (
    "register",
    "login",
    "list chapters",
    "read chapter",
    "search",
    "submit quiz",
    "get progress",
)


# --- the driver (runs in its own process) ------------------------------------------------


class Driver:
    """Sends a student's requests and records each as (step, ms, status or error name)."""

    def __init__(self, client) -> None:
        self.client = client
        self.records: list[tuple[str, float, int | str]] = []

    async def request(self, step: str, method: str, path: str, expected: int, **kwargs):
        started = time.perf_counter()
        try:
            response = await self.client.request(method, path, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a failed request is a recorded error
            self.records.append((step, (time.perf_counter() - started) * 1000, type(exc).__name__))
            return None
        self.records.append((step, (time.perf_counter() - started) * 1000, response.status_code))
        return response.json() if response.status_code == expected else None


async def create_account(driver: Driver, number: int) -> dict[str, str] | None:
    """Register and log in; the student's auth headers, or None when either failed."""
    email = f"load-{uuid.uuid4().hex[:12]}-{number}@example.com"
    credentials = {"email": email, "password": "correct horse battery"}
    if await driver.request("register", "POST", "/auth/register", 201, json=credentials) is None:
        return None
    login = await driver.request("login", "POST", "/auth/login", 200, json=credentials)
    if login is None:
        return None
    return {"authorization": f"Bearer {login['access_token']}"}


async def study(
    driver: Driver, number: int, headers, rounds: int, deadline: float, answers, acknowledged
) -> None:
    for turn in range(rounds):
        if time.monotonic() > deadline:
            return
        chapter = FREE_CHAPTERS[(number + turn) % len(FREE_CHAPTERS)]
        quiz = QUIZZES[(number + turn) % len(QUIZZES)]
        query = {"q": SEARCHES[(number + turn) % len(SEARCHES)]}
        await driver.request("list chapters", "GET", "/v1/chapters", 200, headers=headers)
        await driver.request("read chapter", "GET", f"/v1/chapters/{chapter}", 200, headers=headers)
        await driver.request("search", "GET", "/v1/search", 200, headers=headers, params=query)
        result = await driver.request(
            "submit quiz",
            "POST",
            f"/v1/quizzes/{quiz}/submit",
            200,
            headers=headers,
            json={"answers": answers[quiz], "idempotency_key": str(uuid.uuid4())},
        )
        if result is not None:
            acknowledged.append(result["attempt_id"])
        await driver.request("get progress", "GET", "/v1/progress", 200, headers=headers)


async def drive(url: str, students: int, rounds: int, max_seconds: float) -> dict:
    """Phase one: every student registers and logs in, all at once. Phase two, when all
    have: every student's study rounds, all at once."""
    import httpx

    answers = {quiz: _stack.passing_answers(quiz) for quiz in QUIZZES}
    acknowledged: list[str] = []
    limits = httpx.Limits(max_connections=students, max_keepalive_connections=students)
    # Longer than API Gateway's 30 s so a slow answer is measured, not cut off; answers over
    # 29 s are counted separately in the report.
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120.0) as client:
        accounts = Driver(client)
        started = time.perf_counter()
        headers = await asyncio.gather(
            *(create_account(accounts, number) for number in range(students))
        )
        accounts_wall = time.perf_counter() - started
        sessions = Driver(client)
        deadline = time.monotonic() + max_seconds
        started = time.perf_counter()
        await asyncio.gather(
            *(
                study(sessions, number, header, rounds, deadline, answers, acknowledged)
                for number, header in enumerate(headers)
                if header is not None
            )
        )
        sessions_wall = time.perf_counter() - started
    return {
        "phases": {
            "accounts": {"records": accounts.records, "wall_seconds": accounts_wall},
            "sessions": {"records": sessions.records, "wall_seconds": sessions_wall},
        },
        "acknowledged": acknowledged,
        "stopped_by_time": time.monotonic() > deadline,
    }


# --- the run ------------------------------------------------------------------------------


class ServerConnectionSampler:
    """Counts the server connections PgBouncer holds to the database, twice a second."""

    def __init__(self, direct_url: str, database: str) -> None:
        self.direct_url, self.database = direct_url, database
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(5)
        return False

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.direct_url, autocommit=True) as conn:
            while not self._stop.is_set():
                count = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> pg_backend_pid()",
                    (self.database,),
                ).fetchone()[0]
                self.samples.append(count)
                self._stop.wait(0.5)


def start_gateway(instances: int) -> tuple[str, callable]:
    from companion_dev.gateway import create_gateway

    return _stack.serve_in_thread(create_gateway(instances))


def bcrypt_ms(rounds: int) -> float:
    """One bcrypt hash at this cost on this machine, median of three."""
    import bcrypt

    salt = bcrypt.gensalt(rounds)
    return statistics.median(
        _stack.timed(lambda: bcrypt.hashpw(b"correct horse battery", salt))[0] for _ in range(3)
    )


def stored_attempts(direct_url: str) -> set[str]:
    import psycopg

    with psycopg.connect(direct_url, autocommit=True) as conn:
        return {str(row[0]) for row in conn.execute("SELECT id FROM quiz_attempts")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=50, help="simulated students, all at once")
    parser.add_argument("--rounds", type=int, default=10, help="read/search/submit rounds each")
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument("--instances", type=int, default=8, help="emulated Lambda instances")
    parser.add_argument("--pool-size", type=int, default=4, help="PgBouncer default_pool_size")
    parser.add_argument("--bcrypt-rounds", type=int, default=12, help="12 is production's cost")
    parser.add_argument("--no-record", action="store_true", help="print only")
    parser.add_argument("--drive", metavar="URL", help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.drive:  # the driver process
        result = asyncio.run(
            drive(options.drive, options.students, options.rounds, options.max_seconds)
        )
        json.dump(result, sys.stdout)
        return

    database = "companion_bench_load"
    stack = _stack.start_stack(
        database, pool_size=options.pool_size, bcrypt_rounds=options.bcrypt_rounds
    )
    try:
        from companion_dev import template

        hash_ms = bcrypt_ms(options.bcrypt_rounds)
        from companion import catalogue

        # Warm, as the cold start has a benchmark of its own: the imports, the course in
        # memory, its search index.
        for logical_id in template.function_handlers():
            template.load_handler(logical_id)
        catalogue.course().search_index.search("warm up", 1, can_open=lambda _chapter: True)
        url, stop_gateway = start_gateway(options.instances)
        try:
            with (
                _stack.quiet_stdout(),
                ServerConnectionSampler(stack.direct_url, database) as sampler,
            ):
                completed = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--drive",
                        url,
                        "--students",
                        str(options.students),
                        "--rounds",
                        str(options.rounds),
                        "--max-seconds",
                        str(options.max_seconds),
                    ],
                    capture_output=True,
                    text=True,
                    timeout=options.max_seconds + 120,
                )
        finally:
            stop_gateway()
        if completed.returncode != 0:
            raise RuntimeError(f"the driver failed:\n{completed.stderr[-3000:]}")
        result = json.loads(completed.stdout)
        stored = stored_attempts(stack.direct_url)
        report(options, stack, result, stored, sampler.samples, hash_ms)
    finally:
        stack.close()


EXPECTED_STATUS = {"register": 201}
GATEWAY_TIMEOUT_MS = 29_000  # API Gateway gives up on an integration after 30 s


def phase_table(records: list) -> tuple[str, int, int]:
    """The per-step table of one phase, its error count and its count of answers that took
    longer than API Gateway would have waited."""
    by_step: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    errors = too_slow = 0
    for step, elapsed, status in records:
        by_step[step].append(elapsed)
        statuses[step][str(status)] += 1
        errors += status != EXPECTED_STATUS.get(step, 200)
        too_slow += elapsed > GATEWAY_TIMEOUT_MS
    rows = []
    for step in [step for step in STEPS if step in by_step]:
        figures = _stack.summarise(by_step[step])
        shown = ", ".join(f"{status}: {count}" for status, count in sorted(statuses[step].items()))
        rows.append(
            [
                step,
                figures.count,
                _stack.ms(figures.p50),
                _stack.ms(figures.p90),
                _stack.ms(figures.p99),
                _stack.ms(figures.max),
                shown,
            ]
        )
    everything = _stack.summarise([elapsed for _step, elapsed, _status in records])
    rows.append(
        [
            "**all**",
            everything.count,
            _stack.ms(everything.p50),
            _stack.ms(everything.p90),
            _stack.ms(everything.p99),
            _stack.ms(everything.max),
            f"errors: {errors}",
        ]
    )
    table = _stack.markdown_table(
        ["step", "requests", "p50 ms", "p90 ms", "p99 ms", "max ms", "statuses"], rows
    )
    return table, errors, too_slow


def report(
    options, stack, result: dict, stored: set[str], samples: list[int], hash_ms: float
) -> None:
    acknowledged = set(result["acknowledged"])
    exact = stored == acknowledged
    bouncer_errors = _stack.pgbouncer_errors(stack)
    sections, facts, total_errors, total_too_slow = [], [], 0, 0
    titles = {
        "accounts": "Phase 1, accounts: every student registers and logs in, all at once.",
        "sessions": (
            f"Phase 2, study: once all are in, every student's {options.rounds} rounds, "
            "all at once."
        ),
    }
    for phase, data in result["phases"].items():
        table, errors, too_slow = phase_table(data["records"])
        total_errors += errors
        total_too_slow += too_slow
        count, wall = len(data["records"]), data["wall_seconds"]
        facts.append(
            f"{phase}: {count} requests in {wall:.1f} s, **{count / wall:.0f} requests/s**, "
            f"**{errors} errors**"
            + (f", {too_slow} answered after more than 29 s" if too_slow else "")
        )
        sections.append(f"{titles[phase]}\n\n{table}")
        print(f"{titles[phase]}\n{table}\n{facts[-1]}\n")
    facts += [
        "An error is any status other than the expected one (201 for register, 200 "
        "otherwise), or no answer at all"
        + (" (phase 2 was cut short by --max-seconds)" if result["stopped_by_time"] else "")
        + ".",
        f"Submissions acknowledged (200 with an attempt_id): {len(acknowledged)}; attempts in "
        f"the database afterwards: {len(stored)}; "
        + (
            "**the same set of ids**."
            if exact
            else f"**they differ**: {len(acknowledged - stored)} acknowledged but not stored, "
            f"{len(stored - acknowledged)} stored but not acknowledged."
        ),
        f"Server connections PgBouncer held to Postgres (sampled twice a second): at most "
        f"{max(samples, default=0)} (pool size {options.pool_size}), for "
        f"{options.instances} emulated Lambda instances and {options.students} concurrent "
        f"students. PgBouncer logged {len(bouncer_errors)} errors.",
    ]
    print("\n".join(facts[2:]))
    body = "\n\n".join(
        [
            _stack.run_header(_stack.this_command(), stack.direct_url),
            f"{options.students} simulated students (async httpx, in a separate driver "
            f"process) against the local gateway (`create_gateway(instances="
            f"{options.instances})` under uvicorn, in a thread of the benchmark; every request "
            "is an API Gateway event handed to the real handler, in one of the instances). "
            f"Each student registers and logs in (bcrypt cost {options.bcrypt_rounds}, as in "
            f"production), then does {options.rounds} rounds of: list chapters, read a free "
            "chapter, search, submit that chapter's quiz with a fresh idempotency key, get "
            f"progress. PgBouncer in transaction mode with default_pool_size "
            f"{options.pool_size}; Postgres on the same machine; cache on.",
            *sections,
            "\n".join(f"- {fact}" for fact in facts),
            f"Phase 1 is CPU-bound: a bcrypt hash at cost {options.bcrypt_rounds} takes "
            f"{hash_ms:.0f} ms here, and {2 * options.students} of them queue on "
            f"{os.cpu_count()} cores behind {options.instances} instances, so its latency is "
            "that queue. Phase 2 is what a class studying at the same moment costs.",
        ]
    )
    if not options.no_record:
        _stack.record_section("Load", body)
        print(f"\nrecorded in {_stack.BENCHMARKS_MD}", file=sys.stderr)
    if total_errors or not exact:
        sys.exit(1)


if __name__ == "__main__":
    main()
