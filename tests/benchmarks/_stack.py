"""What every benchmark shares: the local stack, students, figures and docs/BENCHMARKS.md.

The stack is the test suite's, built from the same devtools pieces: a fresh Postgres
database (on the server at BENCH_POSTGRES_URL, else DATABASE_URL, else the local server on
127.0.0.1:5432 when it answers, else an embedded one), migrated; PgBouncer in transaction
mode with a small server pool in front of it; the local Upstash-compatible endpoint; moto's
S3 server with the course published to it. The functions run against the pooled URL.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
# The suite's client (tests/api.py), importable from a benchmark run as a script.
sys.path.insert(1, str(REPO_ROOT / "tests"))
WORK_DIR = REPO_ROOT / ".companion" / "bench"
CONTENT_DIR = REPO_ROOT / "shared" / "content"
BENCHMARKS_MD = REPO_ROOT / "docs" / "BENCHMARKS.md"
LOCAL_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BUCKET = "course-content-bench"
PASSWORD = "correct horse battery"

# The hello world every ratio is measured against: FastAPI + Mangum and nothing else.
HELLO_WORLD_SOURCE = """
from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()


@app.get("/health")
def health():
    return {"status": "ok"}


handler = Mangum(app, lifespan="off")
"""


# --- the stack ---------------------------------------------------------------------------


def postgres_admin_url() -> str:
    from companion_dev import services

    given = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("DATABASE_URL")
    if given:
        return given
    if services.postgres_answers(LOCAL_SERVER_URL):
        return LOCAL_SERVER_URL
    return services.embedded_postgres(WORK_DIR / "postgres")


@dataclass
class Stack:
    local: object  # companion_dev.services.LocalServices
    pool_size: int

    @property
    def direct_url(self) -> str:
        return self.local.direct_url

    @property
    def pooled_url(self) -> str:
        return self.local.pooled_url

    @property
    def environment(self) -> dict[str, str]:
        return self.local.environment

    def close(self) -> None:
        self.local.close()


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def start_stack(
    database: str = "companion_bench", *, pool_size: int = 4, bcrypt_rounds: int | None = None
) -> Stack:
    """Start every service, point this process's environment at them, publish the course.

    `bcrypt_rounds` None keeps the production cost (12).
    """
    from companion_dev import services

    if not services.pgbouncer_available():
        raise SystemExit("pgbouncer is not installed: the benchmarks measure through it")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    extra = {
        "POWERTOOLS_METRICS_NAMESPACE": "CourseCompanionBench",
        "POWERTOOLS_TRACE_DISABLED": "true",
        # Every simulated student registers from this machine's one address.
        "ADDRESS_MAX_TRIES": "1000000",
    }
    if bcrypt_rounds is not None:
        extra["BCRYPT_ROUNDS"] = str(bcrypt_rounds)
    local = services.start_local_services(
        postgres_admin_url(),
        database,
        WORK_DIR,
        bucket=BUCKET,
        content_dir=CONTENT_DIR,
        pool_size=pool_size,
        redis_url=os.environ.get("REDIS_URL"),
        extra_environment=extra,
    )
    return Stack(local=local, pool_size=pool_size)


def pgbouncer_errors(stack: Stack) -> list[str]:
    """Lines of PgBouncer's log that report an error or a refused client."""
    log = WORK_DIR / f"pgbouncer-{database_name(stack.direct_url)}" / "pgbouncer.log"
    if not log.exists():
        return []
    return [
        line
        for line in log.read_text(errors="replace").splitlines()
        if " ERROR " in line or "no more connections" in line or "query_wait_timeout" in line
    ]


def time_gateway_handlers(key: Callable[[dict], Any]) -> dict[Any, list[float]]:
    """From now on, the ms each request the local gateway passes on spends in the function's
    handler (from handing it the event until its answer), listed by `key(event)`."""
    from companion_dev import gateway

    handler_ms: dict[Any, list[float]] = {}
    call_route = gateway.call_route

    def timed_call_route(event, context=None):
        began = time.perf_counter()
        try:
            return call_route(event, context)
        finally:
            handler_ms.setdefault(key(event), []).append((time.perf_counter() - began) * 1000)

    gateway.call_route = timed_call_route
    return handler_ms


def serve_in_thread(app, **config) -> tuple[str, Callable[[], None]]:
    """Serve an ASGI app with uvicorn on a free loopback port, in a thread of this process;
    returns its base URL and a function that stops it. `config`: more uvicorn settings."""
    import uvicorn

    from companion_dev.services import free_port, wait_for_port

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            **config,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port("127.0.0.1", port)

    def stop() -> None:
        server.should_exit = True
        thread.join(10)

    return f"http://127.0.0.1:{port}", stop


def drive(plan: dict[str, Any]) -> dict[str, Any]:
    """Run a plan of HTTP requests through _http_driver.py, a process of its own."""
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("_http_driver.py"))],
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout)


# --- students ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchStudent:
    user_id: str
    email: str
    token: str


def headers_for(token: str | None, body: Any = None) -> dict[str, str]:
    headers = {"user-agent": "companion-bench"}
    if body is not None:
        headers["content-type"] = "application/json"
    if token:
        headers["authorization"] = f"Bearer {token}"
    return headers


def register_student() -> BenchStudent:
    """A new free student through POST /auth/register and /auth/login (the suite's client)."""
    from api import Api

    email = f"bench-{uuid.uuid4().hex[:16]}@example.com"
    registered = Api().post("/auth/register", {"email": email, "password": PASSWORD})
    if registered.status != 201:
        raise RuntimeError(f"register answered {registered.status}: {registered.body}")
    login = Api().post("/auth/login", {"email": email, "password": PASSWORD})
    if login.status != 200:
        raise RuntimeError(f"login answered {login.status}: {login.body}")
    return BenchStudent(user_id=registered["user_id"], email=email, token=login["access_token"])


def passing_answers(quiz_id: str) -> dict[str, Any]:
    """Answers to a quiz from its content file: the right option or truth value, and a
    short answer made of the first keyword of each group the grader looks for."""
    quiz = json.loads((CONTENT_DIR / "quizzes" / f"{quiz_id}.json").read_text())
    answers: dict[str, Any] = {}
    for question in quiz["questions"]:
        if question["type"] == "short-answer":
            words = [
                group[0] if isinstance(group, list) else group
                for group in question.get("keywords") or []
            ]
            answers[question["question_id"]] = "It is about " + ", ".join(words) + "."
        else:
            answers[question["question_id"]] = question["correct_answer"]
    return answers


def section_ids(chapter_id: str) -> list[str]:
    chapter = json.loads((CONTENT_DIR / "chapters" / f"{chapter_id}.json").read_text())
    return [section["section_id"] for section in chapter["sections"]]


def first_section_id(chapter_id: str) -> str:
    return section_ids(chapter_id)[0]


# --- figures -----------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (fraction in 0..1) of unsorted values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, int(-(-fraction * len(ordered) // 1)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Summary:
    count: int
    p50: float
    p90: float
    p99: float
    mean: float
    max: float


def summarise(values: Sequence[float]) -> Summary:
    return Summary(
        count=len(values),
        p50=percentile(values, 0.50),
        p90=percentile(values, 0.90),
        p99=percentile(values, 0.99),
        mean=statistics.fmean(values) if values else float("nan"),
        max=max(values) if values else float("nan"),
    )


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    """(milliseconds, result) of one call."""
    started = time.perf_counter()
    result = work()
    return (time.perf_counter() - started) * 1000, result


class quiet_stdout:
    """Send file descriptor 1 to /dev/null (Powertools writes its JSON logs and EMF lines
    there, as CloudWatch would receive them); our own figures go to stderr meanwhile."""

    def __enter__(self):
        sys.stdout.flush()
        self._saved = os.dup(1)
        self._null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(self._null, 1)
        return self

    def __exit__(self, *exc_info):
        sys.stdout.flush()
        os.dup2(self._saved, 1)
        os.close(self._saved)
        os.close(self._null)
        return False


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def ms(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


# --- docs/BENCHMARKS.md ------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def postgres_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SHOW server_version").fetchone()[0].split()[0]


def run_header(command: str, database_url: str | None = None) -> str:
    """When, where and how a section's figures were made."""
    machine = f"{os.cpu_count()} cores ({_cpu_model()}), Linux {platform.release()}"
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    facts = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"machine: {machine}, shared (load average {load} at the end of the run)",
        f"Python {platform.python_version()}",
    ]
    if database_url:
        facts.append(f"Postgres {postgres_version(database_url)}")
    pgbouncer = _tool_version(["pgbouncer", "--version"])
    if pgbouncer:
        facts.append(pgbouncer)
    return "; ".join(facts) + f".\nCommand: `{command}`"


def _tool_version(command: list[str]) -> str:
    try:
        output = subprocess.run(command, capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return output.splitlines()[0].strip() if output else ""


def this_command() -> str:
    script = Path(sys.argv[0]).resolve()
    try:
        shown = script.relative_to(REPO_ROOT)
    except ValueError:
        shown = script
    return shlex.join([".venv/bin/python", str(shown), *sys.argv[1:]])


_write_lock = threading.Lock()

BENCHMARKS_PREAMBLE = """# Benchmarks

Figures from the benchmark scripts in `tests/benchmarks/` (run them all with `make bench`).
Each section below is written by its script (`--no-record` only prints); the figures are
from one run on the machine named in the section, so compare ratios, not absolute times,
across machines. None of this is asserted in the test suite.
"""


def record_section(heading: str, body: str) -> None:
    """Write `## heading` in docs/BENCHMARKS.md, replacing that section only (up to the next
    `## ` heading); other sections, such as ones other scripts write, are left alone."""
    with _write_lock:
        text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else BENCHMARKS_PREAMBLE
        section = f"## {heading}\n\n{body.strip()}\n"
        pattern = re.compile(rf"^## {re.escape(heading)}[ \t]*\n.*?(?=^## |\Z)", re.M | re.S)
        if pattern.search(text):
            text = pattern.sub(lambda _match: section + "\n", text, count=1)
        else:
            text = text.rstrip("\n") + "\n\n" + section
        BENCHMARKS_MD.parent.mkdir(parents=True, exist_ok=True)
        BENCHMARKS_MD.write_text(text.rstrip("\n") + "\n")
