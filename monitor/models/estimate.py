"""One model, estimated as of a date: the VAR with its diagnostics, the full-sample connectedness table, the
rolling or TVP-VAR per-date measures with the latest window's table, and the stationarity table of its inputs
(the pipeline's one call). The result is the `ModelResult` that is stored with the run."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from monitor.align import Panel
from monitor.errors import InputDataError
from monitor.models.spec import ModelSpec
from monitor.models.spillover import connectedness, rolling_connectedness, tvp_connectedness
from monitor.models.var import fit_var
from monitor.results import ModelResult
from monitor.transforms import stationarity_table


def estimate(
    spec: ModelSpec, panel: Panel, *, previous: ModelResult | None = None, dropped: tuple[str, ...] = ()
) -> ModelResult:
    """Estimate `spec` on `panel` (already aligned and transformed as of its date).

    previous: the result stored by an earlier run. When its rolling frame still fits (same variables, lags,
    horizon, window, and its last window reproduces on today's data, i.e. no revision touched it) only the new
    windows are computed; otherwise everything is recomputed, and a note says why.
    dropped: inputs the caller left out (stale, missing), recorded with the result.
    """
    frame = panel.frame[list(spec.names)]
    if spec.start is not None:
        frame = frame[frame.index >= pd.Timestamp(spec.start)]
    notes = list(panel.notes)
    var = fit_var(frame, spec.lags, max_lags=spec.max_lags, horizon=spec.horizon)
    notes += var.warnings
    table = connectedness(frame, var.lags, spec.horizon, orthogonal=spec.orthogonal)
    per_date: pd.DataFrame | None = None
    latest = None
    method = "VAR"
    if spec.window is not None:
        method = "rolling VAR"
        if len(frame) < spec.window:
            notes.append(
                f"{len(frame)} rows are fewer than the rolling window of {spec.window}: no rolling measures yet"
            )
        else:
            per_date = _rolling(frame, var.lags, spec, previous, notes)
            latest = connectedness(frame.iloc[-spec.window :], var.lags, spec.horizon, orthogonal=spec.orthogonal)
    elif spec.tvp is not None:
        method = "TVP-VAR"
        s = spec.tvp
        tvp = tvp_connectedness(
            frame, var.lags, spec.horizon, s.kappa1, s.kappa2, s.prior_window, orthogonal=spec.orthogonal
        )
        per_date = tvp.frame
        latest = type(table).from_matrix(
            tvp.tables[-1], table.variables, horizon=spec.horizon, lags=var.lags, method="TVP-VAR"
        )
    return ModelResult(
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
        irf=var.irf,
        irf_lower=var.irf_lower,
        irf_upper=var.irf_upper,
        granger=var.granger,
        stationarity=stationarity_table(frame),
        max_root=var.max_root,
        notes=tuple(notes),
        dropped=dropped,
        extra={"criterion": var.criterion, "stable": bool(var.stable)},
    )


def _day(ts: pd.Timestamp) -> date:
    return pd.Timestamp(ts).date()


def _rolling(
    frame: pd.DataFrame, lags: int, spec: ModelSpec, previous: ModelResult | None, notes: list[str]
) -> pd.DataFrame:
    assert spec.window is not None
    stored = previous.rolling if previous is not None else None
    if stored is not None and previous is not None and len(stored):
        stored = stored.copy()
        # The settings travel with the stored result, not with the frame (attrs do not survive storage).
        stored.attrs.update(
            lags=previous.lags,
            horizon=previous.horizon,
            window=previous.window or 0,
            orthogonal=bool(spec.orthogonal),
        )
        try:
            _check_unrevised(frame, stored, lags, spec)
            return rolling_connectedness(
                frame, lags, spec.horizon, spec.window, orthogonal=spec.orthogonal, previous=stored
            )
        except InputDataError as e:
            notes.append(f"rolling measures recomputed in full: {e}")
    return rolling_connectedness(frame, lags, spec.horizon, spec.window, orthogonal=spec.orthogonal)


def _check_unrevised(frame: pd.DataFrame, stored: pd.DataFrame, lags: int, spec: ModelSpec) -> None:
    """Recompute the stored frame's last window on today's data: a revision inside it means recompute all."""
    assert spec.window is not None
    last = stored.index[-1]
    if last not in frame.index:
        raise InputDataError(f"the stored rolling result ends at {last:%Y-%m-%d}, which is not in today's data")
    end = frame.index.get_loc(last)
    assert isinstance(end, int)
    if end + 1 < spec.window:
        raise InputDataError("the stored rolling result starts before the first full window")
    window = frame.iloc[end + 1 - spec.window : end + 1]
    again = connectedness(window, lags, spec.horizon, orthogonal=spec.orthogonal)
    if not np.isclose(again.tci, float(stored["TCI"].iloc[-1]), rtol=0, atol=1e-8):
        raise InputDataError(f"the data of the window ending {last:%Y-%m-%d} were revised")
