"""One OpenAPI document for the chat app's Actions, built from the four functions' apps.

Each function's FastAPI app knows its own routes, parameters and request bodies; this
module merges them and adds what an Actions client needs and the apps do not say: one
verb-noun `operationId` per route, descriptions written for a language model (within
Actions' limits of 300 characters per operation and 700 per parameter), bearer auth on
the /v1 routes, the error responses, and `x-openai-isConsequential` on the two operations
a student must confirm every time. Actions cannot send custom request headers, so header
parameters are dropped (the quiz's idempotency key travels in the body there).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from companion.oauth import SCOPE, SCOPE_DESCRIPTION
from companion.oauth.metadata import AUTHORIZE_PATH, TOKEN_PATH
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


@dataclass(frozen=True)
class Operation:
    operation_id: str
    summary: str
    description: str
    success: str  # what the 2xx response carries, for the caller
    errors: tuple[int, ...]
    consequential: bool | None = None  # None: leave ChatGPT's default
    error_notes: dict[int, str] = field(default_factory=dict)


# (method, path as in template.yaml) -> what the Actions document says about it.
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("POST", "/auth/register"): Operation(
        "registerStudent",
        "Create a student account.",
        "Creates a student account on the free plan from an e-mail, a password (8 characters "
        "to 72 bytes), an optional full_name and an IANA timezone. Use only when the student "
        "asks to sign up.",
        "The new student's user_id and normalised e-mail.",
        (400, 409, 413, 422, 429, 503),
        consequential=None,
    ),
    ("POST", "/auth/login"): Operation(
        "logIn",
        "Exchange e-mail and password for an access token.",
        "Exchanges the student's e-mail and password for a bearer access token that expires "
        "after expires_in seconds. After 5 failed logins for one e-mail in 15 minutes (or 100 "
        "failed logins and registrations from one network) the answer is 429 rate_limited "
        "until Retry-After seconds pass.",
        "access_token, token_type (bearer), exp (unix seconds) and expires_in (seconds).",
        (400, 401, 413, 422, 429, 503),
        consequential=False,
        error_notes={401: "Wrong e-mail or password (code invalid_credentials)."},
    ),
    ("GET", "/v1/me"): Operation(
        "getProfile",
        "The student's profile and plan.",
        "Returns the student's profile: e-mail, full_name, timezone, the plan "
        "(subscription_tier, subscription_expires_at) and effective_tier, which decides "
        "whether premium chapters 4-6 are open.",
        "user_id, email, full_name, timezone, subscription_tier, subscription_expires_at, "
        "effective_tier, created_at, last_active_at.",
        (401, 503),
    ),
    ("PATCH", "/v1/me"): Operation(
        "updateProfile",
        "Change the student's name or timezone.",
        "Changes the student's full_name and/or timezone (an IANA name such as Europe/Paris; "
        "it also sets when the streak's days begin and end). Send only the fields to change.",
        "The updated profile, as getProfile returns it.",
        (400, 401, 413, 422, 503),
    ),
    ("DELETE", "/v1/me"): Operation(
        "deleteAccount",
        "Permanently delete the student's account.",
        "Permanently deletes the student's account with all progress, quiz attempts and "
        "streak. It cannot be undone. Call only after the student has explicitly confirmed "
        "that they want their account deleted.",
        "No content: the account is gone and its token stops working.",
        (401, 503),
        consequential=True,
    ),
    ("GET", "/v1/me/export"): Operation(
        "exportMyData",
        "Everything stored about the student.",
        "Returns every record held about the student: profile, chapter progress, quiz "
        "attempts with answers and grading, and the streak. Only when the student asks for "
        "their data. Pass attempts_limit=10 and follow quiz_attempts_next page by page.",
        "exported_at, student, chapter_progress, quiz_attempts (one page), quiz_attempts_next "
        "(the cursor for the next page, null at the end) and streak.",
        (401, 503),
    ),
    ("GET", "/v1/chapters"): Operation(
        "listChapters",
        "The six chapters, in order, with what is locked.",
        "Lists the course's six chapters in order: chapter_id, number, title, access_tier, "
        "estimated minutes, quiz_id and locked (true when the student's plan cannot open "
        "it). Call it to find chapter and quiz ids; never guess an id.",
        "chapters (in course order) and total.",
        (401, 503),
    ),
    ("GET", "/v1/chapters/{chapter_id}"): Operation(
        "getChapter",
        "A whole chapter, exactly as written.",
        "Returns a whole chapter exactly as written: learning objectives and every section's "
        "content_markdown, plus navigation ids. Quote from it rather than from memory. "
        "Marks the chapter in progress and counts as study for the streak.",
        "Every field of the chapter (sections with content_markdown) and navigation "
        "{previous_chapter_id, next_chapter_id}.",
        (401, 403, 404, 503),
    ),
    ("GET", "/v1/chapters/{chapter_id}/sections/{section_id}"): Operation(
        "getSection",
        "One section of a chapter, exactly as written.",
        "Returns one section exactly as written (content_markdown). Prefer it to getChapter "
        "when one part is needed, such as a section from searchCourse or a quiz's "
        "review_sections. Counts as study for the streak.",
        "chapter_id, section_id, title, order, estimated_time_minutes, content_markdown.",
        (401, 403, 404, 503),
    ),
    ("GET", "/v1/chapters/{chapter_id}/next"): Operation(
        "getNextChapter",
        "The chapter after this one.",
        "Returns a summary of the chapter after chapter_id (id, title, quiz_id, locked) "
        "without opening it or recording progress. 404 not_found after the last chapter.",
        "A chapter summary, as in listChapters.",
        (401, 404, 503),
    ),
    ("GET", "/v1/chapters/{chapter_id}/previous"): Operation(
        "getPreviousChapter",
        "The chapter before this one.",
        "Returns a summary of the chapter before chapter_id (id, title, quiz_id, locked) "
        "without opening it or recording progress. 404 not_found before the first chapter.",
        "A chapter summary, as in listChapters.",
        (401, 404, 503),
    ),
    ("GET", "/v1/search"): Operation(
        "searchCourse",
        "The course sections that best answer a question.",
        "Finds the course sections that best answer a question, best first, each with a "
        "verbatim excerpt and its chapter and section ids and titles. Use it before "
        "answering a course question and cite the chapter and section. A locked result has "
        "no excerpt: it is premium.",
        "query and results [{chapter_id, chapter_title, section_id, section_title, excerpt, "
        "score, locked}]; an empty list when nothing matches.",
        (401, 422, 503),
    ),
    ("GET", "/health"): Operation(
        "getHealth",
        "Whether the service is up.",
        "Reports whether the service's database, cache and content store answer. Needs no "
        "sign-in. Use it only to tell the student whether the course service is down.",
        "status, database, cache and content.",
        (503,),
        error_notes={
            503: "The database or content store is down; the body has the same fields as 200."
        },
    ),
    ("GET", "/v1/quizzes/{quiz_id}"): Operation(
        "getQuiz",
        "A chapter's quiz questions, without answers.",
        "Returns a chapter's quiz: passing_score and its questions (question_id, text, type, "
        "options for multiple-choice), never the answers. Show the questions as written and "
        "collect the student's own answers; do not answer them yourself.",
        "quiz_id, chapter_id, passing_score and questions.",
        (401, 403, 404, 503),
    ),
    ("POST", "/v1/quizzes/{quiz_id}/submit"): Operation(
        "submitQuiz",
        "Grade the student's answers and record the attempt.",
        "Grades the student's answers by fixed rules and records the attempt. Send only the "
        "student's own answers, never your guesses. Always send a new UUID as "
        "idempotency_key; reuse it only to retry this same submission after a timeout.",
        "attempt_id, score, passed, passing_score, grading_details per question (with "
        "feedback and a review pointer when wrong), review_sections to reread, best_score, "
        "chapter_status and streak.",
        (400, 401, 403, 404, 413, 422, 503),
        consequential=True,
        error_notes={
            422: "An answer or field is invalid (detail names the valid choices), an unknown "
            "question id (code invalid_input), or an idempotency_key already used for a "
            "different submission (code idempotency_key_reused: make a new key)."
        },
    ),
    ("GET", "/v1/quizzes/{quiz_id}/attempts"): Operation(
        "listAttempts",
        "The student's attempts at a quiz, newest first.",
        "Lists the student's attempts at a quiz, newest first (attempt_id, score, passed, "
        "submitted_at), with the best score so far.",
        "attempts (newest first) and best_score.",
        (401, 403, 404, 503),
    ),
    ("GET", "/v1/quizzes/{quiz_id}/attempts/{attempt_id}"): Operation(
        "getAttempt",
        "One past attempt with its grading.",
        "Returns one of the student's past attempts with their answers, the grading of each "
        "question and the review_sections to reread.",
        "attempt_id, quiz_id, score, passed, answers, grading_details, submitted_at and "
        "review_sections.",
        (401, 403, 404, 503),
    ),
    ("GET", "/v1/progress"): Operation(
        "getProgress",
        "The student's progress, streak and next step.",
        "Returns the student's progress on all six chapters (status, best quiz score, "
        "reading minutes), percentage complete, the streak, and next_step: the action to "
        "take next with a one-sentence message. Use it to coach the student.",
        "chapters, completed_chapters, total_chapters, progress_percentage, streak and "
        "next_step {action, chapter_id, quiz_id, section_ids, message}.",
        (401, 503),
    ),
    ("POST", "/v1/progress/{chapter_id}/time"): Operation(
        "logReadingTime",
        "Add reading time to a chapter.",
        "Adds minutes (1-240) the student spent reading a chapter; starts the chapter if "
        "needed and counts as study for the streak. Log only time the student reports or "
        "confirms.",
        "The chapter's progress entry, as in getProgress.",
        (400, 401, 403, 404, 413, 422, 503),
        consequential=False,
    ),
    ("GET", "/v1/streak"): Operation(
        "getStreak",
        "The student's learning streak.",
        "Returns the learning streak in days: current and longest, active_today, at_risk "
        "(the streak ends unless the student studies before day_ends_at), next_milestone "
        "and milestone_message.",
        "current_streak, longest_streak, last_activity_date, timezone, active_today, "
        "at_risk, day_ends_at, next_milestone, milestone_message.",
        (401, 503),
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

ERROR_DESCRIPTIONS = {
    400: "The body is not a JSON object (code bad_request).",
    401: (
        "The access token is missing, expired or invalid, or the account no longer exists "
        "(code unauthorized): the student must sign in again."
    ),
    403: (
        "The chapter, section or quiz is in the premium plan and the student does not have "
        "it (code premium_required): relay detail and mention upgrading."
    ),
    404: "No such chapter, section, quiz or attempt, or no chapter there (code not_found).",
    409: "That e-mail address is already registered (code email_taken).",
    413: "The request body is larger than 64 KiB (code payload_too_large).",
    422: (
        "A field is invalid: detail is a list naming each field and what is wrong, or a "
        "sentence with a code."
    ),
    429: "Too many failed logins or registrations (code rate_limited): wait Retry-After seconds.",
    503: "The service is briefly unavailable (code unavailable): try again shortly.",
}

_VALIDATION_SCHEMA_REF = "#/components/schemas/HTTPValidationError"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class UndocumentedRoute(LookupError):
    """A route exists that this module has no Actions entry (operationId, description) for."""


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


def _error_response(status: int, operation: Operation) -> dict[str, Any]:
    description = operation.error_notes.get(status, ERROR_DESCRIPTIONS[status])
    error_ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
    schema: dict[str, Any] = error_ref
    if status == 422:
        schema = {"anyOf": [error_ref, {"$ref": _VALIDATION_SCHEMA_REF}]}
    response: dict[str, Any] = {
        "description": description,
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
    response["description"] = operation.success
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


def _actions_operation(
    path: str, source: dict[str, Any], operation: Operation, health_schema: dict | None = None
) -> dict[str, Any]:
    built: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
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
    errors = set(operation.errors)
    # A body or query parameter can fail validation (FastAPI also lists 422 for routes with
    # only path parameters, where a string always validates).
    if "requestBody" in source or any(p.get("in") == "query" for p in parameters):
        errors.add(422)
    for status in sorted(errors):
        responses[str(status)] = _error_response(status, operation)
    if path == "/health" and health_schema is not None:
        responses["503"]["content"] = {"application/json": {"schema": health_schema}}
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
    # app.openapi() caches its dict: work on copies so the apps' own schemas stay as they are.
    apps = {function: copy.deepcopy(load_app(function).openapi()) for function in FUNCTIONS}
    schemas: dict[str, Any] = {}
    sources: dict[tuple[str, str], dict[str, Any]] = {}
    versions = set()
    for function, spec in apps.items():
        versions.add(spec.get("info", {}).get("version"))
        renames = _merge_schemas(schemas, spec.get("components", {}).get("schemas", {}), function)
        for path, item in spec.get("paths", {}).items():
            for method, source in item.items():
                if method in _METHODS:
                    sources[(method.upper(), path)] = _rewrite_refs(source, renames)

    undocumented = sorted(f"{method} {path}" for method, path in set(sources) - set(OPERATIONS))
    if undocumented:
        raise UndocumentedRoute(
            "no Actions entry for " + ", ".join(undocumented) + ": add it to OPERATIONS"
        )

    schemas[ERROR_SCHEMA] = _api_error_schema()
    health_schema = (
        sources.get(("GET", "/health"), {})
        .get("responses", {})
        .get("200", {})
        .get("content", {})
        .get("application/json", {})
        .get("schema")
    ) or {"type": "object"}

    paths: dict[str, dict[str, Any]] = {}
    routes = [route for route in load_routes() if route.function in FUNCTIONS]
    for route in routes:
        key = (route.method, route.path)
        if key not in sources:
            raise UndocumentedRoute(f"{route.route_key} is in template.yaml but not in its app")
        paths.setdefault(route.path, {})[route.method.lower()] = _actions_operation(
            route.path, sources[key], OPERATIONS[key], health_schema
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
