"""E-mail through a real SMTP server on loopback (aiosmtpd): MIME layout, headers, STARTTLS and implicit TLS with
login, the outbox across an outage, one notice per state change, and no secret anywhere. Inputs are SYNTHETIC."""

from __future__ import annotations

import base64
import logging
import tomllib
from datetime import date
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pandas as pd
import pytest

from monitor.alerts import engine
from monitor.alerts.data import load_rule_data
from monitor.alerts.run import run_rules
from monitor.config import Config, validate_config
from monitor.notify import outbox
from monitor.notify.dispatch import Dispatch, deliver_all, queue
from reports.mail import renderer
from series.store import Store
from tests.monitor.notify.conftest import Recorder, free_port, password_checker, smtp_server

SECRET = "pw-Zq8!x7-never-shown"

CONFIG = """
[paths]
store = "store.sqlite"

[[series]]
id = "krw_usd"
label = "KRW per USD"
source = "csv"
key = "krw.csv"
freq = "B"
units = "KRW per USD"
stale_after_days = 10

[[rules]]
name = "krw_usd_warning"
kind = "level"
label = "KRW/USD"
series = "krw_usd"
op = ">="
threshold = 1450
labels = {{ desk = "<script>alert(1)</script>" }}
annotations = {{ summary = "KRW/USD {{value:,.0f}} >= {{threshold:,.0f}}" }}

[[rules]]
name = "krw_usd_critical"
kind = "level"
label = "KRW/USD"
series = "krw_usd"
op = ">="
threshold = 1500
severity = "critical"
annotations = {{ summary = "KRW/USD {{value:,.0f}} >= {{threshold:,.0f}}" }}

[[receivers]]
name = "desk"
kind = "email"
to = ["risk-desk@example.com", "cio@example.com"]
from = "KR monitor <kr-monitor@example.com>"
host = "127.0.0.1"
port = {port}
security = "{security}"
username = "{username}"
password_env = "{password_env}"
ca_file = "{ca_file}"
timeout_seconds = 5
severities = ["warning", "critical"]
repeat_interval_days = 7
"""

# SYNTHETIC KRW per USD: calm, then above 1,450 from 2026-03-10 (1,468), back below on 2026-03-13.
KRW = pd.Series(
    [1420.0, 1425, 1430, 1436, 1441, 1468, 1472, 1460, 1440, 1438],
    index=pd.bdate_range("2026-03-03", periods=10),
    name="krw_usd",
)


def make_config(
    tmp_path: Path, port: int, security: str = "none", *, login: bool = False, ca: Path | None = None
) -> Config:
    text = CONFIG.format(
        port=port,
        security=security,
        username="kr-monitor" if login else "",
        password_env="MONITOR_SMTP_PASSWORD" if login else "",
        ca_file=str(ca) if ca else "",
    )
    return validate_config(tomllib.loads(text), tmp_path / "config.toml")


def run_day(store: Store, cfg: Config, as_of: date) -> Dispatch:
    """What the daily pipeline does for alerts: store the day's data, evaluate, notify through the outbox."""
    known = KRW[KRW.index <= pd.Timestamp(as_of)]
    frame = pd.DataFrame({"date": known.index, "value": known.to_numpy(), "realtime_start": known.index})
    store.append("krw_usd", frame, source="synthetic", fetched_at=f"{as_of}T22:00:00Z")
    data = load_rule_data(store, cfg.series_infos().values(), as_of)
    result = run_rules(store, cfg.rules, cfg.silences, data)
    groups = engine.group(result.alerts, cfg.receivers)
    sent = queue(store, cfg.receivers, groups, renderer(result.evaluations, as_of), as_of)
    sent.delivery = deliver_all(store, cfg)
    return sent


def parse(raw: bytes):
    return message_from_bytes(raw, policy=default_policy)


def test_one_message_with_text_html_and_inline_charts(tmp_path):
    recorder = Recorder()
    port = free_port()
    cfg = make_config(tmp_path, port)
    with smtp_server(port, recorder), Store.open(cfg.store_path(), writer="test") as store:
        sent = run_day(store, cfg, date(2026, 3, 10))
    assert sent.delivery.ok and len(recorder.messages) == 1
    got = recorder.messages[0]
    assert got.mail_from == "kr-monitor@example.com"
    assert got.rcpt_tos == ["risk-desk@example.com", "cio@example.com"]
    msg = parse(got.content)
    assert msg["Subject"] == "[KR monitor] 1 firing: KRW/USD 1,468 >= 1,450"
    assert msg["From"] == "KR monitor <kr-monitor@example.com>"
    assert msg["To"] == "risk-desk@example.com, cio@example.com"
    assert msg["Message-ID"].endswith("@example.com>") and msg["Date"]
    assert msg.get_content_type() == "multipart/alternative"
    text, related = msg.get_payload()
    assert text.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, *images = related.get_payload()
    assert html.get_content_type() == "text/html"
    assert [i.get_content_type() for i in images] == ["image/png"]
    cid = images[0]["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html.get_content()
    assert images[0].get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    body = text.get_content()
    assert "KRW/USD 1,468 >= 1,450" in body and "value 1,468, threshold 1,450" in body
    assert "krw_usd from synthetic: observation 2026-03-10" in body  # provenance: source, vintage, fetch time
    # Text from config is escaped in the HTML: the label shows as text, never as markup.
    page = html.get_content()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_starttls_with_login_and_the_password_never_appears(tmp_path, cert, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("MONITOR_SMTP_PASSWORD", SECRET)
    recorder = Recorder()
    port = free_port()
    cfg = make_config(tmp_path, port, "starttls", login=True, ca=cert.cert)
    kwargs = dict(
        tls_context=cert.server_context(),
        require_starttls=True,
        auth_required=True,
        authenticator=password_checker("kr-monitor", SECRET),
    )
    with smtp_server(port, recorder, **kwargs), Store.open(cfg.store_path(), writer="test") as store:
        first = run_day(store, cfg, date(2026, 3, 10))
        assert first.delivery.ok, first.delivery.failed
        [got] = recorder.messages
        assert got.tls and got.login == "kr-monitor"
        # A wrong password: the login fails, the message waits in the outbox, the error names the variable only.
        monkeypatch.setenv("MONITOR_SMTP_PASSWORD", "wrong-" + SECRET)
        second = run_day(store, cfg, date(2026, 3, 11))  # 1,472: still only the warning, already told
        assert second.enqueued == {}
        outbox_id = outbox.enqueue(
            store,
            _notice(date(2026, 3, 11)),
            to=["risk-desk@example.com"],
        )
        report = deliver_all(store, cfg)
        assert list(report.failed) == [outbox_id]
        assert "refused the login for 'kr-monitor'" in report.failed[outbox_id]
        assert "check MONITOR_SMTP_PASSWORD" in report.failed[outbox_id]
        rows = [tuple(r) for r in store.connection.execute("SELECT * FROM outbox")]
        rows += [tuple(r) for r in store.connection.execute("SELECT * FROM notifications_sent")]
    # Our log lines (the test server's own debug log echoes the AUTH exchange: that is the server's business).
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))
    assert "delivered outbox #1 to desk" in ours
    for secret in (SECRET, "wrong-" + SECRET):
        forms = [
            secret,
            base64.b64encode(secret.encode()).decode(),
            base64.b64encode(f"\0kr-monitor\0{secret}".encode()).decode(),
        ]
        for form in forms:
            assert form.encode() not in got.content
            assert form not in ours
            assert not any(form in str(v) or (isinstance(v, bytes) and form.encode() in v) for row in rows for v in row)


def _notice(as_of: date):
    from monitor.notify.message import Notification

    return Notification("desk", as_of, "[KR monitor] test", "text", "<p>html</p>")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
@pytest.mark.parametrize("written", ["", "\r\n"], ids=["plain", "crlf-env-file"])
def test_implicit_tls(tmp_path, cert, monkeypatch, written):
    # A password read from a .env with CRLF line endings logs in as the password it means.
    monkeypatch.setenv("MONITOR_SMTP_PASSWORD", SECRET + written)
    recorder = Recorder()
    port = free_port()
    cfg = make_config(tmp_path, port, "ssl", login=True, ca=cert.cert)
    # aiosmtpd only knows TLS it negotiated with STARTTLS; on an implicit-TLS socket it must be told that AUTH
    # is fine (the recorder still checks that the session was encrypted).
    server = smtp_server(
        port,
        recorder,
        ssl_context=cert.server_context(),
        authenticator=password_checker("kr-monitor", SECRET),
        auth_required=True,
        auth_require_tls=False,
    )
    with server, Store.open(cfg.store_path(), writer="test") as store:
        sent = run_day(store, cfg, date(2026, 3, 10))
    assert sent.delivery.ok and [(m.tls, m.login) for m in recorder.messages] == [(True, "kr-monitor")]


def test_an_unverifiable_certificate_is_refused(tmp_path, cert):
    recorder = Recorder()
    port = free_port()
    cfg = make_config(tmp_path, port, "starttls")  # no ca_file: the self-signed certificate is not trusted
    with (
        smtp_server(port, recorder, tls_context=cert.server_context()),
        Store.open(cfg.store_path(), writer="test") as store,
    ):
        sent = run_day(store, cfg, date(2026, 3, 10))
        [error] = sent.delivery.failed.values()
        assert "TLS with 127.0.0.1" in error and "CERTIFICATE_VERIFY_FAILED" in error
        assert [r.status for r in outbox.rows(store)] == ["pending"]
    assert recorder.messages == []


def test_smtp_outage_delays_mail_and_the_next_run_delivers_it_exactly_once(tmp_path):
    recorder = Recorder()
    port = free_port()
    cfg = make_config(tmp_path, port)
    with Store.open(cfg.store_path(), writer="test") as store:
        down = run_day(store, cfg, date(2026, 3, 10))  # nobody listens on the port
        assert list(down.enqueued) == ["desk"] and not down.delivery.ok
        [row] = outbox.rows(store)
        assert (row.status, row.attempts) == ("pending", 1)
        assert "cannot deliver via 127.0.0.1" in row.last_error
        again = run_day(store, cfg, date(2026, 3, 10))  # the same day again while the server is still down
        assert again.enqueued == {} and len(outbox.rows(store)) == 1
        with smtp_server(port, recorder):
            back = run_day(store, cfg, date(2026, 3, 11))  # the next run, the server is back
            assert back.delivery.sent == [row.id] and back.enqueued == {}
            assert deliver_all(store, cfg).sent == []  # nothing left to send
            run_day(store, cfg, date(2026, 3, 11))
        [sent_row] = outbox.rows(store)
        assert (sent_row.status, sent_row.attempts) == ("sent", 3)
    assert len(recorder.messages) == 1
    assert parse(recorder.messages[0].content)["Subject"] == "[KR monitor] 1 firing: KRW/USD 1,468 >= 1,450"


def test_a_resolved_notice_is_sent_once_with_the_current_value(tmp_path):
    recorder = Recorder()
    port = free_port()
    cfg = make_config(tmp_path, port)
    with smtp_server(port, recorder), Store.open(cfg.store_path(), writer="test") as store:
        for day in pd.bdate_range("2026-03-03", "2026-03-16"):
            run_day(store, cfg, day.date())
            run_day(store, cfg, day.date())  # every day twice: a re-run never sends again
    subjects = [parse(m.content)["Subject"] for m in recorder.messages]
    assert subjects == [
        "[KR monitor] 1 firing: KRW/USD 1,468 >= 1,450",
        "[KR monitor] 1 resolved: KRW/USD 1,440, below 1,450 on 2026-03-13",
    ]
    resolved = parse(recorder.messages[1].content)
    text = resolved.get_payload()[0].get_content()
    assert "[RESOLVED] warning krw_usd_warning" in text and "value 1,440, threshold 1,450" in text


def test_an_interrupted_delivery_is_retried(tmp_path):
    recorder = Recorder()
    port = free_port()
    cfg = make_config(tmp_path, port)
    with Store.open(cfg.store_path(), writer="test") as store:
        outbox_id = outbox.enqueue(store, _notice(date(2026, 3, 10)), to=["a@example.com"])
        with store.transaction() as c:  # as if the process died during the SMTP exchange
            c.execute("UPDATE outbox SET status='sending', attempts=1 WHERE id=?", (outbox_id,))
        with smtp_server(port, recorder):
            assert deliver_all(store, cfg).sent == [outbox_id]
    assert len(recorder.messages) == 1


def test_the_file_notifier_writes_the_same_message_as_eml(tmp_path):
    text = CONFIG.format(port=25, security="none", username="", password_env="", ca_file="")
    raw = tomllib.loads(text)
    raw["receivers"] = [{"name": "dry_run", "kind": "file", "directory": "mail", "severities": ["warning", "critical"]}]
    cfg = validate_config(raw, tmp_path / "config.toml")
    with Store.open(cfg.store_path(), writer="test") as store:
        sent = run_day(store, cfg, date(2026, 3, 10))
    assert sent.delivery.ok
    [path] = (tmp_path / "mail").glob("*.eml")
    assert path.name.startswith("2026-03-10_dry_run_")
    msg = parse(path.read_bytes())
    assert msg["Subject"] == "[KR monitor] 1 firing: KRW/USD 1,468 >= 1,450"
    assert msg.get_content_type() == "multipart/alternative"
