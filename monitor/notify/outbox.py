"""The persisted outbox: notifications are stored before any delivery attempt and leave only when delivered.

- enqueue: the MIME message and the alert states it reports go into the store in one transaction, keyed by
  receiver + as-of + content; the same key again stores nothing (a re-run never mails twice).
- deliver: every pending message is tried; each attempt moves the row pending -> sending -> sent, or back to
  pending with the error (redacted), in its own transaction. An SMTP outage delays mail, never loses it.
- A row left in `sending` (the process died during the SMTP exchange) is tried again: delivery is at least once
  in that one window, and the copies share a Message-ID so mail clients can fold them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from monitor.notify.email import DeliveryError, Sender, redact
from monitor.notify.message import Notification, build_message
from series.store import Store, utcnow

log = logging.getLogger("monitor.notify")

PENDING, SENDING, SENT = "pending", "sending", "sent"


@dataclass(frozen=True)
class OutboxRow:
    id: int
    key: str
    receiver: str
    as_of: str
    subject: str
    status: str
    attempts: int
    last_error: str
    created: str
    sent: str | None


def enqueue(store: Store, n: Notification, *, sender: str, to: list[str]) -> int | None:
    """Store the notification (and which alert states it reports); None when the same one is already stored."""
    message = build_message(n, sender, to).as_bytes()
    now = utcnow()
    with store.transaction() as c:
        if c.execute("SELECT 1 FROM outbox WHERE key=?", (n.key,)).fetchone():
            return None
        cur = c.execute(
            "INSERT INTO outbox(key, receiver, as_of, subject, message, status, created, updated) "
            "VALUES (?,?,?,?,?,?,?,?)",
            (n.key, n.receiver, n.as_of.isoformat(), n.subject, message, PENDING, now, now),
        )
        outbox_id = int(cur.lastrowid or 0)
        c.executemany(
            "INSERT OR IGNORE INTO notifications_sent(receiver, fingerprint, episode, state, as_of, outbox_id) "
            "VALUES (?,?,?,?,?,?)",
            [(n.receiver, i.fingerprint, i.episode, i.state, n.as_of.isoformat(), outbox_id) for i in n.items],
        )
    return outbox_id


def rows(store: Store, status: str | None = None) -> list[OutboxRow]:
    sql = "SELECT id, key, receiver, as_of, subject, status, attempts, last_error, created, sent FROM outbox"
    args: tuple[str, ...] = ()
    if status:
        sql, args = sql + " WHERE status=?", (status,)
    return [OutboxRow(**dict(r)) for r in store.connection.execute(sql + " ORDER BY id", args)]


def message(store: Store, outbox_id: int) -> bytes:
    row = store.connection.execute("SELECT message FROM outbox WHERE id=?", (outbox_id,)).fetchone()
    return bytes(row["message"]) if row else b""


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)  # outbox id -> error (the message stays pending)

    @property
    def ok(self) -> bool:
        return not self.failed


def deliver(
    store: Store,
    senders: Mapping[str, Sender],
    *,
    secrets: Sequence[str] = (),
) -> DeliveryReport:
    """Try every undelivered message once, oldest first."""
    report = DeliveryReport()
    for row in rows(store, PENDING) + rows(store, SENDING):
        if row.status == SENDING:
            log.warning("outbox #%d to %s was interrupted during delivery; sending it again", row.id, row.receiver)
        sender = senders.get(row.receiver)
        if sender is None:
            _failed(store, row, f"receiver {row.receiver!r} is not in the config any more", secrets, report)
            continue
        with store.transaction() as c:
            c.execute(
                "UPDATE outbox SET status=?, attempts=attempts+1, updated=? WHERE id=?", (SENDING, utcnow(), row.id)
            )
        try:
            sender.send(message(store, row.id))
        except DeliveryError as e:
            _failed(store, row, str(e), secrets, report)
            continue
        now = utcnow()
        with store.transaction() as c:
            c.execute(
                "UPDATE outbox SET status=?, sent=?, updated=?, last_error='' WHERE id=?", (SENT, now, now, row.id)
            )
        report.sent.append(row.id)
        log.info("delivered outbox #%d to %s: %s", row.id, row.receiver, row.subject)
    return report


def _failed(store: Store, row: OutboxRow, error: str, secrets: Sequence[str], report: DeliveryReport) -> None:
    error = redact(error, secrets)
    with store.transaction() as c:
        c.execute("UPDATE outbox SET status=?, last_error=?, updated=? WHERE id=?", (PENDING, error, utcnow(), row.id))
    report.failed[row.id] = error
    log.warning("outbox #%d to %s kept for the next run: %s", row.id, row.receiver, error)
