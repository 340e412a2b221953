"""Real servers on loopback for the fault-injection suite, shared by its tests: one misbehaving HTTP server, one
aiosmtpd server that records what it accepts, and a clock for the HTTP policy that never sleeps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from series.http import SystemClock
from tests.fault_server import FakeClock, FaultServer
from tests.monitor.notify.conftest import Recorder, free_port, smtp_server


class Smtp:
    """A running aiosmtpd server and what it accepted (`reset()` between tests)."""

    def __init__(self, port: int, recorder: Recorder) -> None:
        self.port, self.recorder = port, recorder

    @property
    def messages(self) -> list[bytes]:
        return [m.content for m in self.recorder.messages]

    def reset(self) -> None:
        self.recorder.messages.clear()


@pytest.fixture(scope="session")
def http_server() -> Iterator[FaultServer]:
    server = FaultServer().start()
    yield server
    server.stop()


@pytest.fixture
def http(http_server: FaultServer) -> FaultServer:
    """The session's fault server with an empty request log (each test scripts its own replies)."""
    http_server.reset()
    return http_server


@pytest.fixture(scope="session")
def smtp_session() -> Iterator[Smtp]:
    recorder, port = Recorder(), free_port()
    with smtp_server(port, recorder):
        yield Smtp(port, recorder)


@pytest.fixture
def smtp(smtp_session: Smtp) -> Smtp:
    smtp_session.reset()
    return smtp_session


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The HTTP policy's clock (backoff, Retry-After, per-host spacing) without real sleeping; every wait it asked
    for is in `clock.sleeps`. Timeouts stay real: they are socket timeouts, not sleeps."""
    fake = FakeClock()
    monkeypatch.setattr(SystemClock, "monotonic", lambda self: fake.monotonic())
    monkeypatch.setattr(SystemClock, "sleep", lambda self, seconds: fake.sleep(seconds))
    return fake
