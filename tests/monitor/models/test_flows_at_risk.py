"""Capital flows at risk: the quantile fits are statsmodels' own, forecasts are point in time, the 5th percentile
covers as it should on simulated flows, and its coverage on the real history of foreign net purchases."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.regression.quantile_regression import QuantReg

from monitor.errors import InputDataError
from monitor.models.flows_at_risk import DEFAULT_DRIVERS, DriverSpec, FarResult, FarSettings, flows_at_risk
from tests.tolerance import assert_close


def _panel(n: int, seed: int) -> pd.DataFrame:
    """Simulated sessions: drivers that wander, flows whose mean and spread depend on yesterday's VIX."""
    rng = np.random.default_rng(seed)
    vix = np.empty(n)
    vix[0] = 18.0
    for t in range(1, n):
        vix[t] = 18.0 + 0.97 * (vix[t - 1] - 18.0) + rng.normal(scale=1.2)
    vix = np.abs(vix) + 9.0
    flows = np.empty(n)
    flows[0] = 0.0
    flows[1:] = 1e5 * (1.0 - 0.08 * vix[:-1] + (vix[:-1] / 18.0) * rng.normal(size=n - 1))
    return pd.DataFrame(
        {
            "foreign_net_kospi": flows,
            "vix": vix,
            "us_10y": 4.0 + np.cumsum(rng.normal(scale=0.05, size=n)),
            "jgb_10y": 1.0 + np.cumsum(rng.normal(scale=0.02, size=n)),
            "krw_usd_best": 1350.0 * np.exp(np.cumsum(rng.normal(scale=0.005, size=n))),
            "bok_rate": np.repeat([3.5, 3.25, 3.0, 2.75], -(-n // 4))[:n],
            "fed_upper": np.repeat([5.5, 5.0, 4.5, 4.25], -(-n // 4))[:n],
        },
        index=pd.bdate_range("2018-01-02", periods=n),
    )


def test_coefficients_equal_statsmodels_quantreg_on_the_same_design() -> None:
    panel = _panel(400, seed=1)
    h = 10
    # refit_every: the first origin's fit is reused until the last origin, which is always refitted.
    result = flows_at_risk(panel, FarSettings(horizon=h, min_obs=100, refit_every=10_000))
    # The design, written here from the definitions: y_s = flows of s+1..s+h; drivers at s.
    flows = panel["foreign_net_kospi"].to_numpy()
    n = len(panel)
    y = np.array([flows[s + 1 : s + h + 1].sum() if s + h < n else np.nan for s in range(n)])
    m = 20
    gap = (panel["us_10y"] - panel["jgb_10y"]).to_numpy()
    krw = panel["krw_usd_best"].to_numpy()
    x = np.full((n, 5), np.nan)
    for s in range(m, n):
        policy_gap = panel["bok_rate"].iat[s] - panel["fed_upper"].iat[s]
        x[s] = [1.0, panel["vix"].iat[s], gap[s] - gap[s - m], 100 * np.log(krw[s] / krw[s - m]), policy_gap]
    last = n - 1  # the last origin's fit: pairs s with s + h <= last and complete drivers
    rows = np.arange(m, last - h + 1)
    scale = 10.0 ** round(np.log10(np.std(y[rows])))  # the documented fitting unit of the target
    for q in (0.05, 0.5, 0.95):
        expected = scale * np.asarray(QuantReg(y[rows] / scale, x[rows]).fit(q=q).params)
        # Same algorithm on inputs equal up to rounding (rolling vs explicit sums): the solutions agree to many
        # digits; 1e-8 of the coefficients' size leaves room for the IRLS path to differ in its last steps.
        assert_close(result.params.loc[f"q{round(100 * q):02d}"].to_numpy(), expected, 1e-8)
        assert result.forecasts["nobs"].iat[-1] == len(rows)


def test_forecasts_are_point_in_time() -> None:
    panel = _panel(200, seed=2)
    settings = FarSettings(horizon=5, quantiles=(0.05,), min_obs=60, refit_every=1)  # one quantile: fast
    full = flows_at_risk(panel, settings).forecasts
    for cut in (120, 170):
        date = panel.index[cut]
        early = flows_at_risk(panel.iloc[: cut + 1], settings).forecasts
        # The forecast made at `date` does not change when later data arrive (only its realised value does).
        cols = ["q05", "nobs"]
        np.testing.assert_array_equal(early.loc[date, cols].to_numpy(), full.loc[date, cols].to_numpy())
    assert np.isnan(full["realised"].iat[-1])  # the last h origins are not realised yet


def test_fifth_percentile_covers_about_five_percent_on_simulated_flows() -> None:
    panel = _panel(1600, seed=3)
    result = flows_at_risk(panel, FarSettings(horizon=5, min_obs=200, refit_every=25))
    share, count = result.coverage(0.05)
    # 1,300-odd overlapping 5-session targets: the standard error of a 5% share is about 1 point after the
    # overlap's inflation, so 2.5% to 8% is a wide but failing band (a look-ahead fit gives ~5% too, which the
    # point-in-time test above rules out; a wrong sign or horizon gives far more).
    assert count > 1300
    assert 0.025 < share < 0.08
    assert (result.forecasts["q05"] <= result.forecasts["q50"]).all()


def test_missing_series_and_short_history_are_clear_errors() -> None:
    panel = _panel(100, seed=4)
    with pytest.raises(InputDataError, match="needs series jgb_10y"):
        flows_at_risk(panel.drop(columns="jgb_10y"))
    with pytest.raises(InputDataError, match="at least 120 realised"):
        flows_at_risk(panel)
    with pytest.raises(InputDataError, match="unknown transform"):
        DriverSpec("x", "vix", "cube")


def _real_panel(shared: Path) -> pd.DataFrame:
    """The real history: foreign net purchases (million KRW) and the default drivers' series from the files in
    ../shared, each taken on a flow date as its last value on or before that date."""
    real, incoming = shared / "data" / "real", shared / "data" / "real" / "incoming"
    flows = pd.read_csv(real / "kr_investor_flow_kospi_daily_2024-08_2026-08_transcribed.csv", parse_dates=["date"])
    flows = flows.set_index("date")["foreign"]

    def dated(path: Path, date: str, value: str) -> pd.Series:
        frame = pd.read_csv(path, dtype={date: str})
        index = pd.to_datetime(frame[date], format="mixed")
        return pd.Series(pd.to_numeric(frame[value], errors="coerce").to_numpy(), index=index).dropna()

    cache = json.loads((incoming / "fredapi_cache_33series_2021-05_2026-08.json").read_text())["series"]

    def cached(key: str) -> pd.Series:
        return pd.Series({pd.Timestamp(d): float(v) for d, v in cache[key]})

    series = {
        "foreign_net_kospi": flows,
        "vix": dated(incoming / "fred_VIXCLS_1990_2026-08_datevaluesource.csv", "date", "value"),
        "us_10y": cached("DGS10"),
        "jgb_10y": dated(incoming / "mof_jgb10y_daily_2021-08_2026-08.csv", "DATE", "CLOSE"),
        "krw_usd_best": dated(incoming / "fred_DEXKOUS_1981-04_2026-08_datevaluesource.csv", "date", "value"),
        "bok_rate": dated(
            incoming / "compiled_bok_mpb_rate_decisions_2024-01_2026-11.csv", "decision_date", "base_rate_after"
        ),
        "fed_upper": cached("DFEDTARU"),
    }
    idx = flows.index
    return pd.DataFrame({k: s.sort_index().reindex(idx.union(s.index)).ffill().reindex(idx) for k, s in series.items()})


@pytest.mark.shared
def test_coverage_on_the_real_history_of_foreign_net_purchases(shared: Path) -> None:
    panel = _real_panel(shared)
    assert panel.notna().all().all()
    # Refitting every 5 sessions keeps this test to seconds; the report quotes the every-session run.
    result = flows_at_risk(panel, FarSettings(refit_every=5))
    share, count = result.coverage(0.05)
    print(f"real history: 5th percentile coverage {share:.1%} over {count} realised 20-session forecasts")
    assert count > 300
    # Foreign flows in KRW grew about fourfold in spread in 2026 (KOSPI near doubled): out of sample the 5th
    # percentile is breached far more often than 5%. The test pins that this is measured, and sane.
    assert 0.0 < share < 0.5


def test_stored_result_round_trips_and_names_missing_driver_series() -> None:
    from datetime import date

    from monitor.models.flows_at_risk import far_result
    from monitor.models.results import ModelResult

    panel = _panel(260, seed=5)
    data = {c: panel[c].iloc[::-1] for c in panel.columns}  # any order: the panel is built on the flows' dates
    settings = FarSettings(horizon=5, min_obs=60, refit_every=20)
    result = far_result("far", "Flows at risk", data, settings, date(2018, 12, 31))
    back = ModelResult.from_dict(json.loads(json.dumps(result.to_dict())))
    expected = flows_at_risk(panel, settings).forecasts
    assert back.rolling is not None and back.method == "flows at risk"
    np.testing.assert_allclose(
        back.rolling[["q05", "q50", "q95"]].to_numpy(), expected[["q05", "q50", "q95"]].to_numpy()
    )
    assert back.extra["flows_at_risk"]["horizon"] == 5 and set(back.extra["flows_at_risk"]["params"]) == {
        "q05",
        "q50",
        "q95",
    }
    with pytest.raises(InputDataError, match="no data for the driver series vix"):
        far_result("far", "", {k: v for k, v in data.items() if k != "vix"}, settings, date(2018, 12, 31))


def _frame(panel: pd.DataFrame, settings: FarSettings) -> pd.DataFrame:
    """The model frame a run builds from the store's series (`far_panel`: flows first, then the inputs)."""
    from monitor.models.flows_at_risk import far_panel

    return far_panel({c: panel[c] for c in panel.columns}, settings)


def _stored(panel: pd.DataFrame, settings: FarSettings) -> FarResult | None:
    """What a run on `panel` stores, read back as the next run reads it (the store's JSON round trip)."""
    from datetime import date

    from monitor.models.flows_at_risk import far_result, stored_far
    from monitor.models.results import ModelResult

    data = {c: panel[c] for c in panel.columns}
    result = far_result("far", "Flows at risk", data, settings, date(2019, 12, 31))
    return stored_far(ModelResult.from_dict(json.loads(json.dumps(result.to_dict()))), settings)


@pytest.mark.parametrize("refit_every", [1, 7])
def test_a_warm_run_fits_only_new_origins_and_equals_a_cold_run(refit_every: int) -> None:
    settings = FarSettings(horizon=5, quantiles=(0.05, 0.5), min_obs=60, refit_every=refit_every)
    panel = _frame(_panel(300, seed=6), settings)
    stored = _stored(panel.iloc[:260], settings)
    assert stored is not None
    warm = flows_at_risk(panel, settings, stored)
    cold = flows_at_risk(panel, settings)
    # Exactly the same forecasts, realised values, pair counts and latest coefficients as fitting every origin.
    pd.testing.assert_frame_equal(warm.forecasts, cold.forecasts, check_exact=True)
    pd.testing.assert_frame_equal(warm.params, cold.params, check_exact=True)
    assert warm.computed is not None and cold.computed is not None
    assert len(cold.computed) == len(cold.forecasts)
    # Forecast again: from the stored last origin (refitted then whatever the schedule), or from the fit in force
    # there; the 40 new origins and at most refit_every - 1 before.
    stored_last = panel.index[259]
    assert warm.computed[0] <= stored_last and len(warm.computed) <= 41 + refit_every - 1
    assert warm.computed.equals(cold.forecasts.index[cold.forecasts.index >= warm.computed[0]])


def test_a_revision_inside_an_old_origins_window_refits_that_origin() -> None:
    settings = FarSettings(horizon=5, quantiles=(0.05,), min_obs=60, refit_every=1)
    panel = _frame(_panel(300, seed=7), settings)
    stored = _stored(panel, settings)
    assert stored is not None
    revised = panel.copy()
    day = panel.index[200]
    revised.loc[day, "foreign_net_kospi"] += 5e6  # a large revision: the targets of origins 195..199 move
    warm = flows_at_risk(revised, settings, stored)
    cold = flows_at_risk(revised, settings)
    pd.testing.assert_frame_equal(warm.forecasts, cold.forecasts, check_exact=True)
    # Origins before the revised row keep their stored forecasts; the origin on it and every later one is fitted
    # again, and their forecasts did change (so keeping them would have been wrong).
    assert warm.computed is not None and warm.computed[0] == day
    assert warm.computed.equals(cold.forecasts.index[cold.forecasts.index >= day])
    before = stored.forecasts.loc[warm.computed, "q05"].to_numpy()
    assert not np.array_equal(before, warm.forecasts.loc[warm.computed, "q05"].to_numpy())
    # The same run in the other order (the revised data first, the original after) gives each its own answer.
    again = flows_at_risk(panel, settings, _stored(revised, settings))
    pd.testing.assert_frame_equal(again.forecasts, flows_at_risk(panel, settings).forecasts, check_exact=True)


def test_stored_forecasts_of_other_settings_or_an_older_version_are_not_kept() -> None:
    from datetime import date

    from monitor.models.flows_at_risk import far_result, stored_far
    from monitor.models.results import ModelResult

    panel = _panel(260, seed=8)
    settings = FarSettings(horizon=5, quantiles=(0.05,), min_obs=60)
    other = FarSettings(horizon=5, quantiles=(0.05,), min_obs=60, drivers=DEFAULT_DRIVERS[:3])
    data = {c: panel[c] for c in panel.columns}
    body = json.loads(json.dumps(far_result("far", "", data, other, date(2019, 1, 2)).to_dict()))
    assert stored_far(ModelResult.from_dict(body), other) is not None
    assert stored_far(ModelResult.from_dict(body), settings) is None  # other drivers: fit every origin
    body["inputs"] = None  # a result stored before the model frame was
    assert stored_far(ModelResult.from_dict(body), other) is None
    assert stored_far(None, settings) is None
