"""The outbox stores the Notification itself (JSON) and hands it to the receiver's notifier; a MIME message stored by
an older monitor (schema v5) still goes out, as it was stored, exactly once. Inputs are SYNTHETIC."""

from __future__ import annotations

import sqlite3
from datetime import date

from monitor.notify import outbox
from monitor.notify.dispatch import deliver_all
from monitor.notify.message import FORMAT, InlineImage, NoticeItem, Notification, build_message
from series.store import APPLICATION_ID, MIGRATIONS, Store
from tests.monitor.notify.conftest import Recorder, free_port, smtp_server
from tests.monitor.notify.test_email import make_config, parse, run_day

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))  # any bytes: the round trip must keep them all


def test_a_notification_round_trips_through_its_stored_form():
    n = Notification(
        "desk",
        date(2026, 3, 10),
        "[KR monitor] 1 firing: KRW/USD 1,468 >= 1,450",
        "text",
        "<p>html</p>",
        (InlineImage("chart-1@kr-monitor", PNG, "png", "krw.png"),),
        (
            NoticeItem(
                "fp1", "2026-03-10", "firing", rule="krw", severity="warning", kind="level", headline="KRW/USD 1,468",
                value=1468.0, threshold=1450.0, obs_date="2026-03-10", labels=(("rule", "krw"),),
                chart="chart-1@kr-monitor",
            ),
        ),
    )  # fmt: skip
    again = Notification.from_json(n.to_json())
    assert again == n and again.key == n.key


def test_a_statistic_that_is_not_a_number_is_stored_as_null():
    n = Notification(
        "desk", date(2026, 3, 10), "s", "t", "", (), (NoticeItem("fp", "e", "firing", value=float("nan")),)
    )
    assert b'"value":null' in n.to_json() and Notification.from_json(n.to_json()).items[0].value is None


def test_the_outbox_row_holds_the_notification_and_the_addresses_owed_it(tmp_path):
    recorder, port = Recorder(), free_port()
    cfg = make_config(tmp_path, port)
    with smtp_server(port, recorder), Store.open(cfg.store_path(), writer="test") as store:
        run_day(store, cfg, date(2026, 3, 10))
        [row] = store.connection.execute("SELECT id, format FROM outbox").fetchall()
        stored = outbox.stored(store, row["id"])
        addresses = [
            r[0] for r in store.connection.execute("SELECT address FROM outbox_recipients ORDER BY rowid").fetchall()
        ]
    assert row["format"] == FORMAT and isinstance(stored, Notification)
    assert [(i.rule, i.state, i.value, i.threshold) for i in stored.items] == [
        ("krw_usd_warning", "firing", 1468, 1450)
    ]
    assert addresses == ["risk-desk@example.com", "cio@example.com"]
    # The mail is built from the stored notification at delivery: its Message-ID is the notification's key.
    assert parse(recorder.messages[0].content)["Message-ID"] == f"<{stored.key[:32]}@example.com>"


def old_store(path, message: bytes) -> None:
    """A store as monitor schema v5 left it: its migrations only, one pending MIME message, no recipient rows yet
    (the old code wrote them at the first delivery attempt)."""
    con = sqlite3.connect(path)
    for step in MIGRATIONS[:5]:
        con.executescript(step)
    con.execute("PRAGMA user_version=5")
    con.execute(f"PRAGMA application_id={APPLICATION_ID}")
    con.execute(
        "INSERT INTO outbox(key, receiver, as_of, subject, message, status, created, updated) "
        "VALUES ('k1', 'desk', '2026-03-10', 'old subject', ?, 'pending', '2026-03-10T22:00:00Z', "
        "'2026-03-10T22:00:00Z')",
        (message,),
    )
    con.commit()
    con.close()


def test_a_pending_mime_message_of_an_older_store_is_delivered_as_stored_exactly_once(tmp_path):
    recorder, port = Recorder(), free_port()
    cfg = make_config(tmp_path, port)
    n = Notification("desk", date(2026, 3, 10), "old subject", "stored by v5", "")
    message = build_message(n, "kr-monitor@example.com", ["risk-desk@example.com", "cio@example.com"]).as_bytes()
    old_store(cfg.store_path(), message)
    with smtp_server(port, recorder), Store.open(cfg.store_path(), writer="test") as store:
        first = deliver_all(store, cfg)
        again = deliver_all(store, cfg)
        [row] = outbox.rows(store)
    assert first.sent == [1] and again.sent == [] and row.status == "sent"
    [got] = recorder.messages
    assert got.rcpt_tos == ["risk-desk@example.com", "cio@example.com"]
    assert parse(got.content)["Message-ID"] == parse(message)["Message-ID"]
    assert parse(got.content)["Subject"] == "old subject"


def test_an_older_mime_row_whose_receiver_became_a_webhook_is_refused_for_good_not_posted(
    tmp_path, monkeypatch, caplog
):
    from tests.monitor.notify.conftest import Hook, hook_server, receiver_config

    hook, port = Hook(), free_port()
    n = Notification("desk", date(2026, 3, 10), "old subject", "stored by v5", "")
    cfg = receiver_config(tmp_path, {"name": "desk", "kind": "webhook", "url_env": "MONITOR_WEBHOOK_URL"})
    monkeypatch.setenv("MONITOR_WEBHOOK_URL", f"http://127.0.0.1:{port}/hook")
    old_store(cfg.store_path(), build_message(n, "kr-monitor@example.com", ["risk-desk@example.com"]).as_bytes())
    with hook_server(port, hook), Store.open(cfg.store_path(), writer="test") as store:
        first, again = deliver_all(store, cfg), deliver_all(store, cfg)
        [row] = outbox.rows(store)
    assert row.status == "refused" and first.failed == again.failed == {} and hook.posts == []
    assert "risk-desk@example.com refused for good (not retried): 0 stored as an e-mail by an older monitor" in (
        caplog.text
    )
