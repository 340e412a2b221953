"""Small pieces the charts share: clipping to a window, decision dates, firing periods."""

from __future__ import annotations

from typing import TypeVar

import pandas as pd
from matplotlib.axes import Axes

from reports.context import RuleTrace

Obj = TypeVar("Obj", pd.Series, pd.DataFrame)


def clip_years(obj: Obj, start: pd.Timestamp) -> Obj:
    return obj[obj.index >= start]


def changes(s: pd.Series, step: float = 0.0) -> pd.Series:
    """The observations where the value moved by more than `step` from the previous one (decisions on a policy
    rate series)."""
    s = s.dropna()
    moved = (s - s.shift(1)).abs() > step
    moved.iloc[:1] = False
    return s[moved]


def periods(flags: pd.Series) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Contiguous runs of True as (first date, last date)."""
    flags = flags.fillna(False).astype(bool)
    if flags.empty:
        return []
    starts = flags & ~flags.shift(1, fill_value=False)
    ends = flags & ~flags.shift(-1, fill_value=False)
    return list(zip(flags.index[starts], flags.index[ends], strict=True))


def shade_firing(ax: Axes, rule: RuleTrace, start: pd.Timestamp, colour: str) -> None:
    """Shade each period the rule was firing (from its first to its last firing observation, inclusive)."""
    for first, last in periods(rule.firing[rule.firing.index >= start]):
        # A one-observation episode still gets a visible sliver: extend to the next day.
        ax.axvspan(
            first,
            last + pd.Timedelta(days=1),
            color=colour,
            alpha=0.15,
            lw=0,
            gid=f"firing:{rule.name}:{first:%Y-%m-%d}:{last:%Y-%m-%d}",
        )
