"""kind = "slack": a Slack incoming webhook, one Block Kit message per notification.

Blocks: a header (the subject), a section per fired or resolved alert (state, severity, rule, headline, numbers),
and a context line (as-of, receiver). Slack's incoming webhooks cannot upload files, so a chart is shown only as
an image block linking to a public URL: with `chart_dir` and `chart_base_url` set, each chart is written to
chart_dir (publish that folder at chart_base_url with any web server) and linked; without them, no chart.
The webhook URL holds its token: it comes from the variable `url_env` names and is redacted everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from monitor.notify.http import ChartLinks, Endpoint, footer, mime_refused, publish_charts, said
from monitor.notify.message import Notification
from monitor.notify.receiver import Notifier, Refusal, Resolve, Stored, register

MAX_BLOCKS = 50  # Slack's limit per message
HEADER_MAX = 150  # characters of a header's plain text
SECTION_MAX = 3000  # characters of a section's text


@register
class SlackReceiver(ChartLinks):
    kind: Literal["slack"]

    def notifier(self, env: Mapping[str, str], resolve: Resolve) -> Notifier:
        return Slack(self, self.endpoint(env), resolve)


def escape(text: str) -> str:
    """Slack's mrkdwn treats &, < and > as markup (links, mentions): data shows as text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def blocks(n: Notification, charts: Mapping[str, str]) -> dict[str, Any]:
    """The message: `text` is the notification fallback (phones, screen readers), `blocks` what Slack shows."""
    body: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": n.subject[:HEADER_MAX]}}]
    items = said(n)
    room = MAX_BLOCKS - 3  # the header, the context and a possible "more" line
    for shown, s in enumerate(items):
        wanted = 2 if s.chart in charts else 1
        if room < wanted:
            more = f"… and {len(items) - shown} more: see the e-mail or the daily report"
            body.append({"type": "section", "text": {"type": "mrkdwn", "text": more}})
            break
        room -= wanted
        facts = " · ".join(f"{k} {v}" for k, v in s.facts)
        text = f"*{escape(s.title)}*\n{escape(s.headline)}" + (f"\n{escape(facts)}" if facts else "")
        body.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_MAX]}})
        if s.chart in charts:
            body.append({"type": "image", "image_url": charts[s.chart], "alt_text": f"chart: {s.title}"})
    body.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(footer(n))}]})
    return {"text": n.subject, "blocks": body}


class Slack:
    def __init__(self, receiver: SlackReceiver, endpoint: Endpoint, resolve: Resolve) -> None:
        self.receiver, self.endpoint, self.resolve = receiver, endpoint, resolve

    def send(self, message: Stored, to: Sequence[str]) -> dict[str, Refusal]:
        if isinstance(message, bytes):
            return mime_refused(to)
        charts = publish_charts(message, self.receiver, self.resolve)
        body = json.dumps(blocks(message, charts), ensure_ascii=False).encode()
        refusal = self.endpoint.post(body)
        return {address: refusal for address in to} if refusal else {}
