"""Frequency connectedness (Barunik & Krehlik 2018): the connectedness table split over frequency bands.

Conventions, for VAR slopes Phi (..., p, N, N) (statsmodels' `coefs`) and residual covariance S (..., N, N):

- MA terms: A_0..A_{H-1} (`monitor.models.fevd.ma_matrices`, the H of the time-domain table). The frequency
  response is their discrete Fourier transform on a grid of M >= H bins (zero-padded when M > H):
  Psi(w_k) = sum_h A_h exp(-i w_k h), w_k = 2 pi k / M, k = 0..M-1. Default M = H. Parseval makes the bins add
  up exactly to the time-domain sums over h, so the bands always add up to the time-domain table.
- Bands are given by cut points in periods (sessions for daily data): cuts (5, 20) make the bands "1-5" (periods
  up to 5 sessions, frequencies 2 pi / 5 <= w <= pi), "5-20" (2 pi / 20 <= w < 2 pi / 5) and "20+" (w < 2 pi / 20,
  including the zero frequency). Bin k belongs to the band of its folded frequency min(k, M - k) / M cycles per
  session; a bin exactly on a cut goes to the shorter-period band. A band that holds no bin is an error (raise
  H or the grid).
- Generalized (BK12 in frequencyConnectedness): numerator
  n_ij(d) = S_jj^-1 sum_{k in d} |(Psi(w_k) S)_ij|^2 / M; orthogonal (BK09): n_ij(d) = sum_{k in d}
  |(Psi(w_k) P)_ij|^2 / M with P = chol(S). Summed over all bins, n_ij equals the time-domain numerator.
- Absolute table of band d: C_ij(d) = 100 n_ij(d) / sum_j n_ij(all bins). It adds up over bands to the
  time-domain table C (rows receive, columns transmit); its measures (TCI, FROM, TO, NET, NPDC) add up to the
  time-domain ones too. TCI(d) = off-diagonal sum of C(d) / N.
- Within table of band d: C(d) rescaled to total 100 N like a time-domain table, W(d) = C(d) 100 N / sum C(d):
  connectedness inside the band alone (its TCI = 100 off-diagonal share of the band's variance).

Mapping to the R packages (checked in tests/monitor/models/test_frequency.py):

- frequencyConnectedness: `spilloverBK12(est, n.ahead = H - 1, partition)` (generalized) and `spilloverBK09`
  (orthogonal) use the same bins with M = n.ahead + 1 = H and our absolute tables (`$tables`, as fractions).
  A partition point w (radians) is the cut at period 2 pi / w (its printed "days" are pi / w, half the period).
  Its bins are labelled pi k / floor(M/2), which for odd M is not the bin's frequency 2 pi k / M, so a cut
  that falls between the two labels assigns one bin differently; `band_masks` takes any bin assignment, so the
  package's own one reproduces its printed tables. Its `overall`, `to`, `from`, `pairwise` with within=F are our
  absolute TCI, TO / N, FROM / N, -NPDC / N; with within=T, our within TCI, TO / N, FROM / N.
- ConnectednessApproach: `FrequencyConnectedness(Phi, Sigma, nfore = H - 1, partition)` with scenario "ABS"
  gives our absolute tables, "WTH" our within tables (it scales each band's table to total N, as here); its
  TO/FROM/NET are ours, its NPDC is minus ours (C_ij - C_ji).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from monitor.errors import InputDataError
from monitor.models.data import check_frame
from monitor.models.fevd import ma_matrices
from monitor.models.rolling import embed, frame_columns, measures_frame, sliding_moments, standardise, var_from_moments
from monitor.models.spillover import SpilloverTable

__all__ = [
    "FrequencyTables",
    "band_labels",
    "band_masks",
    "band_shares",
    "frequency_connectedness",
    "frequency_frame",
    "frequency_from_coefs",
    "parse_cuts",
    "rolling_frequency",
    "tvp_frequency",
    "within_tables",
]

CHUNK = 256  # models per FFT batch: bounds the (models, M, N, N) complex array of a long rolling run


def parse_cuts(text: str) -> tuple[float, ...]:
    """Cut points from "5,20" (periods in sessions), checked: increasing, each above 2 (the shortest period a
    sampled series has)."""
    try:
        cuts = tuple(float(c) for c in text.split(",") if c.strip())
    except ValueError:
        raise InputDataError(f"frequency cut points must be numbers of sessions such as 5,20, got {text!r}") from None
    return check_cuts(cuts)


def check_cuts(cuts: Sequence[float]) -> tuple[float, ...]:
    out = tuple(float(c) for c in cuts)
    if not out:
        raise InputDataError("give at least one frequency cut point in sessions, e.g. 5,20")
    if not all(np.isfinite(c) and c > 2 for c in out):
        raise InputDataError(
            f"frequency cut points must be periods above 2 sessions (2 is the shortest cycle), got {list(out)}"
        )
    if any(b <= a for a, b in itertools.pairwise(out)):
        raise InputDataError(f"frequency cut points must be increasing, got {list(out)}")
    return out


def band_labels(cuts: Sequence[float]) -> tuple[str, ...]:
    """Labels of the bands cut at these periods: (5, 20) -> ("1-5", "5-20", "20+")."""
    edges = [1.0, *cuts]
    return (*(f"{a:g}-{b:g}" for a, b in itertools.pairwise(edges)), f"{cuts[-1]:g}+")


def band_masks(cuts: Sequence[float], grid: int) -> np.ndarray:
    """Which DFT bins (0..grid-1) each band holds, boolean (bands, grid); see the module docstring."""
    cuts = check_cuts(cuts)
    folded = np.minimum(np.arange(grid), grid - np.arange(grid))  # k -> min(k, M - k): frequency k / M cycles
    # band = number of cuts whose frequency 1 / c is above the bin's: f c < 1 <=> min(k, M - k) c < M
    band = (folded[None, :] * np.asarray(cuts)[:, None] < grid).sum(axis=0)
    masks = band[None, :] == np.arange(len(cuts) + 1)[:, None]
    empty = [lab for lab, m in zip(band_labels(cuts), masks, strict=True) if not m.any()]
    if empty:
        raise InputDataError(
            f"a frequency grid of {grid} bins has no frequency in band(s) {', '.join(empty)}: raise the horizon "
            "(or the grid) or move the cut points apart"
        )
    return masks


def band_shares(
    coefs: np.ndarray,
    sigma: np.ndarray,
    horizon: int,
    masks: np.ndarray,
    *,
    grid: int | None = None,
    orthogonal: bool = False,
) -> np.ndarray:
    """Absolute band shares (..., bands, N, N) as fractions (rows receive): summed over bands that cover every
    bin they give `fevd_shares`' time-domain table. masks: (bands, M) bins per band; grid M defaults to H."""
    m = horizon if grid is None else int(grid)
    if m < horizon:
        raise InputDataError(f"the frequency grid ({m} bins) must be at least the horizon ({horizon} MA terms)")
    masks = np.asarray(masks, dtype=bool)
    if masks.ndim != 2 or masks.shape[1] != m:
        raise InputDataError(f"band masks must be (bands, {m}), got {masks.shape}")
    coefs = np.asarray(coefs, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    *batch, p, n, _ = coefs.shape
    flat_c = coefs.reshape(-1, p, n, n)
    flat_s = np.broadcast_to(sigma, (*batch, n, n)).reshape(-1, n, n)
    weights = masks.astype(float) / m  # (bands, M): the 1/M of Parseval
    out = np.empty((flat_c.shape[0], masks.shape[0], n, n))
    for s0 in range(0, flat_c.shape[0], CHUNK):
        c, s = flat_c[s0 : s0 + CHUNK], flat_s[s0 : s0 + CHUNK]
        response = np.fft.fft(ma_matrices(c, horizon), n=m, axis=-3)  # (B, M, N, N): Psi(w_k)
        right = np.linalg.cholesky(s) if orthogonal else s
        power = np.square(np.abs(response @ right[:, None]))  # (B, M, N, N)
        num = np.einsum("dk,bkij->bdij", weights, power)
        if not orthogonal:
            num = num / np.diagonal(s, axis1=-2, axis2=-1)[:, None, None, :]
        out[s0 : s0 + CHUNK] = num / num.sum(axis=(-3, -1), keepdims=True)
    return out.reshape(*batch, masks.shape[0], n, n)


def within_tables(absolute: np.ndarray) -> np.ndarray:
    """Within-band percent tables from absolute percent tables (..., N, N): each rescaled to total 100 N."""
    n = absolute.shape[-1]
    total = absolute.sum(axis=(-2, -1), keepdims=True)
    return absolute * (100.0 * n / total)


@dataclass(frozen=True, eq=False)
class FrequencyTables:
    """Per band (in `labels` order) the absolute and within tables, as SpilloverTables (with their measures);
    cuts in periods, grid M (DFT bins), horizon H (MA terms)."""

    cuts: tuple[float, ...]
    labels: tuple[str, ...]
    grid: int
    absolute: tuple[SpilloverTable, ...]
    within: tuple[SpilloverTable, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "cuts": list(self.cuts),
            "labels": list(self.labels),
            "grid": self.grid,
            "absolute": [t.to_dict() for t in self.absolute],
            "within": [t.to_dict() for t in self.within],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FrequencyTables:
        try:
            return cls(
                cuts=tuple(float(c) for c in d["cuts"]),
                labels=tuple(str(lab) for lab in d["labels"]),
                grid=int(d["grid"]),
                absolute=tuple(SpilloverTable.from_dict(t) for t in d["absolute"]),
                within=tuple(SpilloverTable.from_dict(t) for t in d["within"]),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise InputDataError(f"stored frequency tables are malformed: {e}") from e

    def summary(self) -> pd.DataFrame:
        """One row per band: absolute and within TCI, and each variable's absolute NET."""
        rows = {
            lab: {"TCI": a.tci, "TCI_within": w.tci, **{f"NET_{v}": x for v, x in zip(a.variables, a.net, strict=True)}}
            for lab, a, w in zip(self.labels, self.absolute, self.within, strict=True)
        }
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("band")


def _tables(
    shares: np.ndarray, names: tuple[str, ...], cuts: tuple[float, ...], grid: int, **kw: Any
) -> FrequencyTables:
    absolute = 100.0 * shares
    within = within_tables(absolute)
    return FrequencyTables(
        cuts=cuts,
        labels=band_labels(cuts),
        grid=grid,
        absolute=tuple(SpilloverTable.from_matrix(t, names, method="frequency, absolute", **kw) for t in absolute),
        within=tuple(SpilloverTable.from_matrix(t, names, method="frequency, within", **kw) for t in within),
    )


def frequency_from_coefs(
    coefs: np.ndarray,
    sigma: np.ndarray,
    horizon: int,
    cuts: Sequence[float],
    *,
    grid: int | None = None,
    variables: tuple[str, ...] | None = None,
    orthogonal: bool = False,
    nobs: int = 0,
) -> FrequencyTables:
    """Frequency connectedness of a VAR given its slopes coefs (p, N, N) and residual covariance sigma (N, N)."""
    cuts = check_cuts(cuts)
    m = horizon if grid is None else int(grid)
    coefs = np.asarray(coefs, dtype=float)
    names = variables or tuple(f"y{i + 1}" for i in range(coefs.shape[-1]))
    try:
        shares = band_shares(coefs, sigma, horizon, band_masks(cuts, m), grid=m, orthogonal=orthogonal)
    except np.linalg.LinAlgError as e:
        raise InputDataError("the residual covariance is not positive definite") from e
    if not np.isfinite(shares).all():
        raise InputDataError("the VAR is degenerate (nearly collinear columns); drop one of the collinear variables")
    return _tables(shares, names, cuts, m, horizon=horizon, lags=coefs.shape[0], orthogonal=orthogonal, nobs=nobs)


def frequency_connectedness(
    data: pd.DataFrame,
    lags: int,
    horizon: int,
    cuts: Sequence[float],
    *,
    grid: int | None = None,
    orthogonal: bool = False,
) -> FrequencyTables:
    """Full-sample frequency connectedness of a VAR(lags) with a constant (the VAR of
    `monitor.models.spillover.connectedness`, same data handling), bands cut at `cuts` periods."""
    values, names = check_frame(data, lags)
    coefs, sigma = _full_sample_var(values, lags)
    return frequency_from_coefs(
        coefs[0], sigma[0], horizon, cuts, grid=grid, variables=names, orthogonal=orthogonal, nobs=len(values) - lags
    )


def _full_sample_var(values: np.ndarray, lags: int) -> tuple[np.ndarray, np.ndarray]:
    emb = embed(standardise(values), lags)
    return var_from_moments(emb.sum(axis=0)[None], (emb.T @ emb)[None], len(emb), values.shape[1], lags)


def frequency_frame(shares: np.ndarray, names: Sequence[str], index: pd.Index, cuts: Sequence[float]) -> pd.DataFrame:
    """Per-date band measures from absolute shares (dates, bands, N, N): for each band label L the measures of
    `monitor.models.rolling.frame_columns` as "L:<measure>" (absolute) and "L:within:<measure>" (within)."""
    absolute = 100.0 * shares
    within = within_tables(absolute)
    base = frame_columns(names)
    parts = []
    for b, label in enumerate(band_labels(cuts)):
        for kind, tables in (("", absolute), ("within:", within)):
            part = measures_frame(tables[:, b], names, index)
            part.columns = pd.Index([f"{label}:{kind}{c}" for c in base])
            parts.append(part)
    return pd.concat(parts, axis=1)


def rolling_frequency(
    data: pd.DataFrame,
    lags: int,
    horizon: int,
    window: int,
    cuts: Sequence[float],
    *,
    grid: int | None = None,
    orthogonal: bool = False,
) -> pd.DataFrame:
    """Band measures of the rolling VAR of `monitor.models.spillover.rolling_connectedness` (same windows, dated
    at their last row), from the rolling engine's per-window slopes and covariances (no per-window refit)."""
    cuts = check_cuts(cuts)
    values, names = check_frame(data, lags, window=window)
    m = horizon if grid is None else int(grid)
    masks = band_masks(cuts, m)
    sums, cross = sliding_moments(embed(standardise(values), lags), window - lags)
    try:
        coefs, sigma = var_from_moments(sums, cross, window - lags, len(names), lags)
        shares = band_shares(coefs, sigma, horizon, masks, grid=m, orthogonal=orthogonal)
    except np.linalg.LinAlgError as e:
        raise InputDataError(
            "a window's regression is singular; run `monitor spillover --window` without --frequency to see where"
        ) from e
    if not np.isfinite(shares).all():
        raise InputDataError("a window gives a degenerate VAR (nearly collinear columns); use a longer window")
    return frequency_frame(shares, names, data.index[window - 1 :], cuts)


def tvp_frequency(
    data: pd.DataFrame,
    lags: int,
    horizon: int,
    cuts: Sequence[float],
    kappa1: float = 0.99,
    kappa2: float = 0.99,
    prior_window: int | None = None,
    *,
    grid: int | None = None,
    orthogonal: bool = False,
) -> tuple[pd.DataFrame, FrequencyTables]:
    """Band measures of the TVP-VAR of `monitor.models.spillover.tvp_connectedness` (same filter, prior and
    no-look-ahead centring) for every date, and the tables of the per-date absolute shares' average (each band's
    average table; they add up to the TVP average table, ConnectednessApproach's TABLE per band)."""
    from monitor.models.tvp import default_prior_window, tvp_var

    cuts = check_cuts(cuts)
    values, names = check_frame(data, lags)
    if prior_window is None:
        prior_window = default_prior_window(len(values), len(names), lags)
    phis, qs = tvp_var(values, lags, kappa1=kappa1, kappa2=kappa2, prior_window=prior_window)
    m = horizon if grid is None else int(grid)
    try:
        shares = band_shares(phis, qs, horizon, band_masks(cuts, m), grid=m, orthogonal=orthogonal)
    except np.linalg.LinAlgError as e:
        raise InputDataError("the TVP-VAR error covariance lost positive definiteness") from e
    if not np.isfinite(shares).all():
        raise InputDataError("the TVP-VAR produced a degenerate decomposition (non-finite shares)")
    frame = frequency_frame(shares, names, data.index, cuts)
    average = _tables(
        shares.mean(axis=0), names, cuts, m, horizon=horizon, lags=lags, orthogonal=orthogonal, nobs=len(shares)
    )
    return frame, average
