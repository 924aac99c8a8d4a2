"""What the local gateway (`companion dev`) adds to a request, against the HTTP floor.

Three servers on loopback, each uvicorn in a thread of this process:
- the *floor*: a bare ASGI app answering each path with the bytes the real handler answered
  it with (captured once), so it does the HTTP and nothing else;
- the gateway as it is (uvloop + httptools; a request alone in the gateway runs on the
  server's thread);
- the gateway as it was (asyncio + h11; every request handed to a worker thread).
A client in a process of its own (_http_driver.py) sends one request per server and route
per round, in turn. The handler's own time for the same requests is measured in this
process (an API Gateway event handed to the real handler, as bench_latency.py does), in
blocks alternating with the HTTP rounds, and *gateway cost* is a gateway's p50 less the
handler's p50. Goal (issue 13): the gateway's
cost within 1 ms of the floor.

    .venv/bin/python tests/benchmarks/bench_gateway.py [--rounds 1500] [--no-record]
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid

import _stack

GOAL_MS = 1.0
BLOCKS = 5
STUDENTS = 5


def floor_app(answers: dict[str, tuple[int, list, bytes]]):
    """Answers each path with the status, headers and body captured from the handler."""

    async def app(scope, receive, send):
        while (await receive()).get("more_body"):
            pass
        status, headers, body = answers[scope["path"]]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def captured(result: dict) -> tuple[int, list, bytes]:
    import base64

    payload = result.get("body") or ""
    body = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
    headers = [
        (name.lower().encode(), str(value).encode())
        for name, value in (result.get("headers") or {}).items()
        if name.lower() != "content-length"
    ]
    return result["statusCode"], headers, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1500, help="timed rounds")
    parser.add_argument("--warmup", type=int, default=100, help="untimed rounds first")
    parser.add_argument("--no-record", action="store_true", help="print only")
    options = parser.parse_args()

    from companion.devtools.gateway import create_gateway
    from companion.devtools.invoke import LambdaContext, api_gateway_event, call_route

    stack = _stack.start_stack("companion_bench_gateway", pool_size=4, bcrypt_rounds=4)
    stops = []
    try:
        students = [_stack.register_student() for _ in range(STUDENTS)]
        routes = [
            ("GET /v1/streak", "/v1/streak"),
            ("GET /v1/progress", "/v1/progress"),
            ("GET /v1/chapters/{id} (20 KB)", "/v1/chapters/01-intro-genai"),
        ]

        def event(path: str, student: _stack.BenchStudent) -> dict:
            return api_gateway_event("GET", path, headers=_stack.headers_for(student.token))

        with _stack.quiet_stdout():
            answers = {path: captured(call_route(event(path, students[0]))) for _l, path in routes}
        floor_url, stop = _stack.serve_in_thread(
            floor_app(answers), loop="uvloop", http="httptools"
        )
        stops.append(stop)
        gateway_url, stop = _stack.serve_in_thread(
            create_gateway(instances=4), loop="uvloop", http="httptools"
        )
        stops.append(stop)
        before_url, stop = _stack.serve_in_thread(
            create_gateway(instances=4, inline_when_alone=False), loop="asyncio", http="h11"
        )
        stops.append(stop)
        servers = [
            ("floor", floor_url),
            ("gateway", gateway_url),
            ("gateway as it was", before_url),
        ]
        from companion.devtools import template

        handlers = {
            path: template.load_handler(
                template.match_route(template.load_routes(), "GET", path)[0].function
            )
            for _label, path in routes
        }
        targets = [
            {
                "label": f"{server} {label}",
                "url": url,
                "method": "GET",
                "path": path,
                "requests": [{"headers": _stack.headers_for(s.token)} for s in students],
            }
            for label, path in routes
            for server, url in servers
        ]
        timings: dict[str, list[float]] = {t["label"]: [] for t in targets}
        statuses: dict[str, dict[str, int]] = {t["label"]: {} for t in targets}
        handler_ms: dict[str, list[float]] = {label: [] for label, _p in routes}
        per_block = max(1, options.rounds // BLOCKS)
        started = time.monotonic()
        # Blocks of HTTP rounds (the driver) and of handler calls (here) in turn, so that
        # both see the same spells of load from the machine's other users.
        for block in range(BLOCKS):
            plan = {
                "rounds": per_block,
                "warmup": options.warmup if block == 0 else 5,
                "targets": targets,
            }
            measured = _stack.drive(plan)
            for label, values in measured["timings"].items():
                timings[label] += values
            for label, counts in measured["statuses"].items():
                for code, count in counts.items():
                    statuses[label][code] = statuses[label].get(code, 0) + count
            with _stack.quiet_stdout():
                warmup = options.warmup if block == 0 else 5
                for number in range(warmup + per_block):
                    for label, path in routes:
                        call_event = event(path, students[number % STUDENTS])
                        context = LambdaContext(aws_request_id=str(uuid.uuid4()))
                        began = time.perf_counter()
                        result = handlers[path](call_event, context)
                        elapsed = (time.perf_counter() - began) * 1000
                        if result["statusCode"] != 200:
                            raise RuntimeError(f"{label} answered {result['statusCode']}")
                        if number >= warmup:
                            handler_ms[label].append(elapsed)
        seconds = time.monotonic() - started

        rows, misses = [], []
        for label, _path in routes:
            handler = _stack.summarise(handler_ms[label])
            floor = _stack.summarise(timings[f"floor {label}"])
            now = _stack.summarise(timings[f"gateway {label}"])
            before = _stack.summarise(timings[f"gateway as it was {label}"])
            cost, cost_before = now.p50 - handler.p50, before.p50 - handler.p50
            over = cost - floor.p50
            if over > GOAL_MS:
                misses.append(label)
            counts = {server: statuses[f"{server} {label}"] for server, _u in servers}
            bad = sum(n for c in counts.values() for code, n in c.items() if code != "200")
            rows.append(
                [
                    label,
                    _stack.ms(handler.p50),
                    f"{_stack.ms(floor.p50)} / {_stack.ms(floor.p90)}",
                    f"{_stack.ms(now.p50)} / {_stack.ms(now.p90)}",
                    f"**{cost:.2f}**",
                    f"{over:+.2f}",
                    f"{_stack.ms(before.p50)} / {_stack.ms(before.p90)}",
                    f"{cost_before:.2f}",
                    bad,
                ]
            )
        table = _stack.markdown_table(
            [
                "route",
                "handler p50 ms",
                "floor p50 / p90 ms",
                "gateway p50 / p90 ms",
                "gateway cost ms",
                "cost - floor ms",
                "as it was p50 / p90 ms",
                "its cost ms",
                "non-200",
            ],
            rows,
        )
        print(table)
        verdict = (
            f"The gateway's cost is within {GOAL_MS:.0f} ms of the floor on every route."
            if not misses
            else f"More than {GOAL_MS:.0f} ms over the floor: " + ", ".join(misses) + "."
        )
        body = "\n\n".join(
            [
                _stack.run_header(_stack.this_command(), stack.direct_url),
                "Three servers on loopback, each uvicorn in a thread of the benchmark: the "
                "*floor*, a bare ASGI app answering each path with the bytes the real handler "
                "answered (captured once: HTTP and nothing else); the *gateway* as it is "
                "(`create_gateway(instances=4)`, uvloop + httptools; a request alone in the "
                "gateway runs on the server's thread; the template's routes and handlers read "
                "once per version of the file); the gateway *as it was* (asyncio + h11, every "
                "request handed to a worker thread and back; it shares the template reading, "
                "which alone took about 1.7 ms a request before). A client in a "
                "process of its own (`_http_driver.py`, `http.client`, one keep-alive "
                f"connection per server and route) sent {options.warmup} untimed rounds, then "
                f"{options.rounds} rounds of one request per server and route, in turn, "
                f"{STUDENTS} students taking turns; the same requests went to the real handler "
                f"in-process (the *handler* column), in {BLOCKS} blocks alternating with the "
                f"HTTP rounds ({seconds:.0f} s in all). A "
                "gateway's *cost* is its p50 less the handler's p50; the goal is a cost "
                f"within {GOAL_MS:.0f} ms of the floor's p50. Postgres through PgBouncer, "
                "cache on.",
                table,
                verdict
                + " Requests that overlap (bench_load.py) still go to worker threads, one per "
                "busy emulated instance.",
            ]
        )
        if not options.no_record:
            _stack.record_section("Local gateway", body)
            print(f"\nrecorded in {_stack.BENCHMARKS_MD}", file=sys.stderr)
    finally:
        for stop in stops:
            stop()
        stack.close()


if __name__ == "__main__":
    main()
