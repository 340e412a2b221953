"""A real HTTP server on loopback that misbehaves on command, and a clock that never sleeps.

    server.script(Reply(500), Reply(200, body))     # answers in this order, then repeats the last one
    server.route("/fred/series/vintagedates", Reply(200, xml))   # or answer by path
    policy = HttpPolicy(endpoints={"fred": server.url}, clock=FakeClock(), ...)

Every request is kept in `server.requests` (method, path, query, body) so tests can count attempts and check
what was sent. Replies may be delayed (`delay` seconds) to provoke client timeouts, or held until the test sets an
event (`hold`), to keep a client waiting at a known point, or trickled a byte at a time (`trickle` seconds apart,
status line and headers included: a server that keeps every read alive and never finishes). A reply may also be
a function of the request (`echo`: an error body that repeats the request's path and query, as some servers do).
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
    trickle: float = 0.0  # seconds between bytes (0 = all at once)
    trickle_head: bool = True  # the status line and headers too (False: they come at once, then the body trickles)


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    target: str = ""  # the request target as sent (path and query, still percent-encoded)
    at: float = 0.0  # time.monotonic() when the request arrived


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
        self._script: list[Reply | Callable[[Seen], Reply]] = [Reply(404, b"nothing scripted")]
        self._routes: dict[str, Callable[[Seen], Reply]] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                body = self.rfile.read(length) if length else b""
                seen = Seen(self.command, parts.path, parse_qs(parts.query), body, self.path, time.monotonic())
                reply = server._next(seen)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.hold is not None:
                    reply.hold.wait(timeout=120)
                if reply.trickle:
                    self._trickle(reply)
                    return
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the client gave up (timeout): nothing to tell it

            def _trickle(self, reply: Reply) -> None:
                head = f"HTTP/1.1 {reply.status} Slow\r\nContent-Length: {len(reply.body)}\r\n\r\n".encode()
                at_once = 1 if reply.trickle_head else len(head)
                for i, byte in enumerate(head + reply.body):
                    if i >= at_once:
                        time.sleep(reply.trickle)
                    try:
                        self.wfile.write(bytes([byte]))
                    except OSError:
                        return  # the client gave up
                self.close_connection = True

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

    def script(self, *replies: Reply | Callable[[Seen], Reply]) -> None:
        """Answer the next requests with these replies (or `reply(seen)`) in order; the last one repeats."""
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
            step = self._script.pop(0) if len(self._script) > 1 else self._script[0]
            return step(seen) if callable(step) else step
