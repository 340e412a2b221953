"""The per-window kernel (monitor.models.kernel) against the textbook computation, window by window."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.tsa.vector_ar.var_model import VAR

from monitor.models.kernel import fevd_shares, fit_from_moments, ma_matrices
from monitor.models.rolling import embed, window_ma
from tests.monitor.models.simulate import simulate_var
from tests.tolerance import WELL_CONDITIONED, assert_close

LAGS, H, W = 2, 8, 40


def textbook_ma(coefs: np.ndarray, horizon: int) -> np.ndarray:
    """A_0 = I, A_h = sum_{l=1..min(h,p)} Phi_l A_{h-l}, one model at a time."""
    p, n, _ = coefs.shape
    ma = [np.eye(n)]
    for h in range(1, horizon):
        ma.append(sum(coefs[lag - 1] @ ma[h - lag] for lag in range(1, min(h, p) + 1)))
    return np.stack(ma)


def test_fit_from_moments_equals_statsmodels_on_every_path() -> None:
    rng = np.random.default_rng(3)
    paths = [simulate_var(n_obs=60, n_vars=3, lags=LAGS, seed=int(s)).to_numpy() for s in rng.integers(0, 1000, 5)]
    embs = [embed(p, LAGS) for p in paths]
    sums = np.stack([e.sum(axis=0) for e in embs])
    cross = np.stack([e.T @ e for e in embs])
    coefs, sigma = fit_from_moments(sums, cross, len(embs[0]), 3, LAGS)
    for k, path in enumerate(paths):
        res = VAR(path).fit(LAGS)
        # Well-conditioned regressors (simulated stable VAR): agreement to rounding, relative to the sizes.
        assert_close(coefs[k], res.coefs, WELL_CONDITIONED)
        assert_close(sigma[k], res.sigma_u, WELL_CONDITIONED)


@pytest.mark.parametrize("orthogonal", [False, True])
def test_ma_matrices_and_shares_equal_the_textbook_recursion(orthogonal: bool) -> None:
    rng = np.random.default_rng(5)
    coefs = rng.normal(scale=0.3, size=(4, 3, LAGS, 3, 3))  # two batch axes
    mix = rng.normal(size=(4, 3, 3, 3))
    sigma = mix @ np.swapaxes(mix, -1, -2) + np.eye(3)
    ma = ma_matrices(coefs, H)
    shares = fevd_shares(coefs, sigma, H, orthogonal=orthogonal)
    for idx in np.ndindex(4, 3):
        want_ma = textbook_ma(coefs[idx], H)
        # Products of H matrices of entries below 1 in size: rounding at a few eps of the largest entry.
        assert_close(ma[idx], want_ma, WELL_CONDITIONED)
        right = np.linalg.cholesky(sigma[idx]) if orthogonal else sigma[idx]
        num = sum((a @ right) ** 2 for a in want_ma)
        if not orthogonal:
            num = num / np.diag(sigma[idx])[None, :]
        assert_close(shares[idx], num / num.sum(axis=1, keepdims=True), WELL_CONDITIONED)


@pytest.mark.parametrize("direct", [False, True])
def test_window_ma_gives_each_windows_var_in_the_datas_units(direct: bool) -> None:
    data = simulate_var(n_obs=120, n_vars=3, lags=LAGS, seed=11) * [1.0, 30.0, 0.01] + [0.0, 1000.0, 0.0]
    values, names, ends = data.to_numpy(), tuple(data.columns), data.index[W - 1 :]
    picked = [0, 40, len(ends) - 1]
    ma, sigma = window_ma(values, names, ends, LAGS, H, W, starts=picked if direct else None)
    if not direct:
        assert ma.shape == (len(ends), H, 3, 3) and sigma.shape == (len(ends), 3, 3)
        ma, sigma = ma[picked], sigma[picked]
    for k, s in enumerate(picked):
        res = VAR(values[s : s + W]).fit(LAGS)
        # Scales differ by 1e5 between variables: compare each (i, j) entry relative to |A_ij| through the
        # similarity transform's own scale (s_i / s_j), i.e. on the standardised variables.
        scale = values[s : s + W].std(axis=0)
        unit = scale[:, None] / scale[None, :]
        assert_close(ma[k] / unit, textbook_ma(res.coefs, H) / unit, WELL_CONDITIONED)
        assert_close(sigma[k] / np.outer(scale, scale), res.sigma_u / np.outer(scale, scale), WELL_CONDITIONED)
