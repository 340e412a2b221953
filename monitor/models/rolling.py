"""The fast rolling VAR/connectedness engine: sliding cross-products, one batched solve, batched MA and FEVD.

For every window the VAR(p) with a constant is the OLS regression of y_t on (1, y_{t-1}, ..., y_{t-p}) over the
window's W - p regression rows. With z_t = (y_{t-1}, ..., y_{t-p}, y_t), the window sums s = sum z_t and
M = sum z_t z_t' give everything: the centred cross-products C = M - s s'/L (L = W - p) hold the slope normal
equations (the constant is absorbed by centring), the slopes solve C_xx B = C_xy, and the residual covariance is
(C_yy - C_xy' B) / (L - Np - 1), the statsmodels convention (sigma_u, degrees-of-freedom adjusted; the FEVD does
not depend on that scale).

The window sums slide: M(s+1) = M(s) + z_new z_new' - z_old z_old'. To keep rounding drift bounded the sums are
recomputed from scratch at the start of every block of `BLOCK` windows, and the data are standardised first (the
VAR slopes of standardised data are a similarity transform of the raw ones and the decompositions are invariant
to it), so long samples of trending levels do not lose digits to cancellation.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from monitor.errors import InputDataError
from monitor.models import fused
from monitor.models.fevd import measures
from monitor.models.kernel import fit_from_moments, ma_matrices, shares_from_ma

BLOCK = 128  # windows between recomputations of the sums from scratch


def embed(values: np.ndarray, lags: int) -> np.ndarray:
    """Rows z_t = (y_{t-1}, ..., y_{t-p}, y_t) for t = p..T-1, shape (T - p, N (p + 1))."""
    t, n = values.shape
    out = np.empty((t - lags, n * (lags + 1)))
    for lag in range(1, lags + 1):
        out[:, (lag - 1) * n : lag * n] = values[lags - lag : t - lag]
    out[:, lags * n :] = values[lags:]
    return out


def sliding_moments(emb: np.ndarray, length: int, block: int = BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """Sums (nw, D) and cross-products (nw, D, D) of every run of `length` consecutive rows of emb.

    Each block of windows starts from sums computed directly; the next windows add the running sum of their
    slides (row in minus row out). Blocks keep the slide terms small enough to stay in cache.
    """
    rows, d = emb.shape
    nw = rows - length + 1
    sums = np.empty((nw, d))
    cross = np.empty((nw, d, d))
    for s0 in range(0, nw, block):
        k = min(block, nw - s0)
        head = emb[s0 : s0 + length]
        sums[s0] = head.sum(axis=0)
        cross[s0] = head.T @ head
        if k > 1:
            add = emb[s0 + length : s0 + length + k - 1]
            rem = emb[s0 : s0 + k - 1]
            np.cumsum(add - rem, axis=0, out=sums[s0 + 1 : s0 + k])
            sums[s0 + 1 : s0 + k] += sums[s0]
            delta = np.einsum("ri,rj->rij", add, add)
            delta -= np.einsum("ri,rj->rij", rem, rem)
            np.cumsum(delta, axis=0, out=cross[s0 + 1 : s0 + k])
            cross[s0 + 1 : s0 + k] += cross[s0]
    return sums, cross


def window_moments(values: np.ndarray, starts: Sequence[int], window: int, lags: int) -> tuple[np.ndarray, np.ndarray]:
    """Zero sums and centred cross-products of the embedded windows values[s : s + window], computed directly
    (each window standardised by its own mean and scale, so nothing cancels), for a few windows."""
    n = values.shape[1]
    sums = np.zeros((len(starts), n * (lags + 1)))
    cross = np.empty((len(starts), n * (lags + 1), n * (lags + 1)))
    for k, s in enumerate(starts):
        block = values[s : s + window]
        centred = block - block.sum(axis=0) / window
        scale = np.sqrt(np.einsum("ij,ij->j", centred, centred) / window)
        emb = embed(centred / np.where(scale > 0, scale, 1.0), lags)
        emb -= emb.sum(axis=0) / len(emb)
        cross[k] = emb.T @ emb
    return sums, cross


def var_from_moments(
    sums: np.ndarray, cross: np.ndarray, length: int, n: int, lags: int
) -> tuple[np.ndarray, np.ndarray]:
    """VAR slopes (nw, p, N, N) (statsmodels' `coefs` layout) and residual covariance (nw, N, N) per window."""
    return fit_from_moments(sums, cross, length, n, lags)


def standardise(values: np.ndarray) -> np.ndarray:
    return (values - values.mean(axis=0)) / values.std(axis=0)


def _label(ends: pd.Index, w: int) -> str:
    v = ends[w]
    return v.strftime("%Y-%m-%d") if isinstance(v, pd.Timestamp) else str(v)


def _check_windows(sums: np.ndarray, cross: np.ndarray, length: int, names: Sequence[str], ends: pd.Index) -> None:
    _check_variances((np.diagonal(cross, axis1=1, axis2=2) - sums**2 / length) / length, names, ends)


def _check_variances(var: np.ndarray, names: Sequence[str], ends: pd.Index) -> None:
    # A column that does not move inside a window makes that window's regression singular: say which and where.
    n = len(names)
    if var.min() < 1e-10:
        bad = np.argwhere(var < 1e-10)
        w, col = (int(v) for v in bad[0])
        what = "" if col >= var.shape[1] - n else f" (as lag {col // n + 1})"
        raise InputDataError(
            f"column {names[col % n]} is constant{what} in the window ending {_label(ends, w)}; a rolling VAR "
            "cannot be estimated there: use a longer window, or drop or transform that variable"
        )


_SINGULAR = (
    "a window's regression is singular (some columns are exact combinations of others inside a window); "
    "use a longer window or drop one of the collinear variables"
)


def window_ma(
    values: np.ndarray,
    names: Sequence[str],
    ends: pd.Index,
    lags: int,
    horizon: int,
    window: int,
    *,
    starts: Sequence[int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each window's MA matrices A_0..A_{H-1} (nw, H, N, N) and residual covariance sigma_u (nw, N, N) of the
    VAR(p) with a constant on its raw rows, in the data's units: what any decomposition of the rolling VARs
    (generalized, orthogonal, frequency-domain) reads. Windows as in `window_tables`."""
    ma, sigma, scale = _standardised_windows(values, names, ends, lags, horizon, window, starts)
    # The engine fits standardised data z = (y - m) / s: A_y = S A_z S^-1 and Sigma_y = S Sigma_z S, S = diag(s).
    s = scale[:, None, :, None]
    return ma * s / scale[:, None, None, :], sigma * scale[:, :, None] * scale[:, None, :]


def _standardised_windows(
    values: np.ndarray,
    names: Sequence[str],
    ends: pd.Index,
    lags: int,
    horizon: int,
    window: int,
    starts: Sequence[int] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MA matrices and residual covariances of the windows' standardised data, and the scales (nw, N) used."""
    n = values.shape[1]
    length = window - lags
    if starts is None:
        sums, cross = sliding_moments(embed(standardise(values), lags), length)
        scale = np.broadcast_to(values.std(axis=0), (len(sums), n))
    else:
        sums, cross = window_moments(values, starts, window, lags)
        blocks = np.stack([values[s : s + window] for s in starts])
        scale = np.sqrt(((blocks - blocks.mean(axis=1, keepdims=True)) ** 2).mean(axis=1))
        scale = np.where(scale > 0, scale, 1.0)
    _check_windows(sums, cross, length, names, ends)
    try:
        coefs, sigma = fit_from_moments(sums, cross, length, n, lags)
    except np.linalg.LinAlgError as e:
        raise InputDataError(_SINGULAR) from e
    return ma_matrices(coefs, horizon), sigma, scale


def window_tables(
    values: np.ndarray,
    names: Sequence[str],
    ends: pd.Index,
    lags: int,
    horizon: int,
    window: int,
    *,
    orthogonal: bool = False,
    starts: Sequence[int] | None = None,
) -> np.ndarray:
    """Percent connectedness tables (nw, N, N) for the windows of `window` raw rows of `values`.

    starts=None: every window, sliding; otherwise only the windows starting at those raw rows (computed directly,
    for incremental updates). `ends` holds each window's last date, for error messages.
    """
    if starts is None and fused.enabled():  # the compiled kernel: one pass per window, sliding sums to shares
        length = window - lags
        shares, var, status = fused.rolling_tables(
            embed(standardise(values), lags), length, len(names), lags, horizon, orthogonal, BLOCK
        )
        _check_variances(var, names, ends)
        if status.any():
            raise InputDataError(_SINGULAR)
    else:
        ma, sigma, _ = _standardised_windows(values, names, ends, lags, horizon, window, starts)
        try:
            shares = shares_from_ma(ma, sigma, orthogonal=orthogonal)
        except np.linalg.LinAlgError as e:
            raise InputDataError(_SINGULAR) from e
    if not np.isfinite(shares).all():
        w = int(np.argwhere(~np.isfinite(shares))[0][0])
        raise InputDataError(
            f"the window ending {_label(ends, w)} gives a degenerate VAR (nearly collinear columns); "
            "use a longer window or drop one of the collinear variables"
        )
    tables: np.ndarray = 100.0 * shares
    return tables


@lru_cache(maxsize=16)
def upper_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    iu, ju = np.triu_indices(n, k=1)
    return iu, ju


@lru_cache(maxsize=64)
def _columns(names: tuple[str, ...]) -> tuple[str, ...]:
    cols = ["TCI", "cTCI"]
    for prefix in ("TO", "FROM", "NET", "NPT"):
        cols += [f"{prefix}_{v}" for v in names]
    n = len(names)
    cols += [f"NPDC_{names[i]}_{names[j]}" for i in range(n) for j in range(i + 1, n)]
    return tuple(cols)


def frame_columns(names: Sequence[str]) -> list[str]:
    """Columns of a per-date connectedness frame, in order."""
    return list(_columns(tuple(names)))


def measures_frame(
    tables: np.ndarray, names: Sequence[str], index: pd.Index, columns: pd.Index | None = None
) -> pd.DataFrame:
    """Per-date measures of percent tables (nw, N, N): TCI, cTCI, TO_, FROM_, NET_, NPT_ and NPDC_<i>_<j>, i < j.

    columns: `frame_columns(names)` as an Index when the caller has it (saves building it again)."""
    m = measures(tables)
    iu, ju = upper_pairs(len(names))
    block = np.concatenate(
        [m.tci[:, None], m.ctci[:, None], m.to, m.from_, m.net, m.npt.astype(float), m.npdc[:, iu, ju]], axis=1
    )
    return pd.DataFrame(block, index=index, columns=frame_columns(names) if columns is None else columns)
