"""Model panels from series already restricted to what was known as of the run date (pure: no store access).

Daily panels live on the KRX session calendar (exchange_calendars "XKRX"). An observation dated d is placed on
the first Seoul session at which it is known: the session on or after d for Seoul-timed ("kr") and untimed
("none") series, the first session strictly after d for US-timed ("us") series (a US close on day d is known in
Seoul on the next session). Gaps are filled forward for at most `ffill_limit` sessions; then the transforms are
applied and rows with any missing value are dropped. Monthly panels aggregate daily series per variable (last,
mean or sum) and leave out a month that is not over yet as of the run date.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from monitor.errors import InputDataError
from monitor.spec import ModelSpec, VariableSpec
from monitor.transforms import infer_freq, transform
from series import calendars

DEFAULT_FFILL = {"D": 3, "M": 1}


@dataclass(frozen=True, eq=False)
class Panel:
    """An aligned, transformed model frame (dates x variable names) as of a date, with what happened on the
    way (rows dropped, values filled forward, stale inputs)."""

    frame: pd.DataFrame
    as_of: pd.Timestamp
    freq: str
    notes: tuple[str, ...] = ()


def krx_sessions(start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """KRX sessions between two dates (inclusive), from the disk-cached calendar (which starts in 1990:
    earlier observations cannot be placed on a session and are left out of daily panels)."""
    sessions = calendars.sessions("XKRX")
    if end > sessions[-1]:
        raise InputDataError(f"the KRX calendar ends {sessions[-1]:%Y-%m-%d}, before {end:%Y-%m-%d}")
    return sessions[(sessions >= start) & (sessions <= end)]


def _clean(series_id: str, raw: pd.Series | None, as_of: pd.Timestamp, notes: list[str]) -> pd.Series:
    if raw is None:
        raise InputDataError(f"series {series_id} is not in the data handed to the aligner")
    if not isinstance(raw.index, pd.DatetimeIndex):
        raise InputDataError(f"series {series_id} needs a date index, got {type(raw.index).__name__}")
    if not pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
        raise InputDataError(f"series {series_id} is not numeric")
    s = raw.astype(float)
    if s.index.tz is not None:
        s = s.tz_localize(None)
    s = s[np.isfinite(s.to_numpy())].sort_index()
    s = s[~s.index.duplicated(keep="last")]
    late = int((s.index > as_of).sum())
    if late:
        notes.append(f"{series_id}: ignored {late} observation(s) dated after {as_of:%Y-%m-%d}")
        s = s[s.index <= as_of]
    if s.empty:
        raise InputDataError(f"series {series_id} has no observations up to {as_of:%Y-%m-%d}")
    return s


def _finish(
    aligned: dict[str, pd.Series],
    variables: Sequence[VariableSpec],
    index: pd.DatetimeIndex,
    freq: str,
    as_of: pd.Timestamp,
    ffill_limit: int,
    notes: list[str],
) -> Panel:
    cols = {}
    for v in variables:
        raw = aligned[v.name].reindex(index)
        last_valid = raw.last_valid_index()
        filled = raw.ffill(limit=ffill_limit) if ffill_limit > 0 else raw
        n_filled = int(filled.notna().sum() - raw.notna().sum())
        if n_filled:
            notes.append(f"{v.name}: {n_filled} value(s) filled forward (at most {ffill_limit} in a row)")
        if last_valid is not None and len(index):
            behind = int(len(index) - 1 - index.get_loc(last_valid))
            if behind > ffill_limit:
                unit = "sessions" if freq == "D" else "months"
                notes.append(
                    f"{v.name} is stale: last value {last_valid:%Y-%m-%d}, {behind} {unit} before the panel's "
                    f"last date {index[-1]:%Y-%m-%d}"
                )
        cols[v.name] = transform(filled.rename(v.name), v.transform, freq="B" if freq == "D" else "M")
    frame = pd.DataFrame(cols, index=index)
    complete = frame.dropna()
    dropped = len(frame) - len(complete)
    if complete.empty:
        raise InputDataError(
            f"no date has a value for every variable ({', '.join(cols)}) up to {as_of:%Y-%m-%d}; "
            "check the series' coverage"
        )
    if dropped:
        notes.append(
            f"dropped {dropped} row(s) with a missing value; the panel runs {complete.index[0]:%Y-%m-%d} to "
            f"{complete.index[-1]:%Y-%m-%d} ({len(complete)} rows)"
        )
    return Panel(frame=complete, as_of=as_of, freq=freq, notes=tuple(notes))


def daily_panel(
    data: Mapping[str, pd.Series],
    variables: Sequence[VariableSpec],
    as_of: pd.Timestamp | str,
    *,
    ffill_limit: int = DEFAULT_FFILL["D"],
    sessions: pd.DatetimeIndex | None = None,
) -> Panel:
    """A daily panel on KRX sessions up to as_of; data maps series id -> series indexed by date.

    sessions: the session calendar to use instead of XKRX (it must cover the data's dates up to as_of).
    """
    as_of = pd.Timestamp(as_of).normalize()
    notes: list[str] = []
    clean = {v.name: _clean(v.series_id, data.get(v.series_id), as_of, notes) for v in variables}
    start = min(s.index[0] for s in clean.values()).normalize()
    cal = krx_sessions(start, as_of) if sessions is None else pd.DatetimeIndex(sessions)
    cal = cal[(cal >= start) & (cal <= as_of)]
    if cal.empty:
        raise InputDataError(f"no KRX session between {start:%Y-%m-%d} and {as_of:%Y-%m-%d}")
    aligned = {}
    for v in variables:
        s = clean[v.name]
        side: Literal["left", "right"] = "right" if v.timing == "us" else "left"
        pos = np.searchsorted(cal.as_unit("ns").asi8, s.index.normalize().as_unit("ns").asi8, side=side)
        # Known only after the last session up to as_of, or dated before the calendar's first session.
        keep = (pos < len(cal)) & (s.index.normalize() >= cal[0])
        placed = pd.Series(s.to_numpy()[keep], index=cal[pos[keep]])
        aligned[v.name] = placed[~placed.index.duplicated(keep="last")]
    return _finish(aligned, variables, cal, "D", as_of, ffill_limit, notes)


def _month_end(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return (index.normalize() + pd.offsets.MonthEnd(0)).normalize()


def monthly_panel(
    data: Mapping[str, pd.Series],
    variables: Sequence[VariableSpec],
    as_of: pd.Timestamp | str,
    *,
    ffill_limit: int = DEFAULT_FFILL["M"],
) -> Panel:
    """A monthly panel (dated at month ends) up to as_of. Series observed more often than monthly are aggregated
    per variable (last, mean or sum); for those the month of as_of is left out unless as_of is its last day."""
    as_of = pd.Timestamp(as_of).normalize()
    notes: list[str] = []
    clean = {v.name: _clean(v.series_id, data.get(v.series_id), as_of, notes) for v in variables}
    current = _month_end(pd.DatetimeIndex([as_of]))[0]
    # A month that is not over yet as of the run date has no monthly value yet (a mean or sum of part of it
    # would be misleading, and filling it forward would invent one).
    last_month = current if as_of == current else current - pd.offsets.MonthEnd(1)
    partial = [v.name for v in variables if clean[v.name].index[-1] > last_month]
    if partial:
        notes.append(f"left out {current:%Y-%m} ({', '.join(partial)}): the month is not over as of {as_of:%Y-%m-%d}")
    aligned = {}
    for v in variables:
        s = clean[v.name]
        s = s[s.index <= last_month]
        if s.empty:
            raise InputDataError(f"series {v.series_id} has no complete month up to {as_of:%Y-%m-%d}")
        months = _month_end(s.index)
        sub_monthly = months.has_duplicates or (len(s) > 1 and infer_freq(s.index) in ("D", "W"))
        if sub_monthly:
            grouped = s.groupby(months)
            aligned[v.name] = {"last": grouped.last, "mean": grouped.mean, "sum": grouped.sum}[v.aggregation]()
        else:
            aligned[v.name] = pd.Series(s.to_numpy(), index=months).groupby(level=0).last()
    first = min(a.index[0] for a in aligned.values())
    index = pd.date_range(first, last_month, freq="ME")
    return _finish(aligned, variables, index, "M", as_of, ffill_limit, notes)


def model_panel(
    data: Mapping[str, pd.Series], spec: ModelSpec, as_of: pd.Timestamp | str, *, ffill_limit: int | None = None
) -> Panel:
    """The panel a model needs: daily on KRX sessions or monthly, per the spec's frequency."""
    limit = DEFAULT_FFILL[spec.freq] if ffill_limit is None else ffill_limit
    if spec.freq == "D":
        return daily_panel(data, spec.variables, as_of, ffill_limit=limit)
    return monthly_panel(data, spec.variables, as_of, ffill_limit=limit)
