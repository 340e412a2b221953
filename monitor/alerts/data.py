"""What rules read (point-in-time series, model results, per-series health and provenance) and alert identity.

`load_rule_data` builds a `RuleData` from the store as known on a date; the daily pipeline, `alerts explain` and the
rule test runner all go through it, so a rule sees the same inputs wherever it runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType
from typing import Any

import pandas as pd

from monitor.alerts.info import SeriesHealth as SeriesHealth
from monitor.alerts.info import SeriesInfo as SeriesInfo
from monitor.alerts.info import fingerprint as fingerprint
from monitor.alerts.info import fmt_number as fmt_number
from series.freshness import freshness, known_ages
from series.preferred import resolve
from series.store import Store

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Provenance:
    """Where the latest value a rule used came from: the store row of the last observation."""

    series_id: str
    source: str
    obs_date: date
    realtime_start: date
    fetched_at: str

    def text(self) -> str:
        return (
            f"{self.series_id} from {self.source}: observation {self.obs_date}, known since {self.realtime_start}, "
            f"fetched {self.fetched_at}"
        )


@dataclass(frozen=True)
class RuleData:
    as_of: date
    series: Mapping[str, pd.Series]
    info: Mapping[str, SeriesInfo] = field(default_factory=lambda: _EMPTY)
    results: Mapping[str, pd.DataFrame] = field(default_factory=lambda: _EMPTY)  # rolling results per model
    health: Mapping[str, SeriesHealth] = field(default_factory=lambda: _EMPTY)
    provenance: Mapping[str, Provenance] = field(default_factory=lambda: _EMPTY)

    def info_of(self, series_id: str) -> SeriesInfo:
        return self.info.get(series_id) or SeriesInfo(series_id)


def health_of(
    info: SeriesInfo, last: date | None, as_of: date, *, status: str = "ok", message: str = "", source: str = ""
) -> SeriesHealth:
    fresh = freshness(info, last, as_of)
    return SeriesHealth(info.id, fresh.last, fresh.stale, status, message, fresh.age_days, fresh.limit_days, source)


def load_rule_data(
    store: Store,
    infos: Iterable[SeriesInfo],
    as_of: date,
    *,
    failures: Mapping[str, str] | None = None,
    results: Mapping[str, pd.DataFrame] | None = None,
) -> RuleData:
    """Every series as known on `as_of` (never a row first known later), its health and provenance.

    `failures`: series id -> message for series whose fetch failed in this run (their source is down)."""
    failures = failures or {}
    series: dict[str, pd.Series] = {}
    health: dict[str, SeriesHealth] = {}
    provenance: dict[str, Provenance] = {}
    info_map = {i.id: i for i in infos}
    for sid, info in info_map.items():
        if info.prefer:
            continue  # resolved below, from its sources as known on the date
        values = store.as_of(sid, as_of)
        series[sid] = values
        last = values.index[-1].date() if len(values) else None
        prov = _provenance(store, sid, last, as_of) if last else None
        if prov:
            provenance[sid] = prov
        status = "failed" if sid in failures else "ok"
        health[sid] = health_of(
            info, last, as_of, status=status, message=failures.get(sid, ""), source=prov.source if prov else ""
        )
        if last is not None:
            health[sid] = replace(health[sid], ages=known_ages(info, store.first_known(sid, as_of), as_of))
    for sid, info in info_map.items():
        if not info.prefer:
            continue
        known = {src: series[src] if src in series else store.as_of(src, as_of) for src in info.prefer}
        picked = resolve(known, info.prefer)
        series[sid] = picked["value"]
        if picked.empty:
            health[sid] = health_of(info, None, as_of)
            continue
        source_id = str(picked["source"].iloc[-1])
        # The latest value's own series: its provenance names the source, and its stale limit applies.
        prov = provenance.get(source_id) or _provenance(store, source_id, picked.index[-1].date(), as_of)
        if prov:
            provenance[sid] = prov
        source_info = info_map.get(source_id)
        limit = source_info.stale_days if source_info else info.stale_days
        health[sid] = health_of(
            replace(info, stale_days=limit), picked.index[-1].date(), as_of, source=prov.source if prov else ""
        )
    return RuleData(as_of, series, info_map, dict(results or {}), health, provenance)


def _provenance(store: Store, series_id: str, last: date, as_of: date) -> Provenance | None:
    row = store.connection.execute(
        "SELECT date, realtime_start, fetched_at, source FROM observations "
        "WHERE series_id=? AND date=? AND realtime_start<=? ORDER BY realtime_start DESC, id DESC LIMIT 1",
        (series_id, last.isoformat(), as_of.isoformat()),
    ).fetchone()
    if row is None:
        return None
    return Provenance(
        series_id,
        row["source"],
        date.fromisoformat(row["date"]),
        date.fromisoformat(row["realtime_start"]),
        row["fetched_at"],
    )
