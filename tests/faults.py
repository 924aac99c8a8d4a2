"""Broken dependencies for fault drills: an address where nothing listens (a service that is
down) and a server that accepts connections and never answers (a service that hangs)."""

from __future__ import annotations

import socket
import threading
import time

from companion_dev.services import free_port


def closed_port() -> int:
    """A local port nothing listens on: connecting is refused at once."""
    return free_port()


class SilentListener:
    """Accepts TCP connections on a free local port, reads nothing and never answers.

    Use as a context manager; `accepted` counts the connections made so far.
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self._running = True
        self._thread = threading.Thread(target=self._accept_forever, daemon=True)
        self._thread.start()

    @property
    def accepted(self) -> int:
        with self._lock:
            return len(self._held)

    def url(self, scheme: str = "http", path: str = "") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def _accept_forever(self) -> None:
        while self._running:
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._held.append(connection)

    def wait_for_connections(self, count: int, within: float = 2.0) -> int:
        deadline = time.monotonic() + within
        while self.accepted < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.accepted

    def close(self) -> None:
        self._running = False
        self._thread.join(2)
        self._listener.close()
        with self._lock:
            for connection in self._held:
                connection.close()
            self._held.clear()

    def __enter__(self) -> SilentListener:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()
