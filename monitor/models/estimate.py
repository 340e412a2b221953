"""One model, estimated as of a date: the VAR with its diagnostics, the full-sample connectedness table, the
rolling or TVP-VAR per-date measures, and the stationarity table of its inputs (the pipeline's one call)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from monitor.align import Panel
from monitor.errors import InputDataError
from monitor.models.spec import ModelSpec
from monitor.models.spillover import (
    SpilloverTable,
    TvpConnectedness,
    connectedness,
    rolling_connectedness,
    tvp_connectedness,
)
from monitor.models.var import VarFit, fit_var
from monitor.transforms import stationarity_table


@dataclass(frozen=True, eq=False)
class ModelResult:
    """Everything one model produced in a run. `per_date` is the rolling or TVP-VAR frame (None without either)."""

    spec: ModelSpec
    as_of: pd.Timestamp
    nobs: int
    var: VarFit
    table: SpilloverTable
    per_date: pd.DataFrame | None
    tvp: TvpConnectedness | None
    stationarity: pd.DataFrame
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary for the run record (the per-date frame is stored separately)."""

        def clean(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [
                {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}
                for row in frame.reset_index().to_dict(orient="records")
            ]

        latest = None
        if self.per_date is not None and len(self.per_date):
            row = self.per_date.iloc[-1]
            latest = {"date": str(self.per_date.index[-1].date()), **{k: float(v) for k, v in row.items()}}
        return {
            "model": self.spec.name,
            "as_of": str(self.as_of.date()),
            "nobs": self.nobs,
            "lags": self.var.lags,
            "criterion": self.var.criterion,
            "stable": self.var.stable,
            "max_root": self.var.max_root,
            "table": self.table.to_dict(),
            "latest": latest,
            "rolling": dict(self.per_date.attrs) if self.per_date is not None and self.tvp is None else None,
            "granger": clean(self.var.granger),
            "stationarity": clean(self.stationarity),
            "notes": list(self.notes),
        }


def estimate(spec: ModelSpec, panel: Panel, *, previous: pd.DataFrame | None = None) -> ModelResult:
    """Estimate `spec` on `panel` (already aligned and transformed as of its date).

    previous: the per-date rolling frame stored by an earlier run, with its settings in `.attrs` (as
    rolling_connectedness sets them; after reading it back from storage restore them from `to_dict()["rolling"]`).
    When it still fits (same variables, lags, horizon, window) only the new windows are computed; otherwise, or
    without settings to compare, everything is recomputed.
    """
    frame = panel.frame[list(spec.names)]
    if spec.start is not None:
        frame = frame[frame.index >= pd.Timestamp(spec.start)]
    notes = list(panel.notes)
    var = fit_var(frame, spec.lags, max_lags=spec.max_lags, horizon=spec.horizon)
    notes += var.warnings
    table = connectedness(frame, var.lags, spec.horizon, orthogonal=spec.orthogonal)
    per_date: pd.DataFrame | None = None
    tvp: TvpConnectedness | None = None
    if spec.window is not None:
        if len(frame) < spec.window:
            notes.append(
                f"{len(frame)} rows are fewer than the rolling window of {spec.window}: no rolling measures yet"
            )
        else:
            per_date = _rolling(frame, var.lags, spec, previous, notes)
    elif spec.tvp is not None:
        s = spec.tvp
        tvp = tvp_connectedness(
            frame, var.lags, spec.horizon, s.kappa1, s.kappa2, s.prior_window, orthogonal=spec.orthogonal
        )
        per_date = tvp.frame
    return ModelResult(
        spec=spec,
        as_of=panel.as_of,
        nobs=len(frame),
        var=var,
        table=table,
        per_date=per_date,
        tvp=tvp,
        stationarity=stationarity_table(frame),
        notes=tuple(notes),
    )


def _rolling(
    frame: pd.DataFrame, lags: int, spec: ModelSpec, previous: pd.DataFrame | None, notes: list[str]
) -> pd.DataFrame:
    assert spec.window is not None
    if previous is not None and {"lags", "horizon", "window", "orthogonal"} <= set(previous.attrs):
        try:
            return rolling_connectedness(
                frame, lags, spec.horizon, spec.window, orthogonal=spec.orthogonal, previous=previous
            )
        except InputDataError as e:
            notes.append(f"rolling measures recomputed in full: {e}")
    return rolling_connectedness(frame, lags, spec.horizon, spec.window, orthogonal=spec.orthogonal)
