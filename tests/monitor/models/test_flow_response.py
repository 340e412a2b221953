"""The yield gap and the rolling response of foreign flows to it: every window against a per-window statsmodels OLS
computed here, the gap against the legs' values read directly, and the result on the replay of ../shared."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from monitor.models.flow_response import FlowResponseSpec, estimate_flow_response, rolling_response, yield_gap
from monitor.models.results import ModelResult
from series import calendars


def _sessions(n: int, start: str = "2023-01-02") -> pd.DatetimeIndex:
    cal = calendars.sessions("XKRX")
    return cal[cal >= pd.Timestamp(start)][:n]


def _synthetic(n: int = 420, seed: int = 3) -> dict[str, pd.Series]:
    """SYNTHETIC inputs: random-walk yields and flows that respond to the gap's change with beta = -8,000."""
    rng = np.random.default_rng(seed)
    days = _sessions(n)
    us = pd.Series(4 + np.cumsum(rng.normal(0, 0.05, n)), index=days)
    japan = pd.Series(1 + np.cumsum(rng.normal(0, 0.02, n)), index=days)
    return {"us_10y": us, "jgb_10y": japan, "foreign_net_kospi": us * 0}  # flows filled in by the caller


def test_each_window_matches_a_statsmodels_ols() -> None:
    rng = np.random.default_rng(7)
    n, window, level = 330, 250, 0.9
    x = pd.Series(rng.normal(0, 0.05, n), index=_sessions(n))
    y = -8000 * x + rng.normal(0, 300, n) + 50
    got = rolling_response(x, y, window, level)
    assert len(got) == n - window + 1 and got.index[0] == x.index[window - 1]
    for end in range(window, n + 1):
        xs, ys = x.iloc[end - window : end], y.iloc[end - window : end]
        fit = sm.OLS(ys.to_numpy(), sm.add_constant(xs.to_numpy())).fit()
        lo, hi = fit.conf_int(alpha=1 - level)[1]
        row = got.loc[x.index[end - 1]]
        # Two exact formulas for the same OLS (QR in statsmodels, rolling moments here): they agree to rounding;
        # 1e-9 relative is far above double-precision noise on 250 rows and far below any visible difference.
        assert row["beta"] == pytest.approx(fit.params[1], rel=1e-9)
        assert row["se"] == pytest.approx(fit.bse[1], rel=1e-9)
        assert (row["beta_lo"], row["beta_hi"]) == (pytest.approx(lo, rel=1e-9), pytest.approx(hi, rel=1e-9))


def test_estimate_recovers_the_response_and_the_timing_of_each_leg() -> None:
    data = _synthetic()
    us, japan = data["us_10y"], data["jgb_10y"]
    # A US close is known in Seoul the next session: the flows of session t answer to us[t-1] - japan[t].
    gap_seen = us.shift(1) - japan
    noise = np.random.default_rng(1).normal(0, 200, len(us))
    data["foreign_net_kospi"] = (-8000 * gap_seen.diff() + noise).fillna(0)
    result = estimate_flow_response(data, date(2024, 12, 30), FlowResponseSpec(window=250))
    assert not result.error and result.method == "rolling OLS"
    assert result.rolling is not None
    last = result.extra["latest"]
    assert last["beta_lo"] < -8000 < last["beta_hi"] and abs(last["beta"] + 8000) < 400
    # Round trip through the stored form: what the run keeps is what rules and the report read.
    back = ModelResult.from_dict(result.to_dict())
    assert back.rolling is not None
    pd.testing.assert_frame_equal(back.rolling, result.rolling, check_freq=False)


def test_too_little_data_is_a_result_with_its_reason() -> None:
    data = _synthetic(n=120)
    result = estimate_flow_response(data, date(2024, 12, 30))
    assert result.error.startswith("not estimated: ") and "250 needed" in result.error


def test_yield_gap_is_us_minus_japan_on_seoul_sessions() -> None:
    days = _sessions(5, "2026-03-23")  # 03-23 .. 03-27
    us = pd.Series([4.30, 4.35, 4.40, 4.38, 4.42], index=days)
    japan = pd.Series([2.30, 2.31, 2.29, 2.33, 2.35], index=days)
    gap = yield_gap({"us_10y": us, "jgb_10y": japan}, "10y", date(2026, 3, 27))
    # On session d: the US close of the session before, the JGB of d.
    assert list(gap.index) == list(days[1:])
    assert gap.to_numpy() == pytest.approx([4.30 - 2.31, 4.35 - 2.29, 4.40 - 2.33, 4.38 - 2.35], rel=1e-12)


def test_on_the_real_replay_data(shared: Path) -> None:
    """The real 10-year legs and flows in ../shared, read directly (US DGS10, MOF 10Y history, KRX flows)."""
    dgs10 = pd.read_csv(shared / "data/real/incoming/fredapi_DGS10_1962_2026-06.csv", parse_dates=["Date"])
    mof = pd.read_csv(shared / "data/real/incoming/mof_jgbcme_all_1974-09_2026-04.csv", skiprows=1, na_values="-")
    flows = pd.read_csv(shared / "data/real/kr_investor_flow_kospi_daily_2024-08_2026-08_transcribed.csv")
    data = {
        "us_10y": pd.Series(dgs10["Value"].to_numpy(), index=dgs10["Date"]),
        "jgb_10y": pd.Series(mof["10Y"].to_numpy(), index=pd.to_datetime(mof["Date"], format="%Y/%m/%d")),
        "foreign_net_kospi": pd.Series(flows["foreign"].to_numpy() / 100, index=pd.to_datetime(flows["date"])),
    }
    result = estimate_flow_response(data, date(2026, 3, 27))
    assert not result.error and result.rolling is not None
    assert result.rolling.index[-1] == pd.Timestamp("2026-03-27")
    assert (result.rolling["beta_lo"] <= result.rolling["beta"]).all()
    assert (result.rolling["beta"] <= result.rolling["beta_hi"]).all()
