"""The mail server down, then back: the message waits in the outbox and goes out exactly once.

Three ways of being down, each against a real socket on 127.0.0.1: nothing listening (connection refused), an
aiosmtpd server that answers the message with a temporary failure (451), and a server that accepts the
connection and never speaks (the receiver's timeout). Run 1 is done with errors and says the mail was not
delivered; run 2 (the same day, or the next) delivers it once; run 3 sends nothing more. The stored observations
end as in a run without the outage."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.faults.support import (
    assert_delivered_once,
    assert_store_sound,
    mails,
    observations,
    outbox,
    run_in_process,
    write_config,
)
from tests.monitor.notify.conftest import Recorder, free_port, smtp_server

DAY1, DAY2 = "2026-03-05", "2026-03-06"
WHY = {  # the end of the one-line reason run.json and the report give
    "refused": "Connection refused",
    "451": ": 451 4.3.0 Mailbox temporarily unavailable, try again later",  # the server's reply, as it said it
    "silent": "timed out",
}
FX_DAYS = (date(2026, 2, 16), date(2026, 3, 6))


class RefusingRecorder(Recorder):
    """An SMTP server that takes the whole message, then answers 451 (try again later) and keeps nothing."""

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        return "451 4.3.0 Mailbox temporarily unavailable, try again later"


@contextlib.contextmanager
def silent_server(port: int) -> Iterator[None]:
    """Accepts connections on `port` and never says a word (an SMTP server hung before its greeting)."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


@contextlib.contextmanager
def outage(kind: str, port: int) -> Iterator[None]:
    if kind == "refused":
        yield
    elif kind == "451":
        with smtp_server(port, RefusingRecorder()):
            yield
    else:
        with silent_server(port):
            yield


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, float, str]]:
    """The store after the two days without an outage (its mail is delivered at once)."""
    from monitor.cli import run
    from tests.faults.support import run_args

    folder = tmp_path_factory.mktemp("smtp-reference")
    recorder, port = Recorder(), free_port()
    config = write_config(folder, None, smtp_port=port, fx_days=FX_DAYS)
    with smtp_server(port, recorder):
        assert run(run_args(config, DAY1)) == 0
        assert run(run_args(config, DAY2)) == 0
    assert len(recorder.messages) == 1
    return observations(folder / "store.sqlite")


@pytest.mark.parametrize("second_day", [DAY1, DAY2], ids=["same-day", "next-day"])
@pytest.mark.parametrize("kind", ["refused", "451", "silent"])
def test_mail_waits_in_the_outbox_and_goes_out_exactly_once(
    kind: str,
    second_day: str,
    reference: list[tuple[str, str, float, str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    port = free_port()
    config = write_config(tmp_path, None, smtp_port=port, smtp_timeout=0.5, fx_days=FX_DAYS)
    store = tmp_path / "store.sqlite"

    with outage(kind, port):
        first = run_in_process(config, DAY1, capsys)
    first.assert_json_log()
    assert first.code == 1, first.err
    summary = first.summary
    kept = summary["notifications"]["kept_in_outbox"]
    assert list(kept) == ["1"] and f"cannot deliver via 127.0.0.1:{port}: " in kept["1"]
    assert kept["1"].endswith(WHY[kind]), kept["1"]
    assert summary["failed"] == [f"mail #1 not delivered (kept in the outbox): {kept['1']}"]
    assert summary["notifications"]["delivered"] == []
    assert "mail #1 not delivered (kept in the outbox)" in first.report and "1 problem in this run" in first.report
    assert [status for _, status, _ in outbox(store)] == ["pending"]
    assert any(e["event"] == "monitor.notify" and "kept for the next run" in e["message"] for e in first.events)

    recorder = Recorder()
    with smtp_server(port, recorder):
        second = run_in_process(config, second_day, capsys)
        assert second.code == 0, second.err
        assert second.summary["notifications"]["delivered"] == [1]
        assert len(recorder.messages) == 1
        assert_delivered_once(store, [m.content for m in recorder.messages])
        (mail,) = mails([m.content for m in recorder.messages])
        assert str(mail["X-KR-Monitor-As-Of"]).strip() == DAY1 and "1 firing" in str(mail["Subject"])

        third = run_in_process(config, second_day, capsys)
        assert third.code == 0, third.err
        assert third.summary["notifications"] == {
            "queued": {},
            "delivered": [],
            "kept_in_outbox": {},
            "refused_for_good": [],
        }
        assert len(recorder.messages) == 1  # nothing more

    assert_store_sound(store)
    if second_day == DAY2:
        assert observations(store) == reference
    assert [status for _, status, _ in outbox(store)] == ["sent"]


DESK, CIO = "risk-desk@example.com", "cio@example.com"


@pytest.mark.parametrize(
    "reply", ["451 4.2.1 mailbox busy, try later", "550 5.1.1 no such user"], ids=["for-now", "for-good"]
)
def test_a_refused_recipient_is_never_counted_as_delivered(
    reply: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One of two recipients refused at RCPT TO. For now (4xx): run 1 exits 1 and says so, run 2 delivers to that
    recipient alone, run 3 sends nothing. For good (5xx): never retried, and every run exits 1 naming the address
    until the config no longer lists it."""
    from tests.monitor.notify.test_recipients import Refusing

    port = free_port()
    config = write_config(tmp_path, None, smtp_port=port, fx_days=FX_DAYS)
    config.write_text(config.read_text().replace(f'to = ["{DESK}"]', f'to = ["{DESK}", "{CIO}"]'))
    store = tmp_path / "store.sqlite"
    handler = Refusing(refuse={CIO: reply})
    for_good = reply.startswith("5")
    with smtp_server(port, handler):
        first = run_in_process(config, DAY1, capsys)
        assert first.code == 1, first.err
        assert [m.rcpt_tos for m in handler.messages] == [[DESK]]
        problems = first.summary["failed"]
        assert len(problems) == 1 and CIO in problems[0] and reply in problems[0], problems
        assert DESK not in problems[0]
        assert "1 problem in this run" in first.report and CIO in first.report
        assert first.summary["notifications"]["delivered"] == ([1] if for_good else [])
        assert [status for _, status, _ in outbox(store)] == ["sent" if for_good else "pending"]

        handler.refuse.clear()  # the mailbox takes mail again (a 5xx is not asked again)
        second = run_in_process(config, DAY1, capsys)
        third = run_in_process(config, DAY2, capsys)
    received = [m.rcpt_tos for m in handler.messages]
    if for_good:
        assert (second.code, third.code) == (1, 1)
        assert second.summary["failed"] == third.summary["failed"] == problems
        assert received == [[DESK]]  # never retried
        assert handler.asked == [DESK, CIO]
        config.write_text(config.read_text().replace(f', "{CIO}"]', "]"))
        fixed = run_in_process(config, DAY2, capsys)
        assert fixed.code == 0, fixed.summary["failed"]
    else:
        assert second.code == 0 and second.summary["notifications"]["delivered"] == [1], second.err
        assert third.code == 0 and third.summary["notifications"]["delivered"] == []
        assert received == [[DESK], [CIO]]  # each recipient exactly once
        assert handler.asked == [DESK, CIO, CIO]
    assert_store_sound(store)
    assert [status for _, status, _ in outbox(store)] == ["sent"]
