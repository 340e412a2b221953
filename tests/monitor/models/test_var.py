"""VAR fitting and diagnostics: statsmodels agreement, lag choice guards, warnings that say what to do."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.vector_ar.var_model import VAR

from monitor.errors import InputDataError
from monitor.models.var import fit_var, max_feasible_lags
from tests.monitor.models.simulate import simulate_var
from tests.tolerance import WELL_CONDITIONED, assert_close


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return simulate_var(n_obs=800, n_vars=3, lags=2, seed=21)


def test_fixed_order_fit_and_diagnostics(data: pd.DataFrame) -> None:
    fit = fit_var(data, 2, horizon=6)
    ref = VAR(data.to_numpy()).fit(2)
    assert_close(fit.coefs, ref.coefs, WELL_CONDITIONED)
    assert_close(fit.sigma_u, ref.sigma_u, WELL_CONDITIONED)
    assert_close(fit.fevd, 100 * ref.fevd(6).decomp[:, 5, :], WELL_CONDITIONED)
    np.testing.assert_allclose(fit.fevd.sum(axis=1), 100.0)
    assert fit.stable and fit.max_root < 1 and fit.warnings == ()
    assert fit.irf.shape == fit.irf_lower.shape == (7, 3, 3)
    assert np.all(fit.irf_lower <= fit.irf) and np.all(fit.irf <= fit.irf_upper)
    assert np.all(fit.irf_upper[1:] - fit.irf_lower[1:] > 0)
    assert len(fit.granger) == 6
    row = fit.granger.query("caused == 'y1' and causing == 'y3'").iloc[0]
    test = ref.test_causality(0, [2], kind="f")
    assert row.p_value == pytest.approx(test.pvalue) and row.f_stat == pytest.approx(test.test_statistic)


def test_information_criteria_find_the_true_order(data: pd.DataFrame) -> None:
    fit = fit_var(data, "bic", max_lags=6)
    assert fit.lags == 2 and fit.criterion == "bic"
    assert fit.lag_table is not None and list(fit.lag_table.index) == list(range(7))


def test_short_sample_caps_the_search_instead_of_crashing() -> None:
    short = simulate_var(n_obs=20, n_vars=3, lags=1, seed=4)
    assert max_feasible_lags(20, 3) == 3
    with pytest.raises(ValueError, match="maxlags is too large"):
        VAR(short.to_numpy()).select_order(12)  # what we guard against
    fit = fit_var(short, "aic", max_lags=12)
    assert 1 <= fit.lags <= 3
    assert any("searched up to 3 lags instead" in w for w in fit.warnings)


def test_too_short_for_any_search_says_the_minimum() -> None:
    with pytest.raises(InputDataError, match="too few to choose a lag order for 3 variables: it needs at least 9"):
        fit_var(simulate_var(n_obs=8, n_vars=3, lags=1, seed=4), "aic")
    with pytest.raises(InputDataError, match="needs at least 10"):
        fit_var(simulate_var(n_obs=9, n_vars=3, lags=1, seed=4), 2)


def test_explosive_system_is_a_warning_with_a_remedy() -> None:
    rng = np.random.default_rng(1)
    y = np.zeros((300, 2))
    for t in range(1, 300):
        y[t] = 1.03 * y[t - 1] + rng.normal(size=2)
    fit = fit_var(pd.DataFrame(y, columns=["a", "b"]), 1)
    assert not fit.stable
    assert any("not stable" in w and "difference" in w for w in fit.warnings)


def test_nearly_collinear_columns_are_a_warning(data: pd.DataFrame) -> None:
    rng = np.random.default_rng(3)
    close = data.assign(y4=data["y1"] + data["y2"] + 1e-5 * rng.normal(size=len(data)))
    fit = fit_var(close, 1)
    assert any("nearly singular" in w and "drop or combine" in w for w in fit.warnings)


def test_white_noise_still_gets_one_lag() -> None:
    rng = np.random.default_rng(0)
    noise = pd.DataFrame(rng.normal(size=(400, 3)), columns=list("abc"))
    fit = fit_var(noise, "bic", max_lags=4)
    assert fit.lags == 1
    assert any("prefers no lags" in w for w in fit.warnings)


def test_unknown_criterion_is_an_input_error(data: pd.DataFrame) -> None:
    with pytest.raises(InputDataError, match="one of aic, bic, hqic"):
        fit_var(data, "fpe2")
