"""Schemathesis against each function's OpenAPI schema, through the real Lambda handlers.

Every generated request goes through the local API Gateway (an HTTP API v2 event routed by
template.yaml and handed to the function's real handler), with a premium student's token
(DELETE /v1/me gets a fresh student for every request).

The apps' own schemas (FastAPI's `app.openapi()`) document only 2xx and FastAPI's 422. The
error responses API.md promises (its "Errors" table: `{detail, code}`, 401 with
`WWW-Authenticate`, 422 that may also be a domain error) are added here where an app does
not declare them yet, so schemathesis checks the responses against the contract: no 5xx,
no status the contract does not allow for that route, and every body of the declared shape.
Path parameters also get the course's real ids as one alternative, so generated requests
reach real chapters and grading, not only 404s.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api import Api
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from companion import db
from companion_dev.admin import set_tier
from companion_dev.gateway import create_gateway
from companion_dev.template import load_app

CONTENT = Path(__file__).resolve().parents[2] / "shared" / "content"
FUNCTIONS = {
    "auth": "AuthFunction",
    "content": "ContentFunction",
    "quiz": "QuizFunction",
    "progress": "ProgressFunction",
}
MAX_EXAMPLES = 30

# The gateway's emulated Lambda instances each keep their own warm connection; one is enough.
GATEWAY = create_gateway(instances=1)


def _course_ids() -> dict[str, list[str]]:
    chapters = [json.loads(p.read_bytes()) for p in sorted((CONTENT / "chapters").glob("*.json"))]
    quizzes = [json.loads(p.read_bytes()) for p in sorted((CONTENT / "quizzes").glob("*.json"))]
    return {
        "chapter_id": [chapter["chapter_id"] for chapter in chapters],
        "section_id": [s["section_id"] for chapter in chapters for s in chapter["sections"]],
        "quiz_id": [quiz["quiz_id"] for quiz in quizzes],
        "question_id": sorted(
            {q["question_id"] for quiz in quizzes for q in quiz["questions"]},
            key=lambda qid: (len(qid), qid),
        ),
    }


COURSE_IDS = _course_ids()

API_ERROR = {
    "type": "object",
    "required": ["detail", "code"],
    "properties": {
        "detail": {"type": "string", "minLength": 1},
        "code": {
            "type": "string",
            "enum": [
                "bad_request",
                "unauthorized",
                "invalid_credentials",
                "premium_required",
                "not_found",
                "email_taken",
                "payload_too_large",
                "idempotency_key_reused",
                "invalid_input",
                "rate_limited",
                "unavailable",
            ],
        },
    },
}
HEALTH_REPORT = {
    "type": "object",
    "required": ["status", "database", "cache", "content"],
    "properties": {
        "status": {"enum": ["ok", "unavailable"]},
        "database": {"enum": ["ok", "down"]},
        "cache": {"enum": ["ok", "disabled", "down"]},
        "content": {"enum": ["ok", "down"]},
    },
}
FASTAPI_422 = {"$ref": "#/components/schemas/HTTPValidationError"}


def _json(schema: dict[str, Any], description: str, headers=None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        response["headers"] = headers
    return response


def _error(description: str, headers=None) -> dict[str, Any]:
    return _json({"$ref": "#/components/schemas/ApiError"}, description, headers)


def _contract_errors(path: str, operation: dict[str, Any]) -> dict[str, Any]:
    """The error responses API.md allows for this route."""
    if path == "/health":
        return {"503": _json(HEALTH_REPORT, "The database or the content store is down.")}
    errors = {"503": _error("The database (or the content store on a cache miss) is down.")}
    if operation.get("requestBody"):
        errors["400"] = _error("The body is not JSON, or not a JSON object.")
        errors["413"] = _error("The body is over 64 KiB.")
    if operation.get("requestBody") or operation.get("parameters"):
        errors["422"] = _json(
            {"anyOf": [FASTAPI_422, {"$ref": "#/components/schemas/ApiError"}]},
            "A field fails validation.",
        )
    if operation.get("security"):
        errors["401"] = _error(
            "The token is missing, invalid or expired, or its student no longer exists.",
            headers={
                "WWW-Authenticate": {
                    "required": True,
                    "schema": {"type": "string", "pattern": "^Bearer"},
                }
            },
        )
    if "{" in path:
        errors["404"] = _error("Unknown chapter, section, quiz or attempt.")
        if not path.endswith(("/next", "/previous")):
            errors["403"] = _error("A premium chapter for a student without premium.")
    if path == "/auth/register":
        errors["409"] = _error("The e-mail is already registered.")
    if path == "/auth/login":
        errors["401"] = _error("Wrong e-mail or password.")
    if path in ("/auth/register", "/auth/login"):
        errors["429"] = _error(
            "Too many failed logins (or registrations from one address).",
            headers={"Retry-After": {"required": True, "schema": {"type": "integer"}}},
        )
    return errors


def _with_real_ids(parameter: dict[str, Any]) -> None:
    ids = COURSE_IDS.get(parameter["name"])
    if parameter.get("in") == "path" and ids:
        parameter["schema"] = {"anyOf": [{"enum": ids}, parameter["schema"]]}


# Plausible answers, as one alternative each, so some generated submissions get graded.
ANSWER = {
    "anyOf": [
        {"enum": ["a", "b", "c", "d", " B ", "true", "False"]},
        {"type": "boolean"},
        {"type": "string", "maxLength": 2000},
    ]
}


def _with_reachable_bodies(schemas: dict[str, Any]) -> None:
    """Examples that let generation get past the first check: a password that is long
    enough (so register and login can succeed), and answers keyed by real question ids."""
    for name in ("RegisterBody", "LoginBody"):
        if name in schemas:
            schemas[name]["properties"]["password"]["examples"] = ["correct horse battery"]
    if "Submission" in schemas:
        answers = schemas["Submission"]["properties"]["answers"]
        answers["properties"] = {qid: ANSWER for qid in COURSE_IDS["question_id"]}


def contract_schema(logical_id: str) -> dict[str, Any]:
    document = copy.deepcopy(load_app(logical_id).openapi())
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["ApiError"] = API_ERROR
    _with_reachable_bodies(schemas)
    for path, operations in document["paths"].items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, response in _contract_errors(path, operation).items():
                declared = responses.get(status)
                fastapi_default = (
                    status == "422"
                    and declared is not None
                    and declared.get("content", {}).get("application/json", {}).get("schema")
                    == FASTAPI_422
                )
                if declared is None or fastapi_default:
                    responses[status] = response
            for parameter in operation.get("parameters", []):
                _with_real_ids(parameter)
    return document


PASSWORD = "correct horse battery"


def student_token(tier: str = "free") -> str:
    email = f"fuzz-{uuid.uuid4().hex[:12]}@example.com"
    assert Api().post("/auth/register", {"email": email, "password": PASSWORD}).status == 201
    if tier != "free":
        set_tier(email, tier, None)
    login = Api().post("/auth/login", {"email": email, "password": PASSWORD})
    assert login.status == 200, login.body
    return login["access_token"]


# Schemathesis applies auth while it collects the tests, before the stack is up; so cases
# carry a placeholder that `call_and_check` swaps for a real token. Cases generated without
# the header on purpose (negative cases) keep going without one.
SHARED_PREMIUM_STUDENT = "Bearer shared-premium-student"
THROWAWAY_STUDENT = "Bearer throwaway-student"
TOKENS: dict[str, str] = {}  # filled by the `premium_student` fixture


class SharedPremiumStudent:
    def get(self, case, context) -> str:
        return SHARED_PREMIUM_STUDENT

    def set(self, case, placeholder, context) -> None:
        case.headers = {**(case.headers or {}), "Authorization": placeholder}


class ThrowawayStudent(SharedPremiumStudent):
    def get(self, case, context) -> str:
        return THROWAWAY_STUDENT


def schema_for(logical_id: str, student: type[SharedPremiumStudent]):
    schema = schemathesis.openapi.from_dict(contract_schema(logical_id))
    schema.app = GATEWAY
    # Never re-authenticate on a 401: here it is the answer under test.
    schema.auth(refresh_interval=None, retry_on=[])(student)
    return schema


# Deleting the account would revoke the shared token: that operation gets a student of its
# own for every generated request.
SCHEMAS = {
    name: schema_for(fn, SharedPremiumStudent).exclude(method="DELETE", path="/v1/me")
    for name, fn in FUNCTIONS.items()
}
ACCOUNT_DELETION = schema_for("AuthFunction", ThrowawayStudent).include(
    method="DELETE", path="/v1/me"
)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    missing_required_header,
    ignored_auth,
]


@pytest.fixture(scope="module")
def premium_student(stack):
    TOKENS["premium"] = student_token("premium")
    yield
    TOKENS.clear()
    db.close_all()  # the gateway's instance connections


BOUNDED = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,  # nothing written under the repo; a failure prints its reproduction
    suppress_health_check=list(HealthCheck),
)


def call_and_check(case) -> None:
    headers = case.headers or {}
    if headers.get("Authorization") == SHARED_PREMIUM_STUDENT:
        headers["Authorization"] = f"Bearer {TOKENS['premium']}"
    elif headers.get("Authorization") == THROWAWAY_STUDENT:
        headers["Authorization"] = f"Bearer {student_token()}"
    response = case.call()
    case.validate_response(response, checks=CHECKS)
    assert "Traceback" not in response.text


@schemathesis.pytest.parametrize(**SCHEMAS)
@BOUNDED
def test_generated_requests_get_no_5xx_and_conform_to_the_contract(case, premium_student):
    call_and_check(case)


@ACCOUNT_DELETION.parametrize()
@BOUNDED
def test_generated_account_deletions_get_no_5xx_and_conform_to_the_contract(case, stack):
    call_and_check(case)
