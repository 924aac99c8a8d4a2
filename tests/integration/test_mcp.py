"""McpFunction through the local gateway over real HTTP, driven by clients nobody here
wrote: the official MCP SDK's client (Streamable HTTP) and the MCP Inspector's CLI.

Most tests mint tokens for the MCP resource with the layer's issuer (the OAuth sign-in
issues the same kind of token); their audience is the gateway's own `<base>/mcp`. One runs
the whole way an MCP host does: the SDK's OAuth client discovers the sign-in from a 401,
registers itself, and a student signs in on the real page in headless Chromium.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest
from conftest import CHROMIUM, PASSWORD

from companion.resources import bearer_challenge, mcp_resource
from companion.security import issue_access_token

REPO = Path(__file__).resolve().parents[2]
INSPECTOR_DIR = REPO / "tests" / "mcp_inspector"
ACCEPT = "application/json, text/event-stream"

READ_TOOLS = {
    "list_chapters",
    "read_chapter",
    "read_section",
    "next_chapter",
    "previous_chapter",
    "search_course",
    "get_quiz",
    "list_attempts",
    "get_attempt",
    "get_progress",
    "get_streak",
    "get_profile",
}
QUIZ_01_ANSWERS = {"q1": "b", "q2": "a", "q7": True, "q10": "an answer naming no concept at all"}


def mcp_token(gateway_url: str, student) -> str:
    return issue_access_token(student.user_id, "free", audience=mcp_resource(gateway_url)).token


def with_client(gateway_url: str, token: str, session, mode: str = "auto"):
    """Run `session(client)` with the SDK's client connected to /mcp with a bearer token."""
    import httpx2
    from mcp.client import Client
    from mcp.client.streamable_http import streamable_http_client

    async def run():
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
            transport = streamable_http_client(f"{gateway_url}/mcp", http_client=http)
            async with Client(transport, mode=mode) as client:
                return await session(client)

    # In a thread of its own: asyncio.run would leave this thread without the event loop
    # the in-process handlers (Mangum) use.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


def call_all(gateway_url: str, student, calls: list[tuple[str, dict]], mode: str = "auto"):
    """The results of tool calls, in order, over one connection."""

    async def session(client):
        return [await client.call_tool(name, arguments) for name, arguments in calls]

    return with_client(gateway_url, mcp_token(gateway_url, student), session, mode)


def structured(result) -> dict:
    assert not result.is_error, result.structured_content
    # A tool with structured content also sends it as JSON text, for older hosts.
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


def tool_error(result) -> dict:
    assert result.is_error
    assert result.content[0].text == result.structured_content["detail"]
    return result.structured_content


def test_every_tool_is_listed_with_schemas_a_description_and_annotations(gateway_url, new_student):
    async def session(client):
        return (await client.list_tools()).tools

    tools = {
        tool.name: tool
        for tool in with_client(gateway_url, mcp_token(gateway_url, new_student()), session)
    }

    assert set(tools) == READ_TOOLS | {"submit_quiz"}
    for tool in tools.values():
        assert tool.input_schema["type"] == "object"
        assert tool.output_schema["type"] == "object"
        assert len(tool.description) > 40
        assert tool.annotations.read_only_hint is (tool.name in READ_TOOLS), tool.name
    submit = tools["submit_quiz"].annotations
    assert (submit.destructive_hint, submit.idempotent_hint) == (False, True)
    assert "idempotency_key" in tools["submit_quiz"].input_schema["required"]
    # The REST route's response model (companion.schemas), or the REST error body.
    success, error = tools["get_progress"].output_schema["anyOf"]
    assert "next_step" in success["required"]
    assert {"code", "detail"} <= set(error["properties"])


def test_each_tool_answers_what_its_rest_route_answers(gateway_url, new_student):
    student = new_student(tier="premium")
    key = str(uuid.uuid4())
    results = call_all(
        gateway_url,
        student,
        [
            ("list_chapters", {}),
            ("read_chapter", {"chapter_id": "04-rag"}),
            (
                "read_section",
                {"chapter_id": "02-how-llms-work", "section_id": "02-next-token-prediction"},
            ),
            ("next_chapter", {"chapter_id": "02-how-llms-work"}),
            ("previous_chapter", {"chapter_id": "02-how-llms-work"}),
            ("search_course", {"query": "retrieves documents", "limit": 3}),
            ("get_quiz", {"quiz_id": "01-quiz"}),
            (
                "submit_quiz",
                {"quiz_id": "01-quiz", "answers": QUIZ_01_ANSWERS, "idempotency_key": key},
            ),
            (
                "submit_quiz",
                {"quiz_id": "01-quiz", "answers": QUIZ_01_ANSWERS, "idempotency_key": key},
            ),
        ],
    )
    (chapters, chapter, section, following, previous, search, quiz, submitted, replayed) = [
        structured(result) for result in results
    ]

    assert chapters == student.get("/v1/chapters").body
    assert chapter == student.get("/v1/chapters/04-rag").body
    assert (
        section
        == student.get("/v1/chapters/02-how-llms-work/sections/02-next-token-prediction").body
    )
    raw = json.loads((REPO / "shared/content/chapters/02-how-llms-work.json").read_text())
    assert section["content_markdown"] == raw["sections"][1]["content_markdown"]
    assert following == student.get("/v1/chapters/02-how-llms-work/next").body
    assert previous == student.get("/v1/chapters/02-how-llms-work/previous").body
    assert search == student.get("/v1/search", query={"q": "retrieves documents", "limit": 3}).body
    assert quiz == student.get("/v1/quizzes/01-quiz").body
    assert "correct_answer" not in json.dumps(quiz)

    by_rest = student.post("/v1/quizzes/01-quiz/submit", {"answers": QUIZ_01_ANSWERS}).body
    assert submitted["attempt_id"] != by_rest["attempt_id"]
    for field in ("score", "passed", "grading_details", "review_sections", "passing_score"):
        assert submitted[field] == by_rest[field], field
    # The retry with the same key replays the first result and stores nothing.
    assert replayed == submitted
    attempts = student.get("/v1/quizzes/01-quiz/attempts").body
    assert len(attempts["attempts"]) == 2

    (listed, detail, progress, streak, profile) = [
        structured(result)
        for result in call_all(
            gateway_url,
            student,
            [
                ("list_attempts", {"quiz_id": "01-quiz"}),
                ("get_attempt", {"quiz_id": "01-quiz", "attempt_id": submitted["attempt_id"]}),
                ("get_progress", {}),
                ("get_streak", {}),
                ("get_profile", {}),
            ],
        )
    ]
    assert listed == attempts
    assert detail == student.get(f"/v1/quizzes/01-quiz/attempts/{submitted['attempt_id']}").body
    rest_progress = student.get("/v1/progress").body
    assert progress == rest_progress
    assert progress["next_step"] == rest_progress["next_step"]
    assert streak == student.get("/v1/streak").body
    assert profile == student.get("/v1/me").body


def test_reading_through_a_tool_records_the_visit_as_the_rest_route_does(gateway_url, new_student):
    student = new_student()
    structured(
        call_all(gateway_url, student, [("read_chapter", {"chapter_id": "01-intro-genai"})])[0]
    )

    chapter = student.get("/v1/progress").body["chapters"][0]
    assert chapter["completion_status"] == "in_progress"
    assert student.get("/v1/streak").body["active_today"] is True


def test_a_submission_through_a_tool_counts_a_new_day_the_instances_did_not_see(
    gateway_url, new_student, sql
):
    student = new_student()

    def submission():
        key = str(uuid.uuid4())
        return (
            "submit_quiz",
            {"quiz_id": "01-quiz", "answers": QUIZ_01_ANSWERS, "idempotency_key": key},
        )

    # Every emulated instance serves some of these requests and remembers the streak.
    for result in call_all(gateway_url, student, [submission() for _ in range(6)]):
        assert structured(result)["streak"]["current_streak"] == 1
    sql(
        "UPDATE streaks SET current_streak = 2, longest_streak = 2, active_run = 2,"
        " last_activity_date = (now() AT TIME ZONE 'UTC')::date - 1 WHERE student_id = %s",
        (student.user_id,),
    )

    results = call_all(gateway_url, student, [submission() for _ in range(3)])

    assert [structured(result)["streak"]["current_streak"] for result in results] == [3, 3, 3]
    assert student.get("/v1/streak").body["current_streak"] == 3


def test_two_students_never_see_each_others_data(gateway_url, new_student):
    alice, bob = new_student(), new_student()
    key = str(uuid.uuid4())
    submit = {"quiz_id": "01-quiz", "answers": QUIZ_01_ANSWERS, "idempotency_key": key}
    alices = structured(call_all(gateway_url, alice, [("submit_quiz", submit)])[0])

    bobs_attempts, bobs_view, bobs_submit, bobs_profile = call_all(
        gateway_url,
        bob,
        [
            ("list_attempts", {"quiz_id": "01-quiz"}),
            ("get_attempt", {"quiz_id": "01-quiz", "attempt_id": alices["attempt_id"]}),
            # The same idempotency key is Bob's own: a new attempt, not Alice's replayed.
            ("submit_quiz", submit),
            ("get_profile", {}),
        ],
    )
    assert structured(bobs_attempts) == {"attempts": [], "best_score": None}
    assert tool_error(bobs_view)["code"] == "not_found"
    assert structured(bobs_submit)["attempt_id"] != alices["attempt_id"]
    assert structured(bobs_profile)["email"] == bob.email
    assert len(alice.get("/v1/quizzes/01-quiz/attempts").body["attempts"]) == 1


def test_a_domain_error_is_a_tool_result_carrying_the_rest_error(gateway_url, new_student):
    student = new_student()
    key = str(uuid.uuid4())
    results = call_all(
        gateway_url,
        student,
        [
            ("read_chapter", {"chapter_id": "04-rag"}),
            ("read_section", {"chapter_id": "05-fine-tuning-evaluation", "section_id": "05-lora"}),
            ("get_quiz", {"quiz_id": "06-quiz"}),
            ("submit_quiz", {"quiz_id": "04-quiz", "answers": {}, "idempotency_key": key}),
            ("read_chapter", {"chapter_id": "99-no-such-chapter"}),
            ("next_chapter", {"chapter_id": "06-agents-deployment"}),
            ("submit_quiz", {"quiz_id": "01-quiz", "answers": {"q1": "z"}, "idempotency_key": key}),
        ],
    )
    errors = [tool_error(result) for result in results]

    rest = [
        student.get("/v1/chapters/04-rag"),
        student.get("/v1/chapters/05-fine-tuning-evaluation/sections/05-lora"),
        student.get("/v1/quizzes/06-quiz"),
        student.post("/v1/quizzes/04-quiz/submit", {"answers": {}}),
        student.get("/v1/chapters/99-no-such-chapter"),
        student.get("/v1/chapters/06-agents-deployment/next"),
        student.post("/v1/quizzes/01-quiz/submit", {"answers": {"q1": "z"}}),
    ]
    assert [response.status for response in rest] == [403, 403, 403, 403, 404, 404, 422]
    assert errors == [response.body for response in rest]
    assert errors[0]["code"] == "premium_required"


def test_a_reused_idempotency_key_and_bad_arguments_are_tool_errors(gateway_url, new_student):
    student = new_student()
    key = str(uuid.uuid4())
    first, reused, no_key, bad_limit = call_all(
        gateway_url,
        student,
        [
            ("submit_quiz", {"quiz_id": "01-quiz", "answers": {"q1": "a"}, "idempotency_key": key}),
            ("submit_quiz", {"quiz_id": "01-quiz", "answers": {"q1": "b"}, "idempotency_key": key}),
            ("submit_quiz", {"quiz_id": "01-quiz", "answers": {"q1": "b"}}),
            ("search_course", {"query": "tokens", "limit": 0}),
        ],
    )
    structured(first)
    assert tool_error(reused)["code"] == "idempotency_key_reused"
    assert tool_error(no_key) == {
        "code": "invalid_input",
        "detail": "The arguments are not valid: idempotency_key: Field required.",
    }
    assert tool_error(bad_limit)["code"] == "invalid_input"
    assert len(student.get("/v1/quizzes/01-quiz/attempts").body["attempts"]) == 1


def _expired_mcp_token(gateway_url: str, student) -> str:
    import jwt

    from companion.security import ALGORITHM, _secret
    from companion.settings import get_settings

    now = int(time.time())
    claims = {
        "sub": student.user_id,
        "iat": now - 7200,
        "exp": now - 3600,
        "iss": get_settings().jwt_issuer,
        "aud": mcp_resource(gateway_url),
        "tier": "free",
    }
    return jwt.encode(claims, _secret(), algorithm=ALGORITHM)


def test_without_a_valid_token_for_the_mcp_resource_the_answer_is_401(gateway_url, new_student):
    student = new_student()
    tools_list = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    refused = {
        "none": None,
        "garbage": "not-a-jwt",
        "expired": _expired_mcp_token(gateway_url, student),
        "REST login token": student.token,
        "REST resource token": issue_access_token(
            student.user_id, "free", audience=gateway_url
        ).token,
    }
    for label, token in refused.items():
        headers = {"Accept": ACCEPT}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = httpx.post(f"{gateway_url}/mcp", json=tools_list, headers=headers)
        assert response.status_code == 401, label
        assert response.headers["www-authenticate"] == bearer_challenge(gateway_url, "/mcp"), label
        assert response.headers["www-authenticate"] == (
            f'Bearer resource_metadata="{gateway_url}/.well-known/oauth-protected-resource/mcp"'
        )
        assert response.json()["code"] == "unauthorized", label

    # And an MCP token is no key to the REST API.
    rest = httpx.get(
        f"{gateway_url}/v1/chapters",
        headers={"Authorization": f"Bearer {mcp_token(gateway_url, student)}"},
    )
    assert rest.status_code == 401


@pytest.mark.parametrize(
    ("version", "negotiated"),
    [
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        # 2026-07-28 has no handshake (clients discover instead, below): an initialize
        # offering it gets the newest handshake version, as the SDK negotiates.
        ("2026-07-28", "2025-11-25"),
    ],
)
def test_initialize_with_each_protocol_version(gateway_url, new_student, version, negotiated):
    token = mcp_token(gateway_url, new_student())
    headers = {"Accept": ACCEPT, "Authorization": f"Bearer {token}"}
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": version,
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1.0"},
        },
    }
    response = httpx.post(f"{gateway_url}/mcp", json=initialize, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    result = response.json()["result"]
    assert result["protocolVersion"] == negotiated
    assert result["capabilities"]["tools"] is not None
    assert result["serverInfo"]["name"] == "course-companion"
    assert "mcp-session-id" not in response.headers  # stateless

    # No session to resume: the next request stands on its own.
    headers["MCP-Protocol-Version"] = negotiated
    listed = httpx.post(
        f"{gateway_url}/mcp",
        json={"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}},
        headers=headers,
    )
    assert len(listed.json()["result"]["tools"]) == len(READ_TOOLS) + 1


@pytest.mark.parametrize(("mode", "version"), [("legacy", "2025-11-25"), ("auto", "2026-07-28")])
def test_the_sdk_client_connects_in_each_era(gateway_url, new_student, mode, version):
    async def session(client):
        listed = await client.list_tools()
        streak = await client.call_tool("get_streak", {})
        return client.protocol_version, len(listed.tools), streak

    negotiated, count, streak = with_client(
        gateway_url, mcp_token(gateway_url, new_student()), session, mode=mode
    )
    assert negotiated == version
    assert count == len(READ_TOOLS) + 1
    assert structured(streak)["current_streak"] == 0


def test_chapters_are_resources_a_host_reads_without_recording_a_visit(gateway_url, new_student):
    from mcp.shared.exceptions import MCPError

    student = new_student()

    async def session(client):
        listed = await client.list_resources()
        chapter = await client.read_resource("course://chapters/01-intro-genai")
        with pytest.raises(MCPError) as locked:
            await client.read_resource("course://chapters/04-rag")
        return listed.resources, chapter.contents[0], locked.value.error

    resources, chapter, locked = with_client(gateway_url, mcp_token(gateway_url, student), session)
    # The host's fetch is not the student reading: no progress, no streak.
    progress = student.get("/v1/progress").body
    assert {entry["completion_status"] for entry in progress["chapters"]} == {"not_started"}
    assert progress["streak"]["active_today"] is False

    assert [resource.uri for resource in resources] == [
        f"course://chapters/{summary['chapter_id']}"
        for summary in student.get("/v1/chapters").body["chapters"]
    ]
    assert chapter.mime_type == "application/json"
    assert json.loads(chapter.text) == student.get("/v1/chapters/01-intro-genai").body
    assert locked.data == student.get("/v1/chapters/04-rag").body


def test_a_stateless_server_answers_405_to_get_and_delete(gateway_url):
    for method in ("GET", "DELETE"):
        response = httpx.request(method, f"{gateway_url}/mcp", headers={"Accept": ACCEPT})
        assert response.status_code == 405, method
        assert response.headers["allow"] == "POST"


def test_the_event_file_reaches_the_function_and_needs_a_token(new_student):
    from companion_dev.invoke import invoke

    event = json.loads((REPO / "events" / "mcp-tools-list.json").read_text())
    assert invoke("McpFunction", event)["statusCode"] == 401

    # Its host is the deployed API's: a token for that resource is accepted.
    base = f"https://{event['headers']['host']}"
    token = issue_access_token(new_student().user_id, "free", audience=mcp_resource(base)).token
    event["headers"]["authorization"] = f"Bearer {token}"
    answer = invoke("McpFunction", event)
    assert answer["statusCode"] == 200
    assert len(json.loads(answer["body"])["result"]["tools"]) == len(READ_TOOLS) + 1


def _inspector() -> list[str] | None:
    installed = INSPECTOR_DIR / "node_modules" / ".bin" / "mcp-inspector"
    if shutil.which("node") is None or shutil.which("npx") is None:
        return None
    assert installed.exists(), (
        f"Node is here but the Inspector is not: make inspector (npm ci in {INSPECTOR_DIR})"
    )
    return [str(installed), "--cli"]


def test_the_mcp_inspector_cli_lists_and_calls_the_tools(gateway_url, new_student):
    command = _inspector()
    if command is None:
        pytest.skip("Node.js (npx) is not installed")
    student = new_student()
    options = [
        f"{gateway_url}/mcp",
        "--transport",
        "http",
        "--header",
        f"Authorization: Bearer {mcp_token(gateway_url, student)}",
    ]

    def inspect(*arguments: str) -> dict:
        completed = subprocess.run(
            [*command, *options, *arguments],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr[-2000:]
        return json.loads(completed.stdout)

    listed = inspect("--method", "tools/list")
    assert {tool["name"] for tool in listed["tools"]} == READ_TOOLS | {"submit_quiz"}

    called = inspect(
        "--method",
        "tools/call",
        "--tool-name",
        "read_section",
        "--tool-arg",
        "chapter_id=01-intro-genai",
        "--tool-arg",
        "section_id=01-model-families",
    )
    assert (
        called["structuredContent"]
        == student.get("/v1/chapters/01-intro-genai/sections/01-model-families").body
    )

    locked = inspect(
        "--method", "tools/call", "--tool-name", "get_quiz", "--tool-arg", "quiz_id=04-quiz"
    )
    assert locked["isError"] is True
    assert locked["structuredContent"]["code"] == "premium_required"


def test_companion_mcp_token_prints_a_token_the_server_accepts(gateway_url, new_student, capsys):
    from companion_dev.cli import main

    student = new_student()
    assert main(["mcp-token", student.email, "--base-url", gateway_url]) == 0
    token = capsys.readouterr().out.strip()

    response = httpx.post(
        f"{gateway_url}/mcp",
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "get_profile", "arguments": {}},
        },
        headers={"Accept": ACCEPT, "Authorization": f"Bearer {token}"},
    )
    assert response.json()["result"]["structuredContent"]["email"] == student.email
    assert main(["mcp-token", "nobody@example.com", "--base-url", gateway_url]) == 2


class _TokensInMemory:
    """The SDK's TokenStorage, for one test."""

    def __init__(self) -> None:
        self.tokens = None
        self.client_info = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens) -> None:
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info) -> None:
        self.client_info = client_info


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_an_mcp_host_signs_the_student_in_by_itself_then_calls_tools(gateway_url, browser):
    """From the server URL alone: 401 → protected-resource metadata → authorization server
    metadata → Dynamic Client Registration → the sign-in page (a real browser) → code +
    PKCE → a token for <base>/mcp → tools. The browser stays in this thread (Playwright's),
    the SDK's client runs in another; queues carry the URLs between them."""
    import queue
    from urllib.parse import parse_qs, urlsplit

    import anyio
    import httpx2
    from mcp.client import Client
    from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared.auth import OAuthClientMetadata
    from test_oauth_clients import APP_CALLBACK, register_student, sign_in_in_browser

    email = register_student(gateway_url)
    authorize_urls: queue.Queue[str] = queue.Queue()
    callbacks: queue.Queue[str] = queue.Queue()

    async def open_sign_in_page(url: str) -> None:
        authorize_urls.put(url)

    async def wait_for_callback() -> AuthorizationCodeResult:
        url = await anyio.to_thread.run_sync(callbacks.get)
        query = parse_qs(urlsplit(url).query)
        first = {name: values[0] for name, values in query.items()}
        return AuthorizationCodeResult(
            code=first["code"], state=first.get("state"), iss=first.get("iss")
        )

    storage = _TokensInMemory()
    provider = OAuthClientProvider(
        server_url=f"{gateway_url}/mcp",
        client_metadata=OAuthClientMetadata(
            client_name="Study Desk (MCP)",
            redirect_uris=[APP_CALLBACK],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
        ),
        storage=storage,
        redirect_handler=open_sign_in_page,
        callback_handler=wait_for_callback,
    )

    async def session():
        async with httpx2.AsyncClient(auth=provider, timeout=30) as http:
            transport = streamable_http_client(f"{gateway_url}/mcp", http_client=http)
            async with Client(transport) as client:
                listed = await client.list_tools()
                profile = await client.call_tool("get_profile", {})
                progress = await client.call_tool("get_progress", {})
                return listed.tools, profile, progress

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        connecting = pool.submit(asyncio.run, session())
        while True:
            try:
                authorize_url = authorize_urls.get(timeout=1)
                break
            except queue.Empty:
                if connecting.done():
                    connecting.result()  # raises what stopped the client
                    pytest.fail("the client finished without signing in")
        assert authorize_url.startswith(f"{gateway_url}/oauth/authorize?")
        assert parse_qs(urlsplit(authorize_url).query)["resource"] == [f"{gateway_url}/mcp"]
        arrived, _page, context = sign_in_in_browser(
            browser, authorize_url, APP_CALLBACK, email, PASSWORD
        )
        context.close()
        assert len(arrived) == 1, arrived
        callbacks.put(arrived[0])
        tools, profile, progress = connecting.result(timeout=120)

    assert {tool.name for tool in tools} == READ_TOOLS | {"submit_quiz"}
    assert structured(profile)["email"] == email
    assert structured(progress)["next_step"]["action"] == "start_chapter"
    # The token it was given is for the MCP server, and only for it.
    token = storage.tokens.access_token
    assert (
        httpx.get(f"{gateway_url}/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )
