"""What a notifier sends: a rendered `Notification` (subject, text, HTML, inline images) and its MIME form.

Rendering lives in reports/ (reports/mail.py); monitor/notify only packs and delivers what it is given, so the
notifiers never import the renderer. The MIME layout is the one mail clients expect for inline charts:

    multipart/alternative
      text/plain
      multipart/related
        text/html            <img src="cid:...">
        image/png            Content-ID: <...>, one per chart
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
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
    """One alert state a notification tells its receiver about (recorded so it is never told twice)."""

    fingerprint: str
    episode: str
    state: str  # firing | resolved


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
