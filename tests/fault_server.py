"""A real HTTP server on loopback that misbehaves on command, and a clock that never sleeps.

    server.script(Reply(500), Reply(200, body))     # answers in this order, then repeats the last one
    server.route("/fred/series/vintagedates", Reply(200, xml))   # or answer by path
    policy = HttpPolicy(endpoints={"fred": server.url}, clock=FakeClock(), ...)

Every request is kept in `server.requests` (method, path, query, body) so tests can count attempts and check
what was sent. Replies may be delayed (`delay` seconds) to provoke client timeouts, or held until the test sets an
event (`hold`), to keep a client waiting at a known point.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hold: threading.Event | None = None


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes


class FakeClock:
    """Monotonic time that moves only when something sleeps; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)


class FaultServer:
    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self._script: list[Reply] = [Reply(404, b"nothing scripted")]
        self._routes: dict[str, Callable[[Seen], Reply]] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                seen = Seen(self.command, parts.path, parse_qs(parts.query), self.rfile.read(length) if length else b"")
                reply = server._next(seen)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.hold is not None:
                    reply.hold.wait(timeout=120)
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the client gave up (timeout): nothing to tell it

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FaultServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def reset(self) -> None:
        """Forget the requests seen and every route (a server shared between tests)."""
        with self._lock:
            self.requests.clear()
            self._routes.clear()
            self._script = [Reply(404, b"nothing scripted")]

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with these replies in order; the last one repeats."""
        with self._lock:
            self._script = list(replies)

    def route(self, path: str, reply: Reply | Callable[[Seen], Reply]) -> None:
        """Answer requests for `path` with `reply` (or `reply(seen)`), whatever the script says."""
        with self._lock:
            self._routes[path] = reply if callable(reply) else (lambda seen, r=reply: r)

    def _next(self, seen: Seen) -> Reply:
        with self._lock:
            self.requests.append(seen)
            if seen.path in self._routes:
                return self._routes[seen.path](seen)
            return self._script.pop(0) if len(self._script) > 1 else self._script[0]
