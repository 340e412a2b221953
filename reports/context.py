"""What a report is drawn from: plain data, assembled from the store and the model results (never fetched).

Charts and templates read only a `ReportContext`; `monitor/pipeline.py` and `monitor report` build it. Keeping
it plain (pandas objects, small dataclasses) lets the chart tests build one by hand from a small fixture.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from monitor.alerts.engine import Alert
from monitor.meetings import next_meetings
from monitor.models.results import ModelResult, load_results
from reports.narrative import Meeting
from reports.overnight import DAILY, Move, overnight
from series.failures import failure_lines, no_network
from series.preferred import PreferredSpec
from series.spec import SeriesSpec
from series.store import Store

# Which series plays which part in the standard charts (the shipped config's ids). A chart whose series are
# absent from the store is skipped and the report says why.
DEFAULT_ROLES: Mapping[str, str] = {
    "fed_upper": "fed_upper",
    "fed_lower": "fed_lower",
    "fed_effective": "fed_effective",
    "boj": "boj_rate",
    "bok": "bok_rate",
    "krw_usd": "krw_usd",
    "kospi": "kospi",
    "foreign_flows": "foreign_net_kospi",
    "exports_total": "exports_total",
    "exports_semis": "exports_semis",
    "krw_usd_best": "krw_usd_best",  # the rate won amounts are shown in dollars at (else krw_usd)
    "daily_model": "market_daily",
    "monthly_model": "macro_monthly",
    "gap_model": "gap_flows",
}


# Short names for axis ticks, network nodes and panel titles; other series use their label, shortened.
SHORT_NAMES: Mapping[str, str] = {
    "fed_upper": "Fed (upper)",
    "fed_lower": "Fed (lower)",
    "fed_effective": "Fed effective",
    "boj_rate": "BOJ",
    "boj_call_rate": "JP call rate",
    "bok_rate": "BOK",
    "krw_usd": "KRW/USD",
    "krw_usd_spot": "KRW/USD spot",
    "jpy_usd": "JPY/USD",
    "us_10y": "UST 10y",
    "kospi": "KOSPI",
    "foreign_net_kospi": "Foreign flows",
    "exports_total": "Exports",
    "exports_semis": "Chip exports",
    "jgb_10y": "JGB 10y",
    "jgb_2y": "JGB 2y",
    "us_2y": "UST 2y",
}


@dataclass(frozen=True)
class SeriesInfo:
    id: str
    label: str
    units: str
    source: str
    key: str
    freq: str


@dataclass(frozen=True)
class RuleTrace:
    """One rule's history for drawing: its threshold and, per date, whether it was firing."""

    name: str
    severity: str
    series: tuple[str, ...]
    label: str
    firing: pd.Series  # bool, indexed by date
    threshold: float | None = None
    op: str | None = None  # ">=", "<=", ...
    kind: str = "level"  # the rule kind: charts draw a threshold only where it is in the series' own units
    instance: str = ""  # what tells a rule's instances apart (the series of a data-health alert), "" if one

    @property
    def display(self) -> str:
        return f"{self.name}: {self.instance}" if self.instance else self.name


@dataclass(frozen=True)
class Freshness:
    series_id: str
    label: str
    source: str
    last_date: date | None
    last_fetched: str | None
    status: str  # ok | stale | failed | no data
    message: str = ""


@dataclass(frozen=True)
class Change:
    """A series' latest value now against the previous run's."""

    series_id: str
    label: str
    units: str
    previous: float | None
    current: float | None
    date: date | None


@dataclass(frozen=True)
class ReportContext:
    as_of: date
    series: Mapping[str, pd.Series]
    info: Mapping[str, SeriesInfo]
    models: Mapping[str, ModelResult] = field(default_factory=dict)
    rules: Sequence[RuleTrace] = ()
    alerts: Sequence[Alert] = ()  # this run's alerts worth a headline (firing, or resolved lately)
    freshness: Sequence[Freshness] = ()
    changes: Sequence[Change] = ()
    # Preferred-sources series ([[preferred]]): per date, the id of the series each value came from.
    sources: Mapping[str, pd.Series] = field(default_factory=dict)
    run: Mapping[str, Any] = field(default_factory=dict)
    roles: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ROLES))
    overnight: Sequence[Move] = ()  # each daily series' last one-session move (reports/overnight.py)
    meetings: Sequence[Meeting] = ()  # the next FOMC, BOJ and BOK meetings as of the date (monitor.meetings)
    title: str = "Korea macro & market monitor"

    def role(self, name: str) -> str:
        return self.roles.get(name, name)

    def values(self, role: str) -> pd.Series | None:
        """The series playing `role`, as known on the as-of date, or None when the store has none."""
        s = self.series.get(self.role(role))
        return s if s is not None and not s.empty else None

    def label(self, role: str) -> str:
        sid = self.role(role)
        return self.info[sid].label if sid in self.info else sid

    def short(self, series_id: str) -> str:
        """A short name for a series id (not a role): ticks, nodes and small panel titles."""
        if series_id in SHORT_NAMES:
            return SHORT_NAMES[series_id]
        label = self.info[series_id].label if series_id in self.info else series_id
        label = label.split(" (")[0]
        return label if len(label) <= 24 else label[:23] + "…"

    def units(self, role: str) -> str:
        sid = self.role(role)
        return self.info[sid].units if sid in self.info else ""

    def source_of(self, *roles: str) -> str:
        """'FRED DEXKOUS, Yahoo ^KS11' for a chart footer."""
        return ", ".join(dict.fromkeys(p for p in (self.source_of_series(self.role(r)) for r in roles) if p))

    def source_of_series(self, series_id: str) -> str:
        """'Yahoo Finance KRW=X': where a series' values come from ("" when it is unknown)."""
        i = self.info.get(series_id)
        if i is None:
            return ""
        return f"{_SOURCE_NAMES.get(i.source, i.source)} {i.key}" if i.source != "csv" else i.label

    def freshest(self, role: str) -> str:
        """The series to draw for a role: the preferred-sources series that has the role's series among its
        sources (its freshest value, each value from a named source), else the role's own series."""
        sid = self.role(role)
        for pid, picked in self.sources.items():
            if sid in set(picked) and pid in self.series and not self.series[pid].empty:
                return pid
        return sid

    def model(self, role: str) -> ModelResult | None:
        m = self.models.get(self.role(role))
        return m if m is not None and not m.error else None

    def rules_on(self, role: str) -> list[RuleTrace]:
        sid = self.role(role)
        return [r for r in self.rules if sid in r.series]


_SOURCE_NAMES = {
    "fred": "FRED",
    "fredgraph": "FRED",
    "bis": "BIS",
    "ecos": "Bank of Korea ECOS",
    "boj": "Bank of Japan",
    "yahoo": "Yahoo Finance",
    "krx": "KRX",
    "customs": "Korea Customs Service",
    "mof": "Japan MOF",
}


def load_context(
    store: Store,
    specs: Sequence[SeriesSpec],
    as_of: date,
    *,
    rules: Sequence[RuleTrace] = (),
    alerts: Sequence[Alert] = (),
    run: Mapping[str, Any] | None = None,
    failed: Mapping[str, str] | None = None,
    roles: Mapping[str, str] | None = None,
    preferred: Sequence[PreferredSpec] = (),
    meetings: Sequence[Meeting] | None = None,
) -> ReportContext:
    """Read everything a report needs from the store, as known on `as_of` (nothing is fetched).

    `failed` maps series ids whose fetch failed in this run to the reason; the freshness table says it in a few
    words (host and error class, from run.json's "fetch" when it has them): "What failed" has the details.
    `preferred`: the preferred-sources series (series/preferred.py), drawn from their sources' values."""
    from series.freshness import freshness as freshness_of
    from series.preferred import resolve

    failed = dict(failed or {})
    fetched = (run or {}).get("fetch", {})
    summaries = store.summaries(as_of)
    series = {s.id: store.as_of(s.id, as_of) for s in specs}
    info, freshness = {}, []
    for spec in specs:
        summary = summaries.get(spec.id)
        source = summary.source if summary and summary.source else spec.source
        ref = next((r for r in spec.refs() if r.source == source), spec.primary)
        info[spec.id] = SeriesInfo(spec.id, spec.label, spec.units, source, ref.key, spec.freq)
        values = series[spec.id].dropna()
        fresh = freshness_of(spec, values.index[-1] if not values.empty else None, as_of)
        last = fresh.last
        if spec.id in failed:
            status, message = "failed", _in_short(fetched.get(spec.id), failed[spec.id])
        elif fresh.missing:
            status, message = "no data", ""
        else:
            status, message = ("stale", fresh.reason) if fresh.stale else ("ok", "")
        freshness.append(
            Freshness(spec.id, spec.label, source, last, summary.last_fetched if summary else None, status, message)
        )
    sources: dict[str, pd.Series] = {}
    for p in preferred:
        first = next((info[sid] for sid in p.sources if sid in info), None)
        if first is None:
            continue
        picked = resolve({sid: series[sid] for sid in p.sources if sid in series}, p.sources)
        series[p.id], sources[p.id] = picked["value"], picked["source"]
        info[p.id] = SeriesInfo(p.id, p.label, first.units, "preferred", "", first.freq)
    roles = dict(roles or DEFAULT_ROLES)
    return ReportContext(
        as_of=as_of,
        series=series,
        info=info,
        models=load_results(store, as_of),
        rules=rules,
        alerts=alerts,
        freshness=freshness,
        changes=_changes(store, specs, as_of, series),
        run=dict(run or {}),
        roles=roles,
        sources=sources,
        overnight=overnight(series, specs, as_of, krw_per_usd(series, roles)),
        meetings=tuple(next_meetings(as_of) if meetings is None else meetings),
    )


@dataclass(frozen=True)
class Brief:
    """What the e-mail opens with, as the report does: the overnight moves and the next meetings."""

    moves: Sequence[Move] = ()
    meetings: Sequence[Meeting] = ()
    short: Mapping[str, str] = field(default_factory=dict)  # series id -> the name the report uses


def load_brief(
    store: Store,
    specs: Sequence[SeriesSpec],
    as_of: date,
    *,
    preferred: Sequence[PreferredSpec] = (),
    meetings: Sequence[Meeting] | None = None,
) -> Brief:
    """The overnight moves as known on `as_of`, read from the store as `load_context` reads them (daily series
    only: the e-mail does not need the rest)."""
    from series.preferred import resolve

    daily = [s for s in specs if s.freq in DAILY]
    series = {s.id: store.as_of(s.id, as_of) for s in daily}
    for p in preferred:
        if p.id == DEFAULT_ROLES["krw_usd_best"]:
            series[p.id] = resolve({sid: series[sid] for sid in p.sources if sid in series}, p.sources)["value"]
    moves = overnight(series, daily, as_of, krw_per_usd(series, DEFAULT_ROLES))
    info = {s.id: SeriesInfo(s.id, s.label, s.units, s.source, s.key, s.freq) for s in daily}
    ctx = ReportContext(as_of, series, info)
    meetings = next_meetings(as_of) if meetings is None else meetings
    return Brief(tuple(moves), tuple(meetings), {m.series_id: ctx.short(m.series_id) for m in moves})


def krw_per_usd(series: Mapping[str, pd.Series], roles: Mapping[str, str]) -> pd.Series | None:
    """The KRW/USD rate won amounts are shown in dollars at: the freshest source's, else the role's series."""
    for role in ("krw_usd_best", "krw_usd"):
        s = series.get(roles.get(role, role))
        if s is not None and not s.dropna().empty:
            return s
    return None


def _in_short(fetch: Mapping[str, Any] | None, message: str) -> str:
    """A failed fetch in a few words ("fred.stlouisfed.org unreachable (DNS)"), or its message if that is all."""
    if not fetch or not fetch.get("reason"):
        return message
    return " ".join(str(p) for p in (fetch.get("host"), fetch["reason"]) if p)


def run_failures(run: Mapping[str, Any]) -> list[str]:
    """What failed in a run, each once: the fetch failures grouped by host and reason, then the other problems
    (models, rules, mail) as the run listed them."""
    fetch = run.get("fetch", {})
    own = tuple(
        f"{sid}: {f.get('status')}: " for sid, f in fetch.items() if f.get("status") in ("failed", "quarantined")
    )
    others = [p for p in run.get("failed", []) if not str(p).startswith(own)] if own else list(run.get("failed", []))
    return failure_lines(fetch) + others


def network_down(run: Mapping[str, Any]) -> bool:
    """No source host answered in this run (DNS failures, refused connections)."""
    return no_network(run.get("fetch", {}))


def _changes(store: Store, specs: Sequence[SeriesSpec], as_of: date, series: Mapping[str, pd.Series]) -> list[Change]:
    """Each series' latest value against what the previous daily run saw."""
    previous = [
        r
        for r in store.runs(200)
        if r["kind"] == "run" and r["as_of"] < as_of.isoformat() and r["status"] in ("ok", "errors")
    ]
    if not previous:
        return []
    before = date.fromisoformat(max(r["as_of"] for r in previous))  # the last day before, whatever ran since
    out = []
    for spec in specs:
        now, then = series[spec.id].dropna(), store.as_of(spec.id, before).dropna()
        out.append(
            Change(
                spec.id,
                spec.label,
                spec.units,
                float(then.iloc[-1]) if not then.empty else None,
                float(now.iloc[-1]) if not now.empty else None,
                now.index[-1].date() if not now.empty else None,
            )
        )
    return out
