"""The fast rolling engine against the per-window statsmodels loop, and the incremental update."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.vector_ar.var_model import VAR

from monitor.errors import InputDataError
from monitor.models.fevd import measures
from monitor.models.rolling import sliding_moments, window_moments, window_tables
from monitor.models.spillover import rolling_connectedness, update_rolling
from tests.monitor.models.simulate import reference_table, simulate_var
from tests.tolerance import EPS, WELL_CONDITIONED, assert_close

LAGS, H, W = 2, 8, 40


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return simulate_var(n_obs=140, n_vars=3, lags=LAGS, seed=11)


def statsmodels_loop(data: pd.DataFrame, window: int, *, orthogonal: bool = False) -> np.ndarray:
    values = data.to_numpy()
    return np.stack(
        [
            reference_table(VAR(values[s : s + window]).fit(LAGS), H, orthogonal=orthogonal)
            for s in range(len(values) - window + 1)
        ]
    )


@pytest.mark.parametrize("orthogonal", [False, True])
def test_every_window_equals_statsmodels(data: pd.DataFrame, orthogonal: bool) -> None:
    expected = statsmodels_loop(data, W, orthogonal=orthogonal)
    tables = window_tables(data.to_numpy(), tuple(data.columns), data.index[W - 1 :], LAGS, H, W, orthogonal=orthogonal)
    assert tables.shape == expected.shape == (len(data) - W + 1, 3, 3)
    assert_close(tables, expected, WELL_CONDITIONED)

    frame = rolling_connectedness(data, LAGS, H, W, orthogonal=orthogonal)
    m = measures(expected)
    assert frame.index.equals(data.index[W - 1 :])  # dated at each window's last row

    # Every measure is a sum or difference of table entries: bounded relative to the table's scale (100).
    def check(got: pd.Series, want: np.ndarray) -> None:
        np.testing.assert_allclose(got, want, rtol=0, atol=WELL_CONDITIONED * 100.0)

    check(frame["TCI"], m.tci)
    check(frame["cTCI"], m.ctci)
    for i, v in enumerate(data.columns):
        check(frame[f"TO_{v}"], m.to[:, i])
        check(frame[f"FROM_{v}"], m.from_[:, i])
        check(frame[f"NET_{v}"], m.net[:, i])
    check(frame["NPDC_y1_y3"], expected[:, 2, 0] - expected[:, 0, 2])


def test_trending_levels_keep_their_digits() -> None:
    # Random walks around 10^4 with drift: raw cross-products would cancel badly; the engine standardises.
    rng = np.random.default_rng(5)
    levels = 1e4 + np.cumsum(rng.normal(loc=0.3, size=(120, 3)), axis=0) * np.array([1.0, 30.0, 0.01])
    data = pd.DataFrame(levels, index=pd.bdate_range("2020-01-01", periods=120), columns=["a", "b", "c"])
    expected = statsmodels_loop(data, 50)
    tables = window_tables(data.to_numpy(), ("a", "b", "c"), data.index[49:], LAGS, H, 50)
    # The data hold their digits only to eps x |level| (levels ~1e4), which against a window's spread (down to
    # ~0.05 for column c) leaves ~1e-10 of relative precision: no method can do better than that times the
    # condition number of the (standardised) regression. Bound: that product, per window, on the tables' scale
    # (100), times 10 for the FEVD's own rounding. Raw cross-products would square the raw condition (~1e10 here)
    # and miss by far more than 100%.
    precision = max(_digits(levels[s : s + 50]) for s in range(len(levels) - 49))
    assert 1e-10 < precision < 1e-8  # the case is as hard as described
    assert_close(tables, expected, 10 * precision)


def _digits(block: np.ndarray) -> float:
    """Relative precision of a window's VAR estimate: eps x |level| / spread, worst column, times the condition
    number of the standardised regressors (constant and lags)."""
    z = (block - block.mean(axis=0)) / block.std(axis=0)
    lagged = np.hstack([np.ones((len(z) - LAGS, 1))] + [z[LAGS - k : len(z) - k] for k in range(1, LAGS + 1)])
    return float((EPS * np.abs(block).max(axis=0) / block.std(axis=0)).max() * np.linalg.cond(lagged))


def test_sliding_sums_equal_direct_sums_across_block_restarts() -> None:
    rng = np.random.default_rng(2)
    emb = rng.normal(size=(700, 5)) * 3 + 10
    for block in (1, 7, 128):
        sums, cross = sliding_moments(emb, 90, block=block)
        direct_sums = np.stack([emb[s : s + 90].sum(axis=0) for s in range(len(emb) - 89)])
        direct_cross = np.stack([emb[s : s + 90].T @ emb[s : s + 90] for s in range(len(emb) - 89)])
        np.testing.assert_allclose(sums, direct_sums, rtol=1e-12)
        np.testing.assert_allclose(cross, direct_cross, rtol=1e-12)


def test_direct_window_moments_are_centred_cross_products() -> None:
    rng = np.random.default_rng(4)
    values = rng.normal(size=(60, 2))
    sums, cross = window_moments(values, [3], 30, 1)
    block = values[3:33]
    z = (block - block.mean(axis=0)) / block.std(axis=0)
    emb = np.hstack([z[:-1], z[1:]])
    emb -= emb.mean(axis=0)
    assert_close(cross[0], emb.T @ emb, WELL_CONDITIONED)
    assert not sums.any()


def test_incremental_update_equals_full_recompute(data: pd.DataFrame) -> None:
    full = rolling_connectedness(data, LAGS, H, W)
    stored = rolling_connectedness(data.iloc[:-3], LAGS, H, W)
    new = update_rolling(stored, data, LAGS, H, W)
    assert list(new.index) == list(data.index[-3:])
    combined = rolling_connectedness(data, LAGS, H, W, previous=stored)
    assert combined.index.equals(full.index)
    assert_close(combined.to_numpy(), full.to_numpy(), WELL_CONDITIONED)
    # Nothing new: nothing computed, nothing changed.
    assert update_rolling(full, data, LAGS, H, W).empty
    # The stored frame survives a CSV round trip (how results are kept on disk).
    reread = pd.read_csv(pd.io.common.StringIO(stored.to_csv()), index_col=0, parse_dates=True)
    # CSV keeps 17 significant digits: the same floats, the same windows' results.
    assert_close(update_rolling(reread, data, LAGS, H, W).to_numpy(), new.to_numpy(), WELL_CONDITIONED)


def test_incremental_update_refuses_what_it_cannot_extend(data: pd.DataFrame) -> None:
    stored = rolling_connectedness(data.iloc[:-3], LAGS, H, W)
    with pytest.raises(InputDataError, match="other settings"):
        update_rolling(stored, data, LAGS, H + 1, W)
    with pytest.raises(InputDataError, match="not in the data"):
        update_rolling(stored, data.drop(index=stored.index[-1]), LAGS, H, W)
    with pytest.raises(InputDataError, match="different columns"):
        update_rolling(stored, data.rename(columns={"y1": "z"}), LAGS, H, W)
    broken = data.copy()
    broken.iloc[-1, 1] = broken.iloc[-2, 1]
    broken.iloc[-W:, 1] = 5.0
    with pytest.raises(InputDataError, match="column y2 is constant"):
        update_rolling(stored, broken, LAGS, H, W)


def test_constant_inside_one_window_is_named(data: pd.DataFrame) -> None:
    flat = data.copy()
    flat.iloc[50 : 50 + W + 5, 0] = 1.0  # y1 does not move for longer than a window
    with pytest.raises(InputDataError, match=r"column y1 is constant.* window ending 2015-"):
        rolling_connectedness(flat, LAGS, H, W)


@pytest.mark.parametrize(
    ("window", "message"),
    [(9, "window 9 is shorter than the regression needs.*at least 10"), (141, "longer than the data")],
)
def test_bad_window(data: pd.DataFrame, window: int, message: str) -> None:
    with pytest.raises(InputDataError, match=message):
        rolling_connectedness(data, LAGS, H, window)


def test_smallest_window_works(data: pd.DataFrame) -> None:
    # VAR(2) in 3 variables: 7 regressors, so a 10-row window leaves 8 regression rows and 1 degree of freedom.
    expected = statsmodels_loop(data.iloc[:20], 10)
    tables = window_tables(data.to_numpy()[:20], ("y1", "y2", "y3"), data.index[9:20], LAGS, H, 10)
    # One degree of freedom: the residual covariance is a near-singular estimate, 10x less well conditioned.
    assert_close(tables, expected, 10 * WELL_CONDITIONED)
