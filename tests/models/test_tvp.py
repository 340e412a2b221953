"""TVP-VAR connectedness: a literal per-step transcription of ConnectednessApproach's TVPVAR/BayesPrior, limits
and invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.errors import InputDataError
from monitor.models.spillover import connectedness, tvp_connectedness
from monitor.models.tvp import tvp_var
from tests.models.simulate import simulate_var
from tests.tolerance import WELL_CONDITIONED, assert_close, max_rel_diff


def r_style_tvp(x_raw: np.ndarray, nlag: int, k1: float, k2: float) -> tuple[np.ndarray, np.ndarray]:
    """ConnectednessApproach's BayesPrior(x, nlag) + TVPVAR(x, l = c(k1, k2)), written the way the R code reads:
    explicit design blocks kronecker(I, x_lag) per date, 1-based `irep` loop, generalized inverses."""
    t, r = x_raw.shape
    m = nlag * r * r
    # BayesPrior on all rows: stacked per-date design Z_t = [I_r, kron(I_r, x_{t-1}'), ..., kron(I_r, x_{t-p}')].
    zz, zy, zs = np.zeros((m + r, m + r)), np.zeros(m + r), []
    for i in range(nlag, t):
        z = np.hstack([np.eye(r)] + [np.kron(np.eye(r), x_raw[i - j][None, :]) for j in range(1, nlag + 1)])
        zs.append(z)
        zz += z.T @ z
        zy += z.T @ x_raw[i]
    vbar = np.linalg.pinv(zz)
    aols = vbar @ zy
    sse = sum(np.outer(x_raw[i] - z @ aols, x_raw[i] - z @ aols) for i, z in zip(range(nlag, t), zs, strict=True))
    b_prior, v_prior, q = aols[r:], vbar[r:, r:], sse / (t - nlag)

    x = x_raw - x_raw.mean(axis=0)
    flag = [np.zeros((r, m))] * nlag + [
        np.hstack([np.kron(np.eye(r), x[i - j][None, :]) for j in range(1, nlag + 1)]) for i in range(nlag, t)
    ]
    beta_update, qs, betas = np.zeros((m, t)), np.zeros((t, r, r)), np.zeros((t, nlag, r, r))
    sb = np.zeros((t, m, m))
    big_b = np.zeros((r * nlag, r * nlag))
    for irep in range(1, t + 1):
        i = irep - 1
        if irep == 1:
            qs[i] = q
        else:
            if irep <= nlag + 1:
                gf = 0.1 * np.outer(x[i], x[i])
            else:
                lagged = np.concatenate([x[i - j] for j in range(1, nlag + 1)])
                e = x[i] - big_b[:r, : nlag * r] @ lagged
                gf = np.outer(e, e)
            qs[i] = k2 * qs[i - 1] + (1 - k2) * gf
        if irep <= nlag + 1:
            pred, rb = b_prior.copy(), np.array(v_prior)
            beta_update[:, i] = pred
        else:
            pred, rb = beta_update[:, i - 1].copy(), sb[i - 1] / k1
        if irep >= nlag + 1:
            f = flag[i]
            kg = rb @ f.T @ np.linalg.pinv(qs[i] + f @ rb @ f.T)
            beta_update[:, i] = pred + kg @ (x[i] - f @ pred)
            sb[i] = rb - kg @ f @ rb
        bb = beta_update[:, i]
        biga = np.zeros((r, r * nlag))
        for ii in range(nlag):
            for iii in range(r):
                biga[iii, ii * r : (ii + 1) * r] = bb[ii * r * r + iii * r : ii * r * r + (iii + 1) * r]
        big_b = np.vstack([biga, np.hstack([np.eye(r * (nlag - 1)), np.zeros((r * (nlag - 1), r))])])
        if np.max(np.abs(np.linalg.eigvals(big_b))) <= 1 or irep == 1:
            betas[i] = biga.reshape(r, nlag, r).swapaxes(0, 1)
        else:
            betas[i] = betas[i - 1]
            beta_update[:, i] = 0.99 * beta_update[:, i - 1]
    return betas, qs


@pytest.mark.parametrize(("nlag", "seed"), [(1, 3), (2, 4)])
def test_filter_matches_a_literal_transcription(nlag: int, seed: int) -> None:
    data = simulate_var(n_obs=90, n_vars=3, lags=nlag, seed=seed).to_numpy().copy()
    data[40:] *= 1.5  # a level shift in volatility keeps the filter busy
    phis, qs = tvp_var(data, nlag, kappa1=0.99, kappa2=0.96)
    ref_phis, ref_qs = r_style_tvp(data, nlag, 0.99, 0.96)
    assert_close(qs, ref_qs, WELL_CONDITIONED)
    assert_close(phis, ref_phis, WELL_CONDITIONED)


def test_without_forgetting_the_last_date_matches_the_constant_var() -> None:
    # kappa1 = kappa2 = 1: the filter is recursive least squares started at the OLS prior, so at the end of a
    # long sample it agrees with the constant-coefficient VAR.
    data = simulate_var(n_obs=1500, n_vars=3, lags=2, seed=9)
    tvp = tvp_connectedness(data, 2, 10, kappa1=1.0, kappa2=1.0)
    constant = connectedness(data, 2, 10)
    # Not equal: the filter keeps the prior's weight and its own start-up, which fade like 1/T; after 1,500 rows
    # they leave about 1e-4 of the tables' scale (100).
    assert_close(tvp.tables[-1], constant.matrix, 5e-4)
    # With forgetting the path moves around that level.
    moving = tvp_connectedness(data, 2, 10)
    assert moving.frame["TCI"].std() > 10 * tvp.frame["TCI"].iloc[200:].std()


def test_shapes_and_invariants() -> None:
    data = simulate_var(n_obs=200, n_vars=3, lags=1, seed=2)
    out = tvp_connectedness(data, 1, 10)
    assert out.frame.index.equals(data.index)  # every date, as ConnectednessApproach reports them
    assert out.tables.shape == (200, 3, 3)
    assert_close(out.tables.sum(axis=2), np.full((200, 3), 100.0), WELL_CONDITIONED)
    # NET sums to exactly zero: its rounding is judged on the tables' scale (100).
    np.testing.assert_allclose(out.frame.filter(like="NET_").sum(axis=1), 0.0, rtol=0, atol=100 * WELL_CONDITIONED)
    assert_close(out.table.matrix, out.tables.mean(axis=0), WELL_CONDITIONED)
    assert out.table.method == "TVP-VAR"
    assert out.table.extra == {"kappa1": 0.99, "kappa2": 0.99, "prior_window": None}


def test_permuting_variables_permutes_every_date() -> None:
    data = simulate_var(n_obs=150, n_vars=3, lags=2, seed=6)
    order = [2, 0, 1]
    base = tvp_connectedness(data, 2, 8).tables
    perm = tvp_connectedness(data.iloc[:, order], 2, 8).tables
    assert_close(perm, base[:, order][:, :, order], WELL_CONDITIONED)


def test_prior_window_uses_only_the_first_rows() -> None:
    data = simulate_var(n_obs=150, n_vars=3, lags=1, seed=8)
    a = tvp_connectedness(data, 1, 8, prior_window=60)
    changed = data.copy()
    changed.iloc[100:, 0] += np.linspace(0, 1, 50)
    b = tvp_connectedness(changed, 1, 8, prior_window=60)
    # The first date carries only the prior (coefficients and Q_0), which sees the first 60 rows alone.
    assert_close(a.tables[0], b.tables[0], WELL_CONDITIONED)
    assert max_rel_diff(a.tables[-1], b.tables[-1]) > 1e-5
    full_prior = tvp_connectedness(changed, 1, 8)
    assert max_rel_diff(full_prior.tables[0], b.tables[0]) > 1e-8
    with pytest.raises(InputDataError, match=r"prior_window 3 must be between 6 \(what a VAR\(1\) in 3"):
        tvp_connectedness(data, 1, 8, prior_window=3)
    with pytest.raises(InputDataError, match="kappa1 must be in"):
        tvp_connectedness(data, 1, 8, kappa1=0.0)


def test_frame_columns_match_the_rolling_frame() -> None:
    data = simulate_var(n_obs=80, n_vars=3, lags=1, seed=1)
    from monitor.models.spillover import rolling_connectedness

    assert list(tvp_connectedness(data, 1, 5).frame.columns) == list(rolling_connectedness(data, 1, 5, 40).columns)


def test_is_a_dataframe_input_error() -> None:
    with pytest.raises(InputDataError, match="DataFrame"):
        tvp_connectedness(np.zeros((10, 2)), 1, 5)  # type: ignore[arg-type]
    bad = pd.DataFrame({"a": [1.0, np.nan, 3.0, 4.0, 5.0, 6.0], "b": [1.0, 2.0, 0.0, 4.0, 5.0, 7.0]})
    with pytest.raises(InputDataError, match="missing value in column a at row 2"):
        tvp_connectedness(bad, 1, 5)
