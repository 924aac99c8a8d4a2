"""What the local gateway (`companion dev`) adds to a request, against the HTTP floor.

Three servers on loopback, each uvicorn in a thread of this process:
- the *floor*: a bare ASGI app answering each path with the bytes the real handler answered
  it with (captured once), so it does the HTTP and nothing else;
- the gateway as it is (uvloop + httptools; a request alone in the gateway runs on the
  server's thread);
- the gateway as it was (asyncio + h11; every request handed to a worker thread).
A client in a process of its own (_http_driver.py) sends one request per server and route
per round, in turn. Inside the gateways the handler's own time is taken for every request
(around the call that hands the event to the function), so a request's *gateway cost* is
its HTTP time less its own handler time; figures are medians over the requests. Goal
(issue 13): the gateway's cost within 1 ms of the floor.

    .venv/bin/python tests/benchmarks/bench_gateway.py [--rounds 1500] [--no-record]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import _stack

GOAL_MS = 1.0
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

    from api import Api

    from companion_dev.gateway import create_gateway

    stack = _stack.start_stack("companion_bench_gateway", pool_size=4, bcrypt_rounds=4)
    stops = []
    try:
        students = [_stack.register_student() for _ in range(STUDENTS)]
        routes = [
            ("GET /v1/streak", "/v1/streak"),
            ("GET /v1/progress", "/v1/progress"),
            ("GET /v1/chapters/{id} (20 KB)", "/v1/chapters/01-intro-genai"),
        ]

        client = Api(students[0].token)
        with _stack.quiet_stdout():
            answers = {path: captured(client.get(path).raw) for _label, path in routes}
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
        # The handler's own time for every request the gateways pass on, by target (a header
        # the driver sends), so each request's gateway cost is its own HTTP time less it.
        handler_ms = _stack.time_gateway_handlers(lambda event: event["headers"]["x-bench-target"])
        targets = [
            {
                "label": f"{server} {label}",
                "url": url,
                "method": "GET",
                "path": path,
                "requests": [
                    {
                        "headers": {
                            **_stack.headers_for(s.token),
                            "x-bench-target": f"{server} {label}",
                        }
                    }
                    for s in students
                ],
            }
            for label, path in routes
            for server, url in servers
        ]
        started = time.monotonic()
        with _stack.quiet_stdout():
            measured = _stack.drive(
                {"rounds": options.rounds, "warmup": options.warmup, "targets": targets}
            )
        seconds = time.monotonic() - started
        timings, statuses = measured["timings"], measured["statuses"]

        def cost(label: str) -> tuple[float, float]:
            """Median handler time, and median of each request's HTTP time less its own."""
            handler = handler_ms[label][options.warmup :]
            http = timings[label]
            return (
                statistics.median(handler),
                statistics.median(h - k for h, k in zip(http, handler, strict=True)),
            )

        rows, misses = [], []
        for label, _path in routes:
            floor = _stack.summarise(timings[f"floor {label}"])
            now = _stack.summarise(timings[f"gateway {label}"])
            before = _stack.summarise(timings[f"gateway as it was {label}"])
            handler_p50, gateway_cost = cost(f"gateway {label}")
            _handler, cost_before = cost(f"gateway as it was {label}")
            over = gateway_cost - floor.p50
            if over > GOAL_MS:
                misses.append(label)
            counts = {server: statuses[f"{server} {label}"] for server, _u in servers}
            bad = sum(n for c in counts.values() for code, n in c.items() if code != "200")
            rows.append(
                [
                    label,
                    _stack.ms(handler_p50),
                    f"{_stack.ms(floor.p50)} / {_stack.ms(floor.p90)}",
                    f"{_stack.ms(now.p50)} / {_stack.ms(now.p90)}",
                    f"**{gateway_cost:.2f}**",
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
                f"{STUDENTS} students taking turns ({seconds:.0f} s). Inside the gateways the "
                "handler's own time was taken for every request, around the call that hands "
                "the event to the function (the *handler* column, its median); a request's "
                "gateway *cost* is its HTTP time less its own handler time, and the column is "
                "the median of those. The goal is a cost within "
                f"{GOAL_MS:.0f} ms of the floor's p50. Postgres through PgBouncer, cache on.",
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
