"""What changed overnight, in one paragraph built from templates (no language model): the largest moves by
z-score, what fired and resolved (engine.tally and the alerts' own headlines, so it says what the cards say), and
the next central-bank meeting.

Every sentence comes from data the report shows elsewhere; the paragraph only puts the most important first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from monitor.alerts import wording
from monitor.alerts.engine import DATA_HEALTH, FIRING, RESOLVED, Alert, tally
from reports.overnight import Move, largest
from series import numbers

TOP_MOVES = 3


class Meeting(Protocol):
    """A bank's next policy meeting (monitor.meetings.NextMeeting has these attributes)."""

    @property
    def bank(self) -> str: ...
    @property
    def date(self) -> date: ...
    @property
    def days_to_go(self) -> int: ...
    @property
    def rate(self) -> float | None: ...
    @property
    def last_decision(self) -> object: ...
    @property
    def verified(self) -> bool: ...


def paragraph(
    as_of: date,
    moves: Sequence[Move],
    alerts: Sequence[Alert],
    meetings: Sequence[Meeting] = (),
    short: dict[str, str] | None = None,
) -> str:
    """The paragraph for `as_of`. `short`: short names for series ids (the report's), else their labels."""
    names = short or {}
    sentences = [_moves(as_of, moves, names), _alerts(alerts), _meeting(meetings)]
    return " ".join(s for s in sentences if s)


def move_text(m: Move, name: str) -> str:
    """'KRW/USD 1,480.50 (+12.30, z 2.8)'."""
    z = f", z {wording.number(m.z, 1)}" if m.z is not None else ""
    change = numbers.change(m.value - m.change, m.value, m.units) if m.change is not None else ""
    return f"{name} {numbers.with_units(m.value, m.units)} ({change}{z})"


def _moves(as_of: date, moves: Sequence[Move], names: dict[str, str]) -> str:
    top = largest(moves, TOP_MOVES)
    if not top:
        return f"As of {as_of}, no daily market series has enough fresh history to say what moved."
    unusual = [m for m in top if m.flagged]
    texts = [move_text(m, names.get(m.series_id, m.label)) for m in top]
    lead = f"As of {as_of}, the largest moves were " if len(top) > 1 else f"As of {as_of}, the largest move was "
    sentence = lead + _join(texts) + "."
    if unusual:
        sentence += f" {wording.plural(len(unusual), 'move')} at |z| >= 2."
    else:
        sentence += " None was unusual (|z| < 2)."
    stale = [names.get(m.series_id, m.label) for m in moves if m.stale]
    if stale:
        sentence += f" Stale, not overnight: {_join(stale)}."
    return sentence


def _alerts(alerts: Sequence[Alert]) -> str:
    risk = [a for a in alerts if a.kind != DATA_HEALTH]
    fired = [a.headline for a in risk if a.state == FIRING]
    resolved = [a.headline for a in risk if a.state == RESOLVED]
    text = f"Alerts: {tally(alerts)}"
    if fired:
        text += f"; firing: {'; '.join(fired)}"
    if resolved:
        text += f"; resolved: {'; '.join(resolved)}"
    return text + "."


def _meeting(meetings: Sequence[Meeting]) -> str:
    if not meetings:
        return ""
    m = min(meetings, key=lambda m: m.days_to_go)
    rate = f"; rate {numbers.with_units(m.rate, '%')}" if m.rate is not None else ""
    last = f", last decision {m.last_decision}" if m.last_decision else ""
    # An unverified decision says so itself (monitor.meetings), once.
    when = "today" if m.days_to_go == 0 else f"in {wording.plural(m.days_to_go, 'day')}"
    return f"Next meeting: {m.bank} on {m.date} ({when}{rate}{last})."


def _join(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
