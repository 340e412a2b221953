"""Diebold-Yilmaz connectedness: full sample, rolling (fast engine) and TVP-VAR.

Public API:
- `connectedness(data, lags, horizon, *, orthogonal=False)` -> SpilloverTable for a VAR(lags) with a constant.
- `connectedness_from_coefs(coefs, sigma, horizon, ...)` -> SpilloverTable from given VAR matrices.
- `rolling_connectedness(data, lags, horizon, window, *, orthogonal=False, previous=None)` -> per-window frame.
- `update_rolling(previous, data, lags, horizon, window, ...)` -> only the windows that are new since `previous`.
- `refresh_rolling(previous, data, lags, horizon, window, compute, ...)` -> every window, only `compute` ones computed.
- `tvp_connectedness(data, lags, horizon, kappa1=0.99, kappa2=0.99, prior_window=None)` -> TvpConnectedness
  (no look-ahead past the prior window: see `monitor.models.tvp`).

Horizon H: the decomposition sums the MA terms h = 0..H-1 (ConnectednessApproach's `nfore = H`; the R package
frequencyConnectedness' `n.ahead = H - 1`). Tables are in percent with rows receiving and columns transmitting;
the measures are defined in `monitor.models.fevd`. Residual covariances use statsmodels' degrees-of-freedom
adjusted denominator (T - Np - 1); both decompositions are invariant to that scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from monitor.errors import InputDataError
from monitor.models.data import check_frame, min_observations
from monitor.models.fevd import fevd_shares, measures, pairwise
from monitor.models.rolling import embed, frame_columns, measures_frame, standardise, var_from_moments, window_tables
from monitor.models.tvp import default_prior_window, tvp_var

__all__ = [
    "SpilloverTable",
    "TvpConnectedness",
    "connectedness",
    "connectedness_from_coefs",
    "refresh_rolling",
    "rolling_connectedness",
    "tvp_connectedness",
    "update_rolling",
]


@dataclass(frozen=True, eq=False)
class SpilloverTable:
    """A connectedness table and its measures.

    matrix: N x N percent, rows receive, columns transmit, rows sum to 100. from_/to/net: per variable.
    tci: total connectedness (mean FROM); ctci: TCI N/(N-1). npdc[i, j] = C_ji - C_ij (positive: i is a net
    transmitter to j); npt[i]: number of variables i is a net transmitter to. horizon: MA terms h = 0..H-1.
    nobs: regression rows behind the table (for a TVP-VAR average, the number of dates averaged).
    pci / influence: Gabauer's (2021) pairwise connectedness and influence indices (`monitor.models.fevd`).
    """

    variables: tuple[str, ...]
    matrix: np.ndarray
    from_: np.ndarray
    to: np.ndarray
    net: np.ndarray
    tci: float
    ctci: float
    npdc: np.ndarray
    npt: np.ndarray
    horizon: int
    lags: int
    orthogonal: bool = False
    nobs: int = 0
    method: str = "VAR"
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_matrix(
        cls,
        matrix: np.ndarray,
        variables: tuple[str, ...],
        *,
        horizon: int,
        lags: int,
        orthogonal: bool = False,
        nobs: int = 0,
        method: str = "VAR",
        extra: dict[str, Any] | None = None,
    ) -> SpilloverTable:
        m = measures(np.asarray(matrix, dtype=float))
        return cls(
            variables=tuple(variables),
            matrix=m.table,
            from_=m.from_,
            to=m.to,
            net=m.net,
            tci=float(m.tci),
            ctci=float(m.ctci),
            npdc=m.npdc,
            npt=m.npt,
            horizon=horizon,
            lags=lags,
            orthogonal=orthogonal,
            nobs=nobs,
            method=method,
            extra=dict(extra or {}),
        )

    @property
    def pci(self) -> np.ndarray:
        """Pairwise connectedness index (N, N), percent, symmetric (Gabauer 2021)."""
        return pairwise(self.matrix)[0]

    @property
    def influence(self) -> np.ndarray:
        """Pairwise influence index (N, N), percent, symmetric: 100 |C_ij - C_ji| / (C_ij + C_ji)."""
        return pairwise(self.matrix)[1]

    def pairwise_frame(self) -> pd.DataFrame:
        """One row per pair i < j (column order): PCI, INFLUENCE and NPDC (positive: i is a net transmitter)."""
        pci, influence = pairwise(self.matrix)
        n = len(self.variables)
        rows = [
            (self.variables[i], self.variables[j], pci[i, j], influence[i, j], self.npdc[i, j])
            for i in range(n)
            for j in range(i + 1, n)
        ]
        return pd.DataFrame(rows, columns=["i", "j", "PCI", "INFLUENCE", "NPDC"])

    def frame(self) -> pd.DataFrame:
        """The table as a frame: receivers x transmitters, plus a FROM column and TO and NET rows."""
        names = list(self.variables)
        out = pd.DataFrame(self.matrix, index=names, columns=names)
        out["FROM"] = self.from_
        out.loc["TO"] = [*self.to, self.to.sum()]
        out.loc["NET"] = [*self.net, np.nan]
        return out

    def payload(self) -> dict[str, Any]:
        """The JSON shape of `monitor spillover --json` (table rows = receivers, in percent)."""
        names = self.variables
        return {
            "variables": list(names),
            "table": self.matrix.tolist(),
            "from": dict(zip(names, self.from_.tolist(), strict=True)),
            "to": dict(zip(names, self.to.tolist(), strict=True)),
            "net": dict(zip(names, self.net.tolist(), strict=True)),
            "tci": self.tci,
            "ctci": self.ctci,
            "npdc": _pairs(self.npdc, names),
            "pci": _pairs(self.pci, names),
            "influence": _pairs(self.influence, names),
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild the table (JSON-serialisable), for storage with a run."""
        return {
            **self.payload(),
            "npt": dict(zip(self.variables, self.npt.tolist(), strict=True)),
            "horizon": self.horizon,
            "lags": self.lags,
            "orthogonal": self.orthogonal,
            "nobs": self.nobs,
            "method": self.method,
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SpilloverTable:
        """Rebuild a table stored with `to_dict` (the measures are recomputed from the stored matrix)."""
        try:
            variables = tuple(str(v) for v in d["variables"])
            matrix = np.asarray(d["table"], dtype=float)
            if matrix.shape != (len(variables), len(variables)):
                raise ValueError(f"table shape {matrix.shape} does not match {len(variables)} variables")
            return cls.from_matrix(
                matrix,
                variables,
                horizon=int(d["horizon"]),
                lags=int(d["lags"]),
                orthogonal=bool(d.get("orthogonal", False)),
                nobs=int(d.get("nobs", 0)),
                method=str(d.get("method", "VAR")),
                extra=dict(d.get("extra", {})),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise InputDataError(f"stored spillover table is malformed: {e}") from e


def _pairs(values: np.ndarray, names: tuple[str, ...]) -> dict[str, dict[str, float]]:
    return {a: {b: float(values[i, j]) for j, b in enumerate(names) if j != i} for i, a in enumerate(names)}


@dataclass(frozen=True, eq=False)
class TvpConnectedness:
    """TVP-VAR connectedness: per-date measures (same columns as the rolling frame), the per-date percent tables
    (T, N, N), and the table of their average (ConnectednessApproach's TABLE)."""

    frame: pd.DataFrame
    tables: np.ndarray
    table: SpilloverTable
    prior_window: int  # the first rows the prior was estimated on (a burn-in: later rows never move it)


def _check_horizon(horizon: int) -> None:
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise InputDataError(f"horizon must be a positive integer (number of MA terms), got {horizon!r}")


def connectedness_from_coefs(
    coefs: np.ndarray,
    sigma: np.ndarray,
    horizon: int,
    *,
    variables: tuple[str, ...] | None = None,
    orthogonal: bool = False,
    nobs: int = 0,
) -> SpilloverTable:
    """Connectedness of a VAR given its slope matrices coefs (p, N, N) (statsmodels' `coefs` layout, y_t =
    c + sum_l coefs[l-1] y_{t-l} + u_t) and residual covariance sigma (N, N); the horizon sums h = 0..H-1."""
    _check_horizon(horizon)
    coefs = np.asarray(coefs, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    if coefs.ndim != 3 or coefs.shape[1] != coefs.shape[2] or sigma.shape != coefs.shape[1:]:
        raise InputDataError(f"coefs must be (p, N, N) and sigma (N, N); got {coefs.shape} and {sigma.shape}")
    n = sigma.shape[0]
    names = variables or tuple(f"y{i + 1}" for i in range(n))
    try:
        shares = fevd_shares(coefs, sigma, horizon, orthogonal=orthogonal)
    except np.linalg.LinAlgError as e:
        raise InputDataError("the residual covariance is not positive definite") from e
    return SpilloverTable.from_matrix(
        100.0 * shares, names, horizon=horizon, lags=coefs.shape[0], orthogonal=orthogonal, nobs=nobs
    )


def connectedness(data: pd.DataFrame, lags: int, horizon: int, *, orthogonal: bool = False) -> SpilloverTable:
    """Full-sample connectedness of a VAR(lags) with a constant, estimated by OLS on every row of data.

    data: dates x variables, used as given (transform it first). horizon H sums the MA terms h = 0..H-1
    (ConnectednessApproach's nfore = H). orthogonal=True uses the Cholesky FEVD in the column order of data.
    """
    _check_horizon(horizon)
    values, names = check_frame(data, lags)
    length = values.shape[0] - lags
    emb = embed(standardise(values), lags)
    coefs, sigma = var_from_moments(emb.sum(axis=0)[None], (emb.T @ emb)[None], length, len(names), lags)
    tables = 100.0 * fevd_shares(coefs, sigma, horizon, orthogonal=orthogonal)
    if not np.isfinite(tables).all():
        raise InputDataError("the VAR is degenerate (nearly collinear columns); drop one of the collinear variables")
    return SpilloverTable.from_matrix(tables[0], names, horizon=horizon, lags=lags, orthogonal=orthogonal, nobs=length)


def rolling_connectedness(
    data: pd.DataFrame,
    lags: int,
    horizon: int,
    window: int,
    *,
    orthogonal: bool = False,
    previous: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Connectedness of a VAR(lags) with a constant on every window of `window` raw rows (W - lags regression
    rows), dated at the window's last row. Columns: TCI, cTCI, TO_<v>, FROM_<v>, NET_<v>, NPT_<v>,
    NPDC_<vi>_<vj> for i < j in column order (positive: vi is a net transmitter to vj).

    The horizon H sums the MA terms h = 0..H-1. With `previous` (a frame this function returned on the same data
    up to an earlier date, same settings), only the new windows are computed and appended.
    """
    if previous is not None:
        new = update_rolling(previous, data, lags, horizon, window, orthogonal=orthogonal)
        out = pd.concat([previous, new]) if len(new) else previous.copy()
    else:
        _check_horizon(horizon)
        values, names = check_frame(data, lags, window=window)
        starts = np.arange(values.shape[0] - window + 1)
        ends = starts + window - 1
        labels = data.index[ends]
        tables = window_tables(values, names, labels, lags, horizon, window, orthogonal=orthogonal)
        out = measures_frame(tables, names, labels)
    out.attrs.update(_settings(lags, horizon, window, orthogonal))
    return out


def _settings(lags: int, horizon: int, window: int, orthogonal: bool) -> dict[str, Any]:
    return {"lags": int(lags), "horizon": int(horizon), "window": int(window), "orthogonal": bool(orthogonal)}


def update_rolling(
    previous: pd.DataFrame,
    data: pd.DataFrame,
    lags: int,
    horizon: int,
    window: int,
    *,
    orthogonal: bool = False,
) -> pd.DataFrame:
    """Rows for the windows of `data` that end after the last date of `previous` (only those are computed).

    `previous` is a stored rolling frame computed with the same settings on the same data up to its last date;
    revised history is not detected here (recompute in full after a revision).
    """
    _check_horizon(horizon)
    if not isinstance(data, pd.DataFrame):
        raise InputDataError(f"model data must be a pandas DataFrame, got {type(data).__name__}")
    names = tuple(str(c) for c in data.columns.tolist())
    if previous.columns.tolist() != frame_columns(names):
        raise InputDataError(
            "the stored rolling result has different columns from this data's variables; recompute it in full"
        )
    stored = previous.attrs
    wanted = _settings(lags, horizon, window, orthogonal)
    differ = [k for k, v in wanted.items() if k in stored and stored[k] != v]
    if differ:
        raise InputDataError(
            f"the stored rolling result was computed with other settings ({', '.join(differ)}); recompute it in full"
        )
    if len(previous) == 0:
        return rolling_connectedness(data, lags, horizon, window, orthogonal=orthogonal)
    last = previous.index[-1]
    pos = int(data.index.searchsorted(last))  # the dates are checked to be increasing below
    if pos >= len(data) or data.index[pos] != last:
        raise InputDataError(
            f"the stored rolling result ends at {last}, which is not in the data; recompute it in full"
        )
    t = len(data)
    first_end = pos + 1
    if first_end >= t:
        return previous.iloc[:0]
    first_start = first_end - window + 1
    if first_start < 0:
        raise InputDataError(
            f"the stored rolling result ends before the first full window of {window} rows; recompute it in full"
        )
    values, names = check_frame(data, lags, window=window, start=first_start, thorough=False)
    labels = data.index[first_end:]
    try:
        tables = window_tables(
            values, names, labels, lags, horizon, window, orthogonal=orthogonal, starts=range(t - first_end)
        )
    except InputDataError:
        check_frame(data, lags, window=window, start=first_start)  # names a constant or duplicated column
        raise
    return measures_frame(tables, names, labels, previous.columns)


def refresh_rolling(
    previous: pd.DataFrame,
    data: pd.DataFrame,
    lags: int,
    horizon: int,
    window: int,
    compute: np.ndarray,
    *,
    orthogonal: bool = False,
) -> pd.DataFrame:
    """The rolling frame of every window of `data` (dated at its last row): the windows where `compute` is True
    are computed on `data`, the others are taken from `previous` (a frame this module made with the same settings
    that holds their dates, e.g. yesterday's; `monitor.models.incremental` says which windows can be kept)."""
    _check_horizon(horizon)
    values, names = check_frame(data, lags, window=window, thorough=False)
    columns = frame_columns(names)
    ends = data.index[window - 1 :]
    where = np.flatnonzero(compute)
    labels = ends[where]
    try:
        tables = window_tables(
            values, names, labels, lags, horizon, window, orthogonal=orthogonal, starts=where.tolist()
        )
    except InputDataError:
        check_frame(data, lags, window=window)  # names a constant or duplicated column
        raise
    fresh = measures_frame(tables, names, labels, pd.Index(columns))
    kept = previous.loc[ends[~compute], columns]
    out = pd.concat([kept, fresh]).sort_index() if len(kept) else fresh
    out.attrs.update(_settings(lags, horizon, window, orthogonal))
    return out


def tvp_connectedness(
    data: pd.DataFrame,
    lags: int,
    horizon: int,
    kappa1: float = 0.99,
    kappa2: float = 0.99,
    prior_window: int | None = None,
    *,
    orthogonal: bool = False,
) -> TvpConnectedness:
    """TVP-VAR connectedness (Antonakakis, Chatziantoniou & Gabauer 2020) with ConnectednessApproach's defaults:
    forgetting factors kappa1 = kappa2 = 0.99 and a prior from an OLS VAR with a constant on the first
    `prior_window` observations (None = 200 - lags, as the package's documentation runs it with
    `window.size = 200`; its `window.size = w` corresponds to prior_window = w - lags, clamped to what the VAR needs
    and the rows there are). The data are centred by the prior window's means (the package: the full sample's),
    so a date after the prior window never sees later data. Details of the filter: `monitor.models.tvp`.

    Returns per-date measures for every date of data, the per-date tables and the table of their average.
    The horizon H sums the MA terms h = 0..H-1 (ConnectednessApproach's nfore = H).
    """
    _check_horizon(horizon)
    values, names = check_frame(data, lags)
    for label, k in (("kappa1", kappa1), ("kappa2", kappa2)):
        if not 0.0 < k <= 1.0:
            raise InputDataError(f"{label} must be in (0, 1], got {k}")
    if prior_window is None:
        prior_window = default_prior_window(len(values), len(names), lags)
    else:
        need = min_observations(len(names), lags)
        if not need <= prior_window <= len(values):
            raise InputDataError(
                f"prior_window {prior_window} must be between {need} (what a VAR({lags}) in {len(names)} "
                f"variables needs) and the number of observations ({len(values)})"
            )
    phis, qs = tvp_var(values, lags, kappa1=kappa1, kappa2=kappa2, prior_window=prior_window)
    try:
        tables = 100.0 * fevd_shares(phis, qs, horizon, orthogonal=orthogonal)
    except np.linalg.LinAlgError as e:
        raise InputDataError("the TVP-VAR error covariance lost positive definiteness") from e
    if not np.isfinite(tables).all():
        raise InputDataError("the TVP-VAR produced a degenerate decomposition (non-finite shares)")
    frame = measures_frame(tables, names, data.index)
    average = SpilloverTable.from_matrix(
        tables.mean(axis=0),
        names,
        horizon=horizon,
        lags=lags,
        orthogonal=orthogonal,
        nobs=len(tables),
        method="TVP-VAR",
        extra={"kappa1": kappa1, "kappa2": kappa2, "prior_window": prior_window},
    )
    return TvpConnectedness(frame=frame, tables=tables, table=average, prior_window=prior_window)
