"""The real local stack for the whole suite, started once per test session.

- Postgres: the server at DATABASE_URL, else an embedded one (pgserver); a fresh database
  `companion_test_<pid>` on it, migrated to the latest revision.
- PgBouncer in transaction mode in front of it whenever `pgbouncer` is installed: the
  functions then talk to the pooler, as in production; migrations use the direct URL.
- The local Upstash-compatible endpoint (backed by REDIS_URL's Redis when set, else an
  in-process one) and moto's S3 server with the course published to it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
WORK_DIR = REPO_ROOT / ".companion" / "test"
BUCKET = "course-content-test"


def _postgres_admin_url() -> str:
    from companion_dev.services import embedded_postgres

    given = os.environ.get("DATABASE_URL")
    return given or embedded_postgres(WORK_DIR / "postgres")


@pytest.fixture(scope="session")
def stack():
    from companion_dev.services import start_local_services

    local = start_local_services(
        _postgres_admin_url(),
        # A database of this session's own, so parallel runs on one server never collide.
        f"companion_test_{os.getpid()}",
        WORK_DIR,
        bucket=BUCKET,
        content_dir=REPO_ROOT / "shared" / "content",
        redis_url=os.environ.get("REDIS_URL"),
        extra_environment={
            "BCRYPT_ROUNDS": "4",  # tests only: production keeps the default cost of 12
            "POWERTOOLS_METRICS_NAMESPACE": "CourseCompanionTest",
        },
    )
    yield {
        "direct_url": local.direct_url,
        "pooled_url": local.pooled_url,
        "pgbouncer": local.pgbouncer,
        "upstash_url": local.upstash_url,
        "upstash_token": local.upstash_token,
        "s3": local.s3,
        "bucket": local.bucket,
    }
    local.close()


def forget_clients() -> None:
    """Drop everything built from the environment (the settings, the cache client, the
    database connections), so the next use reads it afresh."""
    from companion import cache, db
    from companion.settings import reset_settings

    reset_settings()
    cache.reset()
    db.close_all()


class Environment:
    """`environment(NAME="value", OTHER=None)` sets (None: removes) environment variables and
    forgets every client built from the old ones. The course this process holds in memory
    (`companion.catalogue`) stays, as in a warm function whose services go down; a test that
    needs a cold function says `catalogue.drop_copy_in_memory()`. The test's changes are
    undone when the test ends, or at the end of a `with environment(...):` block: the
    clients are forgotten again and the course in memory is dropped, so whatever was loaded
    under the changed environment never serves a later test."""

    def __init__(self) -> None:
        self._patch = pytest.MonkeyPatch()

    def __call__(self, **variables: str | None) -> Environment:
        for name, value in variables.items():
            if value is None:
                self._patch.delenv(name, raising=False)
            else:
                self._patch.setenv(name, value)
        forget_clients()
        return self

    def __enter__(self) -> Environment:
        return self

    def __exit__(self, *_exception) -> None:
        self.restore()

    def restore(self) -> None:
        from companion import catalogue

        self._patch.undo()
        forget_clients()
        catalogue.drop_copy_in_memory()


@pytest.fixture
def environment() -> Iterator[Environment]:
    changes = Environment()
    yield changes
    changes.restore()


PASSWORD = "correct horse battery"


@pytest.fixture
def new_student(stack):
    """Make a student through the API (register, optionally a plan, log in); returns an Api
    client carrying the student's token, with `.email` and `.user_id`."""
    import uuid

    from api import Api

    def make(tier: str = "free", timezone: str = "UTC", expires=None) -> Api:
        email = f"student-{uuid.uuid4().hex[:12]}@example.com"
        registered = Api().post(
            "/auth/register", {"email": email, "password": PASSWORD, "timezone": timezone}
        )
        assert registered.status == 201, registered.body
        if tier != "free":
            from companion_dev.admin import set_tier

            set_tier(email, tier, expires)
        login = Api().post("/auth/login", {"email": email, "password": PASSWORD})
        assert login.status == 200, login.body
        client = Api(login["access_token"])
        client.email = email
        client.user_id = registered["user_id"]
        return client

    return make


@pytest.fixture
def sql(stack):
    """Run SQL on the test database directly (to inspect or age rows)."""
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(stack["direct_url"], autocommit=True, row_factory=dict_row) as conn:

        def run(query, params=()):
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

        yield run


@pytest.fixture(scope="session")
def gateway_url(stack):
    """The local gateway (companion dev's) serving every function over real HTTP on a free
    loopback port, for clients that speak HTTP themselves (OAuth libraries, browsers, MCP)."""
    import threading

    import uvicorn

    from companion_dev.gateway import create_gateway
    from companion_dev.services import free_port, wait_for_port

    port = free_port()
    config = uvicorn.Config(
        create_gateway(), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port("127.0.0.1", port)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser(gateway_url):
    """Debian's headless Chromium driven by Playwright (never `playwright install`), launched
    so that nothing it does leaves 127.0.0.1 (DESIGN.md)."""
    from playwright.sync_api import sync_playwright

    closed_port = 9  # discard: nothing answers here, so a stray lookup goes nowhere
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--host-resolver-rules=MAP * 127.0.0.1:{closed_port}, "
                "EXCLUDE 127.0.0.1, EXCLUDE localhost",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def metadata_document_server():
    """A loopback HTTP server for Client ID Metadata Documents: (its base URL, a dict of
    path -> document bytes the test fills in)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    documents: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = documents.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body or b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield base, documents
    server.shutdown()
