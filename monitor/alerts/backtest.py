"""Replay rules over the stored history as they would have run each day, and score what followed.

Point in time, fast. Each rule is evaluated vectorised over the whole history once per *revision epoch* instead
of once per day:
- The stored vintages say when each value was first known (realtime_start) and when a stored date was revised.
  Revision days split history into epochs; within an epoch no known value changes, only new dates arrive.
- For the epoch [r_k, r_k+1) the inputs are taken as known on the day before r_k+1 (`Store.as_of`), and the rule
  is evaluated once. Every row t of a rule uses only observations dated on or before t (trailing windows exclude
  t, expanding percentiles use only the past, joins carry values forward), so row t is what the daily engine
  computes on the first day all its inputs up to t were known: known(t) = the latest realtime_start among the
  input rows dated on or before t. Rows are attributed to that day, in date order, each date once (the engine
  also steps each observation once); a row whose known day falls in a later epoch is taken from that epoch, with
  the values as revised by then.
- The state machine then steps through the rows in order, exactly as the daily engine does.
So no row ever uses a value that was not yet known on the day it is attributed to. The one difference from a
literal day-by-day re-run: for a rule on several series the daily engine may evaluate a date provisionally
(with an input carried forward because its value for that date was not yet published) and the backtest takes the
row once all inputs are in; it never signals earlier than the daily engine could have.

What followed each signal: from the day a firing episode became known, the worst KOSPI drawdown over the next
`horizon` KOSPI sessions and the KRW/USD move over the next `horizon` KRW/USD observations; n/a when those
observations straddle a gap in the data (consecutive observations more than `max_gap_days` apart), since the
"next 20 sessions" would then span months. Noise-to-signal ratio
(Kaminsky, Lizondo and Reinhart 1998) on the days of the window whose outcome is known: a day is "stress ahead"
when the KOSPI drawdown over the next `horizon` sessions is at least `stress_drawdown` % or KRW/USD rises by at
least `stress_krw` %; with A = signal and stress, B = signal and calm, C = no signal and stress, D = no signal and
calm, NSR = [B / (B + D)] / [A / (A + C)] (below 1: the rule fires more often before stress than otherwise).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from monitor.alerts.data import RuleData, SeriesInfo
from monitor.alerts.engine import FIRING, AlertState, Episode, episode, step
from monitor.alerts.rules import DataHealthRule, Evaluation, RuleBase
from monitor.errors import MonitorError
from series.freshness import age_days
from series.preferred import vintages as preferred_vintages
from series.store import Store


@dataclass(frozen=True)
class Vintages:
    """A series' stored rows: date, value, realtime_start (as `Store.vintages` returns them)."""

    frame: pd.DataFrame

    def revision_days(self) -> set[pd.Timestamp]:
        f = self.frame
        first = f.groupby("date")["realtime_start"].transform("min")
        return set(pd.DatetimeIndex(f.loc[f["realtime_start"] > first, "realtime_start"]))

    def snapshot(self, before: pd.Timestamp | None) -> tuple[pd.Series, pd.Series]:
        """Values known before `before` (None: all) and, per date, the day its value in effect became known."""
        f = self.frame if before is None else self.frame[self.frame["realtime_start"] < before]
        last = f.sort_values(["date", "realtime_start"]).drop_duplicates("date", keep="last").set_index("date")
        return last["value"].astype("float64"), pd.DatetimeIndex(last["realtime_start"]).to_series(index=last.index)


def stored_vintages(store: Store, ids: Iterable[str], infos: Mapping[str, SeriesInfo]) -> dict[str, Vintages]:
    """Each series' stored rows; a preferred-sources series' rows are its sources' (series.preferred.vintages):
    each date from the source that covers it, known on the day that source published it."""
    out = {}
    for sid in ids:
        info = infos.get(sid)
        if info is not None and info.prefer:
            out[sid] = Vintages(preferred_vintages({s: store.vintages(s) for s in info.prefer}, info.prefer))
        else:
            out[sid] = Vintages(store.vintages(sid))
    return out


@dataclass
class PitHistory:
    """One alert instance's rows as the daily engine would have seen them: value, threshold, condition and
    `known` (the day the row became available)."""

    evaluation: Evaluation
    rows: pd.DataFrame


def _known_at(index: pd.DatetimeIndex, known: pd.Series) -> np.ndarray:
    """For each t: the latest `known` day among rows dated on or before t (NaT before the first)."""
    running = known.sort_index().cummax()
    pos = running.index.searchsorted(index, side="right") - 1
    out = np.full(len(index), np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = pos >= 0
    out[ok] = running.to_numpy(dtype="datetime64[ns]")[pos[ok]]
    return out


def pit_histories(
    rule: RuleBase,
    vintages: Mapping[str, Vintages],
    infos: Mapping[str, SeriesInfo],
    results: Mapping[str, pd.DataFrame],
    end: date,
) -> list[PitHistory]:
    if isinstance(rule, DataHealthRule):
        return _health_histories(rule, vintages, infos, end)
    ids = rule.series_ids()
    revisions = sorted(set().union(*(vintages[s].revision_days() for s in ids if s in vintages)))
    bounds: list[pd.Timestamp | None] = [*revisions, None]
    done: dict[str, pd.Timestamp] = {}
    parts: dict[str, list[pd.DataFrame]] = {}
    evals: dict[str, Evaluation] = {}
    lo: pd.Timestamp | None = None
    for hi in bounds:
        snaps = {s: vintages[s].snapshot(hi) for s in ids if s in vintages}
        as_of = (hi - pd.Timedelta(days=1)).date() if hi is not None else end
        data = RuleData(as_of, {s: v for s, (v, _) in snaps.items()}, infos, results)
        for ev in rule.evaluate(data):
            fp = ev.fingerprint
            evals.setdefault(fp, ev)
            frame = ev.frame
            idx = pd.DatetimeIndex(frame.index)
            known = np.full(len(idx), np.datetime64("NaT"), dtype="datetime64[ns]")
            inputs = [s for s in ev.inputs if s in snaps]
            if not inputs:  # model results: known on their date
                known = idx.to_numpy(dtype="datetime64[ns]")
            for s in inputs:
                k = _known_at(idx, snaps[s][1])
                known = np.where(np.isnat(known) | (k > known), k, known)
            # A row is known no earlier than its date: the day a leg goes stale (a row the rule adds, see
            # series.freshness.expiries) is not known before it comes.
            dated = idx.to_numpy(dtype="datetime64[ns]")
            known = np.where(~np.isnat(known) & (known < dated), dated, known)
            rows = frame.assign(known=known)
            rows = rows[rows["known"].notna()]
            if fp in done:
                rows = rows[rows.index > done[fp]]
            if hi is not None:
                rows = rows[rows["known"] < hi]
            if lo is not None:
                rows = rows.assign(known=rows["known"].clip(lower=lo))
            rows = rows[rows["known"] <= pd.Timestamp(end)]
            if len(rows):
                parts.setdefault(fp, []).append(rows)
                done[fp] = rows.index[-1]
        lo = hi
    out = []
    for fp, ev in evals.items():
        rows = (
            pd.concat(parts[fp]) if fp in parts else ev.frame.iloc[:0].assign(known=pd.Series(dtype="datetime64[ns]"))
        )
        out.append(PitHistory(ev, rows))
    return out


def _health_histories(
    rule: DataHealthRule, vintages: Mapping[str, Vintages], infos: Mapping[str, SeriesInfo], end: date
) -> list[PitHistory]:
    """Stale or missing on each weekday, from when each observation was first known (source outages are not
    in the store's history, so source_down is not replayed)."""
    targets = sorted(s for s in infos if not infos[s].prefer) if "*" in rule.series else list(rule.series)
    out = []
    for sid in targets:
        v = vintages.get(sid)
        info = infos.get(sid) or SeriesInfo(sid)
        if v is None or v.frame.empty:
            continue
        first = v.frame.groupby("date")["realtime_start"].min().sort_index()
        # The latest date known on each day: a running max over dates ordered by when they became known.
        by_known = pd.Series(first.index, index=pd.DatetimeIndex(first.to_numpy())).sort_index().cummax()
        grid = pd.bdate_range(by_known.index[0], pd.Timestamp(end), name="date")
        pos = by_known.index.searchsorted(grid, side="right") - 1
        last = pd.DatetimeIndex(by_known.to_numpy()[pos])
        age = pd.Series(age_days(info, last, grid), index=grid)  # as the daily run's freshness counts it
        cond = age > info.stale_days if "stale" in rule.checks else pd.Series(False, index=grid)
        frame = pd.DataFrame({"value": age, "threshold": float(info.stale_days), "condition": cond}, index=grid)
        ev = Evaluation(rule, frame, {"series": sid}, (sid,))
        out.append(PitHistory(ev, frame.assign(known=grid)))
    return out


# ------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Signal:
    """A firing episode seen from the day it became known."""

    episode: Episode
    known: date  # the day the daily run would have fired
    end_known: date | None
    kospi_drawdown: float | None  # % (negative), worst over the next `horizon` KOSPI sessions
    krw_move: float | None  # % change of KRW per USD over the next `horizon` observations

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.episode.as_dict(),
            "known": self.known.isoformat(),
            "end_known": self.end_known.isoformat() if self.end_known else None,
            "kospi_drawdown_pct": _r(self.kospi_drawdown),
            "krw_move_pct": _r(self.krw_move),
        }


def _r(x: float | None) -> float | None:
    return None if x is None or math.isnan(x) else round(x, 3)


@dataclass
class RuleReport:
    rule: str
    labels: Mapping[str, str]
    observations: int
    firing_days: int
    days: int
    signals: list[Signal] = field(default_factory=list)
    nsr: float | None = None
    stress_share_after_signal: float | None = None  # A / (A + B)
    stress_base_rate: float | None = None  # (A + C) / all
    note: str = ""
    daily: pd.Series = field(default_factory=lambda: pd.Series(dtype=bool))  # firing at the end of each business day
    kind: str = ""  # the rule's kind: data-health rules are summarised per series, not listed episode by episode
    # Rules on forecasts with a `realised` column (flows_at_risk): the share of realised outcomes below the
    # forecast (the value: the 5th percentile, so near 5% when the forecasts are calibrated) and how many.
    realised_below: float | None = None
    realised_count: int = 0

    @property
    def evaluated(self) -> bool:
        return not self.note.startswith(NOT_EVALUATED)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "kind": self.kind,
            "labels": dict(self.labels),
            "observations": self.observations,
            "episodes": len(self.signals),
            "firing_days": self.firing_days,
            "days": self.days,
            "firing_share": _r(self.firing_days / self.days) if self.days else None,
            "noise_to_signal": _r(self.nsr),
            "stress_after_signal": _r(self.stress_share_after_signal),
            "stress_base_rate": _r(self.stress_base_rate),
            "signals": [s.as_dict() for s in self.signals],
            "note": self.note,
            **(
                {"realised_below_forecast": _r(self.realised_below), "realised_forecasts": self.realised_count}
                if self.realised_count
                else {}
            ),
        }


NOT_EVALUATED = "not evaluated"
# Calendar days between consecutive observations beyond which the data have a gap rather than a holiday: the
# longest KRX closure on record (Chuseok 2017, 2017-09-29 to 2017-10-10) leaves 11 days between sessions.
MAX_GAP_DAYS = 14


@dataclass(frozen=True)
class Outcomes:
    """The market series that say what followed (latest values: outcomes are judged with hindsight)."""

    kospi: pd.Series
    krw: pd.Series
    horizon: int = 20
    stress_drawdown: float = 10.0
    stress_krw: float = 5.0
    max_gap_days: int = MAX_GAP_DAYS

    def _window(self, series: pd.Series, day: pd.Timestamp) -> pd.Series | None:
        """The observation on or before `day` and the `horizon` after it; None when they are not all there yet
        or straddle a gap in the data."""
        x = series.dropna()
        i = x.index.searchsorted(day, side="right")
        if i == 0 or i + self.horizon > len(x):
            return None
        window = x.iloc[i - 1 : i + self.horizon]
        if (window.index[1:] - window.index[:-1]).days.max() > self.max_gap_days:
            return None
        return window

    def drawdown_after(self, day: pd.Timestamp) -> float | None:
        w = self._window(self.kospi, day)
        return None if w is None else float((w.iloc[1:].min() / w.iloc[0] - 1.0) * 100.0)

    def krw_move_after(self, day: pd.Timestamp) -> float | None:
        w = self._window(self.krw, day)
        return None if w is None else float((w.iloc[-1] / w.iloc[0] - 1.0) * 100.0)

    def _gap_ahead(self, s: pd.Series) -> pd.Series:
        """Per observation: True when the next `horizon` observations straddle a gap in the data."""
        gap = pd.Series((s.index[1:] - s.index[:-1]).days > self.max_gap_days, index=s.index[1:])
        gap = gap.reindex(s.index, fill_value=False).astype(float)
        return gap[::-1].rolling(self.horizon, min_periods=1).max()[::-1].shift(-1).fillna(0.0).astype(bool)

    def stress_days(self, days: pd.DatetimeIndex) -> pd.Series:
        """Per day: 1.0 (stress ahead), 0.0 (calm ahead), NaN (outcome not known yet). Vectorised."""
        stress = pd.Series(False, index=days)
        defined = pd.Series(True, index=days)
        used = False
        for series, fn, limit, sign in (
            (self.kospi, self._dd, -self.stress_drawdown, -1),
            (self.krw, self._mv, self.stress_krw, 1),
        ):
            s = series.dropna()
            if len(s) <= self.horizon:
                continue
            x = fn(s).mask(self._gap_ahead(s)).reindex(days, method="ffill", tolerance=pd.Timedelta(days=7))
            hit = (x <= limit) if sign < 0 else (x >= limit)
            stress |= hit.fillna(False).astype(bool)
            defined &= x.notna()
            used = True
        if not used:
            return pd.Series(np.nan, index=days)
        return stress.astype("float64").where(defined)

    def _dd(self, s: pd.Series) -> pd.Series:
        """Worst % drawdown over the next `horizon` observations, from each observation's close."""
        fwd_min = s[::-1].rolling(self.horizon, min_periods=self.horizon).min()[::-1].shift(-1)
        return (fwd_min / s - 1.0) * 100.0

    def _mv(self, s: pd.Series) -> pd.Series:
        return (s.shift(-self.horizon) / s - 1.0) * 100.0


def score(history: PitHistory, outcomes: Outcomes | None, start: date | None, end: date) -> RuleReport:
    ev, rows = history.evaluation, history.rows
    rule = ev.rule
    st = AlertState(ev.fingerprint, rule.name, ev.labels)
    signals: list[Signal] = []
    firing_days: dict[pd.Timestamp, bool] = {}
    open_start: tuple[date, date, date] | None = None
    values = rows["value"]
    for day, v, t, c, k in zip(
        pd.DatetimeIndex(rows.index),
        rows["value"].to_numpy(dtype=float),
        rows["threshold"].to_numpy(dtype=float),
        rows["condition"].to_numpy(dtype=bool),
        pd.DatetimeIndex(rows["known"]),
        strict=True,
    ):
        before = st.state
        after = step(st, day.date(), float(v), float(t), bool(c), rule.for_, rule.keep_firing_for)
        if after == FIRING and before != FIRING:
            open_start = (st.active_since or day.date(), day.date(), k.date())
        elif before == FIRING and after != FIRING and open_start is not None:
            signals.append(_signal(ev, open_start, (day.date(), k.date()), values, outcomes))
            open_start = None
        firing_days[k] = after == FIRING
    if open_start is not None:
        signals.append(_signal(ev, open_start, None, values, outcomes))
    lo = pd.Timestamp(start) if start else None
    signals = [s for s in signals if (lo is None or pd.Timestamp(s.known) >= lo) and s.known <= end]
    # Firing state per business day of the window: the state at the end of each day, carried forward.
    flags = pd.Series(firing_days, dtype=bool).sort_index()
    flags = flags[~flags.index.duplicated(keep="last")]
    first = lo or (flags.index[0] if len(flags) else pd.Timestamp(end))
    grid = pd.bdate_range(first, pd.Timestamp(end))
    daily = (
        flags.astype(float).reindex(flags.index.union(grid)).ffill().reindex(grid).fillna(0.0).astype(bool)
        if len(flags)
        else pd.Series(False, index=grid)
    )
    report = RuleReport(
        rule.name, ev.labels, len(rows), int(daily.sum()), len(daily), signals, daily=daily, kind=_kind(rule)
    )
    if "realised" in rows.columns:
        dates = pd.DatetimeIndex(rows.index)
        inside = (dates <= pd.Timestamp(end)) & ((dates >= lo) if lo is not None else True)
        done = rows[inside & rows["realised"].notna().to_numpy() & rows["value"].notna().to_numpy()]
        if len(done):
            report.realised_count = len(done)
            report.realised_below = float((done["realised"] < done["value"]).mean())
    if outcomes is not None and len(daily):
        stress = outcomes.stress_days(grid)
        known = stress.notna()
        sig, st_ = daily[known], stress[known].astype(bool)
        a = int((sig & st_).sum())
        b = int((sig & ~st_).sum())
        c = int((~sig & st_).sum())
        d = int((~sig & ~st_).sum())
        if a + b:
            report.stress_share_after_signal = a / (a + b)
        if a + b + c + d:
            report.stress_base_rate = (a + c) / (a + b + c + d)
        if a and (b + d) and (a + c):
            report.nsr = (b / (b + d)) / (a / (a + c))
        elif a + b:
            report.note = "no signal day was followed by stress: noise-to-signal undefined"
    return report


def _signal(
    ev: Evaluation,
    opened: tuple[date, date, date],
    closed: tuple[date, date] | None,
    values: pd.Series,
    outcomes: Outcomes | None,
) -> Signal:
    since, start, known = opened
    ep = episode(ev, values, since, start, closed[0] if closed else None)
    dd = outcomes.drawdown_after(pd.Timestamp(known)) if outcomes else None
    mv = outcomes.krw_move_after(pd.Timestamp(known)) if outcomes else None
    return Signal(ep, known, closed[1] if closed else None, dd, mv)


def backtest(
    rules: Sequence[RuleBase],
    vintages: Mapping[str, Vintages],
    infos: Mapping[str, SeriesInfo],
    results: Mapping[str, pd.DataFrame],
    outcomes: Outcomes | None,
    *,
    start: date | None,
    end: date,
) -> list[RuleReport]:
    """Every rule's report; a rule that cannot be evaluated (an input never stored, no model results) says why
    instead, and the others are evaluated all the same. A data-health rule reports the series it covers that
    have no stored history as one report of that kind."""
    reports = []
    for rule in rules:
        kind = _kind(rule)
        unstored = [s for s in rule.series_ids() if s not in vintages or vintages[s].frame.empty]
        if isinstance(rule, DataHealthRule):
            covered = sorted(infos) if "*" in rule.series else list(rule.series)
            unstored = [s for s in covered if s not in vintages or vintages[s].frame.empty]
            if unstored:
                note = f"no stored history for {', '.join(unstored)}"
                reports.append(RuleReport(rule.name, {"rule": rule.name}, 0, 0, 0, note=note, kind=kind))
        elif unstored:
            note = f"{NOT_EVALUATED}: no stored history for {', '.join(unstored)} (run `monitor fetch` first)"
            reports.append(RuleReport(rule.name, {"rule": rule.name}, 0, 0, 0, note=note, kind=kind))
            continue
        try:
            histories = pit_histories(rule, vintages, infos, results, end)
        except MonitorError as e:
            reports.append(RuleReport(rule.name, {"rule": rule.name}, 0, 0, 0, note=f"{NOT_EVALUATED}: {e}", kind=kind))
            continue
        reports += [score(h, outcomes, start, end) for h in histories]
    return reports


def _kind(rule: RuleBase) -> str:
    return str(getattr(rule, "kind", ""))
