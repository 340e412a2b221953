"""The per-window work of the rolling engine and the bootstrap, vectorised across windows (or bootstrap paths).

Thousands of tiny problems (a 12x12 solve, a 6x6 MA recursion per window) cost numpy's per-matrix overhead more
than their flops: `np.linalg.solve` on a stack of 12x12 systems spends ~20 microseconds per system copying and
calling LAPACK for a few thousand flops. Here each step is one numpy operation over the whole stack instead:

- `fit_from_moments`: the VAR slopes and residual covariance from the window sums and cross-products; only the
  blocks the regression reads are centred (no (K, D, D) temporaries), one batched solve.
- `ma_matrices`: A_h = sum_l Phi_l A_{h-l}, time-major (H, K, N, N) so that every step multiplies contiguous
  (K, N, N) stacks.
- `fevd_shares`: the generalized (or orthogonal) decomposition from those, one batched product for all horizons.

The results equal the textbook per-window computation (statsmodels' VAR, the MA recursion, the FEVD formulas) to
rounding: the same solve on the same centred blocks, products summed in another order (a few units of
cond(C_xx) * eps on data standardised per window; tests/monitor/models/test_kernel.py checks 1e-10, relative,
against the previous batched path and the statsmodels loop).

`window_ma` (in monitor.models.rolling) returns each window's MA coefficients and residual covariance, the inputs
of any decomposition (e.g. a frequency-domain one) that reads the rolling engine's windows.
"""

from __future__ import annotations

import numpy as np


def fit_from_moments(
    sums: np.ndarray, cross: np.ndarray, length: int, n: int, lags: int
) -> tuple[np.ndarray, np.ndarray]:
    """VAR(p) with a constant of each window from its sums (K, D) and cross-products (K, D, D) of the rows
    z_t = (y_{t-1}, ..., y_{t-p}, y_t), D = N (p + 1), over `length` rows: slopes as coefs (K, p, N, N)
    (statsmodels' layout) and residual covariance (K, N, N) (sigma_u: SSR / (L - Np - 1)).

    Raises np.linalg.LinAlgError when a window's regressors are exactly collinear."""
    kx = n * lags
    sx, sy = sums[:, :kx], sums[:, kx:]
    # Centring absorbs the constant: C = M - s s' / L, computed only for the blocks the regression reads, each
    # straight into a contiguous stack (the batched solve would otherwise copy a strided one).
    cxx = cross[:, :kx, :kx] - sx[:, :, None] * (sx[:, None, :] / length)
    cxy = cross[:, :kx, kx:] - sx[:, :, None] * (sy[:, None, :] / length)
    cyy = cross[:, kx:, kx:] - sy[:, :, None] * (sy[:, None, :] / length)
    # One LU solve per window: on stacks of 12x12 systems it beats a Cholesky factor plus triangular solves
    # written as numpy loops (measured: both are bound by per-call overhead, the solve has fewer calls).
    slopes = np.linalg.solve(cxx, cxy)  # (K, Np, N): row (lag, regressor), column = equation
    ssr = cyy - np.swapaxes(cxy, -1, -2) @ slopes
    sigma = (ssr + np.swapaxes(ssr, -1, -2)) / (2.0 * (length - kx - 1))
    coefs = slopes.reshape(-1, lags, n, n).swapaxes(-1, -2)
    return coefs, sigma


def ma_matrices(coefs: np.ndarray, horizon: int) -> np.ndarray:
    """MA matrices A_0..A_{H-1}, shape (..., H, N, N), from coefs of shape (..., p, N, N)."""
    *batch, p, n, _ = coefs.shape
    flat = coefs.reshape(-1, p, n, n)
    phis = [np.ascontiguousarray(flat[:, lag]) for lag in range(p)]
    ma = np.empty((horizon, flat.shape[0], n, n))  # time-major: each A_h is one contiguous (K, N, N) stack
    ma[0] = np.eye(n)
    for h in range(1, horizon):
        np.matmul(phis[0], ma[h - 1], out=ma[h])
        for lag in range(2, min(h, p) + 1):
            ma[h] += phis[lag - 1] @ ma[h - lag]
    return np.moveaxis(ma, 0, 1).reshape(*batch, horizon, n, n)


def fevd_shares(coefs: np.ndarray, sigma: np.ndarray, horizon: int, *, orthogonal: bool = False) -> np.ndarray:
    """Row-normalised variance shares theta (..., N, N) (rows receive, columns transmit), summing h = 0..H-1."""
    ma = ma_matrices(coefs, horizon)
    return shares_from_ma(ma, sigma, orthogonal=orthogonal)


def shares_from_ma(ma: np.ndarray, sigma: np.ndarray, *, orthogonal: bool = False) -> np.ndarray:
    """The decomposition of MA matrices (..., H, N, N) and residual covariances (..., N, N)."""
    *batch, horizon, n, _ = ma.shape
    # One matmul per model: the H MA matrices stacked vertically times S (or its Cholesky factor).
    right = np.linalg.cholesky(sigma) if orthogonal else sigma
    impact = ma.reshape(*batch, horizon * n, n) @ right
    num = np.square(impact).reshape(*batch, horizon, n, n).sum(axis=-3)
    if not orthogonal:
        num = num / np.diagonal(sigma, axis1=-2, axis2=-1)[..., None, :]
    result: np.ndarray = num / num.sum(axis=-1, keepdims=True)
    return result
