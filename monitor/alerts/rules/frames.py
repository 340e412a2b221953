"""The pandas side of the rule kinds: a rule's frame, its inputs read point in time, joined while fresh.

A rule turns its inputs into one DataFrame per alert instance, indexed by observation date, with columns
    value      the statistic on that date
    threshold  what the statistic is compared with on that date
    condition  True where the rule's condition holds
(plus kind-specific extras). Kinds import this module inside `frame`, so loading config never loads pandas.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from monitor.alerts import stats
from monitor.alerts.data import RuleData
from monitor.errors import InputDataError
from series.freshness import carry_forward, expiries


def frame(value: pd.Series, threshold: pd.Series | float, condition: pd.Series, **extras: Any) -> pd.DataFrame:
    index = value.index
    thr = threshold.reindex(index) if isinstance(threshold, pd.Series) else pd.Series(float(threshold), index=index)
    out = pd.DataFrame(
        {"value": value.astype("float64"), "threshold": thr.astype("float64"), "condition": condition.astype(bool)},
        index=index,
    )
    for name, col in extras.items():
        out[name] = col
    out.index.name = "date"
    return out


def series_of(data: RuleData, series_id: str, rule: str) -> pd.Series:
    s = data.series.get(series_id)
    if s is None:
        raise InputDataError(f"rule {rule}: no data for series {series_id!r} (is it in [[series]] and fetched?)")
    return s.dropna().sort_index()


def legs(data: RuleData, legs: Mapping[str, str], rule: str, on: pd.DatetimeIndex | None = None) -> pd.DataFrame:
    """Several series on one index (`on`, default the union of their dates), each carrying its last value forward
    only while it is fresh (series.freshness): a leg older than its series' stale limit is NaN, so the rule does
    not hold on it (a Fed range whose data ended in 2024 says nothing about 2026)."""
    series = {name: series_of(data, sid, rule) for name, sid in legs.items()}
    index = leg_dates(data, legs, series) if on is None else on
    return pd.DataFrame(
        {name: carry_forward(s, data.info_of(legs[name]), index) for name, s in series.items()}, index=index
    )


def leg_dates(data: RuleData, legs: Mapping[str, str], series: Mapping[str, pd.Series]) -> pd.DatetimeIndex:
    """The union of the legs' dates and of the days each leg went stale (up to the as-of date)."""
    dates = [pd.DatetimeIndex(s.index) for s in series.values()]
    dates += [expiries(data.info_of(legs[name]), s.index, data.as_of) for name, s in series.items()]
    return pd.DatetimeIndex(sorted(set().union(*dates)), name="date")


def hysteresis_frame(x: pd.Series, enter: float, exit: float, direction: Literal["above", "below"]) -> pd.DataFrame:
    """An episode: in from `enter`, out beyond `exit`; threshold = the level that would change the state that day."""
    inside = stats.hysteresis(x, enter, exit, direction)
    was_inside = inside.shift(1, fill_value=False).astype(bool)
    thr = pd.Series(np.where(was_inside, exit, enter), index=x.index)
    return frame(x, thr, inside)
