"""Transforms by hand-computed values, the yoy lag per frequency, and the stationarity table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.errors import InputDataError
from monitor.transforms import infer_freq, stationarity_table, transform, transform_frame


@pytest.fixture
def s() -> pd.Series:
    return pd.Series([100.0, 110.0, 99.0, 99.0], index=pd.date_range("2024-01-31", periods=4, freq="ME"), name="x")


def test_simple_transforms(s: pd.Series) -> None:
    assert transform(s, "level").tolist() == [100.0, 110.0, 99.0, 99.0]
    assert transform(s, "diff").tolist()[1:] == [10.0, -11.0, 0.0]
    np.testing.assert_allclose(transform(s, "log"), np.log([100.0, 110.0, 99.0, 99.0]))
    np.testing.assert_allclose(transform(s, "log_diff").iloc[1:], [np.log(1.1), np.log(0.9), 0.0])
    np.testing.assert_allclose(transform(s, "pct_change").iloc[1:], [10.0, -10.0, 0.0])
    z = transform(s, "zscore")
    assert z.mean() == pytest.approx(0.0) and z.std() == pytest.approx(1.0)
    assert np.isnan(transform(s, "diff").iloc[0])


@pytest.mark.parametrize(("freq", "periods", "lag"), [("ME", 30, 12), ("QE", 12, 4), ("W-FRI", 110, 52)])
def test_yoy_uses_the_frequency_lag(freq: str, periods: int, lag: int) -> None:
    idx = pd.date_range("2020-01-01", periods=periods, freq=freq)
    s = pd.Series(np.arange(1.0, periods + 1), index=idx, name="x")
    out = transform(s, "yoy")
    assert out.iloc[:lag].isna().all()
    assert out.iloc[lag] == pytest.approx(100.0 * ((lag + 1) / 1 - 1))
    assert out.iloc[-1] == pytest.approx(100.0 * (periods / (periods - lag) - 1))


def test_daily_yoy_takes_the_value_as_of_the_same_day_a_year_before() -> None:
    idx = pd.bdate_range("2023-01-02", "2024-12-31")
    s = pd.Series(np.arange(1.0, len(idx) + 1), index=idx, name="krw")
    out = transform(s, "yoy", freq="B")
    # 2024-06-03 (Mon) -> 2023-06-03 was a Saturday: the value as of then is Friday 2023-06-02's.
    expected = 100.0 * (s["2024-06-03"] / s["2023-06-02"] - 1)
    assert out["2024-06-03"] == pytest.approx(expected)
    # Leap day: a year before 2024-02-29 is 2023-02-28.
    assert out["2024-02-29"] == pytest.approx(100.0 * (s["2024-02-29"] / s["2023-02-28"] - 1))
    assert out[:"2024-01-01"].isna().all() and out["2024-01-02":].notna().all()
    assert transform(s, "yoy").equals(out)  # the frequency is inferred the same way


def test_log_needs_positive_values(s: pd.Series) -> None:
    s.iloc[2] = -1.0
    with pytest.raises(InputDataError, match=r"log_diff of series x needs positive values.*2024-03-31"):
        transform(s, "log_diff")
    with pytest.raises(InputDataError, match="unknown transform 'cube'"):
        transform(s, "cube")


def test_transform_frame_per_column(s: pd.Series) -> None:
    frame = pd.DataFrame({"a": s, "b": s * 2})
    out = transform_frame(frame, {"a": "diff"})
    assert out["a"].iloc[1] == 10.0 and out["b"].iloc[1] == 220.0


def test_infer_freq() -> None:
    assert infer_freq(pd.bdate_range("2024-01-01", periods=30)) == "D"
    assert infer_freq(pd.date_range("2024-01-01", periods=30, freq="W")) == "W"
    assert infer_freq(pd.date_range("2024-01-01", periods=30, freq="MS")) == "M"
    assert infer_freq(pd.date_range("2024-01-01", periods=8, freq="QE")) == "Q"


def test_stationarity_table_verdicts() -> None:
    rng = np.random.default_rng(12)
    n = 600
    frame = pd.DataFrame(
        {
            "noise": rng.normal(size=n),
            "walk": np.cumsum(rng.normal(size=n)),
            "flat": np.ones(n),
            "short": np.r_[rng.normal(size=15), np.full(n - 15, np.nan)],
        }
    )
    table = stationarity_table(frame)
    assert table.loc["noise", "verdict"] == "stationary"
    assert table.loc["walk", "verdict"] == "unit root"
    assert table.loc["walk", "adf_pvalue"] > 0.05 and table.loc["walk", "kpss_pvalue"] <= 0.05
    assert table.loc["flat", "verdict"] == "constant"
    assert table.loc["short", "verdict"] == "too short" and table.loc["short", "n"] == 15
    # KPSS p-values are read off a table: beyond its edge the value is a bound and is flagged as one.
    assert table.loc["noise", "kpss_bound"] == ">" and table.loc["walk", "kpss_bound"] == "<"
