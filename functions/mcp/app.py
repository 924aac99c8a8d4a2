"""McpFunction: the course as Model Context Protocol tools, at POST /mcp.

Streamable HTTP, stateless, JSON responses (API.md, "MCP — the course as tools"). Every
tool is one call into companion.services, the functions the REST routes call, so the gate,
grading, streaks, idempotency and next step are the same rules; its output schema is the
REST route's response model (companion.schemas).

Every request needs a bearer token issued for this resource (`<base>/mcp`); without one
the answer is 401 naming the resource's metadata, so an MCP host finds the sign-in itself.

The SDK (this function's own requirements.txt) is imported on the first request that
needs it, not at import: it costs more than the rest of the function together. Mangum runs
no lifespan here (and would run one around every invocation anyway), so each request runs
its own short-lived session manager: nothing is kept between requests.
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from companion import accounts
from companion.deps import CurrentStudent, bearer_token, student_from_token
from companion.errors import ApiError, NotFound
from companion.observability import logger
from companion.resources import base_url, mcp_resource
from companion.schemas.requests import ANSWERS_DESCRIPTION, IDEMPOTENCY_KEY_PATTERN
from companion.services import content, progress, quizzes
from companion.web import create_app, error_response, lambda_handler

SERVER_NAME = "course-companion"
SERVER_TITLE = "Course Companion"
# Each chapter is also a resource (its body is read_chapter's, as JSON).
CHAPTER_URI = "course://chapters/"
INSTRUCTIONS = (
    "Course Companion serves a six-chapter course on Generative AI to one signed-in student. "
    "Quote chapter and section text verbatim from read_chapter or read_section and answer "
    "course questions from search_course results, never from memory. get_progress says what "
    "the student should do next (next_step.message is a sentence to relay). Quizzes are "
    "graded by fixed rules: show the questions from get_quiz, collect the student's own "
    "answers, then call submit_quiz once with a fresh idempotency_key. Chapters 4-6 need the "
    "premium plan; a tool result with code premium_required says so in its detail."
)

app = create_app(
    "Course Companion - MCP",
    "The course as Model Context Protocol tools for ChatGPT apps, Claude and other MCP hosts.",
)

# The student the current request's token names; set before the SDK runs the request.
_caller: ContextVar[CurrentStudent] = ContextVar("mcp_caller")


# --- the tools' arguments -------------------------------------------------------------------


class _Arguments(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoArguments(_Arguments):
    pass


class ChapterArguments(_Arguments):
    chapter_id: str = Field(
        max_length=100,
        description="A chapter_id from list_chapters, e.g. 01-intro-genai.",
    )


class SectionArguments(ChapterArguments):
    section_id: str = Field(max_length=100, description="A section_id from the chapter's sections.")


class SearchArguments(_Arguments):
    query: str = Field(
        min_length=1, max_length=200, description="The student's question or the words to find."
    )
    limit: int = Field(default=5, ge=1, le=20, description="How many sections at most.")


class QuizArguments(_Arguments):
    quiz_id: str = Field(max_length=100, description="A quiz_id from list_chapters, e.g. 01-quiz.")


class SubmitArguments(QuizArguments):
    answers: dict[str, Any] = Field(description=ANSWERS_DESCRIPTION)
    idempotency_key: str = Field(
        min_length=1,
        max_length=255,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description=(
            "A fresh random value (e.g. a UUID) for each new set of answers. Send the same "
            "value again only when retrying a call that failed or timed out: the original "
            "result is then returned and nothing is stored twice."
        ),
    )


class AttemptArguments(QuizArguments):
    attempt_id: str = Field(max_length=100, description="An attempt_id from list_attempts.")


# --- the tools ------------------------------------------------------------------------------


@dataclass(frozen=True)
class McpTool:
    name: str
    title: str
    description: str
    arguments: type[_Arguments]
    output: str  # the REST route's response model in companion.schemas, "module.Model"
    run: Callable[[CurrentStudent, Any], dict[str, Any]]
    read_only: bool = True


TOOLS = [
    McpTool(
        "list_chapters",
        "List the chapters",
        "The six chapters in order, with their quiz_id and whether the student's plan opens "
        "each one (locked). Start here to find chapter and quiz ids.",
        NoArguments,
        "content.ChapterList",
        lambda student, _: content.list_chapters(student),
    ),
    McpTool(
        "read_chapter",
        "Read a chapter",
        "A whole chapter exactly as written: learning objectives and every section's "
        "markdown, plus the previous and next chapter ids. Quote the text as it is. Records "
        "that the student opened the chapter.",
        ChapterArguments,
        "content.Chapter",
        lambda student, args: content.read_chapter(student, args.chapter_id),
    ),
    McpTool(
        "read_section",
        "Read a section",
        "One section of a chapter exactly as written (content_markdown); shorter than the "
        "whole chapter. Quote the text as it is. Records that the student opened the chapter.",
        SectionArguments,
        "content.SectionInChapter",
        lambda student, args: content.read_section(student, args.chapter_id, args.section_id),
    ),
    McpTool(
        "next_chapter",
        "Next chapter",
        "The summary of the chapter after the given one (not_found after the last).",
        ChapterArguments,
        "content.ChapterSummary",
        lambda student, args: content.neighbour_chapter(student, args.chapter_id, 1),
    ),
    McpTool(
        "previous_chapter",
        "Previous chapter",
        "The summary of the chapter before the given one (not_found before the first).",
        ChapterArguments,
        "content.ChapterSummary",
        lambda student, args: content.neighbour_chapter(student, args.chapter_id, -1),
    ),
    McpTool(
        "search_course",
        "Search the course",
        "The course sections that best answer a question, best first, each with a verbatim "
        "excerpt (null for a section the student's plan does not open). Ground answers in "
        "these excerpts, or read the section for more.",
        SearchArguments,
        "content.SearchResults",
        lambda student, args: content.search_course(student, args.query, args.limit),
    ),
    McpTool(
        "get_quiz",
        "Get a chapter's quiz",
        "A quiz's questions (multiple-choice with their options, true-false, short-answer) "
        "and its passing score, without the answers. Ask the student each question and let "
        "them answer; never answer for them.",
        QuizArguments,
        "study.QuizView",
        lambda student, args: quizzes.quiz_view(student, args.quiz_id),
    ),
    McpTool(
        "submit_quiz",
        "Submit quiz answers",
        "Grade the student's answers by fixed rules and record the attempt, the chapter's "
        "best score and the streak. Returns the score, whether it passed, feedback per "
        "question and the sections to review. Retrying with the same idempotency_key and "
        "answers returns the first result without recording a second attempt.",
        SubmitArguments,
        "study.SubmissionResult",
        lambda student, args: quizzes.submit_quiz(
            student.with_streak_as_last_seen(), args.quiz_id, args.answers, args.idempotency_key
        )[0],
        read_only=False,
    ),
    McpTool(
        "list_attempts",
        "List quiz attempts",
        "The student's attempts at a quiz, newest first, and the chapter's best score.",
        QuizArguments,
        "study.AttemptList",
        lambda student, args: quizzes.list_attempts(student, args.quiz_id),
    ),
    McpTool(
        "get_attempt",
        "Get one quiz attempt",
        "One of the student's attempts with their answers, the grading of each question and "
        "the sections to review.",
        AttemptArguments,
        "study.AttemptDetail",
        lambda student, args: quizzes.attempt_detail(student, args.quiz_id, args.attempt_id),
    ),
    McpTool(
        "get_progress",
        "Get progress and the next step",
        "Every chapter's status, quiz score and reading time, where the student left off "
        "(resume: the section opened last), the streak, and next_step: what the student "
        "should do now (such as continue_reading at a section), with a sentence to relay "
        "(next_step.message).",
        NoArguments,
        "study.ProgressReport",
        lambda student, _: progress.progress_overview(student),
    ),
    McpTool(
        "get_streak",
        "Get the learning streak",
        "The student's streak of active days: current and longest, whether today counts "
        "yet, whether it is at risk (and when the local day ends), the streak freezes held "
        "and the days they covered (each covers a missed day by itself; freeze_message is a "
        "sentence to relay), and the next milestone.",
        NoArguments,
        "study.Streak",
        lambda student, _: progress.current_streak(student),
    ),
    McpTool(
        "get_profile",
        "Get the student's profile",
        "The student's name, e-mail, timezone and plan (effective_tier says whether premium "
        "chapters are open now).",
        NoArguments,
        "accounts.Profile",
        lambda student, _: accounts.profile(student),
    ),
]
TOOLS_BY_NAME = {tool.name: tool for tool in TOOLS}


def call_tool(student: CurrentStudent, name: str, arguments: dict[str, Any] | None):
    """(the structured result, whether it is an error) of one tool call: a domain error is
    a result carrying the REST error's code and detail, never a protocol error."""
    tool = TOOLS_BY_NAME[name]
    try:
        parsed = tool.arguments.model_validate(arguments or {})
    except ValidationError as exc:
        return {"code": "invalid_input", "detail": _problems(exc)}, True
    try:
        return tool.run(student, parsed), False
    except ApiError as exc:
        return {"code": exc.code, "detail": exc.detail}, True
    except Exception:  # noqa: BLE001 - a tool result, never a traceback
        logger.exception("MCP tool failed", extra={"tool": name})
        return {"code": "internal", "detail": "Internal error"}, True


def _problems(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ())) or "arguments"
        problems.append(f"{where}: {error.get('msg', 'invalid')}")
    return "The arguments are not valid: " + "; ".join(problems) + "."


@functools.cache
def input_schema(tool: McpTool) -> dict[str, Any]:
    return tool.arguments.model_json_schema()


@functools.cache
def output_schema(tool: McpTool) -> dict[str, Any]:
    """The REST route's response model, or the REST error body for a result with isError.

    The error body is in the schema because some clients validate an error result's
    structuredContent too (the TypeScript SDK's, hence the MCP Inspector's:
    typescript-sdk issue 1943), and would turn every domain error into a protocol error.
    """
    from companion.schemas import ErrorBody

    module, _, attribute = tool.output.rpartition(".")
    model = getattr(importlib.import_module(f"companion.schemas.{module}"), attribute)
    success = model.model_json_schema()
    definitions = success.pop("$defs", {})
    error = ErrorBody.model_json_schema()
    definitions.update(error.pop("$defs", {}))
    schema = {"type": "object", "anyOf": [success, error]}
    if definitions:
        schema["$defs"] = definitions
    return schema


# --- the MCP server (SDK), built on first use ------------------------------------------------

_server = None


def mcp_server():
    """The SDK's low-level server with the tools (stateless: safe to share across requests)."""
    global _server
    if _server is not None:
        return _server
    import mcp_types as types
    from mcp.server.lowlevel import Server

    def tool_listing(tool: McpTool):
        return types.Tool(
            name=tool.name,
            title=tool.title,
            description=tool.description,
            input_schema=input_schema(tool),
            output_schema=output_schema(tool),
            annotations=types.ToolAnnotations(
                title=tool.title,
                read_only_hint=tool.read_only,
                destructive_hint=None if tool.read_only else False,
                idempotent_hint=None if tool.read_only else True,
                open_world_hint=False,
            ),
        )

    async def on_list_tools(_ctx, _params):
        return types.ListToolsResult(tools=[tool_listing(tool) for tool in TOOLS])

    async def on_call_tool(_ctx, params):
        if params.name not in TOOLS_BY_NAME:
            from mcp.shared.exceptions import MCPError

            raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {params.name}")
        body, is_error = call_tool(_caller.get(), params.name, params.arguments)
        text = body["detail"] if is_error else json.dumps(body, ensure_ascii=False)
        return types.CallToolResult(
            content=[types.TextContent(text=text)], structured_content=body, is_error=is_error
        )

    async def on_list_resources(_ctx, _params):
        listed = content.list_chapters(_caller.get())["chapters"]
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    uri=CHAPTER_URI + chapter["chapter_id"],
                    name=chapter["chapter_id"],
                    title=f"Chapter {chapter['chapter_number']}: {chapter['title']}",
                    description=chapter["subtitle"]
                    + (" (premium plan)" if chapter["locked"] else ""),
                    mime_type="application/json",
                )
                for chapter in listed
            ]
        )

    async def on_read_resource(_ctx, params):
        from mcp.shared.exceptions import MCPError

        uri = str(params.uri)
        try:
            if not uri.startswith(CHAPTER_URI):
                raise NotFound(f"There is no resource '{uri}'.")
            # The host reads a resource for context, maybe ahead of the student: no visit.
            body = content.read_chapter(
                _caller.get(), uri.removeprefix(CHAPTER_URI), record_visit=False
            )
        except ApiError as exc:
            error = {"code": exc.code, "detail": exc.detail}
            raise MCPError(types.INVALID_PARAMS, exc.detail, error) from exc
        text = json.dumps(body, ensure_ascii=False)
        return types.ReadResourceResult(
            contents=[types.TextResourceContents(uri=uri, mime_type="application/json", text=text)]
        )

    def tool_input_schema(name: str):
        tool = TOOLS_BY_NAME.get(name)
        return input_schema(tool) if tool else None

    _server = Server(
        SERVER_NAME,
        version="1.0.0",
        title=SERVER_TITLE,
        instructions=INSTRUCTIONS,
        get_tool_input_schema=tool_input_schema,
        on_list_tools=on_list_tools,
        on_call_tool=on_call_tool,
        on_list_resources=on_list_resources,
        on_read_resource=on_read_resource,
    )
    return _server


async def serve_mcp(scope, receive, send) -> None:
    """One MCP exchange: a session manager that lives for this request only."""
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

    manager = StreamableHTTPSessionManager(mcp_server(), json_response=True, stateless=True)
    async with manager.run():
        await manager.handle_request(scope, receive, send)


# --- POST /mcp ------------------------------------------------------------------------------


class McpEndpoint:
    """POST is the MCP exchange; a stateless server opens no stream (GET) and has no
    session to end (DELETE), so any other method is 405 (Streamable HTTP allows it)."""

    async def __call__(self, scope, receive, send) -> None:
        if scope["method"] != "POST":
            response = error_response(
                405,
                "This MCP server is stateless: send JSON-RPC messages with POST.",
                "method_not_allowed",
                {"Allow": "POST"},
            )
            await response(scope, receive, send)
            return
        from starlette.requests import Request

        request = Request(scope)
        # An ApiError here (401) is answered by the app's handler with the resource's
        # metadata URL in WWW-Authenticate.
        token = bearer_token(
            request.headers.get("authorization"),
            missing="Please sign in: this request needs an access token.",
        )
        student = student_from_token(token, [mcp_resource(base_url(request))])
        caller = _caller.set(student)
        try:
            await serve_mcp(scope, receive, send)
        finally:
            _caller.reset(caller)


app.add_route("/mcp", McpEndpoint(), include_in_schema=False)

handler = lambda_handler(app)
