"""What every function's FastAPI app shares: error shapes, the body limit, the Lambda handler.

Every error leaves as JSON with a `detail` a student could be shown and, for domain
errors, a `code` (API.md, "Errors"). Nothing ever answers a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.datastructures import Default, DefaultPlaceholder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.utils import is_body_allowed_for_status_code
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from companion.domain.text import is_valid_text
from companion.errors import ApiError
from companion.observability import logger

MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32
MAX_VALIDATION_ERRORS_LISTED = 10
_TOO_DEEP = f"The request body is nested too deeply (at most {MAX_JSON_DEPTH} levels)."
# Below this a response goes as it is: gzip's framing and the CPU cost outweigh the saving.
GZIP_MINIMUM_BYTES = 1024

# FastAPI and Starlette raise HTTPException themselves only for routing (404, 405) and for a
# body they cannot parse (400); every other error is an ApiError with its own code.
_STATUS_CODES = {400: "bad_request"}


def error_response(status: int, detail: Any, code: str | None, headers=None) -> JSONResponse:
    body = {"detail": detail}
    if code:
        body["code"] = code
    return JSONResponse(body, status_code=status, headers=headers)


def body_problem(body: bytes) -> str | None:
    """Why a JSON body cannot be handled at all, or None (also when it is not JSON: the
    route's own parsing answers 400 for that).

    Refused: text with a NUL character (Postgres cannot store it in text or JSONB) or a
    lone surrogate (UTF-8 cannot encode it, so neither can a JSON answer quoting it), and
    nesting deeper than MAX_JSON_DEPTH (no route reads more than a few levels; deeper
    structures only exhaust recursion in parsers and encoders). Walked with a stack of
    its own, never recursively.
    """
    try:
        value = json.loads(body)
    except RecursionError:
        return _TOO_DEEP
    except ValueError:
        return None
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            return _TOO_DEEP
        if isinstance(item, str):
            if "\x00" in item:
                return "Text may not contain NUL (\\u0000) characters."
            if not is_valid_text(item):
                return (
                    "Text may not contain unpaired surrogates (like \\ud800): "
                    "half of a character is not valid text."
                )
        elif isinstance(item, dict):
            for key, child in item.items():
                pending.append((key, depth + 1))
                pending.append((child, depth + 1))
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)
    return None


class GuardBodyMiddleware:
    """Refuses bodies over 64 KiB (413), and JSON that no route can handle (422, see
    `body_problem`), before routing and authentication: at the door rather than failing
    deep inside a handler or a transaction.
    """

    def __init__(self, app, json_bodies: bool = True) -> None:
        self.app = app
        self.json_bodies = json_bodies

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            await _too_large()(scope, receive, send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > MAX_BODY_BYTES:
                await _too_large()(scope, receive, send)
                return
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        problem = body_problem(body)
        if problem is not None:
            await error_response(422, problem, "invalid_input")(scope, receive, send)
            return

        if self.json_bodies:
            # Every body is JSON (API.md); read it as such whatever content type a client
            # sent (curl -d says form-urlencoded), rather than answer a puzzling 400.
            headers = [(k, v) for k, v in scope.get("headers") or [] if k != b"content-type"]
            scope = {**scope, "headers": [*headers, (b"content-type", b"application/json")]}

        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _too_large() -> JSONResponse:
    return error_response(
        413, f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB.", "payload_too_large"
    )


class CatchAllMiddleware:
    """The outermost layer: an unexpected error becomes a plain 500, logged with its id."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        started = False

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:  # noqa: BLE001 - the last line of defence: never a traceback
            logger.exception("Unhandled error", extra={"path": scope.get("path")})
            if not started:
                await error_response(500, "Internal error", "internal")(scope, receive, send)


def _validation_error(_request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if error.get("type") == "json_invalid":
            return error_response(400, "The request body is not valid JSON.", "bad_request")
        if loc == ("body",) and error.get("type") in (
            "model_attributes_type",
            "dict_type",
            "missing",
        ):
            return error_response(400, "The request body must be a JSON object.", "bad_request")
    # Bounded whatever the body: 6,000 unknown fields are not 6,000 entries, and a
    # 60 KiB field name is not quoted back whole.
    detail = [
        {
            "loc": [_shortened(part) for part in error.get("loc", ())],
            "msg": _shortened(error.get("msg", "")),
            "type": error.get("type"),
        }
        for error in errors[:MAX_VALIDATION_ERRORS_LISTED]
    ]
    if len(errors) > MAX_VALIDATION_ERRORS_LISTED:
        more = len(errors) - MAX_VALIDATION_ERRORS_LISTED
        detail.append(
            {"loc": [], "msg": f"{more} more problems not listed.", "type": "too_many_errors"}
        )
    return error_response(422, detail, None)


def _shortened(value: Any, most: int = 100) -> Any:
    if isinstance(value, str) and len(value) > most:
        return value[: most - 3] + "..."
    return value


def _api_error(request, exc: ApiError) -> JSONResponse:
    headers = dict(exc.headers)
    if exc.status_code == 401:
        from companion.resources import base_url, bearer_challenge

        # RFC 9728 §5.1: tell the client where to learn how to get a token for this resource.
        headers["WWW-Authenticate"] = bearer_challenge(base_url(request), request.url.path)
    return error_response(exc.status_code, exc.detail, exc.code, headers or None)


def _http_error(_request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code in (404, 405):
        return error_response(404, "There is no such endpoint.", "not_found")
    detail = exc.detail if isinstance(exc.detail, str) else "The request could not be handled."
    return error_response(
        exc.status_code, detail, _STATUS_CODES.get(exc.status_code), getattr(exc, "headers", None)
    )


@dataclass(frozen=True)
class Operation:
    """What a route says about itself in OpenAPI beyond its signature, the one source for
    its function's schema and for the Actions document (companion_dev.openapi).

    `description` and `returns_description` are written for a language model (ChatGPT
    Actions: at most 300 characters an operation). `returns` names the success body, a
    model of companion.schemas as "module.Model"; `errors` are the error statuses besides
    503, which every route can answer; `error_notes` replace the usual description of an
    error status, and `error_models` give one a body model of its own. `consequential`:
    whether ChatGPT asks the student to confirm every call (None: its default).
    """

    operation_id: str
    description: str
    returns: str | None
    returns_description: str
    errors: tuple[int, ...] = ()
    status: int = 200
    headers: dict[str, dict] | None = None
    error_notes: dict[int, str] = field(default_factory=dict)
    error_models: dict[int, str] = field(default_factory=dict)
    consequential: bool | None = None

    @property
    def error_statuses(self) -> list[int]:
        return sorted({*self.errors, 503})


def operation(**documentation: Any):
    """Attaches an `Operation` to a route's endpoint.

    Turned into responses only when the schema is asked for: FastAPI builds a field for
    every declared response model when a route is registered, which cost ~10 ms a route of
    cold start for documentation no request needs.
    """
    described = Operation(**documentation)

    def attach(endpoint):
        endpoint.__operation__ = described
        return endpoint

    return attach


def operation_of(route) -> Operation | None:
    return getattr(getattr(route, "endpoint", None), "__operation__", None)


def _responses(described: Operation) -> dict[int, dict]:
    import importlib

    from companion.schemas import ERROR_DESCRIPTIONS, ErrorBody

    def model_of(name: str):
        module, _, attribute = name.rpartition(".")
        return getattr(importlib.import_module(f"companion.schemas.{module}"), attribute)

    success: dict = {"description": described.returns_description}
    if described.returns:
        success["model"] = model_of(described.returns)
    if described.headers:
        success["headers"] = described.headers
    responses = {described.status: success}
    for status in described.error_statuses:
        model = described.error_models.get(status)
        responses[status] = {
            "model": model_of(model) if model else ErrorBody,
            "description": described.error_notes.get(status, ERROR_DESCRIPTIONS[status]),
        }
    return responses


def _documented_route(route, described: Operation):
    """The route again, with its Operation's responses, description and operationId: every
    argument of APIRoute is copied from the route, so nothing a route declares is lost."""
    import inspect

    arguments = {}
    for name in list(inspect.signature(APIRoute.__init__).parameters)[1:]:
        if not hasattr(route, name):
            raise TypeError(f"APIRoute keeps no {name!r}: cannot rebuild {route.path}")
        arguments[name] = getattr(route, name)
    arguments["responses"] = {**route.responses, **_responses(described)}
    arguments["description"] = described.description
    arguments["operation_id"] = described.operation_id
    arguments["response_model"] = None  # the Operation's `returns` documents the answer
    if _needs_caller(route.dependant):
        from fastapi import Security

        from companion.deps import bearer

        arguments["dependencies"] = [*route.dependencies, Security(bearer)]
    return APIRoute(**arguments)


def _needs_caller(dependant) -> bool:
    """Whether a route reads its caller from a bearer token (companion.deps)."""
    from companion.deps import CALLER_DEPENDENCIES

    return any(
        sub.call in CALLER_DEPENDENCIES or _needs_caller(sub) for sub in dependant.dependencies
    )


def _openapi(app: FastAPI) -> dict:
    """The app's OpenAPI schema, with each route's Operation (built once)."""
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        routes = []
        for route in app.routes:
            described = operation_of(route)
            routes.append(_documented_route(route, described) if described else route)
        app.openapi_schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=routes
        )
    return app.openapi_schema


class JsonRoute(APIRoute):
    """A route whose JSON answer pydantic's serializer writes (in Rust, straight to bytes)
    from whatever the endpoint returns, rather than FastAPI's jsonable_encoder, a walk of the
    whole body in Python before json.dumps: 0.25-0.35 ms of every 2-20 KB answer, the same
    bytes. Declaring the response model `Any` is what selects that path; the schema's
    response models come from each route's Operation, as before."""

    def __init__(
        self, path: str, endpoint, *, response_model: Any = Default(None), **arguments
    ) -> None:
        if isinstance(response_model, DefaultPlaceholder) and is_body_allowed_for_status_code(
            arguments.get("status_code")
        ):
            response_model = Any
        super().__init__(path, endpoint, response_model=response_model, **arguments)


def create_app(title: str, description: str, *, json_bodies: bool = True) -> FastAPI:
    """A function's app. Its routes and dependencies are `async def` although they block on
    the database: a Lambda invocation is one request on Mangum's own event loop, with nothing
    else to share it, and running inline saves two worker-thread hops per request (about
    half the warm latency of a read, measured in docs/BENCHMARKS.md)."""
    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # Tracing is Powertools' (X-Ray, EnableTracing); FastAPI's own OpenTelemetry, with no
        # provider configured, would only look for one on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.router.route_class = JsonRoute
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # The OAuth endpoints take form bodies (RFC 6749): they parse their own.
    app.add_middleware(GuardBodyMiddleware, json_bodies=json_bodies)
    # Compresses for a client that sends Accept-Encoding: gzip (a chapter's 20 KB of JSON
    # leaves as about 8 KB). Mangum returns such a body base64-encoded, as API Gateway
    # requires: a gzip stream's second byte (0x8b) is never valid UTF-8.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=6)
    app.add_middleware(CatchAllMiddleware)
    app.openapi = lambda: _openapi(app)
    return app


def lambda_handler(app: FastAPI):
    """The Lambda entry point for an app: Mangum behind Powertools' logging. (No route emits
    a metric: Powertools' log_metrics would only warn, on every request, that it had none.)"""
    from aws_lambda_powertools.logging import correlation_paths
    from mangum import Mangum

    from companion.observability import traced

    asgi = Mangum(app, lifespan="off")

    @logger.inject_lambda_context(
        correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
    )
    def handler(event, context):
        return asgi(event, context)

    return traced(handler)
