"""Delivery per recipient, against a real aiosmtpd server on loopback that refuses some recipients at RCPT TO.

A message counts as delivered only for the recipients the server accepted: one refused for now (4xx) stays pending
and a later run delivers to it alone (the others never get a second copy); one refused for good (5xx) is not
retried and is named by every delivery report until the config no longer lists it. Inputs are SYNTHETIC."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from monitor.notify import outbox
from monitor.notify.dispatch import deliver_all
from series.store import Store
from tests.monitor.notify.conftest import Recorder, free_port, smtp_server
from tests.monitor.notify.test_email import make_config, parse, run_day

DESK, CIO = "risk-desk@example.com", "cio@example.com"  # the two recipients of make_config's receiver
DAY = date(2026, 3, 10)  # the first day KRW/USD is above 1,450: one message


@dataclass
class Refusing(Recorder):
    """Answers RCPT TO for the listed addresses with the given reply (e.g. "451 4.2.1 ..."); accepts the rest."""

    refuse: dict[str, str] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)  # every RCPT TO the server was sent, in order

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        self.asked.append(address)
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_recipient_refused_for_now_stays_pending_and_alone_gets_it_later(tmp_path):
    handler, port = Refusing(refuse={CIO: "451 4.2.1 mailbox busy, try later"}), free_port()
    cfg = make_config(tmp_path, port)
    with smtp_server(port, handler), Store.open(cfg.store_path(), writer="test") as store:
        first = run_day(store, cfg, DAY)
        assert not first.delivery.ok
        [row] = outbox.rows(store)
        assert row.status == "pending"
        assert first.delivery.sent == [] and list(first.delivery.failed) == [row.id]
        why = first.delivery.failed[row.id]
        assert CIO in why and "451 4.2.1 mailbox busy, try later" in why and DESK not in why
        assert [m.rcpt_tos for m in handler.messages] == [[DESK]]

        handler.refuse.clear()  # the mailbox is free again
        again = run_day(store, cfg, DAY)
        assert again.delivery.ok and again.delivery.sent == [row.id]
        assert deliver_all(store, cfg).sent == []  # nothing left
        [row] = outbox.rows(store)
        assert row.status == "sent"
    # Each recipient got the message exactly once; the same message (one Message-ID) both times.
    assert [m.rcpt_tos for m in handler.messages] == [[DESK], [CIO]]
    assert handler.asked == [DESK, CIO, CIO]
    ids = {parse(m.content)["Message-ID"] for m in handler.messages}
    assert len(ids) == 1


def test_a_recipient_refused_for_good_is_not_retried_and_named_until_the_config_drops_it(tmp_path):
    handler, port = Refusing(refuse={CIO: "550 5.1.1 no such user"}), free_port()
    cfg = make_config(tmp_path, port)
    with smtp_server(port, handler), Store.open(cfg.store_path(), writer="test") as store:
        first = run_day(store, cfg, DAY)
        [row] = outbox.rows(store)
        assert row.status == "sent"  # done: the desk has it, the other address will never take it
        assert first.delivery.failed == {} and first.delivery.sent == [row.id]
        [refused] = first.delivery.refused
        assert CIO in refused and "550 5.1.1 no such user" in refused and "receivers" in refused
        assert not first.delivery.ok

        later = deliver_all(store, cfg)  # a later run: nothing is sent again, the address is still named
        assert later.sent == [] and later.failed == {} and later.refused == first.delivery.refused

        fixed = cfg.model_copy(
            update={"receivers": [r.model_copy(update={"to": [DESK]}) for r in cfg.receivers]}
        )  # the config no longer lists it
        after = deliver_all(store, fixed)
        assert after.ok and after.refused == []
    assert [m.rcpt_tos for m in handler.messages] == [[DESK]]
    assert handler.asked == [DESK, CIO]


def test_every_recipient_refused(tmp_path):
    """All refused at RCPT TO (smtplib raises SMTPRecipientsRefused): for now, the whole message waits; for good,
    nothing is retried and each address is named."""
    handler, port = Refusing(refuse={DESK: "452 4.2.2 over quota", CIO: "452 4.2.2 over quota"}), free_port()
    cfg = make_config(tmp_path, port)
    with smtp_server(port, handler), Store.open(cfg.store_path(), writer="test") as store:
        first = run_day(store, cfg, DAY)
        [row] = outbox.rows(store)
        assert row.status == "pending" and list(first.delivery.failed) == [row.id]
        handler.refuse = {DESK: "550 5.7.1 relaying denied", CIO: "550 5.7.1 relaying denied"}
        second = deliver_all(store, cfg)
        [row] = outbox.rows(store)
        assert row.status == "refused" and second.sent == [] and second.failed == {}
        assert len(second.refused) == 2 and all("550 5.7.1 relaying denied" in r for r in second.refused)
        assert deliver_all(store, cfg).refused == second.refused
    assert handler.messages == []
    assert handler.asked == [DESK, CIO, DESK, CIO]


def test_an_address_with_a_display_name_in_the_config_is_still_named(tmp_path):
    handler, port = Refusing(refuse={CIO: "550 5.1.1 no such user"}), free_port()
    base = make_config(tmp_path, port)
    named = [r.model_copy(update={"to": [f"Risk desk <{DESK}>", f"The CIO <{CIO}>"]}) for r in base.receivers]
    cfg = base.model_copy(update={"receivers": named})
    with smtp_server(port, handler), Store.open(cfg.store_path(), writer="test") as store:
        sent = run_day(store, cfg, DAY)
        [refused] = sent.delivery.refused
        assert refused.startswith(f"mail to {CIO} refused for good by the server (550 5.1.1 no such user;")
    assert [m.rcpt_tos for m in handler.messages] == [[DESK]]
