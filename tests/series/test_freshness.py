"""One freshness model: series.freshness answers "fresh, stale or missing?" and every consumer (validation, model
input selection, data health and rule inhibition, the report, the backtest) gives that same answer; rules never
read a leg older than its series' stale limit; models and rules share one yoy."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from monitor.alerts import engine, stats
from monitor.alerts.backtest import Vintages, pit_histories
from monitor.alerts.data import RuleData, SeriesInfo, health_of, load_rule_data
from monitor.alerts.rules import DataHealthRule, DivergenceRule, EmpRule, SpreadRule
from monitor.pipeline import inputs_for
from monitor.spec import ModelSpec, VariableSpec
from monitor.transforms import transform
from reports.context import load_context
from series.freshness import carry_forward, expiries, freshness, known_ages
from series.spec import SeriesSpec, SourceRef
from series.store import Store
from series.validate import check_batch


def test_age_counts_from_the_end_of_the_period_an_observation_covers() -> None:
    monthly = SeriesInfo("exports", freq="M", stale_days=45)
    # January's value (dated the 1st) covers the month: 55 days old on 27 March, past the 45-day limit.
    f = freshness(monthly, date(2026, 1, 1), date(2026, 3, 27))
    assert (f.status, f.age_days, f.limit_days, f.last) == ("stale", 55, 45, date(2026, 1, 1))
    assert f.reason == "last observation 2026-01-01 is 55 days old (stale after 45 days)"
    assert freshness(monthly, date(2026, 1, 1), date(2026, 3, 17)).fresh  # 45 days: at the limit, still fresh
    assert freshness(monthly, date(2026, 2, 1), date(2026, 3, 27)).age_days == 27
    daily = SeriesInfo("fed", freq="D", stale_days=7)
    assert freshness(daily, pd.Timestamp("2024-01-31"), date(2024, 2, 7)).fresh
    assert freshness(daily, pd.Timestamp("2024-01-31"), date(2024, 2, 8)).stale
    missing = freshness(daily, None, date(2024, 2, 8))
    assert missing.missing and missing.age_days is None and missing.reason == "no observations stored"


CASES = [
    # (freq, stale_after_days, last observation, as-of, expected status)
    ("M", 45, "2026-01-01", "2026-03-27", "stale"),  # the case: stale for the rules, fresh for the models
    ("M", 45, "2026-02-01", "2026-03-27", "fresh"),
    ("M", 60, "2025-12-01", "2026-03-01", "fresh"),  # 60 days after 2025-12-31
    ("M", 60, "2025-12-01", "2026-03-02", "stale"),
    ("Q", 120, "2025-07-01", "2026-01-28", "fresh"),  # 120 days after 2025-09-30
    ("Q", 120, "2025-07-01", "2026-01-29", "stale"),
    ("D", 7, "2026-03-20", "2026-03-27", "fresh"),
    ("D", 7, "2026-03-19", "2026-03-27", "stale"),
    ("B", 5, "2026-03-06", "2026-03-27", "stale"),
]


def _history(freq: str, last: str) -> pd.Series:
    end = pd.Timestamp(last)
    index = {
        "M": pd.date_range(end - pd.DateOffset(years=6), end, freq="MS"),
        "Q": pd.date_range(end - pd.DateOffset(years=10), end, freq="QS"),
    }.get(freq, pd.bdate_range(end - pd.DateOffset(years=2), end))
    values = 100.0 + np.arange(len(index), dtype=float) % 7
    return pd.Series(values, index=index, name="target")


@pytest.mark.parametrize(("freq", "limit", "last", "as_of", "expected"), CASES)
def test_every_consumer_gives_the_freshness_answer(tmp_path, freq, limit, last, as_of, expected) -> None:
    when = date.fromisoformat(as_of)
    spec = SeriesSpec("target", "Target", freq, "units", SourceRef("csv", "target"), stale_after_days=limit)
    info = SeriesInfo("target", "Target", "units", freq, limit, "csv")
    history = _history(freq, last)
    assert freshness(spec, history.index[-1], when).status == expected
    stale = expected == "stale"

    # Validation of a fetched batch.
    frame = pd.DataFrame({"date": history.index, "value": history.to_numpy()})
    assert any(i.check == "stale" for i in check_batch(spec, frame, when)) == stale
    # Data health: rule inhibition and the data_health rule.
    assert health_of(info, history.index[-1].date(), when).stale == stale
    # Model input selection: a model of the same frequency leaves out exactly the stale input.
    partner = _history(freq, as_of if freq in ("D", "B") else last).rename("partner")
    model = ModelSpec("m", freq if freq in ("M",) else "D", (VariableSpec("target"), VariableSpec("partner")))
    infos = {"target": info, "partner": SeriesInfo("partner", freq=freq, stale_days=10_000)}
    data = {"target": history, "partner": partner}
    if stale:
        with pytest.raises(Exception, match=r"target: stale: last observation"):
            inputs_for(model, data, infos, when)
    else:
        _, dropped = inputs_for(model, data, infos, when)
        assert not any(d.startswith("target") for d in dropped)
    # The report's freshness table, `alerts explain` (load_rule_data) and the data-health rule, from a store.
    with Store.open(tmp_path / "s.sqlite", writer="test") as store:
        rows = frame.assign(realtime_start=frame["date"])
        store.append("target", rows, source="csv")
        ctx = load_context(store, [spec], when)
        assert ctx.freshness[0].status == ("stale" if stale else "ok")
        rule_data = load_rule_data(store, [info], when)
        assert rule_data.health["target"].stale == stale
        [ev] = DataHealthRule(name="h", kind="data_health").evaluate(rule_data)
        assert bool(ev.frame["condition"].iloc[-1]) == stale
        # The backtest's data-health history says the same on that day.
        vintages = {"target": Vintages(store.vintages("target"))}
        [hist] = pit_histories(DataHealthRule(name="h", kind="data_health"), vintages, {"target": info}, {}, when)
        on_day = hist.rows.loc[hist.rows.index <= pd.Timestamp(when)]
        if pd.Timestamp(when).day_of_week < 5:
            assert on_day.index[-1] == pd.Timestamp(when)
            assert bool(on_day["condition"].iloc[-1]) == stale


# -- rules never read a leg past its stale limit ---------------------------------------------------------------
FED_INFO = SeriesInfo("fed_upper", freq="D", stale_days=7)
BOK_INFO = SeriesInfo("bok_rate", freq="D", stale_days=14)


def _rates() -> tuple[pd.Series, pd.Series]:
    """The replay's shape: the Fed range ends in 2024-01 while the BOK rate goes on (daily, unchanged)."""
    fed = pd.Series(5.5, index=pd.date_range("2023-01-01", "2024-01-31"))
    bok = pd.Series(3.5, index=pd.bdate_range("2023-01-02", "2024-06-28"))
    return bok, fed


def test_a_spread_ends_the_day_its_leg_goes_stale() -> None:
    bok, fed = _rates()
    rule = SpreadRule(name="diff", kind="spread", series="bok_rate", minus="fed_upper", op="<=", threshold=-1.75)
    data = RuleData(
        date(2024, 6, 28), {"bok_rate": bok, "fed_upper": fed}, {"bok_rate": BOK_INFO, "fed_upper": FED_INFO}
    )
    [ev] = rule.evaluate(data)
    frame = ev.frame
    # Fresh through 2024-02-07 (7 days after 2024-01-31); from 2024-02-08 the Fed leg is unknown.
    assert frame.loc["2024-02-07", "value"] == pytest.approx(-2.0) and frame.loc["2024-02-07", "condition"]
    assert pd.Timestamp("2024-02-08") in frame.index  # a Saturday: the day the leg went stale is evaluated
    after = frame[frame.index >= "2024-02-08"]
    assert after["value"].isna().all() and not after["condition"].any() and after["b"].isna().all()
    [episode] = engine.episodes(ev)
    assert episode.end == date(2024, 2, 8)  # not "ongoing" on a Fed range that stopped in January


def test_the_backtest_ends_a_spread_episode_at_the_stale_limit(tmp_path) -> None:
    bok, fed = _rates()
    rule = SpreadRule(name="diff", kind="spread", series="bok_rate", minus="fed_upper", op="<=", threshold=-1.75)
    with Store.open(tmp_path / "s.sqlite", writer="test") as store:
        for sid, s in (("bok_rate", bok), ("fed_upper", fed)):
            store.append(
                sid, pd.DataFrame({"date": s.index, "value": s.to_numpy(), "realtime_start": s.index}), source="t"
            )
        vintages = {sid: Vintages(store.vintages(sid)) for sid in ("bok_rate", "fed_upper")}
    infos = {"bok_rate": BOK_INFO, "fed_upper": FED_INFO}
    [hist] = pit_histories(rule, vintages, infos, {}, date(2024, 6, 28))
    rows = hist.rows
    assert bool(rows.loc["2024-02-07", "condition"]) and not rows.loc["2024-02-08":, "condition"].any()
    assert (rows["known"] >= rows.index).all()  # no row is attributed to a day before its date
    [episode] = engine.episodes(hist.evaluation, rows)
    assert episode.end == date(2024, 2, 8)


def test_divergence_says_nothing_while_a_leg_is_stale() -> None:
    boj = pd.Series([0.0, 0.25, 0.25], index=pd.to_datetime(["2024-01-01", "2024-01-10", "2024-03-29"]))
    fed = pd.Series([5.5, 5.25], index=pd.to_datetime(["2024-01-01", "2024-01-12"]))
    infos = {"boj": SeriesInfo("boj", freq="D", stale_days=90), "fed": SeriesInfo("fed", freq="D", stale_days=30)}
    rule = DivergenceRule(name="d", kind="divergence", hiking="boj", cutting="fed", within_months=3)
    [ev] = rule.evaluate(RuleData(date(2024, 3, 29), {"boj": boj, "fed": fed}, infos))
    f = ev.frame
    assert f.loc["2024-01-12", "condition"] and f.loc["2024-01-12", "value"] == pytest.approx(0.25)
    # The Fed's last observation (2024-01-12) went stale on 2024-02-12: that day is evaluated, and from then on
    # there is no value and no condition (before, the missing Fed data read as "no cut" and the BOJ's 0.25).
    assert list(f.index) == list(pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-12", "2024-02-12", "2024-03-29"]))
    assert f.loc["2024-02-12":, "value"].isna().all()
    assert not f.loc["2024-02-12":, "condition"].any()


def test_emp_leaves_a_stale_component_out() -> None:
    days = pd.bdate_range("2023-01-02", periods=300)
    rng = np.random.default_rng(3)
    krw = pd.Series(1300 * np.exp(np.cumsum(rng.normal(0, 0.004, len(days)))), index=days)
    bok = pd.Series(3.5 + np.cumsum(rng.choice([0.0, 0.0, 0.25, -0.25], len(days))), index=days)
    fed = bok.iloc[:200] * 0 + 5.0 + np.cumsum(rng.choice([0.0, 0.25, -0.25], 200))  # ends at day 200
    infos = {"krw_usd": SeriesInfo("krw_usd"), "bok_rate": BOK_INFO, "fed_upper": FED_INFO}
    rule = EmpRule.model_validate(
        {
            "name": "emp",
            "kind": "emp",
            "periods": 5,
            "window": 40,
            "min_periods": 30,
            "components": [
                {"series": "krw_usd", "transform": "log_diff"},
                {"series": "bok_rate", "minus": "fed_upper", "transform": "diff"},
            ],
        }
    )
    emp = rule.raw_index(RuleData(days[-1].date(), {"krw_usd": krw, "bok_rate": bok, "fed_upper": fed}, infos))
    stale_from = pd.Timestamp(days[199]) + pd.Timedelta(days=8)
    # Past the Fed's limit the index is the KRW component alone (its weight is 1), not a mix with a carried rate.
    krw_only = np.log(krw / krw.shift(rule.periods))
    later = emp.index >= stale_from
    np.testing.assert_allclose(emp[later].to_numpy(), krw_only[later].to_numpy(), rtol=1e-12)
    assert not np.allclose(emp[days[150:199]].to_numpy(), krw_only[days[150:199]].to_numpy())


def test_carry_forward_and_expiries_follow_the_limit() -> None:
    s = pd.Series([1.0, 2.0], index=pd.to_datetime(["2024-01-01", "2024-01-20"]))
    at = pd.date_range("2024-01-01", "2024-02-01")
    out = carry_forward(s, FED_INFO, at)
    assert out["2024-01-08"] == 1.0 and np.isnan(out["2024-01-09"]) and np.isnan(out["2024-01-19"])
    assert out["2024-01-27"] == 2.0 and np.isnan(out["2024-01-28"])
    assert list(expiries(FED_INFO, s.index, date(2024, 2, 1))) == [
        pd.Timestamp("2024-01-09"),
        pd.Timestamp("2024-01-28"),
    ]
    assert list(expiries(FED_INFO, s.index, date(2024, 1, 27))) == [pd.Timestamp("2024-01-09")]
    monthly = SeriesInfo("m", freq="M", stale_days=45)
    # January (dated the 1st) ends on the 31st: stale from 46 days later, 2024-03-17.
    assert list(expiries(monthly, pd.DatetimeIndex(["2024-01-01"]), date(2024, 12, 31))) == [pd.Timestamp("2024-03-17")]


# -- one yoy ---------------------------------------------------------------------------------------------------
def test_models_and_rules_share_one_yoy_against_the_same_month_a_year_before() -> None:
    months = pd.Series(
        [100.0, 104.0, 97.0, 101.0] * 4, index=pd.date_range("2024-01-01", periods=16, freq="MS"), name="exports"
    )
    gap = months.drop(pd.Timestamp("2024-03-01"))  # March 2024 was never published
    models = transform(gap, "yoy")
    rules = stats.transform(gap, "yoy")
    pd.testing.assert_series_equal(models, rules, check_names=False)
    # March 2025 has no March 2024 to compare with: NaN, never February 2024 (12 rows back).
    assert np.isnan(models["2025-03-01"])
    # Every other month against its own month a year before, by hand.
    for day in ("2025-01-01", "2025-02-01", "2025-04-01"):
        then = pd.Timestamp(day) - pd.DateOffset(years=1)
        assert models[day] == pytest.approx(100.0 * (gap[day] / gap[then] - 1.0), rel=1e-12)


@pytest.mark.parametrize("freq", ["D", "W", "Q"])
def test_models_and_rules_yoy_agree_on_other_frequencies(freq: str) -> None:
    index = {
        "D": pd.bdate_range("2022-01-03", periods=700),
        "W": pd.date_range("2020-01-03", periods=200, freq="W-FRI"),
        "Q": pd.date_range("1990-01-01", periods=120, freq="QS"),
    }[freq]
    rng = np.random.default_rng(5)
    s = pd.Series(100 + np.cumsum(rng.normal(0, 1, len(index))), index=index).drop(index[[40, 41, 90]])
    pd.testing.assert_series_equal(transform(s, "yoy"), stats.transform(s, "yoy"), check_names=False)


def test_the_age_known_each_day_is_told_by_the_vintages() -> None:
    """known_ages against a brute force: for every day, the last observation known that day and its freshness
    (observations arrive late and out of order)."""
    import random

    series = SeriesInfo("x", freq="M", stale_days=45)
    rng = random.Random(20261126)
    start = pd.Timestamp("2025-01-01")
    for _ in range(100):
        months = sorted(rng.sample(range(20), rng.randint(1, 8)))
        dates = pd.DatetimeIndex([start + pd.DateOffset(months=m) for m in months])
        first_known = pd.Series([d + pd.Timedelta(days=rng.randint(28, 90)) for d in dates], index=dates)
        as_of = start + pd.Timedelta(days=rng.randint(0, 700))
        ages = known_ages(series, first_known, as_of)
        expected = {}
        for d in pd.date_range(first_known.min(), as_of):
            fresh = freshness(series, first_known[first_known <= d].index.max(), d)
            expected[d] = float(fresh.age_days)
        assert ages.to_dict() == expected
