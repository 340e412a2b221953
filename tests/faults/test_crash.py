"""A run killed with SIGKILL at a known point, and two runs started at once, as real child processes.

The test acts on what the child says (its --log-format json lines on stderr) and on what the servers see: the
probe's source (the loopback HTTP server) holds its answer until the test lets it go, and an SMTP server can stall
before it accepts a message. Afterwards: the store is readable and whole (no partial fetch, no duplicated or lost
observation against an unfaulted run of the same day), the lock is free, and the day's one message reaches the
SMTP server exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from series.store import Store
from tests.fault_server import FaultServer, Reply
from tests.faults.conftest import Smtp
from tests.faults.support import (
    REPO,
    Child,
    Ran,
    Row,
    assert_delivered_once,
    assert_store_sound,
    observations,
    outbox,
    run_args,
    run_in_process,
    runs,
    wait_until,
    write_config,
)
from tests.faults.test_sources import HTTP, PROBES
from tests.monitor.notify.conftest import Recorder, free_port, smtp_server

PROBE = PROBES["fredgraph"]
DAY = PROBE.days[0]
PATH = "/graph/fredgraph.csv"


@pytest.fixture(scope="module")
def good(shared: Path) -> bytes:
    return HTTP["fredgraph"].good(shared)


@pytest.fixture(scope="module")
def reference(
    good: bytes, http_server: FaultServer, smtp_session: Smtp, tmp_path_factory: pytest.TempPathFactory
) -> list[Row]:
    """The store after an unfaulted run of the day."""
    from monitor.cli import run

    folder = tmp_path_factory.mktemp("crash-reference")
    http_server.script(Reply(200, good))
    smtp_session.reset()
    config = write_config(folder, PROBE, smtp_port=smtp_session.port, endpoint=http_server.url)
    assert run(run_args(config, DAY)) == 0
    assert len(smtp_session.messages) == 1
    return observations(folder / "store.sqlite")


def _assert_recovered(store: Path, reference: list[Row], received: list[bytes]) -> None:
    assert_store_sound(store)
    assert observations(store) == reference
    assert len(received) == 1
    assert_delivered_once(store, received)


def test_sigkill_while_fetching_then_a_normal_run(
    reference: list[Row], good: bytes, http: FaultServer, smtp: Smtp, tmp_path: Path, capsys: Any
) -> None:
    release = threading.Event()
    http.script(Reply(200, good, hold=release))
    config = write_config(tmp_path, PROBE, smtp_port=smtp.port, endpoint=http.url, timeout=60)
    child = Child(config, DAY)
    try:
        # Killed once its first fetch is stored and logged, while the second one waits for its answer.
        child.wait_for_event("fetch", series="won", status="ok")
        wait_until(lambda: len(http.requests) == 1, what="the probe's request")
        child.kill()
    finally:
        release.set()
    assert child.proc.returncode == -9
    store = tmp_path / "store.sqlite"
    assert_store_sound(store)
    assert {r[0] for r in observations(store)} == {"won"}  # the first fetch whole, nothing of the second
    assert runs(store) == [(1, "running")]  # the record of a run that never finished
    with Store.open(store, writer="test: the lock was released by the kernel"):
        pass

    http.script(Reply(200, good))
    after = run_in_process(config, DAY, capsys)
    assert after.code == 0, after.err
    assert runs(store) == [(1, "running"), (2, "ok")]
    _assert_recovered(store, reference, smtp.messages)


@dataclass
class StallingSmtp(Recorder):
    """An SMTP server that stops before accepting the sender (MAIL FROM) until released: a client killed there
    has not handed the message over."""

    stall: bool = True
    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # type: ignore[no-untyped-def]
        if self.stall:
            self.entered.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 120)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"


@pytest.fixture
def stalling() -> Iterator[tuple[StallingSmtp, int]]:
    handler, port = StallingSmtp(), free_port()
    with smtp_server(port, handler):
        yield handler, port
        handler.release.set()


def test_sigkill_while_mailing_then_a_normal_run_sends_once(
    reference: list[Row],
    good: bytes,
    http: FaultServer,
    stalling: tuple[StallingSmtp, int],
    tmp_path: Path,
    capsys: Any,
) -> None:
    handler, port = stalling
    http.script(Reply(200, good))
    config = write_config(tmp_path, PROBE, smtp_port=port, endpoint=http.url, smtp_timeout=60)
    child = Child(config, DAY)
    child.wait_for_event("notify", receiver="desk")
    assert handler.entered.wait(60), "the child never reached the SMTP server"
    child.kill()
    handler.stall = False
    handler.release.set()
    store = tmp_path / "store.sqlite"
    assert [status for _, status, _ in outbox(store)] == ["sending"]  # killed during the SMTP exchange
    assert handler.messages == []

    after = run_in_process(config, DAY, capsys)
    assert after.code == 0, after.err
    assert any("interrupted during delivery; sending it again" in e["message"] for e in after.events)
    _assert_recovered(store, reference, [m.content for m in handler.messages])


def test_two_runs_at_once_one_proceeds_the_other_exits_3(
    reference: list[Row], good: bytes, http: FaultServer, smtp: Smtp, tmp_path: Path
) -> None:
    release = threading.Event()
    # The winner's first request fails (a retry, logged) and the second waits until the loser has given up.
    http.script(Reply(500, b"Internal Server Error"), Reply(200, good, hold=release))
    config = write_config(tmp_path, PROBE, smtp_port=smtp.port, endpoint=http.url, timeout=60)
    children = [Child(config, DAY), Child(config, DAY)]
    try:
        wait_until(lambda: any(c.proc.poll() is not None for c in children), what="one run to give up")
    finally:
        release.set()
    (loser,) = [c for c in children if c.proc.poll() is not None]
    (winner,) = [c for c in children if c is not loser]
    lost, won = loser.finish(), winner.finish()
    assert lost.code == 3
    assert len(lost.err.splitlines()) == 1, lost.err
    assert lost.err.startswith(f"error: store {tmp_path / 'store.sqlite'} is in use by monitor run --as-of {DAY}")
    assert f"(pid {winner.pid} on " in lost.err and "wait for it to finish or stop it" in lost.err
    assert won.code == 0, won.err
    won.assert_json_log()  # the retry warning included
    assert any(e["event"] == "series.http" and "retry 1 of 1" in e["message"] for e in won.events)
    store = tmp_path / "store.sqlite"
    assert runs(store) == [(1, "ok")]  # the loser never started a run
    _assert_recovered(store, reference, smtp.messages)


def _stopped_cleanly(stopped: Ran, signum: int, store: Path) -> None:
    """The run ends at once with 128 + the signal number, one line saying so, an event in the log, the run on
    record as interrupted and the lock free."""
    name = signal.Signals(signum).name
    assert stopped.code == 128 + signum, stopped.err
    assert "Traceback" not in stopped.err
    stopped.assert_json_log()
    errors = [line for line in stopped.err.splitlines() if not line.startswith("{")]
    assert errors == [
        f"error: run 1 as of {DAY} stopped by {name}: recorded as interrupted; nothing half-stored, mail not "
        "yet delivered stays in the outbox; the next run goes on from here"
    ], stopped.err
    assert [e["signal"] for e in stopped.events if e["event"] == "run.interrupted"] == [name]
    assert runs(store) == [(1, "interrupted")]
    assert_store_sound(store)
    with Store.open(store, writer="test: the lock was released"):
        pass


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_while_fetching_stops_the_run_cleanly(
    signum: int, reference: list[Row], good: bytes, http: FaultServer, smtp: Smtp, tmp_path: Path, capsys: Any
) -> None:
    release = threading.Event()
    http.script(Reply(200, good, hold=release))
    config = write_config(tmp_path, PROBE, smtp_port=smtp.port, endpoint=http.url, timeout=60)
    child = Child(config, DAY)
    try:
        child.wait_for_event("fetch", series="won", status="ok")
        wait_until(lambda: len(http.requests) == 1, what="the probe's request")
        child.proc.send_signal(signum)
        stopped = child.finish(timeout=30)  # at once, not when the held answer would have come
    finally:
        release.set()
    store = tmp_path / "store.sqlite"
    _stopped_cleanly(stopped, signum, store)
    assert {r[0] for r in observations(store)} == {"won"}  # the first fetch whole, nothing of the second
    assert outbox(store) == []

    http.script(Reply(200, good))
    after = run_in_process(config, DAY, capsys)
    assert after.code == 0, after.err
    assert runs(store) == [(1, "interrupted"), (2, "ok")]
    _assert_recovered(store, reference, smtp.messages)


def test_a_signal_during_monitor_fetch_records_it_as_interrupted_and_frees_the_lock(
    good: bytes, http: FaultServer, smtp: Smtp, tmp_path: Path
) -> None:
    release = threading.Event()
    http.script(Reply(200, good, hold=release))
    config = write_config(tmp_path, PROBE, smtp_port=smtp.port, endpoint=http.url, timeout=60)
    child = subprocess.Popen(
        [sys.executable, "-m", "monitor", "fetch", "--config", str(config), "--as-of", DAY],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: len(http.requests) == 1, what="the probe's request")
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=30)  # at once, not when the held answer would have come
    finally:
        release.set()
    store = tmp_path / "store.sqlite"
    assert child.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err and "stopped by SIGTERM: recorded as interrupted" in err
    assert runs(store) == [(1, "interrupted")]  # it was left "running" with nothing said
    assert_store_sound(store)
    with Store.open(store, writer="test: the lock was released"):
        pass


def test_sigterm_while_mailing_keeps_the_message_and_the_next_run_sends_it_once(
    reference: list[Row],
    good: bytes,
    http: FaultServer,
    stalling: tuple[StallingSmtp, int],
    tmp_path: Path,
    capsys: Any,
) -> None:
    handler, port = stalling
    http.script(Reply(200, good))
    config = write_config(tmp_path, PROBE, smtp_port=port, endpoint=http.url, smtp_timeout=60)
    child = Child(config, DAY)
    child.wait_for_event("notify", receiver="desk")
    assert handler.entered.wait(60), "the child never reached the SMTP server"
    child.proc.send_signal(signal.SIGTERM)
    stopped = child.finish(timeout=30)
    handler.stall = False
    handler.release.set()
    store = tmp_path / "store.sqlite"
    _stopped_cleanly(stopped, signal.SIGTERM, store)
    # Stopped during the SMTP exchange: whether the server took it cannot be known, so it is sent again.
    assert [status for _, status, _ in outbox(store)] == ["sending"]
    assert handler.messages == []

    after = run_in_process(config, DAY, capsys)
    assert after.code == 0, after.err
    _assert_recovered(store, reference, [m.content for m in handler.messages])
