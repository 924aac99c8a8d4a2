"""Side by side over HTTP: our functions behind the local gateway against a typical FastAPI +
SQLAlchemy monolith doing the same work (monolith_app.py), same Postgres, same students.

Both servers are uvicorn (uvloop + httptools) in threads of this process: the gateway
(`create_gateway(instances=4)`, each request an API Gateway event handed to the real
handler; the functions reach Postgres through PgBouncer, as deployed) and the monolith (its
own SQLAlchemy pool straight to Postgres, as such an app usually runs). A client in a
process of its own (_http_driver.py) sends each route to each server in turn, one request
at a time, students taking turns, every submission with a fresh idempotency key. Goal
(issue 13): every warm route at least 2x faster than the monolith (p50), judged both over
HTTP and inside each server, where ours is what Lambda runs and bills (deployed, API Gateway
and not the local gateway carries the HTTP).

    .venv/bin/python tests/benchmarks/bench_monolith.py [--rounds 1000] [--no-record]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass

import _stack

GOAL = 2.0
STUDENTS = 10


@dataclass
class Figures:
    p50: float
    p95: float


def p50_p95(values: list[float]) -> Figures:
    return Figures(_stack.percentile(values, 0.5), _stack.percentile(values, 0.95))


def timed_inside(monolith_app, rounds: int):
    """Time each request inside each server too: ours from handing the event to the function
    until its answer (what Lambda runs and bills; the gateway's HTTP and event building are
    API Gateway's part when deployed), the monolith's from its app receiving the request until
    it has handed over the answer. Returns the monolith app to serve and a function giving the
    last `rounds` timings in ms of each side for (method, path)."""
    ours = _stack.time_gateway_handlers(
        lambda event: (event["requestContext"]["http"]["method"], event["rawPath"])
    )
    theirs: dict[tuple[str, str], list[float]] = defaultdict(list)

    async def timed_app(scope, receive, send):
        began = time.perf_counter()

        async def timed_send(message):
            await send(message)
            # Until the answer's last byte is handed over: the app's clean-up (the session's
            # ROLLBACK, say) runs after it, while the client already reads the answer.
            if message["type"] == "http.response.body" and not message.get("more_body"):
                theirs[(scope["method"], scope["path"])].append(
                    (time.perf_counter() - began) * 1000
                )

        await monolith_app(scope, receive, timed_send)

    def timings(side: str, method: str, path: str) -> list[float]:
        return (ours if side == "ours" else theirs).get((method, path), [])[-rounds:]

    return timed_app, timings


def round_trip_costs(stack: _stack.Stack, samples: int = 300) -> str:
    """p50 of a SELECT 1, straight to Postgres and through PgBouncer, back to back and after
    the CPU idled 2 ms (as between the benchmark's requests), said in words."""
    import psycopg

    said = []
    for way, url in (
        ("straight to Postgres", stack.direct_url),
        ("through PgBouncer", stack.pooled_url),
    ):
        p50s = []
        with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
            for idle in (0.0, 0.002):
                times = []
                for _ in range(samples):
                    if idle:
                        time.sleep(idle)
                    began = time.perf_counter()
                    conn.execute("SELECT 1").fetchone()
                    times.append((time.perf_counter() - began) * 1000)
                p50s.append(_stack.percentile(times, 0.5))
        said.append(f"{way} {p50s[0]:.2f} ms back to back, {p50s[1]:.2f} ms after 2 ms idle")
    return "; ".join(said)


def _verdict(labels: list[str], missed: list[str], where: str) -> str:
    if not missed:
        return f"Every route is at least {GOAL:.0f}x faster than the monolith {where} (p50)."
    met = [label for label in labels if label not in missed]
    return (
        f"At least {GOAL:.0f}x faster {where} (p50): {', '.join(met) if met else 'none'}. "
        f"**Not {GOAL:.0f}x**: {', '.join(missed)}."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1000, help="timed rounds")
    parser.add_argument("--warmup", type=int, default=100, help="untimed rounds first")
    parser.add_argument("--no-record", action="store_true", help="print only")
    options = parser.parse_args()

    from monolith_app import create_monolith

    from companion_dev import gateway

    stack = _stack.start_stack("companion_bench_monolith", pool_size=4, bcrypt_rounds=4)
    stops = []
    try:
        students = [_stack.register_student() for _ in range(STUDENTS)]
        monolith, inside = timed_inside(create_monolith(stack.direct_url), options.rounds)
        ours, stop = _stack.serve_in_thread(
            gateway.create_gateway(instances=4), loop="uvloop", http="httptools"
        )
        stops.append(stop)
        theirs, stop = _stack.serve_in_thread(monolith, loop="uvloop", http="httptools")
        stops.append(stop)
        answers = _stack.passing_answers("01-quiz")
        submission = json.dumps({"answers": answers, "idempotency_key": "__KEY__"})
        routes = [
            ("GET /v1/me", "GET", "/v1/me", None),
            ("GET /v1/chapters/{id}", "GET", "/v1/chapters/01-intro-genai", None),
            ("GET /v1/progress", "GET", "/v1/progress", None),
            ("POST /v1/quizzes/{id}/submit", "POST", "/v1/quizzes/01-quiz/submit", submission),
        ]
        servers = [("ours", ours), ("monolith", theirs)]
        targets = [
            {
                "label": f"{server} {label}",
                "url": url,
                "method": method,
                "path": path,
                "requests": [
                    {"headers": _stack.headers_for(s.token, body), "body": body} for s in students
                ],
            }
            for label, method, path, body in routes
            for server, url in servers
        ]
        plan = {"rounds": options.rounds, "warmup": options.warmup, "targets": targets}
        started = time.monotonic()
        with _stack.quiet_stdout():
            measured = _stack.drive(plan)
        seconds = time.monotonic() - started
        wrong = {
            label: counts
            for label, counts in measured["statuses"].items()
            if set(counts) != {"200"}
        }
        if wrong:
            raise SystemExit(f"not every answer was 200: {wrong}")

        rows, inside_rows = [], []
        missed_over_http, missed_inside = [], []
        for label, method, path, _body in routes:
            mine = p50_p95(measured["timings"][f"ours {label}"])
            other = p50_p95(measured["timings"][f"monolith {label}"])
            ratio50, ratio95 = other.p50 / mine.p50, other.p95 / mine.p95
            in_mine = _stack.percentile(inside("ours", method, path), 0.5)
            in_other = _stack.percentile(inside("monolith", method, path), 0.5)
            inside_rows.append(
                [
                    label,
                    _stack.ms(in_mine),
                    _stack.ms(mine.p50 - in_mine),
                    _stack.ms(in_other),
                    _stack.ms(other.p50 - in_other),
                    f"{in_other / in_mine:.2f}x",
                    "yes" if in_other / in_mine >= GOAL else "**no**",
                ]
            )
            if ratio50 < GOAL:
                missed_over_http.append(label)
            if in_other / in_mine < GOAL:
                missed_inside.append(label)
            statuses = {server: measured["statuses"][f"{server} {label}"] for server, _u in servers}
            rows.append(
                [
                    label,
                    _stack.ms(mine.p50),
                    _stack.ms(mine.p95),
                    _stack.ms(other.p50),
                    _stack.ms(other.p95),
                    f"{ratio50:.2f}x",
                    f"{ratio95:.2f}x",
                    "yes" if ratio50 >= GOAL else "**no**",
                    ", ".join(
                        f"{server} {code}: {count}"
                        for server, counts in statuses.items()
                        for code, count in sorted(counts.items())
                    ),
                ]
            )
        table = _stack.markdown_table(
            [
                "route",
                "ours p50 ms",
                "ours p95 ms",
                "monolith p50 ms",
                "monolith p95 ms",
                "monolith / ours (p50)",
                "(p95)",
                f"{GOAL:.0f}x",
                "statuses",
            ],
            rows,
        )
        inside_table = _stack.markdown_table(
            [
                "route",
                "ours: in the function p50 ms",
                "ours: the rest (HTTP, gateway)",
                "monolith: in the app p50 ms",
                "monolith: the rest (HTTP)",
                "monolith / ours, inside (p50)",
                f"{GOAL:.0f}x",
            ],
            inside_rows,
        )
        print(table)
        print()
        print(inside_table)
        round_trips = round_trip_costs(stack)
        labels = [label for label, *_rest in routes]
        verdict_over_http = _verdict(labels, missed_over_http, "over HTTP")
        verdict_inside = _verdict(labels, missed_inside, "inside each server")
        print(f"\n{verdict_over_http}\n{verdict_inside}")
        body = "\n\n".join(
            [
                _stack.run_header(_stack.this_command(), stack.direct_url),
                "Our functions behind the local gateway (uvicorn, uvloop + httptools, "
                "`create_gateway(instances=4)`: each request an API Gateway event handed to "
                "the real handler; Postgres through PgBouncer in transaction mode, pool "
                f"{stack.pool_size}; the cache on) against `tests/benchmarks/monolith_app.py`, "
                "a typical FastAPI + SQLAlchemy monolith doing the same work (SQLAlchemy 2.0 "
                "ORM on the same tables, a pooled engine straight to the same Postgres, a "
                "session per request, `def` routes, the caller from a JWT and a user lookup, "
                "pydantic response models; the course rules are ours, the pure functions of "
                "companion.domain). Both in threads of the benchmark, served by uvicorn with "
                "uvloop + httptools. A client in a process of its own (`_http_driver.py`, one "
                f"keep-alive connection per server and route) sent {options.warmup} untimed "
                f"rounds, then {options.rounds} rounds of each route to each server in turn "
                f"({seconds:.0f} s), {STUDENTS} students taking turns, every submission with "
                "a fresh idempotency key (graded and stored on both sides). The chapter read "
                "records the visit: the monolith on every read, ours when it is news to the "
                "database (a first visit, the day's first activity, once per chapter every 5 "
                "minutes); no gzip (no Accept-Encoding sent).",
                table,
                verdict_over_http,
                "Where the time goes, from the same requests: each server also timed each "
                "request inside itself (ours from handing the event to the function until its "
                "answer, what Lambda runs and bills; the monolith's app from receiving the "
                "request until it handed over the answer's last byte); the rest is HTTP on "
                "loopback, and for ours the local gateway's event building, which is API "
                "Gateway's part when deployed (medians of each, so the columns need not add "
                "up exactly).",
                inside_table,
                verdict_inside,
                "Round trips to Postgres per warm request (the monolith's counted with "
                "SQLAlchemy's engine events, plus its pool's pre-ping): GET /v1/me 1 for ours "
                "against 3 (ping, SELECT, ROLLBACK); a chapter read 1 (2 when the visit is news "
                "to the database) against 7 (ping, the student, the progress row, the streak, "
                "two UPDATEs flushed, COMMIT); progress 1 against 6; a submission 1 (one "
                "statement storing the attempt with the best score, written only if the "
                "caller's plan, timezone and streak are as the instance last read them; 2 when "
                "the instance has not read the caller yet or they changed: the caller, then "
                "that statement; a transaction around it on the day's first activity, for the "
                "streak) against 8. A round "
                f"trip (SELECT 1, p50): {round_trips}. The monolith reaches Postgres "
                "directly, ours through the transaction pooler, as deployed (DESIGN.md). A CPU "
                "that idles between requests, as here, does every piece of a request more "
                "slowly than back to back, so both sides are slower here than in bench_latency.",
            ]
        )
        if not options.no_record:
            _stack.record_section("Side by side with a monolith", body)
            print(f"\nrecorded in {_stack.BENCHMARKS_MD}", file=sys.stderr)
    finally:
        for stop in stops:
            stop()
        stack.close()


if __name__ == "__main__":
    main()
