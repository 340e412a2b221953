"""Simulated data for the benchmarks: a stable VAR(p) with correlated shocks (a 200-row burn-in is dropped)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def stable_var(
    n_obs: int,
    n_vars: int,
    lags: int,
    *,
    scale: float,
    intercept: float = 0.0,
    seed: int = 20240601,
    start: str = "2005-01-03",
    prefix: str = "v",
    first: int = 1,
) -> pd.DataFrame:
    """Coefficients drawn at `scale` until the companion matrix's largest root is below 0.9."""
    rng = np.random.default_rng(seed)
    n, p = n_vars, lags
    while True:
        coefs = rng.normal(scale=scale, size=(p, n, n))
        comp = np.zeros((n * p, n * p))
        comp[:n] = np.concatenate(list(coefs), axis=1)
        comp[n:, :-n] = np.eye(n * (p - 1))
        if np.max(np.abs(np.linalg.eigvals(comp))) < 0.9:
            break
    mix = rng.normal(size=(n, n)) * 0.4 + np.eye(n)
    shocks = rng.normal(size=(n_obs + 200, n)) @ mix.T
    y = np.zeros((n_obs + 200, n))
    for t in range(p, n_obs + 200):
        y[t] = intercept + sum(coefs[lag] @ y[t - 1 - lag] for lag in range(p)) + shocks[t]
    index = pd.bdate_range(start, periods=n_obs)
    return pd.DataFrame(y[200:], index=index, columns=[f"{prefix}{i + first}" for i in range(n)])
