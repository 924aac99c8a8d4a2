"""The Actions OpenAPI document: it is what the apps say now, it covers every route, and it
keeps within what ChatGPT Actions accept."""

import json
import re
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from companion_dev import openapi
from companion_dev.openapi import actions_document
from companion_dev.template import function_handlers, load_routes, load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMITTED = REPO_ROOT / "docs" / "openapi-actions.json"
GUIDE = REPO_ROOT / "docs" / "CHATGPT_ACTIONS.md"

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
VERBS = {"get", "list", "search", "register", "log", "update", "export", "delete", "submit"}
ACTIONS_TIMEOUT_SECONDS = 45


@pytest.fixture(scope="module")
def document():
    return actions_document()


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


def test_the_committed_document_is_what_the_apps_generate_now(document):
    regenerate = ".venv/bin/companion openapi --output docs/openapi-actions.json"
    assert COMMITTED.exists(), f"missing: run {regenerate}"
    assert json.loads(COMMITTED.read_text()) == document, f"stale: run {regenerate}"
    # Byte for byte what the CLI writes, so regenerating never shows a spurious diff.
    assert COMMITTED.read_text() == json.dumps(document, indent=2) + "\n"


def test_every_route_of_the_template_is_an_operation_and_nothing_else_is(document):
    # The sign-in and MCP endpoints are for OAuth and MCP clients, not Actions to call.
    routed = {
        (route.method, route.path) for route in load_routes() if route.function in openapi.FUNCTIONS
    }
    documented = {(method, path) for method, path, _ in operations(document)}
    assert documented == routed


def test_operation_ids_are_unique_verb_noun_camel_case(document):
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        match = re.fullmatch(r"([a-z]+)((?:[A-Z][a-z]+)+)", operation_id)
        assert match, f"{operation_id} is not camelCase verb + noun"
        assert match.group(1) in VERBS, f"{operation_id} does not start with a verb"


def test_descriptions_are_there_and_within_the_actions_limits(document):
    for method, path, operation in operations(document):
        where = f"{method} {path}"
        assert 0 < len(operation["summary"]) <= 300, where
        assert 40 <= len(operation["description"]) <= 300, where
        for parameter in operation.get("parameters", []):
            assert 0 < len(parameter.get("description", "")) <= 700, (where, parameter["name"])
        for status, response in operation["responses"].items():
            assert response.get("description"), (where, status)


def test_no_operation_needs_a_custom_request_header(document):
    for path, item in document["paths"].items():
        assert all(p.get("in") != "header" for p in item.get("parameters", [])), path
    for method, path, operation in operations(document):
        headers = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "header"]
        assert headers == [], f"{method} {path} takes header(s) {headers}"


def test_the_idempotency_key_travels_in_the_submission_body(document):
    submit = document["paths"]["/v1/quizzes/{quiz_id}/submit"]["post"]
    reference = submit["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = document["components"]["schemas"][reference.rsplit("/", 1)[1]]
    assert {"answers", "idempotency_key"} <= set(body["required"])
    key = body["properties"]["idempotency_key"]
    assert key["type"] == "string" and key["maxLength"] == 255
    assert "retry" in key["description"] and "same key" in key["description"]
    assert "idempotency_key" in submit["description"]


def test_only_quiz_submission_and_account_deletion_are_consequential(document):
    consequential = {
        operation["operationId"]
        for _, _, operation in operations(document)
        if operation.get("x-openai-isConsequential") is True
    }
    assert consequential == {"submitQuiz", "deleteAccount"}


def test_oauth_or_a_bearer_token_guards_every_v1_route_and_only_those(document):
    schemes = document["components"]["securitySchemes"]
    bearer = schemes["bearerAuth"]
    assert bearer == {**bearer, "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    flow = schemes["oauth2"]["flows"]["authorizationCode"]
    assert flow["authorizationUrl"].endswith("/oauth/authorize")
    assert flow["tokenUrl"].endswith("/oauth/token")
    assert set(flow["scopes"]) == {"course"}
    assert "security" not in document  # no blanket requirement on the public routes
    for method, path, operation in operations(document):
        if path.startswith("/v1/"):
            assert operation["security"] == [{"oauth2": ["course"]}, {"bearerAuth": []}], (
                f"{method} {path}"
            )
            assert "401" in operation["responses"], f"{method} {path}"
        else:
            assert not operation.get("security"), f"{method} {path} should be public"
    public = {path for _, path, op in operations(document) if not op.get("security")}
    assert public == {"/auth/register", "/auth/login", "/health"}


def test_errors_are_described_with_the_detail_and_code_shape(document):
    error = document["components"]["schemas"]["ApiError"]
    assert set(error["properties"]) == {"detail", "code"} and error["required"] == ["detail"]
    expected = {
        "getChapter": {"401", "403", "404"},
        "getSection": {"401", "403", "404"},
        "getQuiz": {"401", "403", "404"},
        "submitQuiz": {"400", "401", "403", "404", "422"},
        "getAttempt": {"401", "403", "404"},
        "logReadingTime": {"401", "403", "404", "422"},
        "getNextChapter": {"401", "404"},
        "searchCourse": {"401", "422"},
        "registerStudent": {"409", "422"},
        "logIn": {"401", "422", "429"},
    }
    by_id = {operation["operationId"]: operation for _, _, operation in operations(document)}
    for operation_id, statuses in expected.items():
        assert statuses <= set(by_id[operation_id]["responses"]), operation_id
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if not status.startswith("4"):
                continue
            schema = response["content"]["application/json"]["schema"]
            refs = [schema.get("$ref")] + [option["$ref"] for option in schema.get("anyOf", [])]
            assert "#/components/schemas/ApiError" in refs, f"{method} {path} {status}"


def test_the_server_url_is_a_parameter():
    document = actions_document("https://abc123.execute-api.eu-west-1.amazonaws.com")
    (server,) = document["servers"]
    assert server["url"] == "{baseUrl}"
    assert server["variables"]["baseUrl"]["default"] == (
        "https://abc123.execute-api.eu-west-1.amazonaws.com"
    )


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on any structural error or unresolved $ref


def test_every_function_behind_the_api_answers_well_within_the_actions_timeout():
    template = load_template()
    default = template["Globals"]["Function"]["Timeout"]
    routed = {route.function for route in load_routes()}
    assert routed <= set(function_handlers())
    for function in routed:
        timeout = template["Resources"][function]["Properties"].get("Timeout", default)
        # API Gateway's HTTP API cuts an integration off at 30 s anyway; keep a margin.
        assert timeout <= ACTIONS_TIMEOUT_SECONDS / 2, f"{function} Timeout {timeout}"


def test_the_guide_names_only_operations_that_exist(document):
    ids = {operation["operationId"] for _, _, operation in operations(document)}
    guide = GUIDE.read_text()
    not_operations = {"operationId", "baseUrl", "bearerAuth"}  # bearerAuth: a security scheme
    named = set(re.findall(r"`([a-z]+(?:[A-Z][a-z]+)+)`", guide)) - not_operations
    assert {"submitQuiz", "searchCourse", "getProgress", "getStreak"} <= named
    assert named <= ids, f"the guide names unknown operations: {sorted(named - ids)}"


def test_a_function_schema_keeps_all_a_route_declares_with_its_operation():
    from companion.web import create_app, operation

    app = create_app("A function", "Its routes.")

    @app.get("/v1/things/{thing_id}", summary="A thing.", tags=["things"], deprecated=True)
    @operation(
        operation_id="getThing",
        description="Returns one thing by its id, for a test of the schema's documentation.",
        returns="content.ChapterSummary",
        returns_description="The thing.",
        errors=(401, 404),
        error_notes={404: "No such thing (code not_found)."},
    )
    async def get_thing(thing_id: str):
        return {}

    schema = app.openapi()["paths"]["/v1/things/{thing_id}"]["get"]
    assert schema["operationId"] == "getThing"
    assert schema["summary"] == "A thing."
    assert schema["tags"] == ["things"] and schema["deprecated"] is True
    assert schema["description"].startswith("Returns one thing")
    assert schema["responses"]["200"]["description"] == "The thing."
    assert schema["responses"]["404"]["description"] == "No such thing (code not_found)."
    assert {"200", "401", "404", "422", "503"} == set(schema["responses"])
