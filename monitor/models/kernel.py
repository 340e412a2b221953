"""The per-window work of the rolling engine and the bootstrap, batched across windows (or bootstrap paths):
the VAR from each window's sums and cross-products, the MA recursion and the decomposition, each step one numpy
operation over the whole stack, so that the Python overhead is per stack, not per window.

Both the rolling engine (monitor.models.rolling) and the bootstrap (monitor.models.bands) call these, and
`monitor.models.rolling.window_ma` returns each window's MA matrices and residual covariance, the inputs of any
decomposition (e.g. a frequency-domain one) of the rolling windows. With numba installed (the `fast` extra), the
compiled kernels of monitor.models.fused do the rolling engine's sliding pass and the bootstrap's draws instead;
these stay the reference they are tested against, and the path without numba.

Measured and not kept (bench/models.py, interleaved against the previous commit, results equal to 1e-15): a
Cholesky factor with triangular solves written as batched numpy loops (more numpy calls than the one batched LU
solve, which is bound by the same per-matrix overhead), a time-major MA recursion, centring only the blocks the
regression reads, and summing only the upper triangle of the sliding cross-products: none was faster on this
machine's OpenBLAS/numpy, within the noise of a shared machine.
"""

from __future__ import annotations

import numpy as np


def fit_from_moments(
    sums: np.ndarray, cross: np.ndarray, length: int, n: int, lags: int
) -> tuple[np.ndarray, np.ndarray]:
    """VAR(p) with a constant of each window from its sums (K, D) and cross-products (K, D, D) of the rows
    z_t = (y_{t-1}, ..., y_{t-p}, y_t), D = N (p + 1), over `length` rows: slopes as coefs (K, p, N, N)
    (statsmodels' layout) and residual covariance (K, N, N) (sigma_u: SSR / (L - Np - 1)).

    Centring absorbs the constant (C = M - s s' / L); raises np.linalg.LinAlgError when a window's regressors are
    exactly collinear."""
    kx = n * lags
    centred = cross - sums[:, :, None] * sums[:, None, :] / length
    cxx, cxy, cyy = centred[:, :kx, :kx], centred[:, :kx, kx:], centred[:, kx:, kx:]
    slopes = np.linalg.solve(cxx, cxy)  # (K, Np, N): row (lag, regressor), column = equation
    coefs = slopes.reshape(-1, lags, n, n).swapaxes(-1, -2)
    ssr = cyy - np.swapaxes(cxy, -1, -2) @ slopes
    sigma = (ssr + np.swapaxes(ssr, -1, -2)) / (2.0 * (length - kx - 1))
    return coefs, sigma


def ma_matrices(coefs: np.ndarray, horizon: int) -> np.ndarray:
    """MA matrices A_0..A_{H-1}, shape (..., H, N, N), from coefs of shape (..., p, N, N)."""
    *batch, p, n, _ = coefs.shape
    flat = coefs.reshape(-1, p, n, n)
    # buf[:, k] = A_{k - p + 1} with zeros before A_0, so that (A_{h-p}, ..., A_{h-1}) is the contiguous slice
    # buf[:, h - 1 : h + p - 1] and each step is one matmul with (Phi_p, ..., Phi_1) side by side.
    buf = np.zeros((flat.shape[0], horizon + p - 1, n, n))
    buf[:, p - 1] = np.eye(n)
    side = np.concatenate(flat[:, ::-1].swapaxes(0, 1), axis=-1) if p > 1 else flat[:, 0]  # (B, N, pN)
    for h in range(1, horizon):
        buf[:, h + p - 1] = side @ buf[:, h - 1 : h + p - 1].reshape(-1, p * n, n)
    return buf[:, p - 1 :].reshape(*batch, horizon, n, n)


def fevd_shares(coefs: np.ndarray, sigma: np.ndarray, horizon: int, *, orthogonal: bool = False) -> np.ndarray:
    """Row-normalised variance shares theta (..., N, N) (rows receive, columns transmit), summing h = 0..H-1."""
    return shares_from_ma(ma_matrices(coefs, horizon), sigma, orthogonal=orthogonal)


def shares_from_ma(ma: np.ndarray, sigma: np.ndarray, *, orthogonal: bool = False) -> np.ndarray:
    """The decomposition of MA matrices (..., H, N, N) and residual covariances (..., N, N)."""
    *batch, horizon, n, _ = ma.shape
    # One matmul per model: the H MA matrices stacked vertically times S (or its Cholesky factor).
    right = np.linalg.cholesky(sigma) if orthogonal else sigma
    impact = (ma.reshape(*batch, horizon * n, n) @ right).reshape(*batch, horizon, n, n)
    num = np.square(impact).sum(axis=-3)
    if not orthogonal:
        num = num / np.diagonal(sigma, axis1=-2, axis2=-1)[..., None, :]
    result: np.ndarray = num / num.sum(axis=-1, keepdims=True)
    return result
