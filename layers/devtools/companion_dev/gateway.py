"""A local API Gateway: HTTP in, an HTTP API (v2) event to the function template.yaml routes
it to, the function's response back out. `sam local start-api` without Docker.

Each request runs in one of a few emulated Lambda instances: an instance serves one request
at a time and keeps its own warm database connection, as a real one would.

A request alone in the gateway runs right on the server's thread; while requests overlap
they go to worker threads, one per busy instance. A single client, the usual case locally,
never needs the hand-off to a thread and back (with asyncio and h11 the gateway cost 1.6-1.8
ms a request, now 0.8-0.9 ms: docs/BENCHMARKS.md, "Local gateway").
"""

from __future__ import annotations

import asyncio
import base64
import queue
import threading
import time
from typing import Any

from companion import db
from companion_dev.invoke import LambdaContext, api_gateway_event, call_route

_loops = threading.local()
# How long after two requests overlapped the gateway keeps every request on worker threads.
QUIET_SECONDS = 1.0


def _invoke_as_instance(event: dict[str, Any], instance: int) -> dict[str, Any]:
    # Mangum drives the app on the thread's current event loop, as in the Lambda runtime.
    if getattr(_loops, "loop", None) is None:
        _loops.loop = asyncio.new_event_loop()
    asyncio.set_event_loop(_loops.loop)
    token = db.lambda_instance.set(instance)
    try:
        return call_route(event, LambdaContext(aws_request_id=event["requestContext"]["requestId"]))
    finally:
        db.lambda_instance.reset(token)


def _invoke_inline(event: dict[str, Any], instance: int) -> dict[str, Any]:
    """Run the handler on the server's own thread, inside one of its callbacks.

    The Lambda handler is synchronous and runs its own event loop to completion (Mangum),
    which asyncio refuses while the server's loop is marked running on this thread; the
    mark is lifted for the call and put back after it. The server's loop is blocked
    meanwhile, which is why only a request alone in the gateway runs this way.
    """
    server_loop = asyncio.get_running_loop()
    asyncio._set_running_loop(None)
    try:
        return _invoke_as_instance(event, instance)
    finally:
        asyncio.set_event_loop(server_loop)
        asyncio._set_running_loop(server_loop)


def create_gateway(instances: int = 4, *, inline_when_alone: bool = True):
    """The gateway as an ASGI app. With `inline_when_alone=False` every request goes to a
    worker thread (the gateway as it was; bench_gateway.py's reference)."""
    import anyio

    free: queue.SimpleQueue[int] = queue.SimpleQueue()
    for instance in range(instances):
        free.put(instance)
    limiter = anyio.CapacityLimiter(instances)
    active = 0  # requests between reading their body and sending their response
    last_overlap = float("-inf")  # when two requests were last in the gateway at once

    async def app(scope, receive, send):
        nonlocal active, last_overlap
        if scope["type"] != "http":
            return
        active += 1
        if active > 1:
            last_overlap = time.monotonic()
        try:
            result = await handle(scope, receive)
        finally:
            active -= 1
        await respond(result, send)

    async def handle(scope, receive) -> dict[str, Any]:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        event = api_gateway_event(
            scope["method"],
            scope["path"],
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=body if body else None,
            source_ip=(scope.get("client") or ("127.0.0.1", 0))[0],
        )

        if inline_when_alone:
            # Let requests that arrived together with this one register first. A request
            # run inline holds up every other one, so none runs inline for a while after
            # requests overlapped (under bench_load.py's 50 students, none does).
            await asyncio.sleep(0)
            if active == 1 and time.monotonic() - last_overlap > QUIET_SECONDS:
                instance = free.get()
                try:
                    return _invoke_inline(event, instance)
                finally:
                    free.put(instance)

        def run() -> dict[str, Any]:
            instance = free.get()
            try:
                return _invoke_as_instance(event, instance)
            finally:
                free.put(instance)

        return await anyio.to_thread.run_sync(run, limiter=limiter)

    async def respond(result: dict[str, Any], send) -> None:
        response_headers = [
            (name.lower().encode("latin-1"), str(value).encode("latin-1"))
            for name, value in (result.get("headers") or {}).items()
        ]
        for cookie in result.get("cookies") or []:
            response_headers.append((b"set-cookie", cookie.encode("latin-1")))
        payload = result.get("body") or ""
        data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
        await send(
            {
                "type": "http.response.start",
                "status": result["statusCode"],
                "headers": response_headers,
            }
        )
        await send({"type": "http.response.body", "body": data})

    return app


def serve(host: str, port: int, instances: int = 4) -> None:
    import uvicorn

    uvicorn.run(
        create_gateway(instances),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
