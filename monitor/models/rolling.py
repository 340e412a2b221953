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

import numpy as np
import pandas as pd

from monitor.errors import InputDataError
from monitor.models.fevd import fevd_shares, measures

BLOCK = 64


def embed(values: np.ndarray, lags: int) -> np.ndarray:
    """Rows z_t = (y_{t-1}, ..., y_{t-p}, y_t) for t = p..T-1, shape (T - p, N (p + 1))."""
    t, n = values.shape
    out = np.empty((t - lags, n * (lags + 1)))
    for lag in range(1, lags + 1):
        out[:, (lag - 1) * n : lag * n] = values[lags - lag : t - lag]
    out[:, lags * n :] = values[lags:]
    return out


def sliding_moments(emb: np.ndarray, length: int, block: int = BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """Sums (nw, D) and cross-products (nw, D, D) of every run of `length` consecutive rows of emb."""
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
            sums[s0 + 1 : s0 + k] = sums[s0] + np.cumsum(add - rem, axis=0)
            delta = add[:, :, None] * add[:, None, :] - rem[:, :, None] * rem[:, None, :]
            cross[s0 + 1 : s0 + k] = cross[s0] + np.cumsum(delta, axis=0)
    return sums, cross


def window_moments(emb: np.ndarray, starts: Sequence[int], length: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums and cross-products of the windows emb[s : s + length] for the given starts, computed directly."""
    blocks = np.stack([emb[s : s + length] for s in starts])
    return blocks.sum(axis=1), np.swapaxes(blocks, 1, 2) @ blocks


def var_from_moments(
    sums: np.ndarray, cross: np.ndarray, length: int, n: int, lags: int
) -> tuple[np.ndarray, np.ndarray]:
    """VAR slopes (nw, p, N, N) (statsmodels' `coefs` layout) and residual covariance (nw, N, N) per window."""
    kx = n * lags
    centred = cross - sums[:, :, None] * sums[:, None, :] / length
    cxx, cxy, cyy = centred[:, :kx, :kx], centred[:, :kx, kx:], centred[:, kx:, kx:]
    slopes = np.linalg.solve(cxx, cxy)  # (nw, Np, N): row (lag, regressor), column = equation
    coefs = slopes.reshape(-1, lags, n, n).swapaxes(-1, -2)
    ssr = cyy - np.swapaxes(cxy, -1, -2) @ slopes
    sigma = (ssr + np.swapaxes(ssr, -1, -2)) / (2.0 * (length - kx - 1))
    return coefs, sigma


def standardise(values: np.ndarray) -> np.ndarray:
    return (values - values.mean(axis=0)) / values.std(axis=0)


def _check_windows(
    sums: np.ndarray, cross: np.ndarray, length: int, names: Sequence[str], ends: Sequence[object]
) -> None:
    # A column that does not move inside a window makes that window's regression singular: say which and where.
    n = len(names)
    var = (np.diagonal(cross, axis1=1, axis2=2) - sums**2 / length) / length
    bad = np.argwhere(var < 1e-10)
    if bad.size:
        w, col = (int(v) for v in bad[0])
        lag = col // n + 1
        what = "" if col >= var.shape[1] - n else f" (as lag {lag})"
        raise InputDataError(
            f"column {names[col % n]} is constant{what} in the window ending {ends[w]}; a rolling VAR cannot be "
            "estimated there: use a longer window, or drop or transform that variable"
        )


def window_tables(
    values: np.ndarray,
    names: Sequence[str],
    ends: Sequence[object],
    lags: int,
    horizon: int,
    window: int,
    *,
    orthogonal: bool = False,
    starts: Sequence[int] | None = None,
) -> np.ndarray:
    """Percent connectedness tables (nw, N, N) for the windows of `window` raw rows of `values`.

    starts=None: every window, sliding; otherwise only the windows starting at those raw rows (computed directly,
    for incremental updates). `ends` labels each window in error messages.
    """
    n = values.shape[1]
    length = window - lags
    emb = embed(standardise(values), lags)
    if starts is None:
        sums, cross = sliding_moments(emb, length)
    else:
        sums, cross = window_moments(emb, starts, length)
    _check_windows(sums, cross, length, names, ends)
    try:
        coefs, sigma = var_from_moments(sums, cross, length, n, lags)
        shares = fevd_shares(coefs, sigma, horizon, orthogonal=orthogonal)
    except np.linalg.LinAlgError as e:
        raise InputDataError(
            "a window's regression is singular (some columns are exact combinations of others inside a window); "
            "use a longer window or drop one of the collinear variables"
        ) from e
    if not np.isfinite(shares).all():
        w = int(np.argwhere(~np.isfinite(shares))[0][0])
        raise InputDataError(
            f"the window ending {ends[w]} gives a degenerate VAR (nearly collinear columns); "
            "use a longer window or drop one of the collinear variables"
        )
    tables: np.ndarray = 100.0 * shares
    return tables


def frame_columns(names: Sequence[str]) -> list[str]:
    """Columns of a per-date connectedness frame, in order."""
    cols = ["TCI", "cTCI"]
    for prefix in ("TO", "FROM", "NET", "NPT"):
        cols += [f"{prefix}_{v}" for v in names]
    n = len(names)
    cols += [f"NPDC_{names[i]}_{names[j]}" for i in range(n) for j in range(i + 1, n)]
    return cols


def measures_frame(tables: np.ndarray, names: Sequence[str], index: pd.Index) -> pd.DataFrame:
    """Per-date measures of percent tables (nw, N, N): TCI, cTCI, TO_, FROM_, NET_, NPT_ and NPDC_<i>_<j>, i < j."""
    m = measures(tables)
    n = len(names)
    iu, ju = np.triu_indices(n, k=1)
    block = np.concatenate(
        [m.tci[:, None], m.ctci[:, None], m.to, m.from_, m.net, m.npt.astype(float), m.npdc[:, iu, ju]], axis=1
    )
    return pd.DataFrame(block, index=index, columns=frame_columns(names))
