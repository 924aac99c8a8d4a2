"""template.yaml, events/ and samconfig.toml agree with the code and with each other."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from fastapi.routing import APIRoute
from mangum import Mangum
from mangum.handlers import HTTPGateway

from companion_dev.template import (
    REPO_ROOT,
    Route,
    function_handlers,
    load_app,
    load_handler,
    load_routes,
    load_template,
    match_route,
)

EVENTS_DIR = REPO_ROOT / "events"
# Every function the template declares, and those behind the HTTP API.
ALL_FUNCTIONS = sorted(function_handlers())
HTTP_FUNCTIONS = sorted({route.function for route in load_routes()})
# McpFunction serves /mcp as one ASGI endpoint, not FastAPI routes (tested on its own).
FASTAPI_FUNCTIONS = [f for f in HTTP_FUNCTIONS if f != "McpFunction"]
CHATGPT_ACTION_TIMEOUT_SECONDS = 45
FORM_ROUTES = {"/oauth/authorize", "/oauth/token", "/oauth/revoke"}
SECRETS = ("DATABASE_URL", "DATABASE_DIRECT_URL", "JWT_SECRET", "UPSTASH_REDIS_REST_TOKEN")


@pytest.fixture(scope="module")
def template():
    return load_template()


@pytest.fixture(scope="module")
def routes():
    return load_routes()


def _http_events() -> dict[str, dict]:
    events = {}
    for path in sorted(EVENTS_DIR.glob("*.json")):
        event = json.loads(path.read_text())
        if event.get("version") == "2.0":
            events[path.name] = event
    return events


async def _unused_asgi_app(scope, receive, send):
    raise AssertionError("only the request is inspected")


def _function_properties(template, logical_id):
    resource = template["Resources"][logical_id]
    assert resource["Type"] == "AWS::Serverless::Function"
    return resource["Properties"]


@pytest.mark.parametrize("logical_id", FASTAPI_FUNCTIONS)
def test_template_routes_are_exactly_the_routes_of_the_functions_app(routes, logical_id):
    app = load_app(logical_id)
    served = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute)
        for method in route.methods - {"HEAD"}
    }
    declared = {(route.method, route.path) for route in routes if route.function == logical_id}

    assert declared - served == set(), "routed by the template but not served by the app"
    assert served - declared == set(), "served by the app but unreachable through the API"


def test_mcp_function_serves_exactly_its_template_routes(routes):
    app = load_app("McpFunction")
    served = {route.path for route in app.routes if not isinstance(route, APIRoute)}
    declared = {(route.method, route.path) for route in routes if route.function == "McpFunction"}

    assert served == {"/mcp"}
    # POST is the exchange; GET and DELETE are routed so the function can answer 405.
    assert declared == {("POST", "/mcp"), ("GET", "/mcp"), ("DELETE", "/mcp")}


def test_all_functions_load_side_by_side_in_one_process():
    handlers = {logical_id: load_handler(logical_id) for logical_id in ALL_FUNCTIONS}
    apps = {logical_id: load_app(logical_id) for logical_id in ALL_FUNCTIONS}

    assert all(callable(handler) for handler in handlers.values())
    for logical_id, (code_dir, _handler) in function_handlers().items():
        module = sys.modules[f"companion_fn_{code_dir.name}"]
        assert Path(module.__file__) == code_dir / "app.py"
        assert apps[logical_id] is getattr(module, "app", None)
    assert len({id(apps[logical_id]) for logical_id in HTTP_FUNCTIONS}) == len(HTTP_FUNCTIONS)
    assert apps["PruneFunction"] is None
    assert load_app("AuthFunction") is apps["AuthFunction"], "a module is loaded once"


def test_function_handlers_point_at_each_functions_app_file():
    handlers = function_handlers()

    assert set(handlers) == set(ALL_FUNCTIONS)
    for code_dir, handler in handlers.values():
        assert handler == "app.handler"
        assert (code_dir / "app.py").is_file()
        assert code_dir.parent == REPO_ROOT / "functions"


@pytest.mark.parametrize("logical_id", ALL_FUNCTIONS)
def test_every_function_logs_to_its_own_group_kept_30_days(template, logical_id):
    properties = _function_properties(template, logical_id)
    group_id = properties["LoggingConfig"]["LogGroup"]["Ref"]
    group = template["Resources"][group_id]

    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert template["Parameters"]["LogRetentionDays"]["Default"] == 30
    # /aws/lambda/<function name>: where Lambda would have written anyway.
    function_name = properties["FunctionName"]["Fn::Sub"]
    assert group["Properties"]["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/{function_name}"}


def test_every_api_function_answers_within_the_chat_apps_timeout(template, routes):
    defaults = template["Globals"]["Function"]
    for logical_id in {route.function for route in routes}:
        timeout = _function_properties(template, logical_id).get("Timeout", defaults["Timeout"])
        assert timeout < CHATGPT_ACTION_TIMEOUT_SECONDS, logical_id


def test_functions_get_secret_names_never_secret_values(template):
    variables = template["Globals"]["Function"]["Environment"]["Variables"]

    for secret in SECRETS:
        assert secret not in variables
    assert variables["DATABASE_URL_SSM_PARAMETER"] == {"Ref": "DatabaseUrlParameterName"}
    assert variables["JWT_SECRET_SSM_PARAMETER"] == {"Ref": "JwtSecretParameterName"}
    for name, parameter in template["Parameters"].items():
        if name.endswith("ParameterName") or name.endswith("Parameter"):
            assert parameter.get("Default", "/").startswith("/"), name
    for logical_id in ALL_FUNCTIONS:
        assert "Environment" not in _function_properties(template, logical_id)


def test_prune_runs_daily_with_the_input_its_event_file_holds(template):
    events = _function_properties(template, "PruneFunction")["Events"]
    schedules = [event["Properties"] for event in events.values() if event["Type"] == "Schedule"]

    assert len(schedules) == 1
    schedule = schedules[0]
    expression = schedule["Schedule"]
    assert expression == "rate(1 day)" or (
        expression.startswith("cron(") and expression.split()[2:4] == ["*", "*"]
    )
    event_file = json.loads((EVENTS_DIR / "prune-schedule.json").read_text())
    assert json.loads(schedule["Input"]) == event_file
    assert event_file == {"retention_days": 90, "dry_run": False}


def test_every_route_has_an_event_file(routes):
    route_keys = {event["routeKey"] for event in _http_events().values()}

    missing = [route.route_key for route in routes if route.route_key not in route_keys]
    assert missing == []


@pytest.mark.parametrize("name", sorted(_http_events()))
def test_each_event_file_is_a_request_its_route_would_receive(routes, name):
    event = _http_events()[name]
    method, _, route_path = event["routeKey"].partition(" ")
    context = event["requestContext"]

    matched = match_route(routes, method, event["rawPath"])
    assert matched is not None, f"{name}: no route for {method} {event['rawPath']}"
    route, path_params = matched
    assert route.route_key == event["routeKey"] == context["routeKey"]
    assert path_params == event.get("pathParameters", {})
    assert context["http"]["method"] == method
    assert context["http"]["path"] == event["rawPath"]
    assert context["stage"] == "$default"
    assert event["isBase64Encoded"] is False
    assert all(header == header.lower() for header in event["headers"])
    if route_path.startswith("/v1/"):
        assert event["headers"]["authorization"] == "Bearer REPLACE_WITH_ACCESS_TOKEN"
    if "body" in event and route_path in FORM_ROUTES:
        # OAuth's authorization and token endpoints take form bodies (RFC 6749).
        assert event["headers"]["content-type"] == "application/x-www-form-urlencoded"
        assert parse_qs(event["body"], strict_parsing=True)
    elif "body" in event:
        assert event["headers"]["content-type"] == "application/json"
        assert isinstance(json.loads(event["body"]), dict)

    # Mangum reads it as an HTTP API request for the same method, path and query.
    request = Mangum(_unused_asgi_app, lifespan="off").infer(event, None)
    assert isinstance(request, HTTPGateway)
    assert request.scope["method"] == method
    assert request.scope["path"] == event["rawPath"]
    assert request.scope["query_string"] == event["rawQueryString"].encode()


def test_events_use_ids_that_exist_in_the_course():
    content = REPO_ROOT / "shared" / "content"
    for event in _http_events().values():
        params = event.get("pathParameters", {})
        if "chapter_id" in params:
            chapter_file = content / "chapters" / f"{params['chapter_id']}.json"
            assert chapter_file.is_file()
            if "section_id" in params:
                sections = json.loads(chapter_file.read_text())["sections"]
                assert params["section_id"] in {s["section_id"] for s in sections}
        if "quiz_id" in params:
            assert (content / "quizzes" / f"{params['quiz_id']}.json").is_file()


def test_a_chapters_next_is_not_taken_for_the_chapter_itself(routes):
    route, params = match_route(routes, "GET", "/v1/chapters/x/next")
    assert route.path == "/v1/chapters/{chapter_id}/next"
    assert params == {"chapter_id": "x"}

    route, params = match_route(routes, "GET", "/v1/chapters/01-intro-genai")
    assert route.path == "/v1/chapters/{chapter_id}"
    assert params == {"chapter_id": "01-intro-genai"}


def test_match_route_follows_api_gateway_rules(routes):
    route, params = match_route(routes, "get", "/v1/quizzes/01-quiz/attempts/abc")
    assert (route.function, params) == ("QuizFunction", {"quiz_id": "01-quiz", "attempt_id": "abc"})
    assert match_route(routes, "GET", "/v1/me/export")[0].path == "/v1/me/export"
    assert match_route(routes, "PATCH", "/v1/me")[0].method == "PATCH"
    assert match_route(routes, "GET", "/v1/chapters/a%20b")[1] == {"chapter_id": "a b"}

    assert match_route(routes, "POST", "/v1/chapters") is None  # no such method
    assert match_route(routes, "GET", "/v1/chapters/") is None  # empty segment
    assert match_route(routes, "GET", "/v1/chapters/a/b") is None
    assert match_route(routes, "GET", "/nowhere") is None


def test_a_literal_segment_beats_a_parameter_and_a_method_beats_any():
    routes = [
        Route("ANY", "/{proxy+}", "Fallback"),
        Route("GET", "/items/{item_id}", "Item"),
        Route("GET", "/items/special", "Special"),
        Route("ANY", "/items/special", "AnySpecial"),
    ]

    assert match_route(routes, "GET", "/items/special")[0].function == "Special"
    assert match_route(routes, "POST", "/items/special")[0].function == "AnySpecial"
    assert match_route(routes, "GET", "/items/7") == (routes[1], {"item_id": "7"})
    assert match_route(routes, "GET", "/a/b/c") == (routes[0], {"proxy": "a/b/c"})


def test_loader_reads_cloudformation_short_tags(tmp_path: Path):
    template_file = tmp_path / "template.yaml"
    template_file.write_text(
        """
Conditions:
  Prod: !Equals [!Ref Stage, prod]
Globals:
  Function:
    Handler: main.handler
    CodeUri: src/
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: !If [Prod, 10, 20]
      Role: !GetAtt FnRole.Arn
      Description: !Sub "${AWS::StackName} fn"
      Layers: [!Join [":", [a, b]]]
      Events:
        Hello:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: "/hello/{name}", Method: get}
        Nightly:
          Type: Schedule
          Properties: {Schedule: rate(1 day)}
"""
    )

    properties = load_template(template_file)["Resources"]["Fn"]["Properties"]
    assert properties["Timeout"] == {"Fn::If": ["Prod", 10, 20]}
    assert properties["Role"] == {"Fn::GetAtt": ["FnRole", "Arn"]}
    assert properties["Description"] == {"Fn::Sub": "${AWS::StackName} fn"}
    assert properties["Layers"] == [{"Fn::Join": [":", ["a", "b"]]}]
    assert load_routes(template_file) == [Route("GET", "/hello/{name}", "Fn")]
    assert function_handlers(template_file) == {
        "Fn": ((tmp_path / "src").resolve(), "main.handler")
    }


def test_samconfig_names_ssm_parameters_per_stage_and_prod_confirms():
    config = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text())
    template_parameters = load_template()["Parameters"]

    assert config["version"] == 0.1
    for env, stage in (("default", "dev"), ("dev", "dev"), ("prod", "prod")):
        deploy = config[env]["deploy"]["parameters"]
        assert deploy["stack_name"] == f"course-companion-{stage}"
        assert deploy["capabilities"] == "CAPABILITY_IAM"
        assert deploy["resolve_s3"] is True
        # SAM's build cache does not see an edit to the build rules (lambda.mk).
        assert config[env]["build"]["parameters"].get("cached", False) is False
        overrides = dict(item.split("=", 1) for item in deploy["parameter_overrides"])
        assert set(overrides) <= set(template_parameters)
        assert overrides["Stage"] == stage
        for name, value in overrides.items():
            if name.endswith("ParameterName") or name.endswith("Parameter"):
                assert value.startswith(f"/course-companion/{stage}/"), name
    assert config["prod"]["deploy"]["parameters"]["confirm_changeset"] is True
