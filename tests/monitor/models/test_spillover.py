"""Connectedness tables against a published table, statsmodels, and invariants that can fail."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.vector_ar.var_model import VAR

from monitor.errors import InputDataError
from monitor.models.spillover import SpilloverTable, connectedness, connectedness_from_coefs
from tests.monitor.models.simulate import simulate_var
from tests.tolerance import WELL_CONDITIONED, assert_close, max_rel_diff


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return simulate_var(n_obs=600, n_vars=4, lags=2, seed=7)


@pytest.mark.shared
def test_reproduces_published_frequencyconnectedness_table(shared: Path) -> None:
    # VAR(2) with a constant on all 5999 rows, generalized FEVD; the package's n.ahead = 100 sums A_0..A_100,
    # i.e. H = 101 terms here. Its own test uses the same tolerance: the published table is rounded (1e-5 of
    # the table's scale of 100), and the package's VAR is fitted by lm() (QR) rather than our moments.
    ref = shared / "data" / "reference"
    data = pd.read_csv(ref / "fc_simul_data_noheader.csv", header=None, names=["y1", "y2", "y3"])
    expected = pd.read_csv(ref / "fc_DY12_expected_noheader.csv", header=None).to_numpy()
    table = connectedness(data, lags=2, horizon=101)
    assert_close(table.matrix, expected, 1e-5)


def test_orthogonal_equals_statsmodels_fevd(sample: pd.DataFrame) -> None:
    horizon = 7
    res = VAR(sample).fit(2)
    table = connectedness(sample, lags=2, horizon=horizon, orthogonal=True)
    # statsmodels' decomp[i, h, j]: share of variable i's (h + 1)-step error variance due to shock j, i.e. the MA
    # terms 0..h; our H terms 0..H-1 are its step H - 1.
    assert_close(table.matrix, 100 * res.fevd(horizon).decomp[:, horizon - 1, :], WELL_CONDITIONED)
    assert max_rel_diff(table.matrix, 100 * res.fevd(horizon).decomp[:, horizon - 2, :]) > 1e-6


def test_generalized_matches_a_textbook_computation_from_statsmodels_fit(sample: pd.DataFrame) -> None:
    res = VAR(sample).fit(3)
    sigma, horizon = np.asarray(res.sigma_u), 12
    ma = res.ma_rep(horizon - 1)  # statsmodels' own MA matrices A_0..A_{H-1}
    num = np.zeros((4, 4))
    for i in range(4):
        for j in range(4):
            num[i, j] = sum((ma[h][i] @ sigma[:, j]) ** 2 for h in range(horizon)) / sigma[j, j]
    expected = 100 * num / num.sum(axis=1, keepdims=True)
    assert_close(connectedness(sample, 3, horizon).matrix, expected, WELL_CONDITIONED)


def test_diagonal_covariance_makes_generalized_equal_orthogonal() -> None:
    rng = np.random.default_rng(3)
    coefs = rng.normal(scale=0.2, size=(2, 4, 4))
    sigma = np.diag([0.5, 1.0, 2.0, 4.0])
    gen = connectedness_from_coefs(coefs, sigma, 10)
    orth = connectedness_from_coefs(coefs, sigma, 10, orthogonal=True)
    assert_close(gen.matrix, orth.matrix, WELL_CONDITIONED)
    # ... and only then: with correlated shocks they differ.
    sigma[0, 1] = sigma[1, 0] = 0.4
    correlated = connectedness_from_coefs(coefs, sigma, 10).matrix
    assert max_rel_diff(correlated, connectedness_from_coefs(coefs, sigma, 10, orthogonal=True).matrix) > 1e-5


def test_permuting_variables_permutes_the_table(sample: pd.DataFrame) -> None:
    order = [2, 0, 3, 1]
    base = connectedness(sample, 2, 10)
    perm = connectedness(sample.iloc[:, order], 2, 10)
    assert_close(perm.matrix, base.matrix[np.ix_(order, order)], WELL_CONDITIONED)
    assert perm.variables == tuple(sample.columns[order])
    # NET entries are differences of table sums: bounded on the table's scale (100), not on their own.
    np.testing.assert_allclose(perm.net, base.net[order], rtol=0, atol=100 * WELL_CONDITIONED)


def test_rescaling_a_variable_leaves_the_table_unchanged(sample: pd.DataFrame) -> None:
    scaled = sample.copy()
    scaled["y2"] = scaled["y2"] * 1e4 + 300.0
    for orthogonal in (False, True):
        a = connectedness(sample, 2, 10, orthogonal=orthogonal)
        b = connectedness(scaled, 2, 10, orthogonal=orthogonal)
        # y2 * 1e4 + 300 rounds away ~eps x 300 / 1e4 of y2's digits: far below the bound.
        assert_close(a.matrix, b.matrix, WELL_CONDITIONED)


def test_measures_add_up(sample: pd.DataFrame) -> None:
    t = connectedness(sample, 2, 10)
    n = len(t.variables)
    assert_close(t.matrix.sum(axis=1), np.full(n, 100.0), WELL_CONDITIONED)
    assert abs(t.net.sum()) < 100 * WELL_CONDITIONED  # on the table's scale: NET sums to exactly zero
    off = t.matrix - np.diag(np.diag(t.matrix))
    np.testing.assert_allclose(t.from_, off.sum(axis=1))
    np.testing.assert_allclose(t.to, off.sum(axis=0))
    assert t.tci == pytest.approx(off.sum() / n)
    assert t.ctci == pytest.approx(t.tci * n / (n - 1))
    # NPDC_ij = C_ji - C_ij: positive when i gives j more than it takes from j.
    assert t.npdc[0, 1] == pytest.approx(t.matrix[1, 0] - t.matrix[0, 1])
    np.testing.assert_allclose(t.npdc, -t.npdc.T)
    np.testing.assert_array_equal(t.npt, (t.npdc > 0).sum(axis=1))
    np.testing.assert_allclose(t.net, t.npdc.sum(axis=1), rtol=0, atol=100 * WELL_CONDITIONED)


def test_dict_round_trip_and_json_shape(sample: pd.DataFrame) -> None:
    t = connectedness(sample, 2, 10)
    stored = json.loads(json.dumps(t.to_dict()))
    back = SpilloverTable.from_dict(stored)
    np.testing.assert_allclose(back.matrix, t.matrix)
    assert (back.variables, back.horizon, back.lags, back.tci) == (t.variables, 10, 2, pytest.approx(t.tci))
    payload = t.payload()
    assert list(payload) == ["variables", "table", "from", "to", "net", "tci", "ctci", "npdc", "pci", "influence"]
    assert payload["npdc"]["y1"]["y2"] == pytest.approx(t.matrix[1, 0] - t.matrix[0, 1])
    with pytest.raises(InputDataError, match="malformed"):
        SpilloverTable.from_dict({"variables": ["a"], "table": [[1, 2]], "horizon": 1, "lags": 1})


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.assign(y2=np.where(np.arange(len(d)) == 50, np.nan, d["y2"])), "missing value in column y2"),
        (lambda d: d.iloc[:9], "needs at least 12"),
        (lambda d: d.assign(y3=1.5), "constant column"),
        (lambda d: d.assign(y4=d["y1"]), "identical"),
        (lambda d: d.assign(y4=2 * d["y1"] - d["y2"]), "linearly dependent"),
        (lambda d: d.assign(y2=d["y2"].astype(str)), "non-numeric column"),
        (lambda d: d.iloc[::-1], "increasing order"),
        (lambda d: d[["y1"]], "at least two variables"),
    ],
)
def test_bad_input_is_a_clear_error(sample: pd.DataFrame, mutate, message: str) -> None:
    data = sample.copy()
    data.index = pd.bdate_range("2020-01-01", periods=len(data))
    with pytest.raises(InputDataError, match=message):
        connectedness(mutate(data), lags=2, horizon=10)


def test_minimum_sample_is_exact() -> None:
    # VAR(2) in 4 variables with a constant: T - 2 rows, 9 regressors; needs T - 2 - 9 >= 1, so T >= 12.
    data = simulate_var(n_obs=12, n_vars=4, lags=2, seed=1)
    assert connectedness(data, 2, 5).nobs == 10
    with pytest.raises(InputDataError, match=r"11 observations are too few.*at least 12"):
        connectedness(data.iloc[:11], 2, 5)
