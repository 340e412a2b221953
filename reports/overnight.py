"""What moved overnight: each daily market series' last value, its one-session change and how unusual that change
is (its z-score against the changes of the previous 250 sessions), flagged at |z| >= 2.

A pure function of the series as known on the as-of date: the report, the e-mail and the narrative paragraph read
the same moves. A series whose last value is stale (series/freshness.py, the one freshness model) keeps its line
with its date and says so, so an old move is never read as last night's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import pandas as pd

from series import numbers
from series.freshness import freshness

WINDOW = 250  # sessions: about a year of trading days
MIN_WINDOW = 60  # fewer earlier changes than this (a young series) give no z-score: too few to say what is usual
Z_FLAG = 2.0
DAILY = ("D", "B")


class DailySeries(Protocol):
    """What the table needs of a series: a SeriesSpec."""

    @property
    def id(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def units(self) -> str: ...
    @property
    def freq(self) -> str: ...
    @property
    def stale_days(self) -> int: ...


@dataclass(frozen=True)
class Move:
    series_id: str
    label: str
    units: str  # the stored units (series.numbers shows them)
    date: date
    value: float
    change: float | None  # last value minus the one before (stored units); None with a single observation
    z: float | None  # the change against the previous WINDOW changes; None when they are too few or all equal
    stale: str = ""  # why the last value is stale ("" when fresh)
    usd: str = ""  # a won amount in dollars at that day's rate ("" otherwise)

    @property
    def flagged(self) -> bool:
        # On the z as shown (one decimal), so a row reading "z 2.0" is always flagged and counted.
        return self.z is not None and abs(round(self.z, 1)) >= Z_FLAG and not self.stale


def overnight(
    series: Mapping[str, pd.Series],
    specs: Sequence[DailySeries],
    as_of: date,
    krw_per_usd: pd.Series | None = None,
) -> list[Move]:
    """One Move per daily series with data by `as_of`, in the order of `specs`. `krw_per_usd`: the rate a won
    amount is shown in dollars at (the last one known on its date)."""
    out = []
    for spec in specs:
        if spec.freq not in DAILY or spec.id not in series:
            continue
        s = series[spec.id].dropna()
        s = s[s.index <= pd.Timestamp(as_of)]
        if s.empty:
            continue  # the freshness table says it has no data
        fresh = freshness(spec, s.index[-1], as_of)
        changes = s.diff().dropna()
        change = float(changes.iloc[-1]) if len(changes) else None
        out.append(
            Move(
                spec.id,
                spec.label,
                spec.units,
                s.index[-1].date(),
                float(s.iloc[-1]),
                change,
                _z(changes),
                fresh.reason if fresh.stale else "",
                numbers.usd(float(s.iloc[-1]), spec.units, rate_on(krw_per_usd, s.index[-1])),
            )
        )
    return out


def _z(changes: pd.Series) -> float | None:
    before = changes.iloc[-WINDOW - 1 : -1]
    if len(before) < MIN_WINDOW:
        return None
    sd = float(before.std(ddof=1))
    # A series that did not move at all in the window (a policy rate between meetings) has no scale to judge by.
    if not sd > 0:
        return None
    z = (float(changes.iloc[-1]) - float(before.mean())) / sd
    return z if math.isfinite(z) else None


def rate_on(rates: pd.Series | None, day: pd.Timestamp) -> float | None:
    """The last rate known on `day` (None when there is none)."""
    if rates is None:
        return None
    known = rates.dropna()
    known = known[known.index <= day]
    return float(known.iloc[-1]) if not known.empty else None


def largest(moves: Sequence[Move], n: int = 3) -> list[Move]:
    """The fresh moves with the largest |z|, largest first."""
    scored = [m for m in moves if m.z is not None and not m.stale]
    return sorted(scored, key=lambda m: -abs(m.z or 0.0))[:n]
