"""Postgres access: one connection per warm Lambda, through a transaction pooler.

The connection is opened on first use (never at import), kept across invocations and
re-opened when the pooler or the server dropped it. It runs in autocommit so a single read
is one round trip; work that must be atomic runs inside `transaction=True`, one
transaction. `prepare_threshold=None`: a transaction pooler cannot keep server-side
prepared statements.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, TypeVar

from companion.errors import ServiceUnavailable
from companion.settings import get_settings

if TYPE_CHECKING:
    import psycopg

T = TypeVar("T")

# One connection per Lambda instance. In Lambda there is one instance per process; the local
# gateway serves several "instances" from one process and sets which one a request runs in.
lambda_instance: ContextVar[int] = ContextVar("lambda_instance", default=0)
_connections: dict[int, psycopg.Connection] = {}


class DatabaseUnavailable(ServiceUnavailable):
    def __init__(self) -> None:
        super().__init__("The database is unreachable right now. Please try again in a minute.")


def _open() -> psycopg.Connection:
    import psycopg
    from psycopg.rows import dict_row

    settings = get_settings()
    if not settings.database_url:
        raise DatabaseUnavailable()
    try:
        return psycopg.connect(
            settings.database_url,
            autocommit=True,
            prepare_threshold=None,
            row_factory=dict_row,
            connect_timeout=settings.db_connect_timeout_seconds,
            # Honoured on a direct connection; a pooler that drops startup options applies
            # its own query timeout instead (see pgbouncer.ini in companion_dev.services).
            options=f"-c statement_timeout={settings.db_statement_timeout_ms} -c timezone=UTC",
            application_name="course-companion",
        )
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable() from exc


def _current() -> tuple[psycopg.Connection, bool]:
    """The warm connection (and whether it is reused), opening one when needed."""
    instance = lambda_instance.get()
    connection = _connections.get(instance)
    if connection is not None and not connection.closed and not connection.broken:
        return connection, True
    close()
    _connections[instance] = _open()
    return _connections[instance], False


def close() -> None:
    """Close this instance's connection (the next use opens a new one)."""
    connection = _connections.pop(lambda_instance.get(), None)
    if connection is not None:
        with contextlib.suppress(Exception):  # a dead connection may fail to close
            connection.close()


def close_all() -> None:
    for instance in list(_connections):
        token = lambda_instance.set(instance)
        try:
            close()
        finally:
            lambda_instance.reset(token)


def run(work: Callable[[psycopg.Connection], T], *, transaction: bool = False) -> T:
    """Run `work(conn)`, in one transaction when asked.

    A reused connection that turns out dead (pooler restarted, idle timeout) is replaced
    and the work tried once more; nothing was committed by the failed try. Any other
    connection-level failure is a 503 for the caller.
    """
    import psycopg

    for attempt in (1, 2):
        conn, reused = _current()
        try:
            if transaction:
                with conn.transaction():
                    return work(conn)
            return work(conn)
        except psycopg.OperationalError as exc:
            if not conn.broken and not conn.closed:
                raise DatabaseUnavailable() from exc  # e.g. statement timeout
            close()
            if not reused or attempt == 2:
                raise DatabaseUnavailable() from exc
    raise AssertionError("unreachable")


def ping() -> bool:
    try:
        run(lambda conn: conn.execute("SELECT 1").fetchone())
    except ServiceUnavailable:
        return False
    return True
