"""kind = "teams" against a real HTTP server on 127.0.0.1 standing in for a Teams Workflows webhook: the Adaptive
Card structure, Teams' size limit, one delivery across an outage, and the URL (its signature) in no output.
Inputs are SYNTHETIC."""

from __future__ import annotations

import json
import logging
from datetime import date

from monitor.notify import outbox
from monitor.notify.message import InlineImage, NoticeItem, Notification
from monitor.notify.teams import MAX_BYTES, card, encode
from series.store import Store
from tests.monitor.notify.conftest import Hook, free_port, hook_server, receiver_config, store_bytes
from tests.monitor.notify.test_email import run_day

SIG = "sig0123456789abcdefSECRETsignature"
PATH = "/workflows/0a1b2c3d4e5f/triggers/manual/paths/invoke"
DAY1, DAY2, DAY3 = date(2026, 3, 10), date(2026, 3, 11), date(2026, 3, 12)


def setup(tmp_path, monkeypatch, port: int, **block):
    monkeypatch.setenv("MONITOR_TEAMS_URL", f"http://127.0.0.1:{port}{PATH}?api-version=2016-06-01&sig={SIG}")
    return receiver_config(tmp_path, {"name": "desk_teams", "kind": "teams", "url_env": "MONITOR_TEAMS_URL", **block})


def test_an_adaptive_card_with_the_subject_a_container_per_alert_and_a_footer(tmp_path, monkeypatch):
    hook, port = Hook(replies=[(202, b"", 0.0)]), free_port()  # Workflows answer 202 Accepted
    cfg = setup(tmp_path, monkeypatch, port)
    with hook_server(port, hook), Store.open(cfg.store_path(), writer="test") as store:
        assert run_day(store, cfg, DAY1).delivery.sent == [1]
    body = json.loads(hook.posts[0].body)
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    content = attachment["content"]
    assert (content["type"], content["version"]) == ("AdaptiveCard", "1.4")
    subject, alert, foot = content["body"]
    assert subject["text"] == "[KR monitor] 1 firing: KRW/USD 1,468 >= 1,450"
    assert (alert["type"], alert["style"]) == ("Container", "warning")
    assert [i["type"] for i in alert["items"]] == ["TextBlock", "TextBlock", "FactSet"]
    assert alert["items"][2]["facts"] == [
        {"title": "value", "value": "1,468"},
        {"title": "threshold", "value": "1,450"},
        {"title": "date", "value": "2026-03-10"},
    ]
    assert foot["text"] == "KR monitor · as of 2026-03-10 · receiver desk_teams"


def test_the_card_stays_under_teams_size_limit_and_carries_no_image_data():
    png = b"\x89PNG" + bytes(60_000)  # a chart larger than the limit on its own
    items = tuple(NoticeItem(f"fp{i}", "e", "firing", rule=f"rule_{i}", headline="x" * 200) for i in range(300))
    n = Notification("desk_teams", DAY1, "s", "t", "", (InlineImage("c0", png),), items)
    message = card(n, {})
    assert len(encode(message)) <= MAX_BYTES
    body = message["attachments"][0]["content"]["body"]
    shown = sum(b["type"] == "Container" for b in body)
    assert 0 < shown < 300 and body[-2]["text"] == f"… and {300 - shown} more: see the e-mail or the daily report"


def test_a_chart_is_an_image_linking_to_the_published_folder(tmp_path, monkeypatch):
    hook, port = Hook(), free_port()
    cfg = setup(tmp_path, monkeypatch, port, chart_dir="pub", chart_base_url="https://charts.example.com")
    with hook_server(port, hook), Store.open(cfg.store_path(), writer="test") as store:
        run_day(store, cfg, DAY1)
    [written] = (tmp_path / "pub").iterdir()
    alert = json.loads(hook.posts[0].body)["attachments"][0]["content"]["body"][1]
    assert alert["items"][-1] == {
        "type": "Image",
        "url": f"https://charts.example.com/{written.name}",
        "altText": "chart: FIRING · warning · krw_usd_warning",
    }


def test_exactly_once_across_an_outage_and_no_signature_anywhere(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    hook, port = Hook(replies=[(202, b"", 0.0)]), free_port()
    cfg = setup(tmp_path, monkeypatch, port)
    with Store.open(cfg.store_path(), writer="test") as store:
        [error] = run_day(store, cfg, DAY1).delivery.failed.values()
        with hook_server(port, hook):
            assert run_day(store, cfg, DAY2).delivery.sent == [1]
            assert run_day(store, cfg, DAY3).delivery.sent == []
        [row] = outbox.rows(store)
    assert (row.status, len(hook.posts)) == ("sent", 1)
    assert (
        error == "receiver desk_teams: the URL in MONITOR_TEAMS_URL (127.0.0.1) cannot be reached: Connection refused"
    )
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (SIG, PATH):
        assert secret not in logged and secret.encode() not in store_bytes(cfg.store_path())
