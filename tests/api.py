"""Drive the functions as API Gateway does: an HTTP API (v2) event, routed by template.yaml,
handed to the function's real Lambda handler."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from companion_dev.invoke import LambdaContext, api_gateway_event, call_route


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any
    raw: dict = field(repr=False)

    def __getitem__(self, key):
        return self.body[key]


def random_address() -> str:
    """A private address: clients of the suite come from many addresses, as students do,
    so the per-address throttle only counts where a test means it to."""
    import random

    return "10." + ".".join(str(random.randint(0, 255)) for _ in range(3))


class Api:
    """A client for the whole API, one student's token at a time, from one client address."""

    def __init__(self, token: str | None = None, source_ip: str | None = None) -> None:
        self.token = token
        self.source_ip = source_ip or random_address()

    def event(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        *,
        raw_body: str | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, Any] | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """The API Gateway event `request` hands the function (the benchmarks build it outside
        their timers)."""
        all_headers = {"content-type": "application/json"}
        bearer = token if token is not None else self.token
        if bearer:
            all_headers["authorization"] = f"Bearer {bearer}"
        all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
        body = (
            raw_body
            if raw_body is not None
            else (None if json_body is None else json.dumps(json_body))
        )
        return api_gateway_event(
            method,
            path,
            query_string=urlencode(query or {}),
            headers=all_headers,
            body=body,
            source_ip=self.source_ip,
        )

    def request(self, method: str, path: str, json_body: Any = None, **kwargs) -> Response:
        """`kwargs`: `event`'s (raw_body, headers, query, token)."""
        event = self.event(method, path, json_body, **kwargs)
        result = call_route(event, LambdaContext(aws_request_id=str(uuid.uuid4())))
        text = result.get("body") or ""
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return Response(
            status=result["statusCode"],
            headers={k.lower(): v for k, v in (result.get("headers") or {}).items()},
            body=parsed,
            raw=result,
        )

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, json_body=None, **kwargs):
        return self.request("POST", path, json_body, **kwargs)

    def patch(self, path, json_body=None, **kwargs):
        return self.request("PATCH", path, json_body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)
