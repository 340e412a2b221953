"""Many-market model groups: one model template applied to many markets, estimated in parallel, and the
cross-market summary that says which market's connectedness or net transmission stands out today.

The pipeline's one call is `estimate_groups(config.group_specs(), data, as_of, compute=...)`. It runs in two
batches on the compute backend: first every market's point estimates (VAR, tables, rolling measures: one chunk per
market), then the bootstrap bands of every market at once (their chunks pooled, so that a hundred small markets
keep every worker busy). A market whose data cannot be used gets a result with its `error` set; the others go on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from monitor.align import Panel, model_panel
from monitor.compute import Compute, Runner
from monitor.errors import MonitorError
from monitor.models.estimate import PointEstimate, add_bands, estimate_point
from monitor.models.results import ModelResult
from monitor.spec import GroupSpec, MarketModel

SUMMARY_COLUMNS = [
    "group",
    "market",
    "model",
    "measure",
    "variable",
    "date",
    "value",
    "lo",
    "hi",
    "percentile",
    "zscore",
    "history",
]


@dataclass(frozen=True, eq=False)
class GroupRun:
    """Every market's result, by model name `<group>.<market>` in config order, and the cross-market summary."""

    results: dict[str, ModelResult]
    summary: pd.DataFrame


@dataclass(frozen=True, eq=False)
class _MarketJob:
    group: str
    market: MarketModel
    panel: Panel | None
    previous: ModelResult | None
    as_of: date
    error: str = ""


def estimate_groups(
    groups: Sequence[GroupSpec],
    data: Mapping[str, pd.Series],
    as_of: date | pd.Timestamp | str,
    *,
    compute: Runner | None = None,
    previous: Mapping[str, ModelResult] | None = None,
) -> GroupRun:
    """Estimate every market of every group as of `as_of`, and summarise them.

    data: series id -> observations known as of the run date (what `monitor.align.model_panel` takes).
    previous: stored results by model name; a market's rolling measures and bands are then extended with the new
    windows only (see `monitor.models.estimate.estimate`). compute: the backend (default serial).
    """
    runner = compute or Compute()
    day = pd.Timestamp(as_of).date()
    jobs = []
    for group in groups:
        for market in group.markets:
            panel, error = None, ""
            try:
                panel = model_panel(data, market.spec, pd.Timestamp(as_of))
            except MonitorError as e:
                error = str(e)
            prior = (previous or {}).get(market.spec.name)
            jobs.append(_MarketJob(group.name, market, panel, prior, day, error))
    points = runner.map(_estimate_market, jobs)
    estimated = [p for p in points if isinstance(p, PointEstimate)]
    with_bands = iter(add_bands(estimated, runner))
    results = {}
    for point in points:
        result = next(with_bands) if isinstance(point, PointEstimate) else point
        results[result.name] = result
    return GroupRun(results, group_summary(results.values()))


def _estimate_market(job: _MarketJob) -> PointEstimate | ModelResult:
    """One market's point estimates (a chunk: module-level so that worker processes can run it)."""
    spec = job.market.spec
    if job.panel is not None:
        try:
            point = estimate_point(spec, job.panel, previous=job.previous)
        except MonitorError as e:
            job = _MarketJob(job.group, job.market, None, None, job.as_of, str(e))
        else:
            tagged = dataclasses.replace(point.result, group=job.group, market=job.market.market)
            return dataclasses.replace(point, result=tagged)
    return ModelResult(
        name=spec.name,
        label=spec.label,
        freq=spec.freq,
        as_of=job.as_of,
        variables=spec.names,
        series=tuple(v.series_id for v in spec.variables),
        transforms=tuple(v.transform for v in spec.variables),
        error=job.error,
        group=job.group,
        market=job.market.market,
    )


def group_summary(results: Iterable[ModelResult]) -> pd.DataFrame:
    """Which market stands out today: for each group market with per-date measures, its latest TCI and NET of
    each variable, with the band (when bootstrapped), the percentile of today's value among the market's own
    earlier values (share strictly below plus half the ties, in percent; point in time) and its z-score against
    them (mean and sample standard deviation of the earlier values). Sorted by group, then by |z-score| (the
    most unusual first). Markets without per-date measures (failed, too short) are left out.
    """
    rows = []
    for r in results:
        if not r.group or r.error or r.rolling is None or r.rolling.empty:
            continue
        frame = r.rolling
        for measure, variable in [("TCI", ""), *((f"NET_{v}", v) for v in r.variables)]:
            if measure not in frame:
                continue
            s = frame[measure].dropna()
            if s.empty:
                continue
            latest, history = float(s.iloc[-1]), s.iloc[:-1].to_numpy(dtype=float)
            rows.append(
                {
                    "group": r.group,
                    "market": r.market,
                    "model": r.name,
                    "measure": measure.split("_", 1)[0],
                    "variable": variable,
                    "date": s.index[-1],
                    "value": latest,
                    "lo": _last(frame, f"{measure}_lo", s.index[-1]),
                    "hi": _last(frame, f"{measure}_hi", s.index[-1]),
                    "percentile": _percentile(history, latest),
                    "zscore": _zscore(history, latest),
                    "history": len(history),
                }
            )
    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    if summary.empty:
        return summary
    order = summary.assign(_abs=summary["zscore"].abs().fillna(-1.0))
    order = order.sort_values(["group", "_abs"], ascending=[True, False], kind="stable")
    return order.drop(columns="_abs").reset_index(drop=True)


def _last(frame: pd.DataFrame, column: str, when: pd.Timestamp) -> float:
    return float(frame.at[when, column]) if column in frame else float("nan")


def _percentile(history: np.ndarray, value: float) -> float:
    if not len(history):
        return float("nan")
    return float(100.0 * ((history < value).sum() + 0.5 * (history == value).sum()) / len(history))


def _zscore(history: np.ndarray, value: float) -> float:
    if len(history) < 2:
        return float("nan")
    sd = float(history.std(ddof=1))
    return float((value - history.mean()) / sd) if sd > 0 else float("nan")
