"""TVP-VAR connectedness: a literal per-step transcription of ConnectednessApproach's TVPVAR/BayesPrior, limits
and invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.errors import InputDataError
from monitor.models.fevd import fevd_shares, measures
from monitor.models.spillover import connectedness, tvp_connectedness
from monitor.models.tvp import default_prior_window, tvp_var
from tests.monitor.models.simulate import simulate_var
from tests.tolerance import WELL_CONDITIONED, assert_close, max_rel_diff


def r_style_tvp(x_raw: np.ndarray, nlag: int, k1: float, k2: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """ConnectednessApproach's BayesPrior(x, size, nlag) + TVPVAR(x, l = c(k1, k2)), written the way the R code
    reads: explicit design blocks kronecker(I, x_lag) per date, 1-based `irep` loop, generalized inverses, and the
    data centred by their full-sample means (`scale(x, TRUE, FALSE)`)."""
    t, r = x_raw.shape
    m = nlag * r * r
    # BayesPrior on the first `size` rows: stacked design Z_t = [I_r, kron(I_r, x_{t-1}'), ..., kron(I_r, x_{t-p}')].
    zz, zy, zs = np.zeros((m + r, m + r)), np.zeros(m + r), []
    for i in range(nlag, size):
        z = np.hstack([np.eye(r)] + [np.kron(np.eye(r), x_raw[i - j][None, :]) for j in range(1, nlag + 1)])
        zs.append(z)
        zz += z.T @ z
        zy += z.T @ x_raw[i]
    vbar = np.linalg.pinv(zz)
    aols = vbar @ zy
    sse = sum(np.outer(x_raw[i] - z @ aols, x_raw[i] - z @ aols) for i, z in zip(range(nlag, size), zs, strict=True))
    b_prior, v_prior, q = aols[r:], vbar[r:, r:], sse / (size - nlag)

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


@pytest.mark.parametrize(("nlag", "seed", "size"), [(1, 3, 90), (2, 4, 60)])
def test_filter_matches_a_literal_transcription(nlag: int, seed: int, size: int) -> None:
    data = simulate_var(n_obs=90, n_vars=3, lags=nlag, seed=seed).to_numpy().copy()
    data[40:] *= 1.5  # a level shift in volatility keeps the filter busy
    # The package's centring (full-sample means) reproduces it exactly; the default differs only by that.
    phis, qs = tvp_var(data, nlag, kappa1=0.99, kappa2=0.96, prior_window=size, means=data.mean(axis=0))
    ref_phis, ref_qs = r_style_tvp(data, nlag, 0.99, 0.96, size)
    assert_close(qs, ref_qs, WELL_CONDITIONED)
    assert_close(phis, ref_phis, WELL_CONDITIONED)


def test_without_forgetting_the_last_date_matches_the_constant_var() -> None:
    # kappa1 = kappa2 = 1: the filter is recursive least squares started at the OLS prior, so at the end of a
    # long sample it agrees with the constant-coefficient VAR. With kappa2 = 1 Q_t stays at the prior's Q_0, so the
    # prior is taken on every row here (with the default 198 rows Q_0 is another sample's covariance).
    data = simulate_var(n_obs=1500, n_vars=3, lags=2, seed=9)
    tvp = tvp_connectedness(data, 2, 10, kappa1=1.0, kappa2=1.0, prior_window=1500)
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
    assert out.table.extra == {"kappa1": 0.99, "kappa2": 0.99, "prior_window": 199}  # 200 - p


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


def test_default_prior_is_the_first_200_minus_p_rows_clamped() -> None:
    assert default_prior_window(1000, 3, 2) == 198  # ConnectednessApproach: window.size = 200, BayesPrior 200 - p
    assert default_prior_window(150, 3, 1) == 150  # a short sample: all of it
    assert default_prior_window(1000, 40, 5) == 5 * 41 + 2  # a large VAR: what its regression needs
    data = simulate_var(n_obs=300, n_vars=3, lags=1, seed=12)
    default = tvp_connectedness(data, 1, 8)
    assert default.prior_window == 199 and default.table.extra["prior_window"] == 199
    assert_close(default.tables, tvp_connectedness(data, 1, 8, prior_window=199).tables, WELL_CONDITIONED)


def test_appending_data_leaves_every_date_after_the_prior_window_unchanged() -> None:
    data = simulate_var(n_obs=400, n_vars=3, lags=2, seed=5)
    later = data.copy()
    later.iloc[300:] = later.iloc[300:] * 3.0 + 2.0  # what arrives after day 300 is nothing like before
    d = 300
    short = tvp_connectedness(data.iloc[:d], 2, 10)
    long = tvp_connectedness(later, 2, 10)
    assert short.prior_window == long.prior_window == 198
    # The same operations on the same rows: equal up to the order a BLAS may sum in.
    assert_close(long.tables[:d], short.tables, 1e-12)
    pd.testing.assert_frame_equal(long.frame.iloc[:d], short.frame, check_exact=False, rtol=1e-12, atol=1e-10)
    # The package's full-sample centring would move them (this test fails on it).
    values, later_values = data.to_numpy()[:d], later.to_numpy()
    package_short = tvp_var(values, 2, prior_window=198, means=values.mean(axis=0))
    package_long = tvp_var(later_values, 2, prior_window=198, means=later_values.mean(axis=0))
    assert max_rel_diff(package_long[0][:d], package_short[0]) > 1e-3


def test_no_look_ahead_differs_from_the_package_by_its_centring_error_only() -> None:
    """Against ConnectednessApproach with window.size = 200 (same prior, full-sample centring): centring by the prior
    window's means instead misplaces the data by delta = |mean(prior rows) - mean(all)| / sd, the sampling error of a
    198-row mean (~1 / sqrt(198) = 0.07). The filter then reads that offset as a small constant in every error. Over
    ten simulated samples (seeds 1-5, lags 1-2, 800 rows) the TCI after the prior window moved by at most 16 delta
    points (mean 0.2 points); the bound is 20 delta."""
    data = simulate_var(n_obs=800, n_vars=3, lags=1, seed=3).to_numpy()
    ours = tvp_var(data, 1, prior_window=199)
    package = tvp_var(data, 1, prior_window=199, means=data.mean(axis=0))
    tci = [measures(100.0 * fevd_shares(phis, qs, 10)).tci[199:] for phis, qs in (ours, package)]
    delta = float((np.abs(data[:199].mean(axis=0) - data.mean(axis=0)) / data.std(axis=0)).max())
    assert 0.05 < delta < 0.2  # a typical centring error, not a lucky one
    assert 0.01 < np.abs(tci[0] - tci[1]).max() <= 20 * delta


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


def test_the_stability_check_agrees_with_the_companion_eigenvalues() -> None:
    # The filter skips the eigenvalue problem when a norm bound already proves stability; the answer must be the
    # eigenvalues' answer for coefficients on both sides of the unit circle and near it.
    from monitor.models.tvp_filter import _explosive

    rng = np.random.default_rng(2)
    n = 3
    for lags in (1, 2, 3):
        phis = rng.normal(size=(150, lags, n, n)) * np.repeat([0.02, 0.1, 0.3, 0.6, 1.0], 30)[:, None, None, None]
        full = np.zeros((150, n * lags, n * lags))
        full[:, :n] = phis.swapaxes(1, 2).reshape(150, n, -1)  # [Phi_1, ..., Phi_p], the filter's layout
        full[:, n:, :-n] = np.eye(n * (lags - 1))
        expected = np.abs(np.linalg.eigvals(full)).max(axis=1) > 1.0
        assert 10 < expected.sum() < 140  # both answers are asked for
        np.testing.assert_array_equal(_explosive(full[:, :n]), expected)


def test_a_long_sample_matches_the_transcription_to_rounding() -> None:
    # Over 1,500 steps the filter must stay where the pseudo-inverse form is. An update that lets P drift from
    # symmetry fails this: P's antisymmetric part is then carried forward times 1 / kappa1 a step, undamped, and
    # grew from rounding (1e-16) to 1.2e-9 here in an earlier version.
    data = simulate_var(n_obs=1500, n_vars=4, lags=2, seed=7).to_numpy()
    phis, qs = tvp_var(data, 2, prior_window=198, means=data.mean(axis=0))
    ref_phis, ref_qs = r_style_tvp(data, 2, 0.99, 0.99, 198)
    assert_close(qs, ref_qs, WELL_CONDITIONED)
    assert_close(phis, ref_phis, WELL_CONDITIONED)


def explosive_episode(seed: int) -> np.ndarray:
    """Three series with a root of 1.04 for 80 rows: the filtered VAR turns explosive again and
    again, and every such step must keep the previous coefficients and shrink the state."""
    rng = np.random.default_rng(seed)
    shocks = rng.normal(size=(300, 3))
    y = np.zeros((300, 3))
    for t in range(1, 300):
        y[t] = (1.04 if 150 <= t < 230 else 0.5) * y[t - 1] + shocks[t]
    return y


@pytest.mark.parametrize(("nlag", "seed"), [(1, 0), (2, 1), (3, 2)])
def test_explosive_steps_are_rejected_as_the_sequential_filter_does(nlag: int, seed: int) -> None:
    # The filter checks stability for runs of steps at once and goes back when one is explosive; the result must be
    # the step-by-step filter's, including rejections a few steps apart and the prior's own (lags 3: steps 1, 2).
    data = explosive_episode(seed)
    phis, qs = tvp_var(data, nlag, prior_window=100, means=data.mean(axis=0))
    ref_phis, ref_qs = r_style_tvp(data, nlag, 0.99, 0.99, 100)
    rejected = [t for t in range(1, 300) if np.array_equal(ref_phis[t], ref_phis[t - 1])]
    assert len(rejected) >= 8 and min(np.diff(rejected)) <= 8  # several inside one checked run (64 steps)
    assert_close(qs, ref_qs, WELL_CONDITIONED)
    assert_close(phis, ref_phis, WELL_CONDITIONED)


def test_a_near_singular_innovation_covariance_takes_the_pseudo_inverse(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two series equal over the prior window make Q_0 and the innovation covariance singular: the package's
    # generalized inverse goes on where a Cholesky factor fails (an earlier version raised LinAlgError).
    data = simulate_var(n_obs=300, n_vars=3, lags=1, seed=1).to_numpy().copy()
    data[:100, 2] = data[:100, 1]
    phis, qs = tvp_var(data, 1, prior_window=99)
    assert np.isfinite(phis).all() and np.isfinite(qs).all()
    # That branch is the transcription's update: with every step sent through it, well-conditioned data give the
    # transcription's result.
    import monitor.models.tvp_filter as tvp_filter

    monkeypatch.setattr(tvp_filter, "NEAR_SINGULAR", np.inf)
    data = simulate_var(n_obs=300, n_vars=3, lags=2, seed=4).to_numpy()
    phis, qs = tvp_var(data, 2, prior_window=100, means=data.mean(axis=0))
    ref_phis, ref_qs = r_style_tvp(data, 2, 0.99, 0.99, 100)
    assert_close(qs, ref_qs, WELL_CONDITIONED)
    assert_close(phis, ref_phis, WELL_CONDITIONED)
