"""One answer to "is this series fresh?": for a series and an as-of date, fresh, stale (how old, against what limit)
or missing, and why.

Validation, model input selection, rule inhibition and data-health alerts, rule legs carried forward, the backtest,
the report and `alerts explain` all ask here, so they always agree.

Age is counted in calendar days from the END of the period the last observation covers (monthly data are dated the
1st: January's value is 0 days old on 31 January), and the series is stale when that age exceeds its
`stale_after_days` (config.toml; defaults per frequency in series.spec).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final, Literal, Protocol

import numpy as np
import pandas as pd

from series.calendars import period_end, period_ends

FRESH: Final = "fresh"
STALE: Final = "stale"
MISSING: Final = "missing"
Status = Literal["fresh", "stale", "missing"]


class Staleable(Protocol):
    """What freshness needs to know of a series (a SeriesSpec or a SeriesInfo)."""

    @property
    def freq(self) -> str: ...

    @property
    def stale_days(self) -> int: ...


@dataclass(frozen=True)
class Freshness:
    status: Status
    last: date | None
    age_days: int | None  # calendar days since the last observation's period ended (None when missing)
    limit_days: int  # the series' stale limit
    reason: str  # one line for people ("" when fresh)

    @property
    def fresh(self) -> bool:
        return self.status == FRESH

    @property
    def stale(self) -> bool:
        return self.status == STALE

    @property
    def missing(self) -> bool:
        return self.status == MISSING


def freshness(series: Staleable, last: date | pd.Timestamp | None, as_of: date | pd.Timestamp) -> Freshness:
    """Fresh, stale or missing on `as_of`, given the date of the series' last observation known then."""
    limit = series.stale_days
    if last is None or pd.isna(last):
        return Freshness(MISSING, None, None, limit, "no observations stored")
    last_ts = pd.Timestamp(last)
    age = int((pd.Timestamp(as_of) - period_end(last_ts, series.freq)).days)
    if age > limit:
        reason = f"last observation {last_ts.date()} is {age} days old (stale after {limit} days)"
        return Freshness(STALE, last_ts.date(), age, limit, reason)
    return Freshness(FRESH, last_ts.date(), age, limit, "")


def age_days(series: Staleable, last: pd.DatetimeIndex, at: pd.DatetimeIndex) -> np.ndarray:
    """Elementwise: the age on day at[i] of an observation dated last[i], counted as `freshness` counts it."""
    return (pd.DatetimeIndex(at) - period_ends(pd.DatetimeIndex(last), series.freq)).days.to_numpy("float64")


def ages(series: Staleable, obs_dates: pd.DatetimeIndex, at: pd.DatetimeIndex) -> np.ndarray:
    """For each day in `at`: the age of the last observation dated on or before it (NaN before the first)."""
    obs = pd.DatetimeIndex(obs_dates).sort_values()
    at = pd.DatetimeIndex(at)
    pos = obs.searchsorted(at, side="right") - 1
    out = np.full(len(at), np.nan)
    ok = pos >= 0
    if ok.any():
        out[ok] = age_days(series, obs[pos[ok]], at[ok])
    return out


def carry_forward(values: pd.Series, series: Staleable, at: pd.DatetimeIndex) -> pd.Series:
    """`values` on the dates `at`, each carrying its last known value forward only while that value is fresh
    (NaN once it is older than the series' stale limit): a rule never reads a leg older than that."""
    s = values.dropna().sort_index()
    at = pd.DatetimeIndex(at)
    carried = s.reindex(s.index.union(at)).ffill().reindex(at)
    too_old = ages(series, pd.DatetimeIndex(s.index), at) > series.stale_days
    return carried.where(~too_old)


def known_ages(series: Staleable, first_known: pd.Series, as_of: date | pd.Timestamp) -> pd.Series:
    """Day by day, from the day the first observation was known to `as_of`: the age in days of the last
    observation known that day (the series is stale on the days it exceeds the limit).

    `first_known` maps each observation date to the day it was first known (its earliest realtime_start). Told
    by the vintages, not by which days happened to be evaluated, so a data-health alert's state on a day is the
    same whatever order the days were run in."""
    end = pd.Timestamp(as_of)
    known = pd.Series(pd.to_datetime(first_known.index), index=pd.to_datetime(first_known.to_numpy()))
    known = known[known.index <= end].sort_index()
    if known.empty:
        return pd.Series(dtype="float64")
    latest = known.cummax().groupby(level=0).max()  # day -> the latest observation date known from that day on
    days = pd.date_range(latest.index[0], end, freq="D")
    last_known = latest.reindex(latest.index.union(days)).ffill().reindex(days)
    return pd.Series(age_days(series, pd.DatetimeIndex(last_known.to_numpy()), days), index=days)


def expiries(series: Staleable, obs_dates: pd.DatetimeIndex, until: date | pd.Timestamp) -> pd.DatetimeIndex:
    """The days, up to `until`, on which the series turned stale: the first day an observation is older than the
    limit with no newer one by then. A rule joining several series evaluates on these days too, so an episode
    resting on a leg ends the day that leg goes stale, not at some later observation of another leg."""
    obs = pd.DatetimeIndex(obs_dates).sort_values().unique()
    if obs.empty:
        return obs
    expiry = period_ends(obs, series.freq) + pd.Timedelta(days=series.stale_days + 1)
    following = obs[1:].append(pd.DatetimeIndex([pd.Timestamp.max.normalize()]))
    return expiry[(expiry < following) & (expiry <= pd.Timestamp(until))]
