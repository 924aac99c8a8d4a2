"""A local Upstash-compatible REST endpoint, for development and tests.

It speaks the protocol the upstash-redis client uses:

- `POST /` with a JSON array command (`["SET", "k", "v", "EX", 60]`) -> `{"result": ...}`;
- `POST /pipeline` and `POST /multi-exec` with an array of commands -> an array of
  `{"result": ...}` / `{"error": ...}` (multi-exec runs them as one MULTI/EXEC transaction);
- the REST path form for curl, `GET|POST /set/k/v` (a POST body is appended as the last
  argument);
- `Authorization: Bearer <token>` (or `?_token=`), else 401 `{"error": "Unauthorized"}`;
- command errors -> 400 `{"error": "ERR ..."}`;
- with the request header `Upstash-Encoding: base64`, every string in the result (also
  inside arrays) is base64 of its bytes, except the status string "OK", which the client
  passes through as is.

Behind it is a real Redis when a URL is given (redis-py), else an in-process fakeredis with
Lua, so EVAL/EVALSHA/SCRIPT LOAD work for upstash-ratelimit. Its scripts begin with
`#!lua flags=allow-key-locking`, a flag only Upstash knows (Redis rejects it, fakeredis
rejects any shebang), so scripts are adapted on the way in while keeping the SHA1 of the
text the client sent, as Upstash would report it.

    python -m companion_dev.upstash_local --port 8079 --token dev-token
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

# Commands that only make sense on a connection of one's own, which REST callers do not have.
_UNSUPPORTED = frozenset(
    {
        "SUBSCRIBE",
        "PSUBSCRIBE",
        "SSUBSCRIBE",
        "UNSUBSCRIBE",
        "PUNSUBSCRIBE",
        "SUNSUBSCRIBE",
        "MONITOR",
        "SYNC",
        "PSYNC",
        "SELECT",
        "QUIT",
        "RESET",
        "HELLO",
        "AUTH",
        "MULTI",
        "EXEC",
        "DISCARD",
        "WATCH",
        "UNWATCH",
    }
)


# Script flags Upstash accepts and Redis does not (upstash-ratelimit sets this one).
_UPSTASH_ONLY_FLAGS = frozenset({"allow-key-locking"})


class CommandError(Exception):
    """A command Redis (or this endpoint) refused; the message is Redis-style ("ERR ...")."""


class BackendUnavailable(Exception):
    """The Redis behind the endpoint cannot be reached."""


class RedisBackend:
    """Runs raw commands on redis-py (real Redis) or fakeredis, answers as RESP2 values."""

    def __init__(self, redis_url: str | None = None) -> None:
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(
                redis_url,
                protocol=2,
                decode_responses=False,
                socket_connect_timeout=2,
                socket_timeout=10,
            )
            self._lock: contextlib.AbstractContextManager = contextlib.nullcontext()
            self._fake = False
        else:
            import fakeredis

            self._redis = fakeredis.FakeRedis(
                server=fakeredis.FakeServer(), protocol=2, decode_responses=False
            )
            # One in-process server shared by the worker threads: keep commands one at a time.
            self._lock = threading.Lock()
            self._fake = True
        # SHA1 of a script as the client sent it -> SHA1 of the adapted script Redis knows.
        self._sha_sent_for: dict[str, str] = {}
        # Raw replies (bytes, ints, nested lists), not redis-py's per-command Python shapes.
        self._redis.response_callbacks.clear()

    def execute(self, command: list[Any]) -> Any:
        args, finish = self._prepared(command)
        with self._lock, _redis_errors():
            return finish(self._redis.execute_command(*args))

    def pipeline(self, commands: list[Any]) -> list[tuple[bool, Any]]:
        """Each command on its own, in order; (ok, result or error message) per command."""
        if not isinstance(commands, list):
            raise CommandError("ERR pipeline body must be an array of commands")
        outcomes: list[tuple[bool, Any]] = []
        for command in commands:
            try:
                outcomes.append((True, self.execute(command)))
            except CommandError as exc:
                outcomes.append((False, str(exc)))
        return outcomes

    def multi_exec(self, commands: list[Any]) -> list[tuple[bool, Any]]:
        """All commands in one MULTI/EXEC; a malformed command fails the whole request."""
        if not isinstance(commands, list):
            raise CommandError("ERR multi-exec body must be an array of commands")
        prepared = [self._prepared(command) for command in commands]
        if not prepared:
            return []
        with self._lock, _redis_errors():
            transaction = self._redis.pipeline(transaction=True)
            for args, _ in prepared:
                transaction.execute_command(*args)
            results = transaction.execute(raise_on_error=False)
        return [
            (False, _error_message(result))
            if isinstance(result, Exception)
            else (True, finish(result))
            for result, (_, finish) in zip(results, prepared, strict=True)
        ]

    def close(self) -> None:
        self._redis.close()

    def _prepared(self, command: Any) -> tuple[list[Any], Callable[[Any], Any]]:
        """The arguments to send to Redis, and what to do with its reply."""
        args = list(_validated(command))
        name = args[0].upper()
        subcommand = args[1].upper() if len(args) > 1 and isinstance(args[1], str) else ""
        if name in ("EVAL", "EVAL_RO") and len(args) > 1:
            args[1] = self._adapted_script(str(args[1]))
        elif name in ("EVALSHA", "EVALSHA_RO") and len(args) > 1:
            args[1] = self._sent_sha(str(args[1]))
        elif name == "SCRIPT" and subcommand == "LOAD" and len(args) > 2:
            original = str(args[2])
            args[2] = self._adapted_script(original)
            return args, lambda _sha: _sha1(original).encode()
        elif name == "SCRIPT" and subcommand == "EXISTS":
            args[2:] = [self._sent_sha(str(sha)) for sha in args[2:]]
        return args, _unchanged

    def _adapted_script(self, script: str) -> str:
        if not script.startswith("#!"):
            return script
        shebang, newline, body = script.partition("\n")
        if self._fake:
            adapted = newline + body  # fakeredis knows no shebang; keep the line numbers
        else:
            words = [w for w in shebang.split(" ") if w]
            for i, word in enumerate(words):
                if word.startswith("flags="):
                    flags = [f for f in word[6:].split(",") if f and f not in _UPSTASH_ONLY_FLAGS]
                    words[i] = "flags=" + ",".join(flags)
            adapted = " ".join(words) + newline + body
        if adapted != script:
            self._sha_sent_for[_sha1(script)] = _sha1(adapted)
        return adapted

    def _sent_sha(self, sha: str) -> str:
        return self._sha_sent_for.get(sha.lower(), sha)


def _unchanged(reply: Any) -> Any:
    return reply


def _sha1(script: str) -> str:
    return hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()


def _validated(command: Any) -> list[str | int | float]:
    if not isinstance(command, list) or not command:
        raise CommandError("ERR a command must be a non-empty JSON array")
    for arg in command:
        if isinstance(arg, bool) or not isinstance(arg, str | int | float):
            raise CommandError(f"ERR command arguments must be strings or numbers, got {arg!r}")
    if not isinstance(command[0], str):
        raise CommandError("ERR the command name must be a string")
    if command[0].upper() in _UNSUPPORTED:
        raise CommandError(f"ERR '{command[0]}' is not supported over REST")
    return command


@contextlib.contextmanager
def _redis_errors():
    from redis import exceptions

    try:
        yield
    except (exceptions.ConnectionError, exceptions.TimeoutError) as exc:
        raise BackendUnavailable(f"ERR redis unavailable: {exc}") from exc
    except exceptions.RedisError as exc:
        raise CommandError(_error_message(exc)) from exc


def _error_message(exc: Exception) -> str:
    # redis-py strips the "ERR " prefix and turns some prefixes into exception classes.
    from redis import exceptions

    message = str(exc)
    prefixes = {exceptions.NoScriptError: "NOSCRIPT", exceptions.ExecAbortError: "EXECABORT"}
    for kind, prefix in prefixes.items():
        if isinstance(exc, kind):
            return f"{prefix} {message}"
    first_word = message.split(" ", 1)[0]
    if first_word.isupper() and first_word.isalpha():
        return message  # already carries its code: WRONGTYPE, NOPERM, ...
    return f"ERR {message}"


def encode_result(value: Any, base64_strings: bool) -> Any:
    """A RESP2 reply as JSON: strings (base64 when asked, except "OK"), ints, null, arrays."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, Exception):
        value = _error_message(value)
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        if not base64_strings:
            return raw.decode("utf-8", errors="replace")
        return "OK" if raw == b"OK" else base64.b64encode(raw).decode("ascii")
    if isinstance(value, dict):
        value = [item for pair in value.items() for item in pair]
    if isinstance(value, list | tuple | set):
        return [encode_result(item, base64_strings) for item in value]
    raise CommandError(f"ERR cannot represent a {type(value).__name__} reply")


def create_app(token: str, redis_url: str | None = None) -> Starlette:
    """The ASGI app. `token` is what callers must present as `Authorization: Bearer`."""
    if not token:
        raise ValueError("a token is required")
    backend = RedisBackend(redis_url)
    expected = token.encode()

    def authorised(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        presented = header[7:] if header[:7].lower() == "bearer " else ""
        presented = presented or request.query_params.get("_token", "")
        return hmac.compare_digest(presented.encode(), expected)

    async def handle(request: Request) -> JSONResponse:
        if not authorised(request):
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        base64_strings = request.headers.get("upstash-encoding", "").lower() == "base64"
        path = request.url.path.rstrip("/")
        try:
            if request.method == "POST" and path in ("/pipeline", "/multi-exec"):
                run = backend.pipeline if path == "/pipeline" else backend.multi_exec
                outcomes = await run_in_threadpool(run, await _json_body(request))
                return JSONResponse(
                    [
                        {"result": encode_result(value, base64_strings)} if ok else {"error": value}
                        for ok, value in outcomes
                    ]
                )
            if request.method == "POST" and path == "":
                command = await _json_body(request)
            else:
                command = await _path_command(request)
            result = await run_in_threadpool(backend.execute, command)
            return JSONResponse({"result": encode_result(result, base64_strings)})
        except CommandError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except BackendUnavailable as exc:
            return JSONResponse({"error": str(exc)}, status_code=503)

    app = Starlette(routes=[Route("/{path:path}", handle, methods=["GET", "POST"])])
    app.state.backend = backend
    return app


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError as exc:
        raise CommandError("ERR the request body is not valid JSON") from exc


async def _path_command(request: Request) -> list[str]:
    # The raw path, so a %2F inside an argument does not split it.
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    command = [unquote(part) for part in raw_path.decode("latin-1").strip("/").split("/")]
    if command == [""]:
        raise CommandError("ERR no command given")
    if request.method == "POST":
        body = await request.body()
        if body:
            command.append(body.decode("utf-8", errors="replace"))
    return command


class RunningEndpoint(NamedTuple):
    url: str
    stop: Callable[[], None]


def serve_in_background(
    token: str, redis_url: str | None = None, port: int = 0, host: str = "127.0.0.1"
) -> RunningEndpoint:
    """Start the endpoint with uvicorn in a daemon thread; port 0 picks a free one.

    Returns the base URL (what UPSTASH_REDIS_REST_URL should be) and a function that stops
    the server and waits for it.
    """
    import uvicorn

    app = create_app(token, redis_url)
    listener = _bind(host, port)
    bound_port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(
        target=server.run,
        kwargs={"sockets": [listener]},
        name=f"upstash-local-{bound_port}",
        daemon=True,
    )
    thread.start()
    for _ in range(200):
        if server.started or not thread.is_alive():
            break
        thread.join(0.05)
    if not server.started:
        server.should_exit = True
        listener.close()
        raise RuntimeError("the local Upstash endpoint did not start")

    def stop() -> None:
        server.should_exit = True
        thread.join(10)
        listener.close()
        app.state.backend.close()

    return RunningEndpoint(url=f"http://{host}:{bound_port}", stop=stop)


def _bind(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it every reply waits ~40 ms for a delayed ACK.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.set_inheritable(True)
    return listener


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(
        prog="python -m companion_dev.upstash_local",
        description="Local Upstash-compatible REST endpoint (fakeredis, or a Redis you name).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default=None, help="bearer token (default: a random one)")
    parser.add_argument("--redis-url", default=None, help="redis://... (default: in-process)")
    args = parser.parse_args(argv)

    token = args.token or secrets.token_urlsafe(24)
    app = create_app(token, args.redis_url)
    listener = _bind(args.host, args.port)
    port = listener.getsockname()[1]
    print(f"UPSTASH_REDIS_REST_URL=http://{args.host}:{port}", flush=True)
    print(f"UPSTASH_REDIS_REST_TOKEN={token}", flush=True)
    backing = args.redis_url or "in-process fakeredis"
    print(f"backed by {backing}; Ctrl-C to stop", file=sys.stderr, flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    server.run(sockets=[listener])


if __name__ == "__main__":
    main()
