"""`companion`: the local stack and operator commands.

    companion dev                         start the whole API locally and print its URL
    companion invoke FUNCTION EVENT.json  run one function on one event, print its result
    companion migrate [--revision R]      migrate the database (DATABASE_DIRECT_URL)
    companion set-tier EMAIL TIER [--expires ISO-8601]
    companion mcp-token EMAIL [--base-url URL]   an access token for <URL>/mcp
    companion content validate|publish
    companion openapi [--output FILE]     the Actions OpenAPI document
    companion oauth add-client --name NAME --redirect-uri URI [--redirect-uri URI ...]
    companion oauth list-clients

`companion dev` records the local settings it chose in .companion/local.json; every other
command uses them where the environment does not say otherwise, so it acts on the same
stack as the running API.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path

from companion_dev.migrations import REPO_ROOT

LOCAL_DIR = REPO_ROOT / ".companion"
LOCAL_SETTINGS = LOCAL_DIR / "local.json"
CONTENT_SOURCE = REPO_ROOT / "shared" / "content"
RECORDED = (
    "DATABASE_URL",
    "DATABASE_DIRECT_URL",
    "UPSTASH_REDIS_REST_URL",
    "UPSTASH_REDIS_REST_TOKEN",
    "CONTENT_BUCKET",
    "CONTENT_ENDPOINT_URL",
    "CONTENT_DIR",
    "JWT_SECRET",
)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _load_local_settings() -> None:
    """Fill the environment from .companion/local.json where it is silent."""
    if LOCAL_SETTINGS.exists():
        for name, value in json.loads(LOCAL_SETTINGS.read_text()).items():
            if value and not os.environ.get(name):
                os.environ[name] = value
    os.environ.setdefault("CONTENT_DIR", str(LOCAL_DIR / "bucket"))
    from companion.settings import reset_settings

    reset_settings()


def _reset_clients() -> None:
    from companion import cache, catalogue, db
    from companion.settings import reset_settings

    reset_settings()
    cache.reset()
    catalogue.drop_copy_in_memory()
    db.close_all()


# --- dev -------------------------------------------------------------------------------


def cmd_dev(args: argparse.Namespace) -> int:
    from companion import catalogue
    from companion_dev import migrations, services
    from companion_dev.gateway import serve

    LOCAL_DIR.mkdir(exist_ok=True)
    recorded = json.loads(LOCAL_SETTINGS.read_text()) if LOCAL_SETTINGS.exists() else {}
    stops = []

    if not os.environ.get("DATABASE_URL"):
        _say("Starting the embedded Postgres (.companion/postgres) ...")
        os.environ["DATABASE_URL"] = services.embedded_postgres(LOCAL_DIR / "postgres")
    database_direct = os.environ.get("DATABASE_DIRECT_URL") or os.environ["DATABASE_URL"]
    _say("Migrating the database to the latest revision ...")
    migrations.upgrade(database_direct)

    if not (
        os.environ.get("UPSTASH_REDIS_REST_URL") and os.environ.get("UPSTASH_REDIS_REST_TOKEN")
    ):
        from companion_dev.upstash_local import serve_in_background

        token = secrets.token_urlsafe(24)
        endpoint = serve_in_background(token, redis_url=os.environ.get("REDIS_URL"))
        stops.append(endpoint.stop)
        os.environ["UPSTASH_REDIS_REST_URL"] = endpoint.url
        os.environ["UPSTASH_REDIS_REST_TOKEN"] = token
        backing = "Redis at REDIS_URL" if os.environ.get("REDIS_URL") else "an in-process Redis"
        _say(f"Local Upstash-compatible endpoint at {endpoint.url} ({backing})")

    if not os.environ.get("CONTENT_BUCKET"):
        os.environ.setdefault("CONTENT_DIR", str(LOCAL_DIR / "bucket"))
    if not os.environ.get("JWT_SECRET"):
        os.environ["JWT_SECRET"] = recorded.get("JWT_SECRET") or secrets.token_urlsafe(48)

    _reset_clients()
    published = catalogue.publish(CONTENT_SOURCE)
    from companion.content_store import content_store

    _say(f"Published {len(published)} course files to {content_store().description}")

    LOCAL_SETTINGS.write_text(
        json.dumps({name: os.environ.get(name) for name in RECORDED}, indent=2) + "\n"
    )
    os.chmod(LOCAL_SETTINGS, 0o600)

    port = args.port or int(os.environ.get("PORT", "3000"))
    url = f"http://127.0.0.1:{port}"
    print(f"Course Companion API: {url}", flush=True)
    print(f"  try: curl {url}/health", flush=True)
    try:
        serve("127.0.0.1", port)
    finally:
        for stop in stops:
            with contextlib.suppress(Exception):
                stop()
    return 0


# --- invoke ----------------------------------------------------------------------------


def cmd_invoke(args: argparse.Namespace) -> int:
    _load_local_settings()
    event = json.loads(Path(args.event).read_text())
    from companion_dev.invoke import invoke

    # Logs go to stderr; stdout carries the function's return value and nothing else.
    with contextlib.redirect_stdout(sys.stderr):
        result = invoke(args.function, event)
    print(json.dumps(result, indent=2, default=str))
    return 0


# --- operator commands -----------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace) -> int:
    _load_local_settings()
    from companion.settings import get_settings
    from companion_dev import migrations

    url = get_settings().migration_url
    if not url:
        _say("Set DATABASE_DIRECT_URL (or DATABASE_URL), or run `companion dev` once.")
        return 2
    if args.downgrade:
        migrations.downgrade(url, args.downgrade)
    else:
        migrations.upgrade(url, args.revision)
    _say(f"Database at revision {migrations.current_revision(url)}")
    return 0


def cmd_set_tier(args: argparse.Namespace) -> int:
    _load_local_settings()
    from companion_dev.admin import set_tier

    try:
        expires = datetime.fromisoformat(args.expires) if args.expires else None
        with contextlib.redirect_stdout(sys.stderr):
            result = set_tier(args.email, args.tier, expires)
    except (ValueError, LookupError) as exc:
        _say(f"companion set-tier: {exc}")
        return 2
    print(json.dumps(result, indent=2, default=str))
    return 0


def cmd_mcp_token(args: argparse.Namespace) -> int:
    _load_local_settings()
    from companion_dev.admin import mcp_access_token

    base = args.base_url or f"http://127.0.0.1:{os.environ.get('PORT') or 3000}"
    try:
        with contextlib.redirect_stdout(sys.stderr):
            token = mcp_access_token(args.email, base)
    except LookupError as exc:
        _say(f"companion mcp-token: {exc}")
        return 2
    print(token)
    return 0


def cmd_content(args: argparse.Namespace) -> int:
    _load_local_settings()
    from companion import catalogue

    if args.action == "validate":
        course = catalogue.validate_source(CONTENT_SOURCE)
        _say(f"OK: {len(course.chapters)} chapters and {len(course.quizzes)} quizzes are valid.")
        return 0
    uploaded = catalogue.publish(CONTENT_SOURCE)
    from companion.content_store import content_store

    _say(f"Published {len(uploaded)} files to {content_store().description}")
    return 0


def cmd_oauth(args: argparse.Namespace) -> int:
    """A confidential client for a GPT (its secret shown once), or the clients there are."""
    _load_local_settings()
    from companion.oauth import clients

    with contextlib.redirect_stdout(sys.stderr):
        try:
            if args.action == "add-client":
                result = clients.add_confidential_client(args.name, args.redirect_uri)
            else:
                result = clients.list_clients()
        except clients.ClientMetadataError as exc:
            _say(f"companion oauth: {exc}")
            return 2
    print(json.dumps(result, indent=2))
    if args.action == "add-client":
        _say("Keep the client_secret now: it is stored hashed and cannot be shown again.")
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from companion_dev.openapi import actions_document

    document = json.dumps(actions_document(), indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(document)
    else:
        sys.stdout.write(document)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="companion", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="start the whole API locally")
    dev.add_argument("--port", type=int, default=None)
    dev.set_defaults(run=cmd_dev)

    invoke = commands.add_parser("invoke", help="run one function on an event file")
    invoke.add_argument("function", help="the template's logical id, e.g. ContentFunction")
    invoke.add_argument("event", help="an event JSON file, e.g. events/health.json")
    invoke.set_defaults(run=cmd_invoke)

    migrate = commands.add_parser("migrate", help="migrate the database")
    migrate.add_argument("--revision", default="head")
    migrate.add_argument("--downgrade", metavar="REVISION", default=None)
    migrate.set_defaults(run=cmd_migrate)

    tier = commands.add_parser("set-tier", help="give a student the free or premium plan")
    tier.add_argument("email")
    tier.add_argument("tier", choices=["free", "premium"])
    tier.add_argument("--expires", default=None, help="ISO-8601 instant the plan ends")
    tier.set_defaults(run=cmd_set_tier)

    mcp_token = commands.add_parser(
        "mcp-token", help="print an access token for the MCP server, to try it locally"
    )
    mcp_token.add_argument("email")
    mcp_token.add_argument(
        "--base-url",
        default=None,
        help="the API's base URL the token is for (default: companion dev's, "
        "http://127.0.0.1:$PORT); the token is for <base-url>/mcp",
    )
    mcp_token.set_defaults(run=cmd_mcp_token)

    content = commands.add_parser("content", help="validate or publish the course")
    content.add_argument("action", choices=["validate", "publish"])
    content.set_defaults(run=cmd_content)

    oauth = commands.add_parser("oauth", help="OAuth clients (sign-in for chat apps)")
    oauth_actions = oauth.add_subparsers(dest="action", required=True)
    add_client = oauth_actions.add_parser("add-client", help="a confidential client for a GPT")
    add_client.add_argument("--name", required=True, help="shown to students when they sign in")
    add_client.add_argument(
        "--redirect-uri",
        action="append",
        required=True,
        help="an exact callback URL (the GPT builder shows it); repeat for more",
    )
    oauth_actions.add_parser("list-clients", help="every registered client (never a secret)")
    oauth.set_defaults(run=cmd_oauth)

    openapi = commands.add_parser("openapi", help="write the Actions OpenAPI document")
    openapi.add_argument("--output", default=None)
    openapi.set_defaults(run=cmd_openapi)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
