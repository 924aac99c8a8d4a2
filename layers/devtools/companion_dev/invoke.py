"""Invoke the functions in-process, the Docker-free twin of `sam local invoke`/`start-api`.

Routing reads template.yaml (companion_dev.template), so what runs locally is what the
template deploys.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from companion_dev import template


@dataclass
class LambdaContext:
    """What the Lambda runtime hands a handler, as far as our handlers read it."""

    aws_request_id: str = "local-request"
    function_name: str = "local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:local"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    deadline_ms: float | None = None

    def get_remaining_time_in_millis(self) -> int:
        if self.deadline_ms is None:
            return 300_000
        return max(0, int(self.deadline_ms - time.time() * 1000))


def api_gateway_event(
    method: str,
    path: str,
    *,
    query_string: str = "",
    headers: dict[str, str] | None = None,
    body: str | bytes | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """An HTTP API payload-2.0 event for a request, with the template's route filled in."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    # What API Gateway always sends; locally the API is plain http.
    headers.setdefault("host", "localhost")
    headers.setdefault("x-forwarded-proto", "http")
    match = template.route_for_request(method, path)
    route_key = f"{match[0].method} {match[0].path}" if match else "$default"
    is_binary = isinstance(body, bytes)
    if is_binary:
        try:
            body = body.decode("utf-8")
            is_binary = False
        except UnicodeDecodeError:
            body = base64.b64encode(body).decode()
    now = datetime.now(UTC)
    query: dict[str, str] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query_string,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", "companion-local"),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": is_binary,
    }
    if "cookie" in headers:
        # API Gateway hands cookies over in their own list, not as a header.
        event["cookies"] = [part.strip() for part in headers.pop("cookie").split(";")]
    if query:
        event["queryStringParameters"] = query
    if match and match[1]:
        event["pathParameters"] = dict(match[1])  # a copy: the match is remembered
    if body is not None:
        event["body"] = body
    return event


def _not_found() -> dict[str, Any]:
    return {
        "statusCode": 404,
        "headers": {"content-type": "application/json"},
        "body": '{"detail": "There is no such endpoint.", "code": "not_found"}',
        "isBase64Encoded": False,
    }


def function_for(event: dict[str, Any]) -> tuple[str, Callable] | None:
    """The function whose route the event's routeKey names, as (logical id, Lambda handler),
    as API Gateway picks it once it has matched the request (api_gateway_event matched it
    already); None where no route matched (API Gateway's 404)."""
    route = template.route_for_key(event["routeKey"])
    if route is None:
        return None
    return route.function, template.load_handler(route.function)


def call_route(event: dict[str, Any], context: LambdaContext | None = None) -> dict[str, Any]:
    """Hand an API Gateway event to the function that the template routes it to."""
    routed = function_for(event)
    if routed is None:
        return _not_found()
    logical_id, handler = routed
    return handler(event, context or LambdaContext(function_name=logical_id))


def invoke(logical_id: str, event: dict[str, Any]) -> Any:
    """Run one function on one event (any kind), as `sam local invoke` would."""
    handler = template.load_handler(logical_id)
    return handler(event, LambdaContext(function_name=logical_id))
