"""Simulated stable VARs for model tests (synthetic data generated in the test run, nothing stored)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def stable_coefs(n_vars: int, lags: int, rng: np.random.Generator, max_root: float = 0.85) -> np.ndarray:
    while True:
        coefs = rng.normal(scale=0.5 / (n_vars * lags) ** 0.5, size=(lags, n_vars, n_vars))
        comp = np.zeros((n_vars * lags, n_vars * lags))
        comp[:n_vars] = np.concatenate(list(coefs), axis=1)
        comp[n_vars:, :-n_vars] = np.eye(n_vars * (lags - 1))
        if np.max(np.abs(np.linalg.eigvals(comp))) < max_root:
            return coefs


def simulate_var(
    n_obs: int, n_vars: int, lags: int, seed: int, *, correlated: bool = True, start: str = "2015-01-05"
) -> pd.DataFrame:
    """A stable VAR(lags) with a constant and (by default) correlated shocks, on business days."""
    rng = np.random.default_rng(seed)
    coefs = stable_coefs(n_vars, lags, rng)
    mix = np.eye(n_vars) + (0.5 * rng.normal(size=(n_vars, n_vars)) if correlated else 0.0)
    burn = 100
    shocks = rng.normal(size=(n_obs + burn, n_vars)) @ mix.T
    y = np.zeros((n_obs + burn, n_vars))
    for t in range(lags, n_obs + burn):
        y[t] = 0.2 + sum(coefs[lag] @ y[t - 1 - lag] for lag in range(lags)) + shocks[t]
    index = pd.bdate_range(start, periods=n_obs)
    return pd.DataFrame(y[burn:], index=index, columns=[f"y{i + 1}" for i in range(n_vars)])


def reference_table(results: object, horizon: int, *, orthogonal: bool = False) -> np.ndarray:
    """The percent table of a statsmodels VARResults computed the textbook way (independent of monitor.models):
    generalized from statsmodels' MA matrices, orthogonal from statsmodels' own FEVD."""
    if orthogonal:
        return 100.0 * np.asarray(results.fevd(horizon).decomp)[:, horizon - 1, :]  # type: ignore[attr-defined]
    sigma = np.asarray(results.sigma_u)  # type: ignore[attr-defined]
    ma = results.ma_rep(horizon - 1)  # type: ignore[attr-defined]
    n = sigma.shape[0]
    num = np.array(
        [[sum((ma[h][i] @ sigma[:, j]) ** 2 for h in range(horizon)) / sigma[j, j] for j in range(n)] for i in range(n)]
    )
    return 100.0 * num / num.sum(axis=1, keepdims=True)
