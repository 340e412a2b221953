"""The compiled kernels (monitor.models.fused, numba) give what the numpy kernel gives: the rolling engine's tables
and the bootstrap's bands, both decompositions, across block restarts and partial lane groups. All data are
SYNTHETIC. Skipped, with the reason, when numba is not installed (the `fast` extra; MONITOR_REQUIRE_NUMBA=1 makes
that a failure, for CI's run with the extra); the other model tests run whichever kernel is active, so with numba
installed they check the compiled kernel against statsmodels too."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from monitor.errors import InputDataError
from monitor.models import fused
from monitor.models.bands import full_sample_bands, rolling_bands
from monitor.models.rolling import BLOCK, window_tables
from monitor.spec import BandSpec
from tests.monitor.models.simulate import simulate_var
from tests.tolerance import WELL_CONDITIONED, assert_close

try:
    from monitor.models import fused_kernels  # imports numba
except ImportError:
    _REASON = "numba is not installed: pip install -e '.[fast]' to test the compiled kernels"
    if os.environ.get("MONITOR_REQUIRE_NUMBA"):  # CI's run with the extra: a skip there would hide a failure
        pytest.fail(_REASON, pytrace=False)
    pytest.skip(_REASON, allow_module_level=True)

# The draws are simulated paths (rounding compounds along them, see test_bands.BOOTSTRAP) and the two kernels sum
# in different orders: they agree to ~5e-15 of the bands' scale; 1e-9 still catches a wrong lag, stream or residual.
BOOTSTRAP = 1e-9


def _both(monkeypatch: pytest.MonkeyPatch, compute):  # type: ignore[no-untyped-def]
    """compute() with the numpy kernel, then with the compiled one."""
    monkeypatch.setenv(fused.ENV, "numpy")
    assert not fused.enabled()
    slow = compute()
    monkeypatch.delenv(fused.ENV)
    assert fused.enabled()
    return slow, compute()


@pytest.mark.parametrize("orthogonal", [False, True])
def test_rolling_tables_equal_the_numpy_kernel(monkeypatch: pytest.MonkeyPatch, orthogonal: bool) -> None:
    # 361 windows: three restarts of the sliding sums (every BLOCK = 128 windows) and a last, partial lane group.
    data = simulate_var(n_obs=400, n_vars=4, lags=2, seed=3)
    window = 40
    assert len(data) - window + 1 > 2 * BLOCK and (len(data) - window + 1) % fused_kernels.LANES
    values, names, ends = data.to_numpy(), tuple(data.columns), data.index[window - 1 :]
    slow, fast = _both(monkeypatch, lambda: window_tables(values, names, ends, 2, 8, window, orthogonal=orthogonal))
    assert_close(fast, slow, WELL_CONDITIONED)


def _constant_inside(data: pd.DataFrame) -> pd.DataFrame:
    data.iloc[90:150, 1] = 2.5  # y2 constant inside the windows that end in 149..
    return data


def _collinear(data: pd.DataFrame) -> pd.DataFrame:
    data["y3"] = data["y1"] + data["y2"]  # an exact combination in every window
    return data


@pytest.mark.parametrize(
    ("make", "message"), [(_constant_inside, "column y2 is constant"), (_collinear, "regression is singular")]
)
def test_rolling_errors_are_the_numpy_kernels(
    monkeypatch: pytest.MonkeyPatch, make: Callable[[pd.DataFrame], pd.DataFrame], message: str
) -> None:
    data = make(simulate_var(n_obs=200, n_vars=3, lags=1, seed=4))
    values, names, ends = data.to_numpy(), tuple(data.columns), data.index[49:]
    messages = []
    for kernel in ("numpy", "numba"):
        monkeypatch.setenv(fused.ENV, kernel)
        with pytest.raises(InputDataError, match=message) as err:
            window_tables(values, names, ends, 1, 5, 50)
        messages.append(str(err.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize(("orthogonal", "block_length"), [(False, None), (True, None), (False, 5.0)])
def test_rolling_bands_equal_the_numpy_kernel(
    monkeypatch: pytest.MonkeyPatch, orthogonal: bool, block_length: float | None
) -> None:
    data = simulate_var(n_obs=130, n_vars=3, lags=2, seed=7)
    spec = BandSpec(level=0.9, draws=120, seed=5, block_length=block_length)  # 3 draw blocks, the last partial
    slow, fast = _both(monkeypatch, lambda: rolling_bands(data, 2, 6, 100, spec, orthogonal=orthogonal, key="m"))
    assert fast.notna().all().all()
    assert_close(fast.to_numpy(), slow.to_numpy(), BOOTSTRAP)


def test_full_sample_bands_equal_the_numpy_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    data = simulate_var(n_obs=150, n_vars=4, lags=1, seed=8)
    spec = BandSpec(level=0.8, draws=60, seed=2, interval="bias_corrected")
    slow, fast = _both(monkeypatch, lambda: full_sample_bands(data, 1, 8, spec, key="full"))
    assert_close(fast.to_numpy(), slow.to_numpy(), BOOTSTRAP)


def test_a_degenerate_path_is_nan_and_its_neighbour_is_not() -> None:
    # A path whose rows are all the same residual row and start: its regressors are constant, so its normal
    # equations are singular; the other path is regular. The kernel returns NaN for the first only.
    rng = np.random.default_rng(1)
    n, lags, length = 2, 1, 30
    z = np.zeros((1, length + lags, n))
    resid = rng.normal(size=(1, length, n))
    resid[0, 0] = 0.0
    idx = np.stack([np.zeros(length, dtype=np.int64), rng.integers(0, length, size=length)])[None]
    shares = fused.bootstrap_shares(z, resid, np.zeros((1, n, n)), np.zeros((1, n)), idx, lags, 4, False)
    assert np.isnan(shares[0, 0]).all()
    assert np.isfinite(shares[0, 1]).all()
    np.testing.assert_allclose(shares[0, 1].sum(axis=-1), 1.0, rtol=1e-14)


def test_the_environment_selects_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fused.ENV, "NumPy ")
    assert not fused.enabled()
    monkeypatch.setenv(fused.ENV, "numba")
    assert fused.enabled()
