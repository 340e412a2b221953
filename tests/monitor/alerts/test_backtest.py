"""Backtests: point in time (equal to a literal day-by-day replay over the stored vintages), the known KRW/USD
episodes on the real FRED history, and the outcome statistics against direct computations."""

from __future__ import annotations

import json
import textwrap
from datetime import date

import numpy as np
import pandas as pd
import pytest

from monitor.alerts import engine
from monitor.alerts.backtest import Outcomes, Vintages, pit_histories, score
from monitor.alerts.data import RuleData, SeriesInfo
from monitor.alerts.engine import FIRING, AlertState
from monitor.alerts.rules import KINDS
from monitor.cli import run
from series.store import Store

INFO = {"x": SeriesInfo("x", "x", stale_days=5)}
RULES = [
    {"kind": "level", "series": "x", "op": ">=", "threshold": 1003, "for": 1, "keep_firing_for": 2},
    {"kind": "zscore", "series": "x", "window": 20, "threshold": 1.5, "transform": "diff"},
    {"kind": "percentile", "series": "x", "q": 10, "op": "<", "min_periods": 30, "for": 2},
    {"kind": "streak", "series": "x", "transform": "diff", "op": "<", "threshold": 0, "n": 3},
    {"kind": "hysteresis", "series": "x", "enter": 1004, "exit": 1001, "keep_firing_for": 1},
    {"kind": "data_health", "series": ["x"]},
]


def synthetic_store(tmp_path, n: int = 160, seed: int = 4) -> Store:
    """SYNTHETIC vintages: each value first known two days after its date; 12 dates revised a month later by a
    large amount (so a replay that used revised values too early would differ); a two-week publication gap."""
    r = np.random.default_rng(seed)
    dates = pd.bdate_range("2025-01-01", periods=n)
    values = 1000 + np.cumsum(r.normal(0, 1, n))
    lag = pd.Series(pd.Timedelta(days=2), index=dates)
    lag.iloc[80:90] = [pd.Timedelta(days=2 + 14 - i) for i in range(10)]  # published late, all at once
    first = pd.DataFrame({"date": dates, "value": values, "realtime_start": dates + lag.to_numpy()})
    first["realtime_start"] = first["realtime_start"].cummax()  # first releases come in date order
    revised_idx = r.choice(np.arange(10, n - 10), 12, replace=False)
    revised = pd.DataFrame(
        {
            "date": dates[revised_idx],
            "value": values[revised_idx] + r.choice([-6.0, 6.0], 12),
            "realtime_start": dates[revised_idx] + pd.Timedelta(days=30),
        }
    )
    store = Store.open(tmp_path / "s.sqlite", writer="test")
    store.append("x", pd.concat([first, revised]), source="synthetic")
    return store


def day_by_day(store: Store, rule, grid: pd.DatetimeIndex) -> pd.Series:
    """The literal replay: every day, the series as known that day, the engine's state stepped with the
    observations it has not seen."""
    ev_fp = None
    st: AlertState | None = None
    out = {}
    for day in grid:
        s = store.as_of("x", day)
        if s.empty:
            out[day] = False
            continue
        data = RuleData(day.date(), {"x": s}, INFO)
        [ev] = rule.evaluate(data)
        if st is None:
            ev_fp = ev.fingerprint
            st = AlertState(ev_fp, rule.name, ev.labels)
        engine.replay(st, ev.frame[ev.frame.index <= day], rule.for_, rule.keep_firing_for)
        out[day] = st.state == FIRING
    return pd.Series(out)


@pytest.mark.parametrize("block", RULES, ids=[b["kind"] for b in RULES])
def test_the_backtest_equals_a_day_by_day_replay_over_the_vintages(tmp_path, block):
    rule = KINDS[block["kind"]].model_validate({"name": "r", **block})
    with synthetic_store(tmp_path) as store:
        vintages = {"x": Vintages(store.vintages("x"))}
        end = (store.latest("x").index[-1] + pd.Timedelta(days=40)).date()
        grid = pd.bdate_range("2025-01-01", end)
        expected = day_by_day(store, rule, grid)
    [history] = pit_histories(rule, vintages, INFO, {}, end)
    report = score(history, None, date(2025, 1, 1), end)
    got = report.daily.reindex(grid, fill_value=False)
    assert expected.any() and (~expected).any(), "the scenario should both fire and not fire"
    mismatch = expected.index[expected.to_numpy() != got.to_numpy()]
    assert len(mismatch) == 0, f"{len(mismatch)} days differ, first {mismatch[:5].tolist()}"


def test_revisions_split_the_history_into_epochs(tmp_path):
    with synthetic_store(tmp_path) as store:
        v = Vintages(store.vintages("x"))
    assert len(v.revision_days()) == 12
    rule = KINDS["level"].model_validate({"name": "r", **RULES[0]})
    [history] = pit_histories(rule, {"x": v}, INFO, {}, date(2026, 1, 1))
    # Each observation is stepped once, in date order, on the day it became known (never before its date + 2).
    assert history.rows.index.is_unique and history.rows.index.is_monotonic_increasing
    assert (history.rows["known"] >= history.rows.index + pd.Timedelta(days=2)).all()


def test_outcomes_match_a_direct_computation():
    r = np.random.default_rng(9)
    days = pd.bdate_range("2024-01-01", periods=120)
    kospi = pd.Series(2500 * np.exp(np.cumsum(r.normal(0, 0.02, 120))), index=days)
    krw = pd.Series(1300 * np.exp(np.cumsum(r.normal(0, 0.01, 120))), index=days)
    out = Outcomes(kospi, krw, horizon=10, stress_drawdown=5.0, stress_krw=3.0)
    stress = out.stress_days(days)
    for i in (0, 17, 64, 109, 110, 119):
        d = days[i]
        dd = out.drawdown_after(d)
        mv = out.krw_move_after(d)
        if i + 10 >= 120:
            assert dd is None and mv is None and np.isnan(stress[d])
            continue
        want_dd = (kospi.iloc[i + 1 : i + 11].min() / kospi.iloc[i] - 1) * 100
        want_mv = (krw.iloc[i + 10] / krw.iloc[i] - 1) * 100
        assert dd == pytest.approx(want_dd) and mv == pytest.approx(want_mv)
        assert stress[d] == float(want_dd <= -5.0 or want_mv >= 3.0)


def test_noise_to_signal_counts(tmp_path):
    # SYNTHETIC: a rule that fires on days 20-29 of 100; stress follows days 25-34 (a KOSPI crash on day 35).
    days = pd.bdate_range("2024-01-01", periods=100)
    kospi = pd.Series(1000.0, index=days)
    kospi.iloc[35:] = 800.0
    krw = pd.Series(1300.0, index=days)
    x = pd.Series(0.0, index=days)
    x.iloc[20:30] = 1.0
    rule = KINDS["level"].model_validate({"name": "r", "kind": "level", "series": "x", "op": ">=", "threshold": 1})
    vint = Vintages(pd.DataFrame({"date": days, "value": x.to_numpy(), "realtime_start": days}))
    [history] = pit_histories(rule, {"x": vint}, INFO, {}, days[-1].date())
    report = score(history, Outcomes(kospi, krw, horizon=10), days[0].date(), days[-1].date())
    stress = pd.Series([25 <= i <= 34 for i in range(100)], index=days)
    known = pd.Series([i + 10 < 100 for i in range(100)], index=days)
    signal = pd.Series([20 <= i <= 29 for i in range(100)], index=days)
    a = int((signal & stress & known).sum())
    b = int((signal & ~stress & known).sum())
    c = int((~signal & stress & known).sum())
    d = int((~signal & ~stress & known).sum())
    assert (a, b, c, d) == (5, 5, 5, 75)
    assert report.nsr == pytest.approx((b / (b + d)) / (a / (a + c)))
    assert report.stress_share_after_signal == pytest.approx(0.5)
    [sig] = report.signals
    assert (sig.episode.start, sig.episode.end) == (days[20].date(), days[30].date())
    assert sig.kospi_drawdown == pytest.approx(0.0)  # day 20 + 10 sessions: before the crash


# -- the real KRW/USD history -----------------------------------------------------------------------------------
CONFIG = """
[paths]
store = "store.sqlite"

[[series]]
id = "krw_usd"
label = "KRW per USD (New York noon buying rate)"
source = "csv"
key = "{krw}"
params = {{ date_column = "observation_date", value_column = "DEXKOUS" }}
freq = "B"
units = "KRW per USD"
release_lag_days = 4

[[series]]
id = "kospi"
label = "KOSPI"
source = "csv"
key = "kospi.csv"
freq = "B"
units = "points"

[[rules]]
name = "krw_usd_1400"
kind = "level"
label = "KRW/USD"
series = "krw_usd"
op = ">="
threshold = 1400
keep_firing_for = 10
"""


@pytest.fixture
def real_store(shared, tmp_path):
    krw = shared / "data" / "real" / "fred_DEXKOUS.csv"
    if not krw.is_file():
        pytest.skip(f"{krw} is absent")
    (tmp_path / "config.toml").write_text(CONFIG.format(krw=krw))
    assert (
        run(["fetch", "--config", str(tmp_path / "config.toml"), "--series", "krw_usd", "--as-of", "2026-04-01"]) == 0
    )
    # KOSPI (yfinance download with its three header rows) for the outcomes, stored as known on its date.
    ks = shared / "data" / "real" / "yfinance_KS11_daily_1990_2025-01.csv"
    if ks.is_file():
        raw = pd.read_csv(ks, skiprows=[1, 2], encoding="utf-8-sig")
        frame = pd.DataFrame({"date": pd.to_datetime(raw["Price"]), "value": raw["Close"].astype(float)}).dropna()
        frame["realtime_start"] = frame["date"]
        with Store.open(tmp_path / "store.sqlite", writer="test") as store:
            store.append("kospi", frame, source="yahoo")
    return tmp_path


@pytest.mark.shared
def test_backtest_of_krw_at_1400_finds_the_known_episodes(real_store, capsys):
    config = str(real_store / "config.toml")
    assert (
        run(["alerts", "backtest", "--config", config, "--rule", "krw_usd_1400", "--to", "2026-04-01", "--json"]) == 0
    )
    [report] = json.loads(capsys.readouterr().out)
    episodes = [(date.fromisoformat(s["start"]), s["end"] and date.fromisoformat(s["end"])) for s in report["signals"]]

    def covered(day: str) -> bool:
        d = date.fromisoformat(day)
        return any(start <= d and (end is None or d < end) for start, end in episodes)

    # The 2008-09 crisis, autumn 2022 and late 2024 into 2025; and the 1997-98 Asian crisis before them.
    for day in ("1998-01-15", "2008-11-20", "2009-03-02", "2022-10-25", "2024-12-27", "2025-03-31", "2026-03-27"):
        assert covered(day), day
    for calm in ("2005-06-01", "2013-06-03", "2020-03-19", "2021-06-01", "2023-06-01"):
        assert not covered(calm), calm
    first_2008 = next(s for s in report["signals"] if s["start"].startswith("2008"))
    assert first_2008["start"] == "2008-10-08"  # the first close at or above 1,400 in the crisis
    assert first_2008["known"] == "2008-10-12"  # H.10 is known 4 days later (release_lag_days)
    peak = max(s["peak"] for s in report["signals"] if s["start"].startswith(("2008", "2009")))
    assert peak == pytest.approx(1570.1)  # DEXKOUS 2009-03-02
    if any(s["kospi_drawdown_pct"] is not None for s in report["signals"]):
        assert first_2008["kospi_drawdown_pct"] < -10  # what followed October 2008


@pytest.mark.shared
def test_backtest_text_output_and_window(real_store, capsys):
    config = str(real_store / "config.toml")
    assert run(["alerts", "backtest", "--config", config, "--from", "2022-01-01", "--to", "2023-12-31"]) == 0
    out = capsys.readouterr().out
    assert "krw_usd_1400: 1 episodes" in out and "2022-09-22" in out


def test_backtest_and_explain_usage_errors(tmp_path, capsys):
    (tmp_path / "config.toml").write_text(
        textwrap.dedent(CONFIG.format(krw=tmp_path / "krw.csv")).replace('key = "kospi.csv"', 'key = "k.csv"')
    )
    config = str(tmp_path / "config.toml")
    assert run(["alerts", "backtest", "--config", config, "--rule", "krw_1400"]) == 2
    assert "unknown rule 'krw_1400' (did you mean 'krw_usd_1400'?)" in capsys.readouterr().err
    assert run(["alerts", "backtest", "--config", config, "--from", "2024-13-01"]) == 2
    assert "--from: '2024-13-01' is not a date" in capsys.readouterr().err
    assert run(["alerts", "explain", "krw_usd_1400", "--config", config]) == 2
    assert "no store at" in capsys.readouterr().err


def test_a_streaks_peak_is_its_longest_run():
    # SYNTHETIC: runs below zero of 4 (fires from the 3rd) and 6; the value is the run length, so the peak of
    # each episode is the run's length at its end, whatever the rule's `op` compares the input with.
    days = pd.bdate_range("2024-01-01", periods=16)
    x = pd.Series([1, -1, -1, -1, -1, 1, 1, -1, -1, -1, -1, -1, -1, 1, 1, 1.0], index=days)
    rule = KINDS["streak"].model_validate(
        {"name": "r", "kind": "streak", "series": "x", "op": "<", "threshold": 0, "n": 3}
    )
    vint = Vintages(pd.DataFrame({"date": days, "value": x.to_numpy(), "realtime_start": days}))
    [history] = pit_histories(rule, {"x": vint}, INFO, {}, days[-1].date())
    report = score(history, None, None, days[-1].date())
    runs = (x < 0).groupby((x >= 0).cumsum()).sum()  # independent: the length of each run below zero
    assert [s.episode.peak for s in report.signals] == sorted(float(n) for n in runs if n >= 3) == [4.0, 6.0]
    assert [s.episode.peak_date for s in report.signals] == [days[4].date(), days[12].date()]


def test_what_followed_is_na_when_the_window_straddles_a_gap_in_the_data():
    # SYNTHETIC: 60 sessions, six months without data (as KOSPI in the replay, 2025-03 to 2025-09), 60 more.
    before = pd.bdate_range("2025-01-01", periods=60)
    after = pd.bdate_range("2025-10-01", periods=60)
    days = before.append(after)
    kospi = pd.Series(np.linspace(2500, 2600, 120), index=days)
    kospi.iloc[60:] *= 1.3  # a level 30% higher after the gap: the old code reported it as what followed
    krw = pd.Series(np.linspace(1400, 1450, 120), index=days)
    out = Outcomes(kospi, krw, horizon=10)
    for i in (49, 50, 55, 59):  # the next 10 sessions reach across the gap (from day 50 on)
        d = days[i]
        straddles = i + 10 >= 60
        assert (out.drawdown_after(d) is None) == straddles and (out.krw_move_after(d) is None) == straddles
    assert out.drawdown_after(days[49]) == pytest.approx((kospi.iloc[50:60].min() / kospi.iloc[49] - 1) * 100)
    assert out.krw_move_after(days[70]) == pytest.approx((krw.iloc[80] / krw.iloc[70] - 1) * 100)
    stress = out.stress_days(pd.bdate_range(days[0], days[-1]))
    assert stress[days[49]] == 0.0 and np.isnan(stress[days[50]]) and np.isnan(stress[days[59]])
    assert stress[pd.Timestamp("2025-06-02")] != stress[pd.Timestamp("2025-06-02")]  # inside the gap: unknown
    assert stress[days[60]] == 0.0


def test_flows_at_risk_reports_the_share_of_realised_flows_below_the_forecast():
    # SYNTHETIC forecasts: the 5th percentile q05 and what followed; the last 5 are not realised yet.
    days = pd.bdate_range("2025-01-01", periods=80)
    r = np.random.default_rng(9)
    q05 = pd.Series(-10.0 + r.normal(size=80), index=days)
    realised = q05 + r.normal(loc=3.0, scale=2.0, size=80)
    realised.iloc[-5:] = np.nan
    results = {"far": pd.DataFrame({"q05": q05, "realised": realised})}
    block = {"name": "far_low", "kind": "flows_at_risk", "model": "far", "threshold": -11.0}
    rule = KINDS["flows_at_risk"].model_validate(block)
    [history] = pit_histories(rule, {}, INFO, results, days[-1].date())
    report = score(history, None, days[10].date(), days[-1].date())
    window = slice(10, 75)  # from the window's start to the last realised forecast
    expected = float((realised.iloc[window] < q05.iloc[window]).mean())
    assert report.realised_count == 65
    assert report.realised_below == pytest.approx(expected)
    assert 0 < expected < 0.5  # the check can fail both ways
    assert report.as_dict()["realised_forecasts"] == 65
