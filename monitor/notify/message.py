"""What a notifier sends: a rendered `Notification` (what fired and resolved, subject, text, HTML, the charts as
PNG) and its two stored forms: JSON (what the outbox keeps, `to_json`/`from_json`) and MIME (what e-mail sends).

Rendering lives in reports/ (reports/mail.py); monitor/notify only packs and delivers what it is given, so the
notifiers never import the renderer. Every notifier kind renders its own payload from the same Notification
(monitor/notify/<kind>.py). The MIME layout is the one mail clients expect for inline charts:

    multipart/alternative
      text/plain
      multipart/related
        text/html            <img src="cid:...">
        image/png            Content-ID: <...>, one per chart
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from dataclasses import asdict, dataclass
from datetime import date
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, parseaddr
from typing import cast


@dataclass(frozen=True)
class InlineImage:
    cid: str  # referenced from the HTML as src="cid:<cid>"
    data: bytes
    subtype: str = "png"
    filename: str = ""


@dataclass(frozen=True)
class NoticeItem:
    """One alert state a notification tells its receiver about (recorded so it is never told twice), with what
    the chat and webhook notifiers show of it."""

    fingerprint: str
    episode: str
    state: str  # firing | resolved
    rule: str = ""
    severity: str = ""
    kind: str = ""  # the rule kind, or data_health
    headline: str = ""  # the summary while firing, why it cleared once resolved
    value: float | None = None
    threshold: float | None = None
    obs_date: str = ""  # ISO date of the latest observation evaluated
    labels: tuple[tuple[str, str], ...] = ()
    chart: str = ""  # cid of its chart among the notification's images ("" = none)


@dataclass(frozen=True)
class Notification:
    receiver: str
    as_of: date
    subject: str
    text: str
    html: str
    images: tuple[InlineImage, ...] = ()
    items: tuple[NoticeItem, ...] = ()

    @property
    def key(self) -> str:
        """Idempotency key: receiver + as-of + what it says (the alert states, else the text). Enqueuing the
        same key twice stores one message, so re-running a day never mails twice."""
        content = (
            sorted((i.fingerprint, i.episode, i.state) for i in self.items) if self.items else [self.subject, self.text]
        )
        text = json.dumps([self.receiver, self.as_of.isoformat(), content], separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def chart(self, cid: str) -> InlineImage | None:
        return next((img for img in self.images if img.cid == cid), None)

    def to_json(self) -> bytes:
        """The stored form (outbox.message): plain JSON, the PNGs in base64, so a store stays readable."""
        body = {
            "format": FORMAT,
            "receiver": self.receiver,
            "as_of": self.as_of.isoformat(),
            "subject": self.subject,
            "text": self.text,
            "html": self.html,
            "images": [{**asdict(img), "data": base64.b64encode(img.data).decode("ascii")} for img in self.images],
            "items": [
                {**asdict(i), "labels": dict(i.labels), "value": finite(i.value), "threshold": finite(i.threshold)}
                for i in self.items
            ],
        }
        return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Notification:
        body = json.loads(raw)
        return cls(
            receiver=body["receiver"],
            as_of=date.fromisoformat(body["as_of"]),
            subject=body["subject"],
            text=body["text"],
            html=body["html"],
            images=tuple(InlineImage(**{**i, "data": base64.b64decode(i["data"])}) for i in body["images"]),
            items=tuple(NoticeItem(**{**i, "labels": tuple(i["labels"].items())}) for i in body["items"]),
        )


def finite(x: float | None) -> float | None:
    """JSON has no nan: a statistic that is not a number is null."""
    return x if x is not None and math.isfinite(x) else None


FORMAT = "notification/1"  # outbox.format of rows stored as a Notification; older rows are "mime"


def one_line(text: str) -> str:
    """Header values never carry line breaks (no header injection from data or config text)."""
    return " ".join(text.split())


def build_message(n: Notification, sender: str, to: list[str]) -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = one_line(n.subject)
    msg["From"] = one_line(sender)
    msg["To"] = ", ".join(one_line(t) for t in to)
    msg["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "kr-monitor.invalid"
    # Deterministic: a message re-sent after an interrupted delivery carries the same Message-ID, so mail
    # clients and archives can fold the copies.
    msg["Message-ID"] = f"<{n.key[:32]}@{domain}>"
    msg["X-KR-Monitor-Key"] = n.key
    msg["X-KR-Monitor-As-Of"] = n.as_of.isoformat()
    msg.set_content(n.text)
    if n.html:
        msg.add_alternative(n.html, subtype="html")
        html_part = cast(EmailMessage, msg.get_payload()[1])  # type: ignore[index]
        for img in n.images:
            html_part.add_related(
                img.data, maintype="image", subtype=img.subtype, cid=f"<{img.cid}>", filename=img.filename or None
            )
    return msg
