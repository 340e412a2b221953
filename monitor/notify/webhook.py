"""kind = "webhook": one JSON POST per message, in the versioned schema `monitor.alert/1` (docs/webhook.md).

Headers: `Idempotency-Key` (the message's key: a retry after an interrupted delivery carries the same one, so the
receiving end can drop the copy), `X-Monitor-Schema`, and with `secret_env` set `X-Monitor-Signature:
sha256=<hex>`, the HMAC-SHA256 of the raw body under the secret that variable holds. Retries go through the
outbox (monitor.notify.http says which answers are retried).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import field_validator

from monitor.notify.http import Endpoint, HttpReceiver, mime_refused
from monitor.notify.message import Notification, finite
from monitor.notify.receiver import DeliveryError, Notifier, Refusal, Resolve, Stored, env_name, register
from series import secrets

SCHEMA = "monitor.alert/1"


@register
class WebhookReceiver(HttpReceiver):
    kind: Literal["webhook"]
    secret_env: str = ""  # NAME of the variable holding the HMAC key; "" = unsigned
    include_charts: bool = True  # the charts as base64 PNG in the body

    @field_validator("secret_env")
    @classmethod
    def _secret_env(cls, v: str) -> str:
        return env_name(v, "MONITOR_WEBHOOK_SECRET")

    def secret_envs(self) -> list[str]:
        return [self.url_env] + ([self.secret_env] if self.secret_env else [])

    def notifier(self, env: Mapping[str, str], resolve: Resolve) -> Notifier:
        return Webhook(self, self.endpoint(env), env)


def payload(n: Notification, *, charts: bool) -> dict[str, Any]:
    """The body, as docs/webhook.md documents it."""
    names = {img.cid: img.filename or f"chart-{i}.{img.subtype}" for i, img in enumerate(n.images)}
    return {
        "schema": SCHEMA,
        "key": n.key,
        "receiver": n.receiver,
        "as_of": n.as_of.isoformat(),
        "subject": n.subject,
        "text": n.text,
        "counts": {state: sum(i.state == state for i in n.items) for state in ("firing", "resolved")},
        "alerts": [
            {
                "state": i.state,
                "severity": i.severity,
                "rule": i.rule,
                "kind": i.kind,
                "headline": i.headline,
                "value": finite(i.value),
                "threshold": finite(i.threshold),
                "date": i.obs_date or None,
                "labels": dict(i.labels),
                "fingerprint": i.fingerprint,
                "episode": i.episode,
                "chart": names.get(i.chart) if charts else None,
            }
            for i in n.items
        ],
        "charts": [
            {
                "name": names[img.cid],
                "content_type": f"image/{img.subtype}",
                "data": base64.b64encode(img.data).decode(),
            }
            for img in n.images
        ]
        if charts
        else [],
    }


def signature(body: bytes, key: str) -> str:
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


class Webhook:
    def __init__(self, receiver: WebhookReceiver, endpoint: Endpoint, env: Mapping[str, str]) -> None:
        self.receiver, self.endpoint, self.env = receiver, endpoint, env

    def send(self, message: Stored, to: Sequence[str]) -> dict[str, Refusal]:
        if isinstance(message, bytes):
            return mime_refused(to)
        body = json.dumps(payload(message, charts=self.receiver.include_charts), ensure_ascii=False).encode()
        headers = {"Idempotency-Key": message.key, "X-Monitor-Schema": SCHEMA}
        if self.receiver.secret_env:
            key = secrets.read(self.env, self.receiver.secret_env)
            if not key:
                raise DeliveryError(
                    f"receiver {self.receiver.name}: the environment variable {self.receiver.secret_env} "
                    "(its signing key) is not set"
                )
            headers["X-Monitor-Signature"] = signature(body, key)
        refusal = self.endpoint.post(body, headers)
        return {address: refusal for address in to} if refusal else {}
