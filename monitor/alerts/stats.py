"""Vectorised, point-in-time statistics for the rule kinds.

Every function maps a dated series to a series on the same index in which the value on date t uses only
observations dated on or before t (trailing statistics exclude t itself where a rule compares t with its past).
Observations are counted on the series' own index: a date without a row (a Korean holiday for a KRX series) is not
an observation, so "k sessions" and streaks follow the series' own calendar.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from monitor.transforms import yoy

# Consistency factor that makes the MAD estimate the standard deviation of normal data.
MAD_TO_SD = 1.4826


def compare(values: pd.Series, op: str, threshold: pd.Series | float) -> pd.Series:
    """values op threshold, elementwise; NaN on either side is False (no data is never a signal)."""
    v = values.to_numpy(dtype=float)
    t = threshold.to_numpy(dtype=float) if isinstance(threshold, pd.Series) else np.full(len(v), float(threshold))
    with np.errstate(invalid="ignore"):
        if op == ">=":
            out = v >= t
        elif op == "<=":
            out = v <= t
        elif op == ">":
            out = v > t
        elif op == "<":
            out = v < t
        else:
            raise ValueError(f"unknown comparison {op!r}")
    return pd.Series(out & ~np.isnan(v) & ~np.isnan(t), index=values.index)


def transform(series: pd.Series, how: str, periods: int = 1, *, freq: str | None = None) -> pd.Series:
    """Units: diff in the series' units; pct_change and yoy in percent; log_diff in natural-log units.
    `periods` is the lag for diff, pct_change and log_diff and the window for rolling_sum and rolling_mean.
    yoy is the models' (monitor.transforms.yoy: the same period a year before, NaN when it is missing); `freq`
    is the series' frequency, inferred from the index when omitted."""
    s = series.astype("float64")
    if how == "level":
        return s
    if how == "diff":
        return s - s.shift(periods)
    if how == "pct_change":
        return 100.0 * (s / s.shift(periods) - 1.0)
    if how == "log_diff":
        with np.errstate(divide="ignore", invalid="ignore"):
            return pd.Series(np.log(s / s.shift(periods)), index=s.index)
    if how == "rolling_sum":
        return s.rolling(periods, min_periods=periods).sum()
    if how == "rolling_mean":
        return s.rolling(periods, min_periods=periods).mean()
    if how == "yoy":
        return yoy(s, freq)
    raise ValueError(f"unknown transform {how!r}")


def trailing_zscore(x: pd.Series, window: int, min_periods: int) -> pd.Series:
    """(x_t - mean) / sd over the `window` observations before t (t excluded); NaN where the sd is 0."""
    past = x.shift(1).rolling(window, min_periods=min_periods)
    sd = past.std(ddof=1)
    return (x - past.mean()) / sd.where(sd > 0)


def trailing_robust_zscore(x: pd.Series, window: int, min_periods: int) -> pd.Series:
    """(x_t - median) / (1.4826 * MAD) over the `window` observations before t (t excluded); NaN where MAD is 0.

    Computed on a strided view of the history in chunks (vectorised, bounded memory), not per date in Python."""
    values = x.to_numpy(dtype=float)
    n = len(values)
    med = np.full(n, np.nan)
    mad = np.full(n, np.nan)
    if n > 1:
        # Row t of the padded view holds x[t - window .. t - 1]: the trailing window without t.
        padded = np.concatenate([np.full(window, np.nan), values[:-1]])
        view = np.lib.stride_tricks.sliding_window_view(padded, window)
        chunk = max(1, 4_000_000 // window)
        for start in range(1, n, chunk):
            block = view[start : start + chunk]
            counts = np.sum(~np.isnan(block), axis=1)
            ok = counts >= min_periods
            if not ok.any():
                continue
            sub = block[ok]
            m = np.nanmedian(sub, axis=1)
            rows = np.arange(start, min(start + chunk, n))[ok]
            med[rows] = m
            mad[rows] = np.nanmedian(np.abs(sub - m[:, None]), axis=1)
    scale = MAD_TO_SD * mad
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(scale > 0, (values - med) / scale, np.nan)
    return pd.Series(z, index=x.index)


def expanding_quantile(x: pd.Series, q: float, min_periods: int) -> pd.Series:
    """The q-quantile (0..1, linear interpolation) of every observation before t (t excluded)."""
    return x.shift(1).expanding(min_periods=min_periods).quantile(q)


def run_length(condition: pd.Series) -> pd.Series:
    """How many consecutive observations up to and including t satisfy the condition (0 where it fails)."""
    c = condition.astype(bool)
    breaks = (~c).cumsum()
    return c.astype("int64").groupby(breaks).cumsum()


def hysteresis(x: pd.Series, enter: float, exit: float, direction: Literal["above", "below"]) -> pd.Series:
    """In an episode from the first observation at or beyond `enter` until the first one beyond `exit`:
    above: enter when x >= enter, leave when x < exit; below: enter when x <= enter, leave when x > exit.
    A missing value changes nothing (the episode carries on)."""
    signal = pd.Series(np.nan, index=x.index)
    if direction == "above":
        signal[x < exit] = 0.0
        signal[x >= enter] = 1.0
    else:
        signal[x > exit] = 0.0
        signal[x <= enter] = 1.0
    return signal.ffill().fillna(0.0).astype(bool)


def trailing_window_sum(changes: pd.Series, at: pd.DatetimeIndex, months: int) -> np.ndarray:
    """For each date t in `at`: the sum of `changes` dated in (t - months, t]."""
    c = changes.dropna()
    cum = np.concatenate([[0.0], np.cumsum(c.to_numpy(dtype=float))])
    dates = pd.DatetimeIndex(c.index)
    upto = dates.searchsorted(at, side="right")
    before = dates.searchsorted(at - pd.DateOffset(months=months), side="right")
    return cum[upto] - cum[before]
