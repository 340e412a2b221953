"""The overnight paragraph: built from templates on fixed inputs, and what it says on the real data's replay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from monitor.alerts.engine import FIRING, RESOLVED, Alert
from reports.narrative import paragraph
from reports.overnight import Move

AS_OF = date(2026, 3, 27)


@dataclass(frozen=True)
class NextMeeting:
    """The shape monitor.meetings.next_meetings returns (a calendar the narrative reads, not under test)."""

    bank: str
    date: date
    days_to_go: int
    rate: float | None
    last_decision: str
    verified: bool


def alert(rule: str, state: str, summary: str, reason: str = "", kind: str = "level") -> Alert:
    notes = {"summary": summary} | ({"resolved_reason": reason} if reason else {})
    return Alert({"rule": rule, "severity": "warning"}, notes, state, kind, 1.0, 1.0, AS_OF, AS_OF, "2026-03-01")


MOVES = [
    Move("kospi", "KOSPI", "points", AS_OF, 5438.87, -21.59, -0.3),
    Move("krw_usd_spot", "KRW/USD", "KRW per USD", AS_OF, 1508.36, 18.0, 2.64),
    Move("us_10y", "UST 10y", "%", date(2026, 3, 26), 4.42, 0.09, 1.9),
    Move("bok_rate", "BOK", "%", date(2025, 12, 31), 2.5, 0.0, None, stale="last observation 2025-12-31 is old"),
    Move("jpy_usd", "JPY/USD", "JPY per USD", AS_OF, 158.7, -0.56, -0.6),
]


def test_the_paragraph_names_the_largest_moves_what_fired_and_resolved_and_the_next_meeting():
    alerts = [
        alert("krw", FIRING, "KRW/USD 1,508 >= 1,500"),
        alert("dep", RESOLVED, "KRW/USD up 2%", reason="KRW/USD, 5 sessions 1.31%, below 2% on 2026-03-20"),
        alert("inputs_stale", FIRING, "bok_rate: stale", kind="data_health"),
    ]
    meetings = [
        NextMeeting("BOJ", date(2026, 4, 28), 32, 0.75, "hold at 0.75%", True),
        NextMeeting("BOK", date(2026, 4, 9), 13, 2.5, "held at 2.50% on 2026-02-26 (unverified)", False),
    ]
    short = {"krw_usd_spot": "KRW/USD", "us_10y": "UST 10y", "jpy_usd": "JPY/USD", "bok_rate": "BOK"}
    assert paragraph(AS_OF, MOVES, alerts, meetings, short) == (
        "As of 2026-03-27, the largest moves were KRW/USD 1,508.36 KRW per USD (+18.00 (+1.2%), z 2.6), "
        "UST 10y 4.42% (+0.09 pp, z 1.9) and JPY/USD 158.70 JPY per USD (-0.56 (-0.4%), z -0.6). "
        "1 move at |z| >= 2. Stale, not overnight: BOK. "
        "Alerts: 1 firing, 1 resolved, 1 input stale or down; firing: KRW/USD 1,508 >= 1,500; "
        "resolved: KRW/USD, 5 sessions 1.31%, below 2% on 2026-03-20. "
        "Next meeting: BOK on 2026-04-09 (in 13 days; rate 2.50%, "
        "last decision held at 2.50% on 2026-02-26 (unverified))."
    )


def test_without_moves_alerts_or_a_calendar_the_paragraph_says_so_in_two_sentences():
    assert paragraph(AS_OF, [], []) == (
        "As of 2026-03-27, no daily market series has enough fresh history to say what moved. Alerts: 0 firing."
    )
