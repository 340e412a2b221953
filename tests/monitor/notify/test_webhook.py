"""kind = "webhook" against a real HTTP server on 127.0.0.1: the documented schema (docs/webhook.md), the HMAC
signature checked with hmac on its own, the outbox's retries (outage, 5xx, 429, timeout) and refusals (4xx), one
delivery per message, and neither the URL, its token nor the key in any output. Inputs are SYNTHETIC."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from datetime import date
from pathlib import Path

import pytest

from monitor.notify import outbox
from monitor.notify.dispatch import deliver_all
from series.store import Store
from tests.monitor.notify.conftest import Hook, free_port, hook_server, receiver_config, store_bytes
from tests.monitor.notify.test_email import run_day

TOKEN = "T0KEN-hook-9f8e7d6c5b4a39281706"  # the secret part of the URL, as Slack and Teams have one
KEY = "hmac-key-Zq8x7-never-shown"
DAY1, DAY2, DAY3 = date(2026, 3, 10), date(2026, 3, 11), date(2026, 3, 12)
DOCS = Path(__file__).parents[3] / "docs" / "webhook.md"


def setup(tmp_path, monkeypatch, port: int, **block):
    monkeypatch.setenv("MONITOR_WEBHOOK_URL", f"http://127.0.0.1:{port}/hooks/{TOKEN}?sig={TOKEN}")
    monkeypatch.setenv("MONITOR_WEBHOOK_SECRET", KEY)
    receiver = {"name": "hook", "kind": "webhook", "url_env": "MONITOR_WEBHOOK_URL", "timeout_seconds": 2, **block}
    return receiver_config(tmp_path, receiver)


def test_the_body_follows_the_documented_schema_and_the_signature_verifies(tmp_path, monkeypatch):
    hook, port = Hook(), free_port()
    cfg = setup(tmp_path, monkeypatch, port, secret_env="MONITOR_WEBHOOK_SECRET")
    with hook_server(port, hook), Store.open(cfg.store_path(), writer="test") as store:
        assert run_day(store, cfg, DAY1).delivery.sent == [1]
        [row] = outbox.rows(store)
    [post] = hook.posts
    assert post.path == f"/hooks/{TOKEN}?sig={TOKEN}"
    expected = "sha256=" + hmac.new(KEY.encode(), post.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(post.headers["x-monitor-signature"], expected)
    assert post.headers["idempotency-key"] == row.key
    assert post.headers["content-type"] == "application/json; charset=utf-8"
    body = json.loads(post.body)
    schema = json.loads(re.findall(r"```json\n(.*?)```", DOCS.read_text(), re.S)[0])
    assert conforms(body, schema) == []
    assert (body["key"], body["as_of"], body["counts"]) == (row.key, "2026-03-10", {"firing": 1, "resolved": 0})
    [alert] = body["alerts"]
    assert (alert["rule"], alert["state"], alert["value"], alert["threshold"]) == (
        "krw_usd_warning",
        "firing",
        1468,
        1450,
    )
    [chart] = body["charts"]
    assert alert["chart"] == chart["name"] and chart["data"].startswith("iVBORw0KGgo")  # base64 of the PNG magic
    # The documented example conforms too.
    example = json.loads(re.findall(r"```json\n(.*?)```", DOCS.read_text(), re.S)[1])
    assert conforms(example, schema) == []


def test_a_wrong_key_does_not_verify(tmp_path, monkeypatch):
    hook, port = Hook(), free_port()
    cfg = setup(tmp_path, monkeypatch, port, secret_env="MONITOR_WEBHOOK_SECRET", include_charts=False)
    with hook_server(port, hook), Store.open(cfg.store_path(), writer="test") as store:
        run_day(store, cfg, DAY1)
    [post] = hook.posts
    forged = "sha256=" + hmac.new(b"another key", post.body, hashlib.sha256).hexdigest()
    assert not hmac.compare_digest(post.headers["x-monitor-signature"], forged)
    assert json.loads(post.body)["charts"] == [] and json.loads(post.body)["alerts"][0]["chart"] is None


def test_exactly_once_across_an_outage(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    hook, port = Hook(), free_port()
    cfg = setup(tmp_path, monkeypatch, port, secret_env="MONITOR_WEBHOOK_SECRET")
    with Store.open(cfg.store_path(), writer="test") as store:
        down = run_day(store, cfg, DAY1)  # nobody listens on the port
        [error] = down.delivery.failed.values()
        assert (
            error == "receiver hook: the URL in MONITOR_WEBHOOK_URL (127.0.0.1) cannot be reached: Connection refused"
        )
        assert [r.status for r in outbox.rows(store)] == ["pending"]
        with hook_server(port, hook):
            back = run_day(store, cfg, DAY2)
            assert back.delivery.sent == [1] and back.enqueued == {} and back.delivery.ok
            assert run_day(store, cfg, DAY3).delivery.sent == []
            assert deliver_all(store, cfg).sent == []
        [row] = outbox.rows(store)
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(hook.posts) == 1
    assert_no_secret(caplog, [error, row.last_error], cfg.store_path())


def test_a_server_error_then_success_posts_the_same_body_twice(tmp_path, monkeypatch):
    echo = f"upstream failed for /hooks/{TOKEN}".encode()  # a server that echoes the path (and its token)
    hook, port = Hook(replies=[(503, echo, 0.0), (200, b"ok", 0.0)]), free_port()
    cfg = setup(tmp_path, monkeypatch, port)
    with hook_server(port, hook), Store.open(cfg.store_path(), writer="test") as store:
        first = run_day(store, cfg, DAY1)
        [error] = first.delivery.failed.values()
        assert error.startswith("receiver hook: the URL in MONITOR_WEBHOOK_URL (127.0.0.1) answered 503")
        assert TOKEN not in error and "upstream failed for *** (tried again" in error
        assert run_day(store, cfg, DAY2).delivery.sent == [1]
    assert [p.body for p in hook.posts] == [hook.posts[0].body] * 2
    assert len({p.headers["idempotency-key"] for p in hook.posts}) == 1


@pytest.mark.parametrize("status", [408, 429, 500])
def test_answers_that_mean_later_are_retried(tmp_path, monkeypatch, status):
    hook, port = Hook(replies=[(status, b"", 0.0), (204, b"", 0.0)]), free_port()
    cfg = setup(tmp_path, monkeypatch, port)
    with hook_server(port, hook), Store.open(cfg.store_path(), writer="test") as store:
        assert not run_day(store, cfg, DAY1).delivery.ok
        assert run_day(store, cfg, DAY2).delivery.sent == [1]
    assert len(hook.posts) == 2


def test_a_client_error_is_refused_for_good_and_never_posted_again(tmp_path, monkeypatch):
    hook, port = Hook(replies=[(400, b"invalid payload", 0.0)]), free_port()
    cfg = setup(tmp_path, monkeypatch, port)
    with hook_server(port, hook), Store.open(cfg.store_path(), writer="test") as store:
        first = run_day(store, cfg, DAY1)
        second = run_day(store, cfg, DAY2)
        [row] = outbox.rows(store)
    assert row.status == "refused" and len(hook.posts) == 1
    line = (
        "webhook receiver hook: the URL in MONITOR_WEBHOOK_URL refused the message for good (400 Bad Request: "
        "invalid payload; outbox #1 of 2026-03-10, not retried): correct or remove it in [[receivers]] hook"
    )
    assert first.delivery.refused == second.delivery.refused == [line]


def test_no_answer_within_the_timeout_is_retried(tmp_path, monkeypatch):
    hook, port = Hook(replies=[(200, b"", 1.5), (200, b"", 0.0)]), free_port()
    cfg = setup(tmp_path, monkeypatch, port, timeout_seconds=0.3)
    with hook_server(port, hook), Store.open(cfg.store_path(), writer="test") as store:
        [error] = run_day(store, cfg, DAY1).delivery.failed.values()
        assert error == "receiver hook: the URL in MONITOR_WEBHOOK_URL (127.0.0.1) did not answer within 0.3 s"
        assert run_day(store, cfg, DAY2).delivery.sent == [1]


def test_an_unset_url_or_key_is_named_and_the_message_kept(tmp_path, monkeypatch):
    cfg = setup(tmp_path, monkeypatch, free_port(), secret_env="MONITOR_WEBHOOK_SECRET")
    monkeypatch.delenv("MONITOR_WEBHOOK_SECRET")
    with Store.open(cfg.store_path(), writer="test") as store:
        [error] = run_day(store, cfg, DAY1).delivery.failed.values()
        assert error == "receiver hook: the environment variable MONITOR_WEBHOOK_SECRET (its signing key) is not set"
        monkeypatch.setenv("MONITOR_WEBHOOK_SECRET", KEY)
        monkeypatch.setenv("MONITOR_WEBHOOK_URL", " \r\n")  # blank, as a .env line with no value leaves it
        [error] = deliver_all(store, cfg).failed.values()
        assert error == "receiver hook: the environment variable MONITOR_WEBHOOK_URL (its URL) is not set"
        assert [r.status for r in outbox.rows(store)] == ["pending"]


def test_the_config_takes_the_name_of_the_variable_never_the_url(tmp_path):
    from monitor.config import ConfigError

    with pytest.raises(ConfigError) as e:
        receiver_config(tmp_path, {"name": "hook", "kind": "webhook", "url_env": f"https://example.com/{TOKEN}"})
    assert "receivers[0].url_env: must be the NAME of an environment variable" in str(e.value)
    assert TOKEN not in str(e.value)


def assert_no_secret(caplog, texts, store: Path) -> None:
    logged = "\n".join(r.getMessage() for r in caplog.records)
    stored = store_bytes(store)
    for secret in (TOKEN, KEY, f"/hooks/{TOKEN}"):
        assert secret not in logged and not any(secret in t for t in texts)
        assert secret.encode() not in stored


def conforms(value, schema, where: str = "$") -> list[str]:
    """Where `value` breaks `schema`: the JSON Schema keywords docs/webhook.md uses (type, const, enum, required,
    properties, additionalProperties, items), checked here on their own (no schema library is installed)."""
    types = {"object": dict, "array": list, "string": str, "integer": int, "number": (int, float), "null": type(None)}
    out: list[str] = []
    if "const" in schema and value != schema["const"]:
        out.append(f"{where}: {value!r} != {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{where}: {value!r} not in {schema['enum']}")
    if "type" in schema:
        wanted = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(isinstance(value, types[t]) and not isinstance(value, bool) for t in wanted):
            out.append(f"{where}: {value!r} is not {wanted}")
    if isinstance(value, dict):
        out += [f"{where}.{k}: missing" for k in schema.get("required", []) if k not in value]
        for k, v in value.items():
            sub = schema.get("properties", {}).get(k, schema.get("additionalProperties"))
            if sub is None and "properties" in schema:
                out.append(f"{where}.{k}: not in the schema")
            elif isinstance(sub, dict):
                out += conforms(v, sub, f"{where}.{k}")
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            out += conforms(v, schema["items"], f"{where}[{i}]")
    return out
