"""One OpenAPI document for the chat app's Actions, built from the four functions' apps.

Each function's FastAPI app knows its own routes, parameters and request bodies, and each
route its `Operation` (companion.web: operationId, descriptions written for a language
model within Actions' limit of 300 characters, error statuses, whether a student must
confirm every call). This module merges them and adds what an Actions client needs and the
apps do not say: parameter descriptions (at most 700 characters), bearer auth on the /v1
routes, the error bodies, and `x-openai-isConsequential`. Actions cannot send custom
request headers, so header parameters are dropped (the quiz's idempotency key travels in
the body there).
"""

from __future__ import annotations

import copy
from typing import Any

from companion.oauth import SCOPE, SCOPE_DESCRIPTION
from companion.oauth.metadata import AUTHORIZE_PATH, TOKEN_PATH
from companion.schemas import ERROR_DESCRIPTIONS
from companion.web import Operation, operation_of
from companion_dev.template import load_app, load_routes

DEFAULT_SERVER_URL = "https://{api_id}.execute-api.{region}.amazonaws.com"

FUNCTIONS = ("AuthFunction", "ContentFunction", "QuizFunction", "ProgressFunction")

SECURITY_SCHEME = "bearerAuth"
OAUTH_SCHEME = "oauth2"
ERROR_SCHEMA = "ApiError"

INFO = {
    "title": "Course Companion",
    "description": (
        "A six-chapter Generative AI course: read its chapters verbatim, search it, take "
        "graded quizzes, and follow the student's progress, streak and next step. Grading "
        "and all course facts come from this API, never from the assistant."
    ),
}


PARAMETERS = {
    "chapter_id": (
        "A chapter_id from listChapters, such as 01-intro-genai (not the chapter number)."
    ),
    "section_id": (
        "A section_id from getChapter, searchCourse or a quiz's review_sections, such as "
        "01-what-is-genai."
    ),
    "quiz_id": "A quiz_id from listChapters, such as 01-quiz.",
    "attempt_id": "An attempt_id from submitQuiz or listAttempts (a UUID).",
    "q": (
        "The student's question or topic in plain words, 1-200 characters. Matching ignores "
        "case and word endings, so use the key terms rather than a long sentence."
    ),
    "limit": "How many sections to return, 1 to 20 (default 5).",
}

IDEMPOTENCY_KEY_FIELD = "idempotency_key"
IDEMPOTENCY_KEY_DESCRIPTION = (
    "Make a new random UUID for every new submission. If the call times out or fails "
    "without a result, retry with the same key and the same answers: the original result is "
    "returned and nothing is counted twice. A key reused for other answers is refused "
    "(422 idempotency_key_reused). This body field replaces the Idempotency-Key header, "
    "which Actions cannot send."
)

_VALIDATION_SCHEMA_REF = "#/components/schemas/HTTPValidationError"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class UndocumentedRoute(LookupError):
    """A route of the functions' apps declares no `Operation` (companion.web)."""


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    prefix = "#/components/schemas/"
    if isinstance(node, dict):
        rewritten = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(prefix):
                name = value[len(prefix) :]
                rewritten[key] = prefix + renames.get(name, name)
            else:
                rewritten[key] = _rewrite_refs(value, renames)
        return rewritten
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node


def _merge_schemas(
    merged: dict[str, Any], schemas: dict[str, Any], function: str
) -> dict[str, str]:
    """Adds one app's component schemas; returns the renames its own $refs need.

    The same name with the same schema (FastAPI's HTTPValidationError, say) is kept once; the
    same name with a different schema is a real clash, so this app's copy gets a prefix.
    """
    prefix = function.removesuffix("Function")
    renames = {}
    for name, schema in schemas.items():
        if name in merged and merged[name] != schema:
            renamed = prefix + name
            if renamed in merged and merged[renamed] != schema:
                raise ValueError(f"cannot merge schema {name!r} of {function}: {renamed} taken")
            renames[name] = renamed
    for name, schema in schemas.items():
        merged[renames.get(name, name)] = _rewrite_refs(schema, renames)
    return renames


def _error_response(status: int, operation: Operation, source: dict[str, Any]) -> dict[str, Any]:
    error_ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
    schema: dict[str, Any] = error_ref
    if status in operation.error_models:
        schema = source["responses"][str(status)]["content"]["application/json"]["schema"]
    elif status == 422:
        schema = {"anyOf": [error_ref, {"$ref": _VALIDATION_SCHEMA_REF}]}
    response: dict[str, Any] = {
        "description": operation.error_notes.get(status, ERROR_DESCRIPTIONS[status]),
        "content": {"application/json": {"schema": schema}},
    }
    if status == 429:
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {"type": "integer"},
            }
        }
    return response


def _success_response(response: dict[str, Any], operation: Operation) -> dict[str, Any]:
    response = dict(response)
    response["description"] = operation.returns_description
    content = response.get("content", {}).get("application/json")
    if content is not None and not content.get("schema"):
        # FastAPI says `{}` for a route without a response model; every body is an object.
        response["content"] = {"application/json": {**content, "schema": {"type": "object"}}}
    return response


def _parameters(parameters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kept = []
    for parameter in parameters:
        if parameter.get("in") == "header":
            continue  # Actions cannot send custom request headers
        parameter = copy.deepcopy(parameter)
        description = PARAMETERS.get(parameter["name"])
        if description:
            parameter["description"] = description
            parameter.get("schema", {}).pop("description", None)
        kept.append(parameter)
    return kept


def _actions_operation(path: str, source: dict[str, Any], operation: Operation) -> dict[str, Any]:
    built: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": source["summary"],
        "description": operation.description,
    }
    parameters = _parameters(source.get("parameters", []))
    if parameters:
        built["parameters"] = parameters
    if "requestBody" in source:
        built["requestBody"] = source["requestBody"]

    responses = {}
    for status, response in source.get("responses", {}).items():
        if status.startswith("2"):
            responses[status] = _success_response(response, operation)
    errors = set(operation.error_statuses)
    # A body or query parameter can fail validation (FastAPI also lists 422 for routes with
    # only path parameters, where a string always validates).
    if "requestBody" in source or any(p.get("in") == "query" for p in parameters):
        errors.add(422)
    for status in sorted(errors):
        responses[str(status)] = _error_response(status, operation, source)
    built["responses"] = responses

    if path.startswith("/v1/"):
        # Either sign-in works: OAuth for a GPT shared with a class, a pasted token for one.
        built["security"] = [{OAUTH_SCHEME: [SCOPE]}, {SECURITY_SCHEME: []}]
    if operation.consequential is not None:
        built["x-openai-isConsequential"] = operation.consequential
    return built


def _describe_idempotency_key(document: dict[str, Any]) -> None:
    """The submit body's idempotency_key: required here, so a retry is always safe."""
    submit = document["paths"]["/v1/quizzes/{quiz_id}/submit"]["post"]
    schema = submit["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    properties = schema.get("properties", {})
    if IDEMPOTENCY_KEY_FIELD not in properties:
        raise ValueError("the quiz submission body has no idempotency_key field")
    key = properties[IDEMPOTENCY_KEY_FIELD]
    if "anyOf" in key:  # `str | None`: Actions always send one, so only the string remains
        key = next(option for option in key["anyOf"] if option.get("type") == "string")
    properties[IDEMPOTENCY_KEY_FIELD] = {
        **key,
        "title": "Idempotency Key",
        "description": IDEMPOTENCY_KEY_DESCRIPTION,
        "format": "uuid",
    }
    properties[IDEMPOTENCY_KEY_FIELD].pop("default", None)
    required = schema.setdefault("required", [])
    if IDEMPOTENCY_KEY_FIELD not in required:
        required.append(IDEMPOTENCY_KEY_FIELD)


def _api_error_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "title": "ApiError",
        "description": "Every error: a detail to relay to the student and, usually, a code.",
        "properties": {
            "detail": {
                "type": "string",
                "description": "A sentence the student can be shown as it is.",
            },
            "code": {
                "type": "string",
                "description": (
                    "Machine-readable reason: bad_request, unauthorized, invalid_credentials, "
                    "premium_required, not_found, email_taken, payload_too_large, "
                    "invalid_input, idempotency_key_reused, rate_limited, unavailable."
                ),
            },
        },
        "required": ["detail"],
    }


def _one_version(versions: set[str | None]) -> str:
    if len(versions) != 1 or None in versions:
        raise ValueError(
            f"the functions' apps disagree on their version: {sorted(map(str, versions))}"
        )
    return next(iter(versions))


def actions_document(server_url: str = DEFAULT_SERVER_URL) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ChatGPT Actions covering every route of template.yaml."""
    apps = {function: load_app(function) for function in FUNCTIONS}
    operations = {
        (method, route.path): operation_of(route)
        for app in apps.values()
        for route in app.routes
        if operation_of(route)
        for method in route.methods
    }
    schemas: dict[str, Any] = {}
    sources: dict[tuple[str, str], dict[str, Any]] = {}
    versions = set()
    for function, app in apps.items():
        spec = copy.deepcopy(app.openapi())  # openapi() caches its dict: leave that one be
        versions.add(spec.get("info", {}).get("version"))
        renames = _merge_schemas(schemas, spec.get("components", {}).get("schemas", {}), function)
        for path, item in spec.get("paths", {}).items():
            for method, source in item.items():
                if method in _METHODS:
                    sources[(method.upper(), path)] = _rewrite_refs(source, renames)

    undocumented = sorted(f"{method} {path}" for method, path in set(sources) - set(operations))
    if undocumented:
        raise UndocumentedRoute(
            "no Operation for " + ", ".join(undocumented) + ": add @operation(...) to the route"
        )

    schemas[ERROR_SCHEMA] = _api_error_schema()

    paths: dict[str, dict[str, Any]] = {}
    routes = [route for route in load_routes() if route.function in FUNCTIONS]
    for route in routes:
        key = (route.method, route.path)
        if key not in sources:
            raise UndocumentedRoute(f"{route.route_key} is in template.yaml but not in its app")
        paths.setdefault(route.path, {})[route.method.lower()] = _actions_operation(
            route.path, sources[key], operations[key]
        )

    document = {
        "openapi": "3.1.0",
        "info": {**INFO, "version": _one_version(versions)},
        "servers": [
            {
                "url": "{baseUrl}",
                "description": "The deployed API (the stack's ApiUrl output, no trailing slash).",
                "variables": {"baseUrl": {"default": server_url}},
            }
        ],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                OAUTH_SCHEME: {
                    "type": "oauth2",
                    "description": "Each student signs in as themselves (OAuth 2.1 "
                    "authorization code; docs/CHATGPT_ACTIONS.md).",
                    "flows": {
                        "authorizationCode": {
                            "authorizationUrl": server_url + AUTHORIZE_PATH,
                            "tokenUrl": server_url + TOKEN_PATH,
                            "refreshUrl": server_url + TOKEN_PATH,
                            "scopes": {SCOPE: "To " + SCOPE_DESCRIPTION + "."},
                        }
                    },
                },
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "The student's access token from logIn.",
                },
            },
        },
    }
    _describe_idempotency_key(document)
    return document
