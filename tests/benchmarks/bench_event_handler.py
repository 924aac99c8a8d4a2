"""What the event handler costs a request: FastAPI + Mangum (the functions' stack) against
Powertools' own `APIGatewayHttpResolver` (already in the layer), for the open question on
the stack in issue 13. Not a route of the API: a prototype of GET /v1/me on the resolver,
built here from the same pieces our AuthFunction uses (the bearer header, the token check,
the caller's read, the profile view), answers the same body, and is timed against the real
function in the same rounds; the two hello worlds show the frameworks alone.

Every call is handed the same kind of API Gateway event, in this process, Postgres through
PgBouncer; the targets take turns, each call after the CPU idled 2 ms (as between the
requests of bench_monolith) and, in a second pass, back to back.

    .venv/bin/python tests/benchmarks/bench_event_handler.py [--calls 1500] [--no-record]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import _stack
from bench_latency import HELLO_WORLD_ASYNC_SOURCE, hello_world_handler

IDLE_SECONDS = 0.002


def resolver_hello_world() -> Callable:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    app = APIGatewayHttpResolver()

    @app.get("/health")
    def health():
        return {"status": "ok"}

    return app.resolve


def resolver_profile() -> Callable:
    """GET /v1/me on the resolver, behind the same Powertools logging as our functions."""
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
    from aws_lambda_powertools.logging import correlation_paths

    from companion import accounts
    from companion.deps import bearer_token, student_from_token
    from companion.errors import ApiError
    from companion.observability import logger
    from companion.settings import get_settings

    app = APIGatewayHttpResolver()

    @app.get("/v1/me")
    def get_profile():
        headers = app.current_event.headers
        token = bearer_token(headers.get("authorization"))
        base = f"{headers.get('x-forwarded-proto', 'https')}://{headers['host']}"
        return accounts.profile(student_from_token(token, [get_settings().jwt_audience, base]))

    @app.exception_handler(ApiError)
    def api_error(error: ApiError):
        body = {"detail": error.detail, "code": error.code}
        return Response(error.status_code, "application/json", json.dumps(body))

    @logger.inject_lambda_context(
        correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
    )
    def handler(event, context):
        return app.resolve(event, context)

    return handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1500, help="timed calls per target")
    parser.add_argument("--warmup", type=int, default=100, help="untimed calls per target")
    parser.add_argument("--no-record", action="store_true", help="print only")
    options = parser.parse_args()

    from api import Api

    from companion_dev.invoke import LambdaContext, function_for

    stack = _stack.start_stack("companion_bench_event_handler", pool_size=4, bcrypt_rounds=4)
    try:
        clients = [Api(_stack.register_student().token) for _ in range(10)]
        hello = Api().event("GET", "/health")
        targets = {
            "hello world, FastAPI + Mangum (`async def`)": (
                hello_world_handler(HELLO_WORLD_ASYNC_SOURCE),
                lambda _number: hello,
            ),
            "hello world, Powertools resolver": (resolver_hello_world(), lambda _number: hello),
            "GET /v1/me, AuthFunction (FastAPI + Mangum)": (
                function_for(clients[0].event("GET", "/v1/me"))[1],
                lambda number: clients[number % len(clients)].event("GET", "/v1/me"),
            ),
            "GET /v1/me, on the Powertools resolver": (
                resolver_profile(),
                lambda number: clients[number % len(clients)].event("GET", "/v1/me"),
            ),
        }
        context = LambdaContext(aws_request_id="bench")
        ours, theirs = (targets[label][0] for label in list(targets)[2:])
        sample = clients[0].event("GET", "/v1/me")
        with _stack.quiet_stdout():
            answers = [handler(sample, context) for handler in (ours, theirs)]
        if {answer["statusCode"] for answer in answers} != {200} or len(
            {json.dumps(json.loads(answer["body"]), sort_keys=True) for answer in answers}
        ) != 1:
            raise SystemExit(f"the two GET /v1/me do not answer alike: {answers}")

        figures: dict[str, dict[str, float]] = {label: {} for label in targets}
        for idle in (IDLE_SECONDS, 0.0):
            timings: dict[str, list[float]] = {label: [] for label in targets}
            with _stack.quiet_stdout():
                for number in range(options.warmup + options.calls):
                    order = list(targets.items())
                    if number % 2:
                        order.reverse()
                    for label, (handler, make_event) in order:
                        event = make_event(number)
                        if idle:
                            time.sleep(idle)
                        began = time.perf_counter()
                        answer = handler(event, context)
                        elapsed = (time.perf_counter() - began) * 1000
                        if answer["statusCode"] != 200:
                            raise SystemExit(f"{label} answered {answer['statusCode']}")
                        if number >= options.warmup:
                            timings[label].append(elapsed)
            for label, values in timings.items():
                figures[label][idle] = _stack.percentile(values, 0.5)

        rows = [
            [label, _stack.ms(values[IDLE_SECONDS]), _stack.ms(values[0.0])]
            for label, values in figures.items()
        ]
        table = _stack.markdown_table(
            ["target", "p50 ms after 2 ms idle", "p50 ms back to back"], rows
        )
        labels = list(figures)
        saved = [
            figures[labels[2]][idle] - figures[labels[3]][idle] for idle in (IDLE_SECONDS, 0.0)
        ]
        summary = (
            f"The same GET /v1/me on the resolver takes {saved[0]:.2f} ms less after idling "
            f"({saved[1]:.2f} ms back to back): what FastAPI + Mangum and our app's middleware "
            "(the body guard, gzip, the last-resort error handler, which the prototype lacks; "
            "the resolver has its own compression and error handlers) add to a request."
        )
        print(table)
        print(summary)
        body = "\n\n".join(
            [
                _stack.run_header(_stack.this_command(), stack.direct_url),
                f"{options.calls} calls per target after {options.warmup} untimed, the targets "
                "in turn (the order reversed every other round), each call handed an API "
                "Gateway (HTTP API v2) event in this process; Postgres through PgBouncer. The "
                "resolver's GET /v1/me is a prototype written in this script from the pieces "
                "AuthFunction uses (`deps.bearer_token`, `deps.student_from_token`, "
                "`accounts.profile`, Powertools' logging decorator), checked to answer the "
                "same body; no function runs on the resolver (issue 13 asks whether one "
                "should).",
                table,
                summary,
            ]
        )
        if not options.no_record:
            _stack.record_section("Event handler: FastAPI + Mangum or Powertools' resolver", body)
    finally:
        stack.close()


if __name__ == "__main__":
    main()
