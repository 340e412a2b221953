"""kind = "teams": a Microsoft Teams Workflows webhook (or a legacy incoming webhook), one Adaptive Card per
notification.

The body is a message with one attachment of contentType application/vnd.microsoft.card.adaptive (card version
1.4): the subject, a container per fired or resolved alert (state, severity, rule, headline, a fact set of its
numbers) and a footer line. Teams refuses bodies over about 28 KB, so the card carries no image data: a chart is
an Image element linking to a public URL (`chart_dir` + `chart_base_url`, as for Slack), and alerts beyond what
fits are summed up in one line. The webhook URL holds its signature: it comes from the variable `url_env` names
and is redacted everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from monitor.notify.http import ChartLinks, Endpoint, footer, mime_refused, publish_charts, said
from monitor.notify.message import Notification
from monitor.notify.receiver import Notifier, Refusal, Resolve, Stored, register

CARD = "application/vnd.microsoft.card.adaptive"
VERSION = "1.4"  # the highest version Teams renders everywhere (desktop, web, mobile)
MAX_BYTES = 27_000  # Teams' limit is about 28 KB for the whole body: keep a margin
STYLE = {"critical": "attention", "warning": "warning", "info": "emphasis"}


@register
class TeamsReceiver(ChartLinks):
    kind: Literal["teams"]

    def notifier(self, env: Mapping[str, str], resolve: Resolve) -> Notifier:
        return Teams(self, self.endpoint(env), resolve)


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def card(n: Notification, charts: Mapping[str, str], limit: int = MAX_BYTES) -> dict[str, Any]:
    """The message with its Adaptive Card; the alerts that do not fit under `limit` bytes summed up in a line."""
    containers = []
    for s in said(n):
        items = [_text(s.title, weight="Bolder"), _text(s.headline)]
        if s.facts:
            items.append({"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in s.facts]})
        if s.chart in charts:
            items.append({"type": "Image", "url": charts[s.chart], "altText": f"chart: {s.title}"})
        style = "good" if s.state == "resolved" else STYLE.get(s.severity, "default")
        containers.append({"type": "Container", "style": style, "items": items})
    for shown in range(len(containers), -1, -1):
        body = [_text(n.subject, weight="Bolder", size="Medium"), *containers[:shown]]
        if shown < len(containers):
            body.append(_text(f"… and {len(containers) - shown} more: see the e-mail or the daily report"))
        body.append(_text(footer(n), isSubtle=True, size="Small"))
        message = {
            "type": "message",
            "attachments": [
                {
                    "contentType": CARD,
                    "contentUrl": None,
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": VERSION,
                        "body": body,
                    },
                }
            ],
        }
        if len(encode(message)) <= limit:
            break
    return message


def encode(message: Mapping[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False).encode()


class Teams:
    def __init__(self, receiver: TeamsReceiver, endpoint: Endpoint, resolve: Resolve) -> None:
        self.receiver, self.endpoint, self.resolve = receiver, endpoint, resolve

    def send(self, message: Stored, to: Sequence[str]) -> dict[str, Refusal]:
        if isinstance(message, bytes):
            return mime_refused(to)
        charts = publish_charts(message, self.receiver, self.resolve)
        refusal = self.endpoint.post(encode(card(message, charts)))
        return {address: refusal for address in to} if refusal else {}
