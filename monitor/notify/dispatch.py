"""From grouped alerts to delivered notifications: dedup per receiver, render (a callback: reports/mail.py),
enqueue in the outbox, deliver through each receiver's notifier (monitor/notify/<kind>.py). The pipeline and
`monitor alerts test` call these; the renderer is passed in so that monitor/ never imports reports/."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

from monitor.alerts.engine import Alert, SentRecord, dedup, order
from monitor.alerts.state import sent_records
from monitor.notify.message import Notification
from monitor.notify.outbox import DeliveryReport, deliver, enqueue, refused_for_good
from monitor.notify.receiver import Notifier, ReceiverBase
from monitor.notify.registry import secret_values
from series.store import Store

Render = Callable[[str, Sequence[Alert]], Notification]  # (receiver name, its alerts) -> the message


class Receivers(Protocol):
    """What delivery needs of a config (monitor.config.Config, which sits above notify: it is made of the blocks
    the notifier kinds declare)."""

    @property
    def receivers(self) -> Sequence[ReceiverBase]: ...
    def resolve_path(self, p: str) -> Path: ...


@dataclass
class Dispatch:
    enqueued: dict[str, int] = field(default_factory=dict)  # receiver -> outbox id
    notified: dict[str, list[Alert]] = field(default_factory=dict)  # receiver -> what its message reports
    delivery: DeliveryReport = field(default_factory=DeliveryReport)


def queue(
    store: Store, receivers: Sequence[ReceiverBase], groups: Mapping[str, Sequence[Alert]], render: Render, as_of: date
) -> Dispatch:
    """Per receiver, what it has not heard yet, rendered as one message and stored in the outbox."""
    return queue_digest(store, receivers, [(as_of, groups)], render, as_of)


def queue_digest(
    store: Store,
    receivers: Sequence[ReceiverBase],
    days: Sequence[tuple[date, Mapping[str, Sequence[Alert]]]],
    render: Render,
    as_of: date,
) -> Dispatch:
    """One message per receiver for several evaluated days (a catch-up): each day's alerts are deduplicated as
    if the earlier days' had been sent, so an episode that fired and resolved while the monitor was not running
    is reported with both notices, and nothing is reported twice."""
    out = Dispatch()
    for receiver in receivers:
        sent = dict(sent_records(store, receiver.name, as_of=as_of))
        due: dict[tuple[str, str, str], Alert] = {}
        for day, groups in days:
            for a in dedup(groups.get(receiver.name, []), sent, day, receiver.repeat_interval_days):
                due[(a.fingerprint, a.episode, a.state)] = a
                sent[a.fingerprint] = SentRecord(a.fingerprint, a.episode, a.state, day)
        if not due:
            continue
        outbox_id = enqueue(store, render(receiver.name, order(due.values())), to=receiver.addresses())
        out.notified[receiver.name] = list(due.values())
        if outbox_id is not None:
            out.enqueued[receiver.name] = outbox_id
    return out


def senders(config: Receivers, env: Mapping[str, str] | None = None) -> dict[str, Notifier]:
    env = os.environ if env is None else env
    return {r.name: r.notifier(env, config.resolve_path) for r in config.receivers}


def deliver_all(store: Store, config: Receivers, env: Mapping[str, str] | None = None) -> DeliveryReport:
    env = dict(os.environ) if env is None else dict(env)
    report = deliver(store, senders(config, env), secrets=secret_values(config.receivers, env))
    report.refused = refused_for_good(store, config.receivers)
    return report
