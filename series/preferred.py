"""A preferred-sources series: one quantity measured by several sources (KRW per USD: the Seoul market average rate
from ECOS, Yahoo `KRW=X`, FRED's New York noon rate), read as the best source available on each date.

Rule: the sources are ranked (config order). The best-ranked source with any data covers its whole span, from
its first to its last observation; a lower-ranked source fills only dates outside the spans of every better one
(before a better source starts, after it stops). So the freshest value comes from whichever source has the
latest dates, the long history from the source that reaches back furthest, and sources never interleave inside
a span (a gap of the best source stays a gap rather than a one-day switch to a different measure). Every value
keeps its source (the `source` column): nothing is spliced silently.

Point in time: `resolve` works on the values as known on a date, so the daily run takes, each day, what was known
that day. `vintages` builds the stored rows of the preferred series for the backtest: each date's rows come from
the source that covers it, each with the day that source first published it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class PreferredSpec:
    """One `[[preferred]]` block: the series' id and label and its sources' ids, best first."""

    id: str
    label: str
    sources: tuple[str, ...]


def _chosen(dates: Mapping[str, pd.DatetimeIndex], order: Sequence[str]) -> dict[str, pd.DatetimeIndex]:
    """For each source, the dates it provides: its own dates outside the spans of the better-ranked sources."""
    spans: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    out = {}
    for sid in order:
        own = pd.DatetimeIndex(dates.get(sid, pd.DatetimeIndex([]))).sort_values()
        keep = pd.Series(True, index=own)
        for first, last in spans:
            keep &= (own < first) | (own > last)
        out[sid] = own[keep.to_numpy()]
        if len(own):
            spans.append((own[0], own[-1]))
    return out


def resolve(values: Mapping[str, pd.Series], order: Sequence[str]) -> pd.DataFrame:
    """The preferred series from each source's values (as known on one date): columns value and source (the
    source series' id), indexed by date."""
    clean = {sid: values[sid].dropna() for sid in order if sid in values}
    chosen = _chosen({sid: pd.DatetimeIndex(s.index) for sid, s in clean.items()}, order)
    parts = [
        pd.DataFrame({"value": clean[sid].reindex(days).astype("float64"), "source": sid}, index=days)
        for sid, days in chosen.items()
        if len(days)
    ]
    if not parts:
        return pd.DataFrame(
            {"value": pd.Series(dtype="float64"), "source": pd.Series(dtype=object)}, index=pd.DatetimeIndex([])
        )
    out = pd.concat(parts).sort_index()
    out.index.name = "date"
    return out


def vintages(frames: Mapping[str, pd.DataFrame], order: Sequence[str]) -> pd.DataFrame:
    """The preferred series' rows (date, value, realtime_start, source) from the sources' stored rows
    (`Store.vintages`): each date's rows from the source that covers it in the final spans."""
    dates = {sid: pd.DatetimeIndex(f["date"].unique()) for sid, f in frames.items() if not f.empty}
    chosen = _chosen(dates, order)
    parts = [
        frames[sid].loc[frames[sid]["date"].isin(days), ["date", "value", "realtime_start"]].assign(source=sid)
        for sid, days in chosen.items()
        if len(days)
    ]
    if not parts:
        return pd.DataFrame(columns=["date", "value", "realtime_start", "source"])
    return pd.concat(parts).sort_values(["date", "realtime_start"]).reset_index(drop=True)
