"""One model, estimated as of a date: the VAR with its diagnostics, the full-sample connectedness table, the
rolling or TVP-VAR per-date measures with the latest window's table, their bootstrap bands when the spec asks for
them, and the stationarity table of its inputs (the pipeline's one call). The result is the `ModelResult` that is
stored with the run.

Two phases, so that many models can share one pool of workers: `estimate_point` (cheap: the VAR, the tables, the
rolling engine) and `add_bands` (the bootstrap, cut into chunks that run on the given backend). `estimate` does
both for one model; `monitor.models.groups` runs the first phase of every market in parallel, then the bands of
all of them in one batch of chunks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from monitor.align import Panel
from monitor.compute import Runner
from monitor.errors import InputDataError
from monitor.models.bands import BandJob, band_columns, band_settings, full_sample_job, rolling_job, run_jobs
from monitor.models.incremental import UpdatePlan, full_plan, plan_update
from monitor.models.results import ModelResult
from monitor.models.rolling import frame_columns
from monitor.models.spillover import connectedness, refresh_rolling, rolling_connectedness, tvp_connectedness
from monitor.models.var import fit_var
from monitor.spec import ModelSpec
from monitor.transforms import stationarity_table


@dataclass(frozen=True, eq=False)
class PointEstimate:
    """A model estimated without its bands, and what the bands need: the model frame, the stored rolling bands
    that are still valid (windows whose rows were not revised, same settings) or None, and the windows whose bands
    must be computed (None: all)."""

    spec: ModelSpec
    result: ModelResult
    frame: pd.DataFrame
    stored_bands: pd.DataFrame | None = None
    band_ends: pd.Index | None = None


def estimate(
    spec: ModelSpec,
    panel: Panel,
    *,
    previous: ModelResult | None = None,
    dropped: tuple[str, ...] = (),
    compute: Runner | None = None,
) -> ModelResult:
    """Estimate `spec` on `panel` (already aligned and transformed as of its date).

    previous: the result stored by an earlier run. When its rolling frame still fits (same variables, lags,
    horizon, window and sample start) only the windows that are new or hold a row revised since then are
    computed, and so are their bands (`monitor.models.incremental`); otherwise everything is recomputed. A note and
    `extra["rolling_update"]` say how many windows were computed and why.
    dropped: inputs the caller left out (stale, missing), recorded with the result.
    compute: the backend for the bootstrap chunks when spec.bands is set (default: serial, in this process).
    """
    return add_bands([estimate_point(spec, panel, previous=previous, dropped=dropped)], compute)[0]


def estimate_point(
    spec: ModelSpec, panel: Panel, *, previous: ModelResult | None = None, dropped: tuple[str, ...] = ()
) -> PointEstimate:
    """Everything but the bootstrap bands (see `estimate`)."""
    frame = panel.frame[list(spec.names)]
    if isinstance(frame.index, pd.DatetimeIndex) and frame.index.unit != "ns":
        # Dated in nanoseconds, as the store's series, the calendars and results read back are: a rolling frame
        # extended from a stored one must not mix resolutions (pandas 3 makes microseconds from many sources).
        frame = frame.set_axis(frame.index.as_unit("ns"))
    if spec.start is not None:
        frame = frame[frame.index >= pd.Timestamp(spec.start)]
    notes = list(panel.notes)
    var = fit_var(frame, spec.lags, max_lags=spec.max_lags, horizon=spec.horizon)
    notes += var.warnings
    table = connectedness(frame, var.lags, spec.horizon, orthogonal=spec.orthogonal)
    per_date: pd.DataFrame | None = None
    latest = None
    method = "VAR"
    stored_bands = band_ends = None
    prior: dict[str, object] = {}
    update: dict[str, object] = {}
    if spec.window is not None:
        method = "rolling VAR"
        if len(frame) < spec.window:
            notes.append(
                f"{len(frame)} rows are fewer than the rolling window of {spec.window}: no rolling measures yet"
            )
        else:
            per_date, plan = _rolling(frame, var.lags, spec, previous)
            notes.append(plan.note())
            update = plan.summary()
            if not plan.full and previous is not None and spec.bands is not None:
                stored_bands = _reusable_bands(spec, previous, plan.kept)
                band_ends = None if stored_bands is None else plan.recomputed
            latest = connectedness(frame.iloc[-spec.window :], var.lags, spec.horizon, orthogonal=spec.orthogonal)
    elif spec.tvp is not None:
        method = "TVP-VAR"
        s = spec.tvp
        tvp = tvp_connectedness(
            frame, var.lags, spec.horizon, s.kappa1, s.kappa2, s.prior_window, orthogonal=spec.orthogonal
        )
        per_date = tvp.frame
        first, last = _day(frame.index[0]), _day(frame.index[tvp.prior_window - 1])
        prior = {"rows": tvp.prior_window, "start": first.isoformat(), "end": last.isoformat()}
        notes.append(
            f"TVP-VAR prior from the first {tvp.prior_window} observations ({first} to {last}): the measures up to "
            f"{last} are a burn-in; later dates use no later data"
        )
        latest = type(table).from_matrix(
            tvp.tables[-1], table.variables, horizon=spec.horizon, lags=var.lags, method="TVP-VAR"
        )
        if spec.bands is not None:
            notes.append("bands are bootstrapped for the full-sample VAR only, not for the TVP-VAR per-date measures")
    frequency: dict[str, object] = {}
    if spec.frequency is not None:
        per_date, frequency = _frequency(frame, var.lags, spec, per_date, notes)
    result = ModelResult(
        name=spec.name,
        label=spec.label,
        freq=spec.freq,
        as_of=pd.Timestamp(panel.as_of).date(),
        variables=spec.names,
        series=tuple(v.series_id for v in spec.variables),
        transforms=tuple(v.transform for v in spec.variables),
        lags=var.lags,
        horizon=spec.horizon,
        window=spec.window,
        method=method,
        sample_start=_day(frame.index[0]),
        sample_end=_day(frame.index[-1]),
        nobs=len(frame),
        table=table,
        latest_table=latest,
        rolling=per_date,
        inputs=frame if method == "rolling VAR" else None,
        irf=var.irf,
        irf_lower=var.irf_lower,
        irf_upper=var.irf_upper,
        granger=var.granger,
        stationarity=stationarity_table(frame),
        max_root=var.max_root,
        notes=tuple(notes),
        dropped=dropped,
        extra={
            "criterion": var.criterion,
            "stable": bool(var.stable),
            **({"prior_window": prior} if prior else {}),
            **({"rolling_update": update} if update else {}),
            **({"frequency": frequency} if frequency else {}),
        },
    )
    return PointEstimate(spec, result, frame, stored_bands, band_ends)


def _frequency(
    frame: pd.DataFrame, lags: int, spec: ModelSpec, per_date: pd.DataFrame | None, notes: list[str]
) -> tuple[pd.DataFrame | None, dict[str, object]]:
    """The frequency bands of the model (`monitor.models.frequency`): the full-sample band tables (and the latest
    window's, rolling) for `extra["frequency"]`, and the per-date frame with the "<band>:<measure>" columns. A
    problem with the bands is a note: the time-domain result stands."""
    from monitor.models.frequency import frequency_connectedness, rolling_frequency, tvp_frequency

    assert spec.frequency is not None
    cuts, grid, h, orth = spec.frequency, spec.frequency_grid, spec.horizon, spec.orthogonal
    try:
        stored: dict[str, object] = {
            "table": frequency_connectedness(frame, lags, h, cuts, grid=grid, orthogonal=orth).to_dict()
        }
        by_band = None
        if spec.window is not None and per_date is not None:
            by_band = rolling_frequency(frame, lags, h, spec.window, cuts, grid=grid, orthogonal=orth)
            latest = frequency_connectedness(frame.iloc[-spec.window :], lags, h, cuts, grid=grid, orthogonal=orth)
            stored["latest"] = latest.to_dict()
        elif spec.tvp is not None and per_date is not None:
            s = spec.tvp
            by_band, average = tvp_frequency(
                frame, lags, h, cuts, s.kappa1, s.kappa2, s.prior_window, grid=grid, orthogonal=orth
            )
            stored["tvp_average"] = average.to_dict()
    except InputDataError as e:
        notes.append(f"frequency bands not estimated: {e}")
        return per_date, {}
    if by_band is not None and per_date is not None:
        per_date = pd.concat([per_date, by_band], axis=1)
    return per_date, stored


def _reusable_bands(spec: ModelSpec, previous: ModelResult, kept: pd.Index) -> pd.DataFrame | None:
    """The stored rolling bands of the `kept` windows, when they were computed with today's settings."""
    assert spec.bands is not None and previous.rolling is not None
    columns = band_columns(spec.names)
    if previous.bootstrap != _settings(spec) or not set(columns) <= set(previous.rolling.columns):
        return None
    return previous.rolling.loc[kept, columns]


def _settings(spec: ModelSpec) -> dict[str, object]:
    assert spec.bands is not None
    return dict(band_settings(spec.bands))


def band_jobs(point: PointEstimate) -> list[BandJob]:
    """The bootstrap work of one model: its full-sample bands and the bands of its rolling windows that are not
    stored already (none when the spec has no bands)."""
    spec, r = point.spec, point.result
    if spec.bands is None or r.table is None:
        return []
    estimate = pd.Series(_table_measures(r), dtype=float)
    jobs = [
        full_sample_job(
            point.frame, r.lags, spec.horizon, spec.bands, orthogonal=spec.orthogonal, key=spec.name, estimate=estimate
        )
    ]
    if r.method == "rolling VAR" and r.rolling is not None and len(r.rolling) and spec.window is not None:
        jobs.append(
            rolling_job(
                point.frame,
                r.lags,
                spec.horizon,
                spec.window,
                spec.bands,
                orthogonal=spec.orthogonal,
                key=spec.name,
                only=point.band_ends,
            )
        )
    return jobs


def _table_measures(r: ModelResult) -> dict[str, float]:
    """The full-sample table's measures under the rolling frame's column names."""
    assert r.table is not None
    t, names = r.table, r.variables
    out = {"TCI": t.tci, "cTCI": t.ctci}
    for prefix, values in (("TO", t.to), ("FROM", t.from_), ("NET", t.net)):
        out |= {f"{prefix}_{v}": float(x) for v, x in zip(names, values, strict=True)}
    n = len(names)
    out |= {f"NPDC_{names[i]}_{names[j]}": float(t.npdc[i, j]) for i in range(n) for j in range(i + 1, n)}
    return out


def add_bands(points: Sequence[PointEstimate], compute: Runner | None = None) -> list[ModelResult]:
    """The results of `points` with their bootstrap bands: every model's chunks run in one batch on `compute`."""
    jobs = [band_jobs(p) for p in points]
    frames = run_jobs([j for js in jobs for j in js], compute)
    out, pos = [], 0
    for point, own in zip(points, jobs, strict=True):
        if not own:
            out.append(point.result)
            continue
        full, rolling = frames[pos], frames[pos + 1] if len(own) > 1 else None
        pos += len(own)
        out.append(_with_bands(point, full, rolling))
    return out


def _with_bands(point: PointEstimate, full: pd.DataFrame, rolling: pd.DataFrame | None) -> ModelResult:
    r = point.result
    per_date = r.rolling
    notes = list(r.notes)
    why = "its simulated paths would explode (a VAR root on or outside the unit circle, e.g. from an outlier)"
    if full["lo"].isna().all():
        notes.append(f"no bootstrap bands for the full sample: {why}")
    if rolling is not None and per_date is not None:
        bands = rolling if point.stored_bands is None else pd.concat([point.stored_bands, rolling]).sort_index()
        if not bands.index.equals(per_date.index):
            raise InputDataError(f"model {r.name}: the rolling bands do not line up with the rolling measures")
        per_date = pd.concat([per_date, bands], axis=1)
        missing = bands.index[bands.isna().all(axis=1)]
        if len(missing):
            notes.append(
                f"no bootstrap bands for {len(missing)} rolling window(s), the last ending {_day(missing[-1])}: {why}"
            )
    return dataclasses.replace(r, rolling=per_date, bands=full, bootstrap=_settings(point.spec), notes=tuple(notes))


def _day(ts: pd.Timestamp) -> date:
    return pd.Timestamp(ts).date()


def _orthogonal(result: ModelResult) -> bool:
    return bool(result.table is not None and result.table.orthogonal)


def _rolling(
    frame: pd.DataFrame, lags: int, spec: ModelSpec, previous: ModelResult | None
) -> tuple[pd.DataFrame, UpdatePlan]:
    """The rolling measures (without bands), and the plan that says which windows were computed and why."""
    assert spec.window is not None
    stored = previous.rolling if previous is not None else None
    settings = (lags, spec.horizon, spec.window, spec.orthogonal)
    if previous is None or stored is None or not len(stored):
        plan = full_plan(frame, spec.window, "no stored rolling result", stored=False)
    elif not set(frame_columns(spec.names)) <= set(stored.columns):
        plan = full_plan(frame, spec.window, "the stored rolling result lacks some of today's measures")
    elif (previous.lags, previous.horizon, previous.window, _orthogonal(previous)) != settings:
        why = "the stored result was computed with other settings (lag order, horizon, window or decomposition)"
        plan = full_plan(frame, spec.window, why)
    else:
        plan = plan_update(previous.inputs, frame, spec.window, stored.index)
    if plan.full:
        per_date = rolling_connectedness(frame, lags, spec.horizon, spec.window, orthogonal=spec.orthogonal)
    else:
        assert stored is not None
        per_date = refresh_rolling(
            stored, frame, lags, spec.horizon, spec.window, plan.compute, orthogonal=spec.orthogonal
        )
    return per_date, plan
