"""Data checks on a fetched batch, before it is stored. Returns DataIssues; `error` issues quarantine the fetch.

Checks: empty, duplicate dates, non-monotonic dates, gaps beyond the series' own calendar (a Korean holiday is
not a gap), stale (last date older than the frequency allows), out-of-range values, implausible jumps between
consecutive observations, and unit changes against the stored history (e.g. KRW suddenly in 100 million KRW).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from series.freshness import freshness
from series.spec import SeriesSpec

ERROR, WARN = "error", "warn"

# Largest calendar-day spacing that is not a gap, per frequency (B: long holidays such as Chuseok or Seollal).
_MAX_SPACING_DAYS = {"D": 4, "B": 10, "W": 10, "M": 35, "Q": 100}


@dataclass(frozen=True)
class DataIssue:
    series_id: str
    check: str  # empty | duplicates | order | gap | stale | range | jump | units
    severity: str  # error | warn
    message: str


def check_batch(
    spec: SeriesSpec,
    frame: pd.DataFrame,
    as_of: date,
    history: pd.Series | None = None,
    sessions: pd.DatetimeIndex | None = None,
) -> list[DataIssue]:
    """`frame`: the parsed batch (date, value), in source order, NaN = missing. `history`: stored latest values.
    `sessions`: the series' calendar sessions (B-frequency series) so that exchange holidays are not gaps."""
    issues: list[DataIssue] = []

    def add(check: str, severity: str, message: str) -> None:
        issues.append(DataIssue(spec.id, check, severity, message))

    values = frame.dropna(subset=["value"])
    if values.empty:
        add("empty", ERROR, "the source returned no observations (an empty answer is an error, not 'no news')")
        return issues
    infinite = values[~np.isfinite(values["value"].astype(float))]
    if len(infinite):  # "inf" parses as a float; no rule or model can use it, and the store refuses it
        first = infinite.iloc[0]
        add("infinite", ERROR, f"{len(infinite)} infinite values, first {first['value']} on {first['date']:%Y-%m-%d}")
    dates = pd.DatetimeIndex(frame["date"])
    # Vintage sources (ALFRED) repeat a date once per vintage: a duplicate is the same date AND vintage.
    keys = ["date", "realtime_start"] if "realtime_start" in frame.columns else ["date"]
    dup = pd.DatetimeIndex(frame.loc[frame.duplicated(keys), "date"])
    if len(dup):
        add("duplicates", ERROR, f"{len(dup)} duplicate dates, first {dup[0].date()}")
    if keys == ["date"] and not dates.is_monotonic_increasing and not dates.is_monotonic_decreasing:
        add("order", WARN, "dates are not in order (sorted before storing)")
    latest = values.sort_values(keys).drop_duplicates("date", keep="last")
    series = latest.set_index("date")["value"].sort_index()
    issues += [DataIssue(spec.id, c, s, m) for c, s, m in _gaps(spec, series.index, sessions)]
    fresh = freshness(spec, series.index[-1], as_of)
    if fresh.stale:
        add("stale", WARN, fresh.reason)
    low = series[series < spec.valid_min] if spec.valid_min is not None else series.iloc[:0]
    high = series[series > spec.valid_max] if spec.valid_max is not None else series.iloc[:0]
    for bad, bound, word in ((low, spec.valid_min, "below"), (high, spec.valid_max, "above")):
        if len(bad):
            add(
                "range",
                ERROR,
                f"{len(bad)} values {word} {bound} {spec.units}, first {bad.iloc[0]:g} on "
                f"{bad.index[0].date()} (check units or widen min/max in config)",
            )
    if spec.max_jump is not None and len(series) > 1:
        full = series if history is None or history.empty else _joined(history, series)
        prev = full.shift(1)
        rel = (full - prev).abs() / prev.abs().replace(0, np.nan)
        jumps = rel[(rel > spec.max_jump) & rel.index.isin(series.index)]
        if len(jumps):
            day = jumps.index[0]
            add(
                "jump",
                WARN,
                f"{len(jumps)} implausible jumps above {spec.max_jump:.0%}, first on {day.date()} "
                f"({prev[day]:g} -> {full[day]:g})",
            )
    if history is not None and len(history) >= 5 and len(series) >= 1:
        ratio = _magnitude_ratio(history, series)
        if ratio is not None and (ratio > 50 or ratio < 1 / 50):
            add(
                "units",
                ERROR,
                f"values are {ratio:.3g} times the stored history's size: the units probably "
                f"changed (expected {spec.units}; set scale in config)",
            )
    return issues


def _joined(history: pd.Series, batch: pd.Series) -> pd.Series:
    combined = pd.concat([history[~history.index.isin(batch.index)], batch]).sort_index()
    return combined


def _magnitude_ratio(history: pd.Series, batch: pd.Series) -> float | None:
    """Median absolute size of the new values over that of the stored ones, on overlapping-or-recent data."""
    new = batch.abs().median()
    old = history.iloc[-min(len(history), 60) :].abs().median()
    if not np.isfinite(new) or not np.isfinite(old) or old == 0 or new == 0:
        return None
    return float(new / old)


def _gaps(spec: SeriesSpec, index: pd.DatetimeIndex, sessions: pd.DatetimeIndex | None) -> list[tuple[str, str, str]]:
    if len(index) < 2:
        return []
    if spec.freq == "B" and sessions is not None:
        inside = sessions[(sessions >= index[0]) & (sessions <= index[-1])]
        missing = inside.difference(index)
        if len(missing) == 0:
            return []
        return [("gap", WARN, f"{len(missing)} sessions of {spec.calendar} missing, first {missing[0].date()}")]
    limit = _MAX_SPACING_DAYS[spec.freq]
    spacing = pd.Series(index[1:] - index[:-1], index=index[1:]).dt.days
    big = spacing[spacing > limit]
    if big.empty:
        return []
    return [
        (
            "gap",
            WARN,
            f"{len(big)} gaps longer than {limit} days, largest {big.max()} days ending {big.idxmax().date()}",
        )
    ]
