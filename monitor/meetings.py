"""The central-bank calendar: FOMC, BOJ Monetary Policy Meeting and BOK Monetary Policy Board meetings with their
decisions, from the package's data file `monitor/data/central_banks.csv`.

One row per meeting: bank (Fed, BOJ, BOK), meeting_start, decision_date, decision (hike, cut, hold, scheduled =
not held yet, unknown = held but the decision was not found), change_bp, rate_lower / rate_upper after the decision
(the Fed's target range; BOJ and BOK a single rate, both columns equal; BOJ March-July 2024: the 0-0.1% range),
verified, the official source (the bank's statement, or its schedule page for a meeting not held yet) and the
evidence behind the row (`../shared/data/real/incoming/INCOMING.md`, section 4).

`verified` is true only when the rate after the decision matches a published data series (FRED DFEDTARU/L, BIS
WS_CBPOL D.JP, ECOS 722Y001); a row confirmed only by press or third-party notes, and every meeting not held yet,
is false. An unverified row is never a test's truth, and the report says "unverified" when it shows one.

Keep the file current: once a bank's last listed meeting is in the past, `monitor check-config` warns and the
report and e-mail say so (`calendar_gap`), naming this file.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from datetime import date
from importlib import resources

CALENDAR_FILE = "monitor/data/central_banks.csv"  # as a user finds it in the repo (and the package)
BANKS = ("Fed", "BOJ", "BOK")
DECIDED = ("hike", "cut", "hold")


@dataclass(frozen=True)
class Meeting:
    bank: str
    start: date
    date: date  # the decision's date (local to the bank)
    decision: str  # hike | cut | hold | scheduled | unknown
    change_bp: int | None
    rate_lower: float | None
    rate_upper: float | None
    verified: bool
    source: str
    evidence: str

    @property
    def rate(self) -> float | None:
        """The policy rate after the decision, in percent (the upper bound of a range: what the Fed's `fed_upper`
        series and the rules read)."""
        return self.rate_upper

    def rate_text(self) -> str:
        if self.rate_lower is None or self.rate_upper is None:
            return ""
        if self.rate_lower == self.rate_upper:
            return f"{self.rate_upper:.2f}%"
        return f"{self.rate_lower:.2f}-{self.rate_upper:.2f}%"

    def describe(self) -> str:
        """'cut 25 bp to 3.50-3.75% on 2025-12-10', 'held at 0.75% on 2026-03-19' (+ ' (unverified)')."""
        on = f"on {self.date.isoformat()}"
        if self.decision == "hold":
            text = f"held at {self.rate_text()} {on}"
        elif self.decision in ("hike", "cut"):
            size = f" {abs(self.change_bp)} bp" if self.change_bp else ""
            verb = "hike" if self.decision == "hike" else "cut"
            text = f"{verb}{size} to {self.rate_text()} {on}"
        elif self.decision == "unknown":
            text = f"decision of {self.date.isoformat()} not known"
        else:
            text = f"meeting scheduled {on}"
        return text if self.verified or self.decision not in DECIDED else f"{text} (unverified)"


@dataclass(frozen=True)
class NextMeeting:
    bank: str  # Fed | BOJ | BOK
    date: date  # the decision date of the next meeting
    days_to_go: int
    rate: float | None  # the current policy rate in percent (after the last decision); None when not known
    last_decision: str  # e.g. "cut 25 bp to 3.50-3.75% on 2025-12-10"
    verified: bool  # the last decision (hence the rate) is confirmed by data; the next date is from a schedule


class CalendarError(ValueError):
    """The calendar file is malformed."""


@functools.cache
def meetings() -> tuple[Meeting, ...]:
    """Every meeting in the package's calendar file, by bank and date."""
    text = resources.files("monitor").joinpath(CALENDAR_FILE.removeprefix("monitor/")).read_text(encoding="utf-8")
    return parse(text)


def parse(text: str) -> tuple[Meeting, ...]:
    out = []
    for i, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        try:
            m = Meeting(
                bank=row["bank"],
                start=date.fromisoformat(row["meeting_start"]),
                date=date.fromisoformat(row["decision_date"]),
                decision=row["decision"],
                change_bp=int(row["change_bp"]) if row["change_bp"] else None,
                rate_lower=float(row["rate_lower"]) if row["rate_lower"] else None,
                rate_upper=float(row["rate_upper"]) if row["rate_upper"] else None,
                verified={"true": True, "false": False}[row["verified"]],
                source=row["source"],
                evidence=row["evidence"],
            )
        except (KeyError, ValueError, TypeError) as e:
            raise CalendarError(f"central_banks.csv line {i}: {type(e).__name__}: {e}") from None
        if m.bank not in BANKS or m.decision not in (*DECIDED, "scheduled", "unknown"):
            raise CalendarError(f"central_banks.csv line {i}: unknown bank {m.bank!r} or decision {m.decision!r}")
        if m.decision in DECIDED and m.rate_upper is None:
            raise CalendarError(f"central_banks.csv line {i}: a {m.decision} needs the rate after it")
        out.append(m)
    return tuple(sorted(out, key=lambda m: (BANKS.index(m.bank), m.date)))


def decisions(bank: str, as_of: date | None = None) -> list[Meeting]:
    """The bank's meetings held before `as_of` (all with None) with a known decision: the chart's markers."""
    return [m for m in meetings() if m.bank == bank and m.decision in DECIDED and (as_of is None or m.date < as_of)]


def days_to_next(bank: str, day: date) -> int | None:
    """Calendar days from `day` to the bank's next meeting on or after it (0 on the day), None if none is listed."""
    ahead = [m.date for m in meetings() if m.bank == bank and m.date >= day]
    return (ahead[0] - day).days if ahead else None


def next_meetings(as_of: date) -> list[NextMeeting]:
    """Per bank (Fed, BOJ, BOK), its next meeting on or after `as_of`, days to go, and its last decision before
    `as_of`. A meeting on `as_of` itself is next (0 days to go): its decision may not be out at the run's hour.
    A bank with no meeting on or after `as_of` in the file is left out (the file needs its next schedule).
    When the last meeting held has no known decision, the current rate is not known either (None)."""
    out = []
    for bank in BANKS:
        rows = [m for m in meetings() if m.bank == bank]
        upcoming = [m for m in rows if m.date >= as_of]
        if not upcoming:
            continue
        held = [m for m in rows if m.date < as_of]
        last = held[-1] if held else None
        known = last is not None and last.decision in DECIDED
        out.append(
            NextMeeting(
                bank=bank,
                date=upcoming[0].date,
                days_to_go=(upcoming[0].date - as_of).days,
                rate=last.rate if known and last is not None else None,
                last_decision=last.describe() if last is not None else "",
                verified=bool(known and last is not None and last.verified),
            )
        )
    return out


def calendar_gap(as_of: date) -> str:
    """What the calendar cannot say as of the date: the banks with no meeting listed on or after it (their next
    schedule is not in the file yet), in one sentence for the report and the e-mail; '' when every bank has one."""
    listed = {m.bank for m in next_meetings(as_of)}
    missing = [b for b in BANKS if b not in listed]
    if not missing:
        return ""
    banks = " or ".join(missing)
    return (
        f"No {banks} meeting is listed on or after {as_of} in the calendar: add the next schedule to {CALENDAR_FILE}."
    )
