"""Rule statistics against independent, loop-by-loop computations, and no look-ahead (SYNTHETIC data)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor import rule_tests
from monitor.alerts import stats
from monitor.alerts.data import RuleData, SeriesInfo
from monitor.alerts.rules import KINDS, EmpRule
from monitor.config import validate_rules

rng = np.random.default_rng(7)


def walk(n: int, start: str = "2020-01-01", seed: int = 1, scale: float = 1.0, name: str = "x") -> pd.Series:
    r = np.random.default_rng(seed)
    return pd.Series(1000 + np.cumsum(r.normal(0, scale, n)), index=pd.bdate_range(start, periods=n), name=name)


def test_trailing_zscore_excludes_today():
    x = walk(300)
    got = stats.trailing_zscore(x, 20, 20)
    for t in (19, 20, 57, 299):
        past = x.iloc[max(0, t - 20) : t].to_numpy()
        want = (x.iloc[t] - past.mean()) / past.std(ddof=1) if len(past) == 20 else np.nan
        assert got.iloc[t] == pytest.approx(want, nan_ok=True)


def test_trailing_robust_zscore_matches_median_and_mad():
    x = walk(400, seed=3)
    x.iloc[200] += 50  # an outlier moves the mean far more than the median
    got = stats.trailing_robust_zscore(x, 60, 30)
    for t in (29, 30, 45, 201, 260, 399):
        past = x.iloc[max(0, t - 60) : t].to_numpy()
        if len(past) < 30:
            assert np.isnan(got.iloc[t])
            continue
        med = np.median(past)
        mad = np.median(np.abs(past - med))
        assert got.iloc[t] == pytest.approx((x.iloc[t] - med) / (1.4826 * mad))


def test_expanding_quantile_uses_only_the_past():
    x = walk(200, seed=5)
    got = stats.expanding_quantile(x, 0.05, 10)
    for t in (9, 10, 11, 150, 199):
        past = x.iloc[:t].to_numpy()
        want = np.percentile(past, 5) if len(past) >= 10 else np.nan
        assert got.iloc[t] == pytest.approx(want, nan_ok=True)


def test_run_length_and_yoy():
    cond = pd.Series([True, True, False, True, True, True, False])
    assert stats.run_length(cond).tolist() == [1, 2, 0, 1, 2, 3, 0]
    months = pd.Series([100.0] * 12 + [110.0, 95.0], index=pd.date_range("2024-01-01", periods=14, freq="MS"))
    yoy = stats.yoy(months)
    assert yoy.iloc[:12].isna().all() and yoy.iloc[12] == pytest.approx(10.0) and yoy.iloc[13] == pytest.approx(-5.0)
    # A missing month a year ago is not filled from an older one.
    gap = months.drop(pd.Timestamp("2024-02-01"))
    assert np.isnan(stats.yoy(gap).loc["2025-02-01"])


def _emp_by_loop(rule: EmpRule, krw: pd.Series, diff: pd.Series) -> pd.Series:
    """The documented formula, date by date with plain numpy."""
    c1 = np.log(krw / krw.shift(rule.periods)).to_numpy()
    c2 = (diff - diff.shift(rule.periods)).to_numpy()
    comps = np.vstack([c1, c2]).T
    emp = np.full(len(krw), np.nan)
    for t in range(len(krw)):
        w = []
        for k in range(2):
            past = comps[:t, k]
            past = past[~np.isnan(past)]
            sd = past.std(ddof=1) if len(past) >= max(2, rule.periods) else np.nan
            w.append(1 / sd if sd and sd > 0 and not np.isnan(comps[t, k]) else np.nan)
        w = np.array(w)
        if np.all(np.isnan(w)):
            continue
        w = w / np.nansum(w)
        emp[t] = np.nansum(w * comps[t])
    out = np.full(len(krw), np.nan)
    for t in range(len(krw)):
        past = emp[max(0, t - rule.window) : t]
        past = past[~np.isnan(past)]
        if len(past) >= (rule.min_periods or rule.window) and past.std(ddof=1) > 0:
            out[t] = (emp[t] - past.mean()) / past.std(ddof=1)
    return pd.Series(out, index=krw.index)


def test_emp_index_matches_the_documented_formula():
    n = 220
    krw = walk(n, seed=11, scale=3.0, name="krw_usd")
    days = krw.index
    # Rates: step functions on their own (sparser) calendars, carried forward onto KRW dates.
    bok = pd.Series([3.5, 3.25, 3.0, 3.25], index=[days[0], days[60], days[120], days[180]], name="bok_rate")
    fed = pd.Series([5.5, 5.25, 5.5, 5.0], index=[days[0] - pd.Timedelta(days=3), days[50], days[130], days[200]])
    rule = EmpRule.model_validate(
        {
            "name": "emp",
            "kind": "emp",
            "periods": 5,
            "window": 40,
            "min_periods": 30,
            "components": [
                {"series": "krw_usd", "transform": "log_diff", "sign": 1},
                {"series": "bok_rate", "minus": "fed_upper", "transform": "diff", "sign": 1},
            ],
        }
    )
    # Decision-dated rates stay fresh between decisions here (a stale leg is left out: tested below).
    infos = {sid: SeriesInfo(sid, freq="D", stale_days=365) for sid in ("bok_rate", "fed_upper")}
    data = RuleData(days[-1].date(), {"krw_usd": krw, "bok_rate": bok, "fed_upper": fed}, infos)
    [ev] = rule.evaluate(data)
    diff = bok.reindex(days, method="ffill") - fed.reindex(days, method="ffill")
    want = _emp_by_loop(rule, krw, diff)
    got = ev.frame["value"]
    assert got.notna().sum() > 100
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-9, atol=1e-12, equal_nan=True)


def test_divergence_by_loop():
    boj = pd.Series(
        [0.0, 0.1, 0.1, 0.25, 0.5],
        index=pd.to_datetime(["2024-01-01", "2024-03-19", "2024-05-01", "2024-07-31", "2025-01-24"]),
    )
    fed = pd.Series(
        [5.5, 5.0, 4.75, 4.5], index=pd.to_datetime(["2024-01-01", "2024-09-18", "2024-11-07", "2024-12-18"])
    )
    from monitor.alerts.rules import DivergenceRule

    rule = DivergenceRule.model_validate(
        {"name": "d", "kind": "divergence", "hiking": "boj", "cutting": "fed", "within_months": 3}
    )
    infos = {sid: SeriesInfo(sid, freq="D", stale_days=365) for sid in ("boj", "fed")}  # fresh between decisions
    [ev] = rule.evaluate(RuleData(date(2025, 2, 1), {"boj": boj, "fed": fed}, infos))
    for t, row in ev.frame.iterrows():
        lo = t - pd.DateOffset(months=3)
        hikes = sum(max(0.0, boj.iloc[i] - boj.iloc[i - 1]) for i in range(1, len(boj)) if lo < boj.index[i] <= t)
        cuts = sum(max(0.0, fed.iloc[i - 1] - fed.iloc[i]) for i in range(1, len(fed)) if lo < fed.index[i] <= t)
        assert row["hikes"] == pytest.approx(hikes) and row["cuts"] == pytest.approx(cuts)
        assert bool(row["condition"]) == (hikes >= 0.01 and cuts >= 0.01)


# -- no look-ahead, for every kind ----------------------------------------------------------------------------
RULES = [
    {"kind": "level", "series": "a", "op": ">=", "threshold": 1000},
    {"kind": "change", "series": "a", "periods": 5, "mode": "pct", "op": ">=", "threshold": 0.1},
    {"kind": "zscore", "series": "a", "window": 20, "threshold": 1.5},
    {"kind": "zscore", "series": "a", "window": 20, "method": "robust", "transform": "diff", "threshold": 1.5},
    {
        "kind": "percentile",
        "series": "a",
        "transform": "rolling_sum",
        "periods": 5,
        "q": 10,
        "op": "<",
        "min_periods": 20,
    },
    {"kind": "streak", "series": "a", "transform": "diff", "op": "<", "threshold": 0, "n": 3},
    {"kind": "hysteresis", "series": "a", "enter": 1001, "exit": 999},
    {"kind": "spread", "series": "a", "minus": "b", "op": "<=", "threshold": 0},
    {"kind": "divergence", "hiking": "a", "cutting": "b", "within_months": 1},
    {"kind": "reconcile", "series": ["a", "b"], "threshold": 0.05},
    {
        "kind": "emp",
        "components": [{"series": "a", "transform": "log_diff"}, {"series": "b", "minus": "a"}],
        "periods": 3,
        "window": 20,
        "min_periods": 10,
    },
    {"kind": "spillover_percentile", "model": "m", "q": 90, "min_periods": 10},
    {"kind": "spillover_sign", "model": "m", "variable": "a"},
    {"kind": "spillover_pairwise", "model": "m", "from": "b", "to": "a", "threshold": 0.5, "n": 2},
    {"kind": "flows_at_risk", "model": "m", "threshold": -1.0, "q": 5, "min_periods": 10},
    {"kind": "model_level", "model": "m", "column": "TCI", "op": ">", "threshold": 50},
]


RULE_FILES = sorted((Path(__file__).resolve().parent / "rules").glob("*.toml"))


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.stem for p in RULE_FILES])
def test_no_rule_of_the_rule_files_uses_data_after_its_date(path):
    """Every kind, on its own rule test file's inputs (so a new kind is covered by its file): the frame evaluated
    on the data known on each day equals, up to that day, the frame evaluated on the whole file. data_health is
    stepped from each day's health, not a frame over history (its point in time is tested with the vintages)."""
    spec = rule_tests.load(path)
    rules, problems = validate_rules(spec.rules)
    assert not problems
    series = {sid: rule_tests._series(sid, s) for sid, s in spec.series.items()}
    results = {m: rule_tests._results(m, r) for m, r in spec.results.items()}
    infos = {sid: SeriesInfo(sid, s.label, s.units, s.freq, s.stale_after_days) for sid, s in spec.series.items()}
    days = sorted(set().union(*(set(s.index) for s in series.values()), *(set(r.index) for r in results.values())))
    checked = [rule for rule in rules if rule.kind != "data_health"]  # type: ignore[attr-defined]
    everything = rule_tests._data_on(days[-1], series, results, infos, spec.series)
    full = {rule.name: rule.evaluate(everything) for rule in checked}
    for day in days:
        data = rule_tests._data_on(day, series, results, infos, spec.series)
        for rule in checked:
            for early, whole in zip(rule.evaluate(data), full[rule.name], strict=True):
                expected = whole.frame[whole.frame.index <= day]
                got = early.frame[early.frame.index <= day]
                pd.testing.assert_frame_equal(got, expected, check_freq=False, obj=f"{rule.name} on {day.date()}")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), cut=st.integers(30, 119))
def test_no_rule_uses_data_after_its_date(seed, cut):
    """Evaluating on the data known up to day t gives the same rows up to t as evaluating on the whole
    history: nothing after t ever changes a row dated t."""
    r = np.random.default_rng(seed)
    a = walk(120, seed=seed, name="a")
    b = pd.Series(
        1000 + np.round(np.cumsum(r.normal(0, 1, 90)), 0),
        index=pd.bdate_range("2020-01-01", periods=90, freq="C", weekmask="Mon Wed Fri"),
    )
    res = pd.DataFrame(
        {
            "TCI": 50 + np.cumsum(r.normal(0, 1, 120)),
            "NET_a": r.normal(0, 1, 120),
            "NPDC_a_b": r.normal(0, 1, 120),
            "q05": r.normal(0, 1, 120),
            "realised": r.normal(0, 1, 120),
        },
        index=a.index,
    )
    t = a.index[cut]
    for block in RULES:
        rule = KINDS[block["kind"]].model_validate({"name": "r", **block})
        full = rule.evaluate(RuleData(a.index[-1].date(), {"a": a, "b": b}, {}, {"m": res}))[0].frame
        early = rule.evaluate(RuleData(t.date(), {"a": a[:t], "b": b[:t]}, {}, {"m": res[:t]}))[0].frame
        expected = full[full.index <= t]
        pd.testing.assert_frame_equal(early[early.index <= t], expected, check_freq=False, obj=block["kind"])


def test_every_kind_steps_through_empty_series():
    """A fresh store (nothing fetched yet) gives each series-reading rule an empty, date-indexed frame that the
    engine can step: the first run with every source down must not crash."""
    from monitor.alerts import engine

    empty = pd.Series([], index=pd.DatetimeIndex([], name="date"), dtype="float64")
    data = RuleData(date(2026, 1, 5), {"a": empty, "b": empty})
    for block in RULES:
        if "model" in block:
            continue  # they read model results, not series (a missing result is a clear error, tested below)
        rule = KINDS[block["kind"]].model_validate({"name": "r", **block})
        evaluations = rule.evaluate(data)
        assert all(isinstance(ev.frame.index, pd.DatetimeIndex) for ev in evaluations), block["kind"]
        assert engine.advance(evaluations, {}, data).alerts == [], block["kind"]


def test_spillover_band_columns_and_reversed_pairs():
    from monitor.alerts.rules import SpilloverPairwiseRule, SpilloverPercentileRule
    from monitor.errors import InputDataError

    idx = pd.bdate_range("2026-01-01", periods=5)
    res = pd.DataFrame(
        {
            "TCI": [1, 2, 3, 4, 5.0],
            "NPDC_a_b": [1, -1, 2, 0, 3.0],
            "NPDC_a_b_lo": [0, -2, 1, -1, 2.0],
            "NPDC_a_b_hi": [2, 0, 3, 1, 4.0],
        },
        index=idx,
    )
    data = RuleData(idx[-1].date(), {}, {}, {"m": res})
    rev = SpilloverPairwiseRule.model_validate(
        {
            "name": "r",
            "kind": "spillover_pairwise",
            "model": "m",
            "from": "b",
            "to": "a",
            "threshold": 0,
            "use": "lower_band",
        }
    )
    # b -> a is -(a -> b); its lower band is minus the upper band of a -> b.
    assert rev.evaluate(data)[0].frame["value"].tolist() == [-2, 0, -3, -1, -4.0]
    banded = SpilloverPercentileRule.model_validate(
        {"name": "t", "kind": "spillover_percentile", "model": "m", "q": 90, "use": "upper_band"}
    )
    with pytest.raises(InputDataError, match=r"no column 'TCI_hi'.*no bands"):
        banded.evaluate(data)
    with pytest.raises(InputDataError, match=r"no rolling results for model 'm'"):
        banded.evaluate(RuleData(idx[-1].date(), {}, {}, {}))


def test_a_missing_input_series_is_a_clear_error():
    from monitor.alerts.rules import LevelRule
    from monitor.errors import InputDataError

    rule = LevelRule.model_validate({"name": "r", "kind": "level", "series": "krw", "op": ">=", "threshold": 1})
    with pytest.raises(InputDataError, match=r"rule r: no data for series 'krw'"):
        rule.evaluate(RuleData(date(2026, 1, 1), {}, {"krw": SeriesInfo("krw")}))


def test_a_value_that_is_not_known_reads_n_a_whatever_the_format() -> None:
    """A stale leg leaves a spread without a value: its summary says n/a, never '+nan'."""
    from monitor.alerts.rules import render

    ctx = {"value": float("nan"), "threshold": -1.75}
    assert render("gap {value:+.2f} pp <= {threshold:.2f} pp", ctx) == "gap n/a pp <= -1.75 pp"


def test_a_summary_shows_a_value_in_the_series_display_units():
    from monitor.alerts.rules.templates import render

    ctx = {"value": -368674.0, "threshold": -173315.0, "units": "100 million KRW", "label": "flows"}
    # 368,674 x 1e8 KRW = 36.8674e12 KRW: -36.87 trillion (two decimals, as the report's tables show it).
    text = render("{label} {value:units}, below {threshold:units}; raw {value:,.0f}", ctx)
    assert text == "flows -36.87 trillion KRW, below -17.33 trillion KRW; raw -368,674"
    assert render("{value:units}", {**ctx, "value": float("nan")}) == "n/a"
