"""The persisted outbox: notifications are stored before any delivery attempt and leave only when delivered.

- enqueue: the Notification (JSON, `format` notification/1), the addresses owed it (the receiver's, see
  monitor.notify.receiver) and the alert states it reports go into the store in one transaction, keyed by
  receiver + as-of + content; the same key again stores nothing (a re-run never notifies twice). Rows stored by
  an older monitor hold MIME e-mail (`format` mime) and are delivered as they are.
- deliver: every pending message is handed to its receiver's notifier; each attempt moves the row pending ->
  sending -> sent, or back to pending with the error (redacted), in its own transaction. An outage of the mail
  server or of a webhook delays a message, never loses it.
- Delivery is counted per address (`outbox_recipients`): a message is sent to the addresses still owed it, and
  each one that took it is done. One refused for now (SMTP 4xx) stays pending, and the next attempt names only
  the addresses still pending, so nobody gets a second copy; one refused for good (SMTP 5xx, an HTTP 4xx) is
  never retried and `refused_for_good` names it to every run until the config no longer lists it. A message
  nobody accepted is `refused`.
- A row left in `sending` (the process died during the exchange) is tried again: delivery is at least once in
  that one window, and the copies share a Message-ID (e-mail) or an Idempotency-Key (webhooks) so the receiving
  end can fold them.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from monitor.notify.email import recipients, redact
from monitor.notify.message import FORMAT, Notification
from monitor.notify.receiver import DeliveryError, Notifier, ReceiverBase, Refusal, Stored
from series.store import Store, utcnow

log = logging.getLogger("monitor.notify")

PENDING, SENDING, SENT, REFUSED = "pending", "sending", "sent", "refused"


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


def enqueue(store: Store, n: Notification, *, to: Sequence[str]) -> int | None:
    """Store the notification, the addresses owed it and which alert states it reports; None when the same one is
    already stored."""
    now = utcnow()
    with store.transaction() as c:
        if c.execute("SELECT 1 FROM outbox WHERE key=?", (n.key,)).fetchone():
            return None
        cur = c.execute(
            "INSERT INTO outbox(key, receiver, as_of, subject, message, format, status, created, updated) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            (n.key, n.receiver, n.as_of.isoformat(), n.subject, n.to_json(), FORMAT, PENDING, now, now),
        )
        outbox_id = int(cur.lastrowid or 0)
        c.executemany(
            "INSERT OR IGNORE INTO outbox_recipients(outbox_id, address, status, updated) VALUES (?,?,?,?)",
            [(outbox_id, addr, PENDING, now) for addr in dict.fromkeys(to)],
        )
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


def stored(store: Store, outbox_id: int) -> Stored:
    """What a row holds: a Notification, or the MIME bytes of a row an older monitor stored."""
    row = store.connection.execute("SELECT message, format FROM outbox WHERE id=?", (outbox_id,)).fetchone()
    body = bytes(row["message"])
    return Notification.from_json(body) if row["format"] == FORMAT else body


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)  # delivered this run to every recipient that will take it
    failed: dict[int, str] = field(default_factory=dict)  # outbox id -> error (the message stays pending)
    refused: list[str] = field(default_factory=list)  # one line per configured address refused for good

    @property
    def ok(self) -> bool:
        return not self.failed and not self.refused


def deliver(
    store: Store,
    senders: Mapping[str, Notifier],
    *,
    secrets: Sequence[str] = (),
) -> DeliveryReport:
    """Try every undelivered message once, oldest first, for the recipients still owed it."""
    report = DeliveryReport()
    for row in rows(store, PENDING) + rows(store, SENDING):
        if row.status == SENDING:
            log.warning("outbox #%d to %s was interrupted during delivery; sending it again", row.id, row.receiver)
        sender = senders.get(row.receiver)
        if sender is None:
            _failed(store, row, f"receiver {row.receiver!r} is not in the config any more", secrets, report)
            continue
        owed = _owed(store, row.id)
        if not owed:  # nobody is owed it any more (stored before a crash between the two updates): close it
            _record(store, row, owed, {}, secrets, report)
            continue
        with store.transaction() as c:
            c.execute(
                "UPDATE outbox SET status=?, attempts=attempts+1, updated=? WHERE id=?", (SENDING, utcnow(), row.id)
            )
        try:
            refused = sender.send(stored(store, row.id), owed)
        except DeliveryError as e:
            _failed(store, row, str(e), secrets, report)
            continue
        _record(store, row, owed, refused, secrets, report)
    return report


def _owed(store: Store, outbox_id: int) -> list[str]:
    """The addresses still pending for a message (stored with it); for a MIME message stored before delivery was
    counted per recipient, every recipient its headers name."""
    known = store.connection.execute(
        "SELECT address, status FROM outbox_recipients WHERE outbox_id=? ORDER BY rowid", (outbox_id,)
    ).fetchall()
    if known:
        return [r["address"] for r in known if r["status"] == PENDING]
    legacy = stored(store, outbox_id)
    _, to = recipients(legacy) if isinstance(legacy, bytes) else ("", [])
    now = utcnow()
    with store.transaction() as c:
        c.executemany(
            "INSERT OR IGNORE INTO outbox_recipients(outbox_id, address, status, updated) VALUES (?,?,?,?)",
            [(outbox_id, addr, PENDING, now) for addr in to],
        )
    return list(dict.fromkeys(to))


def _record(
    store: Store,
    row: OutboxRow,
    owed: Sequence[str],
    refused: Mapping[str, Refusal],
    secrets: Sequence[str],
    report: DeliveryReport,
) -> None:
    """Each recipient's outcome and the message's, in one transaction."""
    now = utcnow()
    later = {a: r for a, r in refused.items() if not r.permanent}
    with store.transaction() as c:
        for addr in owed:
            why = refused.get(addr)
            status = SENT if why is None else REFUSED if why.permanent else PENDING
            c.execute(
                "UPDATE outbox_recipients SET status=?, code=?, reply=?, updated=? WHERE outbox_id=? AND address=?",
                (status, why.code if why else 250, redact(why.reply, secrets) if why else "", now, row.id, addr),
            )
        accepted = c.execute(
            "SELECT COUNT(*) FROM outbox_recipients WHERE outbox_id=? AND status=?", (row.id, SENT)
        ).fetchone()[0]
        error = "; ".join(f"{a} refused for now: {r}" for a, r in later.items())
        error = redact(f"receiver {row.receiver}: not yet delivered to {error} (tried again on the next run)", secrets)
        status = PENDING if later else SENT if accepted else REFUSED
        c.execute(
            "UPDATE outbox SET status=?, sent=?, updated=?, last_error=? WHERE id=?",
            (status, now if status == SENT else None, now, error if later else "", row.id),
        )
    for addr, why in refused.items():
        log.warning("outbox #%d to %s: %s refused %s: %s", row.id, row.receiver, addr, _how(why), why)
    if later:
        report.failed[row.id] = error
        log.warning("outbox #%d to %s kept for the next run: %s", row.id, row.receiver, error)
    elif status == SENT:
        report.sent.append(row.id)
        log.info("delivered outbox #%d to %s: %s", row.id, row.receiver, row.subject)


def _how(refusal: Refusal) -> str:
    return "for good (not retried)" if refusal.permanent else "for now (kept in the outbox)"


def refused_for_good(store: Store, receivers: Sequence[ReceiverBase]) -> list[str]:
    """One line per address the config still lists whose last outcome was a refusal for good: every run names it
    until the address is fixed or removed (or a later message reaches it)."""
    last: dict[tuple[str, str], sqlite3.Row] = {}
    for r in store.connection.execute(
        "SELECT o.receiver, r.address, r.status, r.code, r.reply, o.id, o.as_of FROM outbox_recipients r "
        "JOIN outbox o ON o.id = r.outbox_id WHERE r.status IN (?, ?) ORDER BY r.updated, o.id",
        (SENT, REFUSED),
    ):
        last[(r["receiver"], r["address"].lower())] = r
    wanted = {(r.name, a.lower()): r for r in receivers for a in r.addresses()}
    return [
        f"{wanted[key].refused_line(r['address'])} ({r['code']} {r['reply']}; outbox #{r['id']} of "
        f"{r['as_of']}, not retried): correct or remove it in [[receivers]] {r['receiver']}"
        for key, r in last.items()
        if r["status"] == REFUSED and key in wanted
    ]


def _failed(store: Store, row: OutboxRow, error: str, secrets: Sequence[str], report: DeliveryReport) -> None:
    error = redact(error, secrets)
    with store.transaction() as c:
        c.execute("UPDATE outbox SET status=?, last_error=?, updated=? WHERE id=?", (PENDING, error, utcnow(), row.id))
    report.failed[row.id] = error
    log.warning("outbox #%d to %s kept for the next run: %s", row.id, row.receiver, error)
