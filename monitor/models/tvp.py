"""TVP-VAR by Kalman filter with forgetting factors (Koop & Korobilis 2014; Antonakakis, Chatziantoniou &
Gabauer 2020), following the defaults of the R package ConnectednessApproach (`TVPVAR` with `BayesPrior`):

- Prior: OLS VAR(p) with a constant on the first `prior_window` raw observations: its slope coefficients are the
  prior mean, the matching block of (X'X)^+ (one copy per equation) the prior variance, and SSE / (rows) the
  initial error covariance Q_0. By default the first 200 - p rows (`default_prior_window`), as the package's
  documentation runs it (`window.size = 200`, whose BayesPrior then takes `size = 200 - p` rows).
- Filter on the data centred, without a constant. At step t (0-based):
  Q_t = kappa2 Q_{t-1} + (1 - kappa2) e_t e_t', with e_t the one-step error of the previous step's coefficients
  (for t <= p, while there are no usable lags yet, e_t e_t' is replaced by 0.1 y_t y_t'); the coefficient
  covariance is inflated by 1/kappa1 before each update; the first p steps keep the prior.
- A step whose coefficients give an explosive VAR (largest companion root above 1) keeps the previous step's
  coefficients for the decomposition and shrinks the state to 0.99 times the previous state, as the package
  does; like the package, the next step's error still uses the rejected coefficients.
- Every date gets (Phi_t, Q_t), including the first p ones that only carry the prior, as in the package.

No look-ahead: the package centres the data by their full-sample means, so every date's estimate moves when later
data arrive. Here they are centred by the prior window's means, so the estimate at a date after the prior window
depends on the data up to that date only (dates inside the prior window are a burn-in that sees the whole prior
window). `means=` reproduces the package's centring exactly (the tests compare the two).
"""

from __future__ import annotations

import numpy as np

from monitor.models.data import min_observations
from monitor.models.tvp_filter import kalman_forgetting

PACKAGE_WINDOW = 200  # ConnectednessApproach's window.size in its documented TVP-VAR examples


def default_prior_window(n_obs: int, n_vars: int, lags: int) -> int:
    """The first 200 - p rows, as the package's documentation uses it, clamped between what a VAR(p) with a
    constant needs and the rows there are."""
    return max(min_observations(n_vars, lags), min(PACKAGE_WINDOW - lags, n_obs))


def bayes_prior(values: np.ndarray, lags: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prior mean (p N^2,), prior variance (p N^2, p N^2) and Q_0 (N, N) from the first `size` raw rows.

    The state is ordered lag-major, then equation, then regressor: beta[l N^2 + i N + j] = Phi_{l+1}[i, j].
    """
    n = values.shape[1]
    head = values[:size]
    rows = size - lags
    x = np.ones((rows, 1 + n * lags))
    for lag in range(1, lags + 1):
        x[:, 1 + (lag - 1) * n : 1 + lag * n] = head[lags - lag : size - lag]
    y = head[lags:]
    xtx_inv = np.linalg.pinv(x.T @ x)
    b = xtx_inv @ (x.T @ y)  # (1 + Np, N): row = regressor, column = equation
    coefs = b[1:].reshape(lags, n, n).swapaxes(1, 2)  # (p, N, N): Phi_l[i, j]
    resid = y - x @ b
    q0 = resid.T @ resid / rows
    g = xtx_inv[1:, 1:].reshape(lags, n, lags, n)  # (lag1, j1, lag2, j2)
    var = np.zeros((lags, n, n, lags, n, n))
    for i in range(n):
        var[:, i, :, :, i, :] = g
    m = lags * n * n
    return coefs.reshape(m), var.reshape(m, m), q0


def tvp_var(
    values: np.ndarray,
    lags: int,
    *,
    kappa1: float = 0.99,
    kappa2: float = 0.99,
    prior_window: int,
    means: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Filtered coefficients (T, p, N, N) and error covariances (T, N, N) for every date of values (T, N).

    means: what the data are centred by; None = the prior window's means (no look-ahead); the package's own
    choice is values.mean(axis=0).
    """
    n = values.shape[1]
    beta0, v0, q0 = bayes_prior(values, lags, prior_window)
    x = values - (values[:prior_window].mean(axis=0) if means is None else means)
    # The filter orders the state by equation (monitor.models.tvp_filter): position i N p + l N + j holds
    # Phi_{l+1}[i, j], lag-major index l N^2 + i N + j.
    order = np.arange(lags * n * n).reshape(lags, n, n).swapaxes(0, 1).reshape(-1)
    coefs, qs = kalman_forgetting(x, lags, beta0[order], v0[np.ix_(order, order)], q0, kappa1, kappa2)
    return coefs.reshape(-1, n, lags, n).swapaxes(1, 2), qs
