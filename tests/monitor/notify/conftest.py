"""A real SMTP server on loopback (aiosmtpd), with STARTTLS or implicit TLS on a throwaway self-signed
certificate, recording what it receives."""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    content: bytes
    mail_from: str
    rcpt_tos: list[str]
    tls: bool
    login: str | None


@dataclass
class Recorder:
    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            Received(
                envelope.content,
                envelope.mail_from,
                list(envelope.rcpt_tos),
                session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
                session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None,
            )
        )
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class Cert:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx


@pytest.fixture(scope="session")
def cert(tmp_path_factory) -> Cert:
    """A self-signed certificate for 127.0.0.1 and localhost, valid for a day, made for this test run."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: cannot make a throwaway certificate for the TLS tests")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(d / "key.pem"),
            "-out",
            str(d / "cert.pem"),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return Cert(d / "cert.pem", d / "key.pem")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def smtp_server(port: int, recorder: Recorder, **kwargs) -> Iterator[Controller]:
    controller = Controller(recorder, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def password_checker(user: str, password: str):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    return authenticator


# -- a real HTTP server on loopback for the webhook, Slack and Teams notifiers ---------------------------------------
@dataclass(frozen=True)
class Posted:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Hook:
    """What an HTTP receiver got, and what it answers: `replies` in order (status, body, delay in seconds), the
    last one repeated."""

    posts: list[Posted] = field(default_factory=list)
    replies: list[tuple[int, bytes, float]] = field(default_factory=lambda: [(200, b"ok", 0.0)])

    def answer(self) -> tuple[int, bytes, float]:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


@contextlib.contextmanager
def hook_server(port: int, hook: Hook) -> Iterator[str]:
    """Serve `hook` on 127.0.0.1:port (a fixed port, so a test can take the server down and bring it back)."""
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            hook.posts.append(Posted(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status, reply, delay = hook.answer()
            time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except OSError:
                pass  # the client gave up (a timeout)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def receiver_config(tmp_path: Path, receiver: dict):
    """test_email's synthetic config (KRW/USD and two level rules) with this one receiver."""
    import tomllib

    from monitor.config import validate_config
    from tests.monitor.notify.test_email import CONFIG

    raw = tomllib.loads(CONFIG.format(port=25, security="none", username="", password_env="", ca_file=""))
    raw["receivers"] = [receiver]
    return validate_config(raw, tmp_path / "config.toml")


def store_bytes(store: Path) -> bytes:
    """Every byte the store left on disk (the database and its journal files)."""
    return b"".join(p.read_bytes() for p in sorted(store.parent.glob(store.name + "*")))
