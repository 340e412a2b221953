"""kind = "slack" against a real HTTP server on 127.0.0.1 standing in for Slack's incoming webhook: the Block Kit
structure, charts only as links to a published folder, one delivery across an outage and a server error, and the
webhook URL (its token) in no output. Inputs are SYNTHETIC."""

from __future__ import annotations

import json
import logging
from datetime import date

from monitor.notify import outbox
from monitor.notify.message import NoticeItem, Notification
from monitor.notify.slack import MAX_BLOCKS, blocks
from series.store import Store
from tests.monitor.notify.conftest import Hook, free_port, hook_server, receiver_config, store_bytes
from tests.monitor.notify.test_email import run_day

TOKEN = "XXXXslackTOKEN0123456789abcd"
PATH = f"/services/T00000000/B00000000/{TOKEN}"
DAY1, DAY2, DAY3 = date(2026, 3, 10), date(2026, 3, 11), date(2026, 3, 12)


def setup(tmp_path, monkeypatch, port: int, **block):
    monkeypatch.setenv("MONITOR_SLACK_URL", f"http://127.0.0.1:{port}{PATH}")
    return receiver_config(tmp_path, {"name": "desk_chat", "kind": "slack", "url_env": "MONITOR_SLACK_URL", **block})


def test_block_kit_with_a_header_a_section_per_alert_and_a_context(tmp_path, monkeypatch):
    hook, port = Hook(), free_port()
    cfg = setup(tmp_path, monkeypatch, port)
    with hook_server(port, hook), Store.open(cfg.store_path(), writer="test") as store:
        assert run_day(store, cfg, DAY1).delivery.sent == [1]
    [post] = hook.posts
    assert post.path == PATH and post.headers["content-type"].startswith("application/json")
    body = json.loads(post.body)
    assert body["text"] == "[KR monitor] 1 firing: KRW/USD 1,468 >= 1,450"
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "context"]  # no chart: nowhere to link it
    header, section, context = body["blocks"]
    assert header["text"] == {"type": "plain_text", "text": body["text"]}
    assert section["text"]["type"] == "mrkdwn"
    # The rule's headline, with > escaped as Slack's mrkdwn wants.
    assert section["text"]["text"] == "*FIRING · warning · krw_usd_warning*\nKRW/USD 1,468 &gt;= 1,450\n" + (
        "value 1,468 · threshold 1,450 · date 2026-03-10"
    )
    assert context["elements"] == [{"type": "mrkdwn", "text": "KR monitor · as of 2026-03-10 · receiver desk_chat"}]


def test_a_chart_is_an_image_block_linking_to_the_published_folder(tmp_path, monkeypatch):
    hook, port = Hook(), free_port()
    cfg = setup(tmp_path, monkeypatch, port, chart_dir="public/charts", chart_base_url="https://charts.example.com/kr/")
    with hook_server(port, hook), Store.open(cfg.store_path(), writer="test") as store:
        run_day(store, cfg, DAY1)
    body = json.loads(hook.posts[0].body)
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "image", "context"]
    url = body["blocks"][2]["image_url"]
    [written] = (tmp_path / "public" / "charts").iterdir()
    assert url == f"https://charts.example.com/kr/{written.name}"
    assert written.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_many_alerts_stay_within_slacks_fifty_blocks():
    items = tuple(NoticeItem(f"fp{i}", "e", "firing", rule=f"r{i}", headline="h") for i in range(80))
    body = blocks(Notification("desk_chat", DAY1, "s", "t", "", (), items), {})
    assert len(body["blocks"]) == MAX_BLOCKS  # a header, 47 alerts, the "more" line, the context
    assert body["blocks"][-2]["text"]["text"] == "… and 33 more: see the e-mail or the daily report"


def test_exactly_once_across_an_outage_and_a_server_error_and_no_token_anywhere(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    hook, port = Hook(replies=[(500, f"rollup_error at {PATH}".encode(), 0.0), (200, b"ok", 0.0)]), free_port()
    cfg = setup(tmp_path, monkeypatch, port)
    errors = []
    with Store.open(cfg.store_path(), writer="test") as store:
        errors += run_day(store, cfg, DAY1).delivery.failed.values()  # down
        with hook_server(port, hook):
            errors += run_day(store, cfg, DAY2).delivery.failed.values()  # 500, echoing the path
            assert run_day(store, cfg, DAY3).delivery.sent == [1]
            assert run_day(store, cfg, DAY3).delivery.sent == []
        [row] = outbox.rows(store)
    assert (row.status, row.attempts, len(hook.posts)) == ("sent", 3, 2)
    assert errors == [
        "receiver desk_chat: the URL in MONITOR_SLACK_URL (127.0.0.1) cannot be reached: Connection refused",
        "receiver desk_chat: the URL in MONITOR_SLACK_URL (127.0.0.1) answered 500 Internal Server Error: "
        "rollup_error at *** (tried again on the next run)",
    ]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (TOKEN, PATH):
        assert secret not in logged and secret.encode() not in store_bytes(cfg.store_path())
