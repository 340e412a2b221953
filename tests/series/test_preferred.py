"""Timely FX: a preferred-sources series reads the best source with data on each date, keeps each value's source,
is point in time in the daily run and the backtest; the reconcile rule; the KRW chart and cards name the source.
All series here are SYNTHETIC."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from monitor.alerts.backtest import pit_histories, stored_vintages
from monitor.alerts.data import RuleData, SeriesInfo, load_rule_data
from monitor.alerts.rules import LevelRule, ReconcileRule
from monitor.config import ConfigError, validate_config
from reports import charts
from reports.context import load_context
from series.preferred import PreferredSpec, resolve, vintages
from series.spec import SeriesSpec, SourceRef
from series.store import Store

ORDER = ("seoul", "spot", "noon")


def _s(start: str, end: str, base: float) -> pd.Series:
    days = pd.bdate_range(start, end)
    return pd.Series(base + np.arange(len(days), dtype=float), index=days)


def test_the_best_source_covers_its_span_and_others_fill_only_outside_it() -> None:
    noon = _s("2020-01-01", "2026-03-23", 1000.0)  # the long history, published late
    spot = _s("2024-01-01", "2026-03-27", 2000.0).drop(pd.Timestamp("2025-06-02"))  # a one-day gap
    picked = resolve({"seoul": pd.Series(dtype=float), "spot": spot, "noon": noon}, ORDER)
    assert picked.index.is_monotonic_increasing and not picked.index.duplicated().any()
    # Before Yahoo starts: the NY noon rate; from its first date on: Yahoo only, up to its freshest value.
    assert set(picked.loc[:"2023-12-29", "source"]) == {"noon"}
    assert set(picked.loc["2024-01-01":, "source"]) == {"spot"}
    assert picked.index[-1] == pd.Timestamp("2026-03-27") and picked["value"].iloc[-1] == spot.iloc[-1]
    # A gap inside the best source's span stays a gap: no one-day switch to a different measure.
    assert pd.Timestamp("2025-06-02") not in picked.index
    np.testing.assert_array_equal(picked.loc["2024-01-01":, "value"], spot.to_numpy())
    # With the Seoul close, it covers its whole span and the others only what lies outside it.
    seoul = _s("2025-01-01", "2026-03-26", 3000.0)
    picked = resolve({"seoul": seoul, "spot": spot, "noon": noon}, ORDER)
    assert set(picked.loc["2025-01-01":"2026-03-26", "source"]) == {"seoul"}
    assert list(picked.loc["2026-03-27":, "source"]) == ["spot"]  # fresher than the Seoul close that day
    assert set(picked.loc["2024-01-01":"2024-12-31", "source"]) == {"spot"}
    # The values as known on a day: what the run sees on that day (the NY noon rate arrives four days late).
    known = resolve({"spot": spot[:"2026-03-20"], "noon": noon[:"2026-03-16"]}, ORDER)
    assert known.index[-1] == pd.Timestamp("2026-03-20") and known["source"].iloc[-1] == "spot"


def test_vintages_take_each_date_from_its_source_with_that_source_s_publication_day() -> None:
    noon = _s("2024-01-01", "2024-03-29", 1000.0)
    spot = _s("2024-03-01", "2024-04-05", 2000.0)
    frames = {
        "noon": pd.DataFrame(
            {"date": noon.index, "value": noon.to_numpy(), "realtime_start": noon.index + pd.Timedelta(days=4)}
        ),
        "spot": pd.DataFrame({"date": spot.index, "value": spot.to_numpy(), "realtime_start": spot.index}),
    }
    rows = vintages(frames, ORDER)
    assert set(rows.loc[rows["date"] < "2024-03-01", "source"]) == {"noon"}
    assert set(rows.loc[rows["date"] >= "2024-03-01", "source"]) == {"spot"}
    assert (
        rows.loc[rows["source"] == "noon", "realtime_start"]
        == rows.loc[rows["source"] == "noon", "date"] + pd.Timedelta(days=4)
    ).all()
    assert (rows.loc[rows["source"] == "spot", "realtime_start"] == rows.loc[rows["source"] == "spot", "date"]).all()


SPECS = [
    SeriesSpec(
        "noon", "KRW per USD (NY noon)", "B", "KRW per USD", SourceRef("fredgraph", "DEXKOUS"), stale_after_days=10
    ),
    SeriesSpec("spot", "KRW per USD (Yahoo)", "B", "KRW per USD", SourceRef("yahoo", "KRW=X")),
]
INFOS = [
    SeriesInfo("noon", "KRW per USD (NY noon)", "KRW per USD", "B", 10, "fredgraph"),
    SeriesInfo("spot", "KRW per USD (Yahoo)", "KRW per USD", "B", 5, "yahoo"),
    SeriesInfo("best", "KRW per USD (freshest)", "KRW per USD", "B", 10, "preferred", ("spot", "noon")),
]


@pytest.fixture
def store(tmp_path):
    noon = _s("2023-01-02", "2026-03-23", 1300.0) * 0 + 1480.0
    spot = _s("2025-01-01", "2026-03-27", 0.0) * 0 + 1490.0
    spot.iloc[-1] = 1509.0  # the freshest value, 2026-03-27
    with Store.open(tmp_path / "s.sqlite", writer="test") as st:
        st.append(
            "noon",
            pd.DataFrame(
                {"date": noon.index, "value": noon.to_numpy(), "realtime_start": noon.index + pd.Timedelta(days=4)}
            ),
            source="fredgraph",
        )
        st.append(
            "spot",
            pd.DataFrame({"date": spot.index, "value": spot.to_numpy(), "realtime_start": spot.index}),
            source="yahoo",
        )
        yield st


def test_rules_read_the_freshest_source_and_its_provenance(store) -> None:
    data = load_rule_data(store, INFOS, date(2026, 3, 27))
    best = data.series["best"]
    assert best.index[-1] == pd.Timestamp("2026-03-27") and best.iloc[-1] == 1509.0
    prov = data.provenance["best"]
    assert (prov.series_id, prov.source, prov.obs_date) == ("spot", "yahoo", date(2026, 3, 27))
    assert "spot from yahoo: observation 2026-03-27" in prov.text()
    assert data.health["best"].healthy and data.health["best"].stale_after_days == 5  # Yahoo's own limit
    rule = LevelRule(name="krw_usd_critical", kind="level", series="best", op=">=", threshold=1500)
    [ev] = rule.evaluate(data)
    assert ev.frame.index[-1] == pd.Timestamp("2026-03-27") and bool(ev.frame["condition"].iloc[-1])
    # Before Yahoo's history starts, the NY noon rate as known then: on 2024-06-28 through 2024-06-24 (4 days late).
    before = load_rule_data(store, INFOS, date(2024, 6, 28))
    assert before.series["best"].index[-1] == pd.Timestamp("2024-06-24")
    assert before.provenance["best"].source == "fredgraph" and before.health["best"].stale_after_days == 10


def test_the_backtest_uses_each_day_what_was_known_that_day(store) -> None:
    infos = {i.id: i for i in INFOS}
    vint = stored_vintages(store, ["best"], infos)
    rule = LevelRule(name="krw_usd_critical", kind="level", series="best", op=">=", threshold=1500)
    [hist] = pit_histories(rule, vint, infos, {}, date(2026, 3, 27))
    rows = hist.rows
    # The 1,509 close of 2026-03-27 is Yahoo's, known the same day; the NY noon rows before 2025 four days late.
    assert rows.loc["2026-03-27", "known"] == pd.Timestamp("2026-03-27") and rows.loc["2026-03-27", "condition"]
    assert rows.loc["2024-12-31", "known"] == pd.Timestamp("2025-01-04")


def test_reconcile_fires_when_two_sources_disagree_on_the_same_date() -> None:
    days = pd.bdate_range("2026-03-02", periods=6)
    a = pd.Series([1450.0, 1452.0, 1480.0, 1455.0, 1460.0, 1470.0], index=days)
    b = pd.Series([1449.0, 1451.0, 1455.0, 1456.0, 1468.0], index=days.delete(4))  # no value on day 5
    rule = ReconcileRule(name="r", kind="reconcile", series=["a", "b"])
    assert rule.threshold == 1.0  # percent, the default
    [ev] = rule.evaluate(RuleData(date(2026, 3, 9), {"a": a, "b": b}))
    f = ev.frame
    assert list(f.index) == list(days.delete(4))  # the same date only: nothing carried across dates
    expected = 100 * (a.reindex(f.index) / b.reindex(f.index) - 1).abs()
    np.testing.assert_allclose(f["value"], expected, rtol=1e-12)
    assert list(f["condition"]) == [False, False, True, False, False]  # 1480 vs 1455: 1.72%


def test_config_preferred_block_is_checked() -> None:
    base = {
        "series": [
            {"id": "a", "label": "A", "source": "csv", "key": "a.csv", "freq": "B", "units": "KRW per USD"},
            {"id": "b", "label": "B", "source": "csv", "key": "b.csv", "freq": "B", "units": "KRW per USD"},
            {"id": "c", "label": "C", "source": "csv", "key": "c.csv", "freq": "B", "units": "JPY per USD"},
        ],
        "rules": [{"name": "r", "kind": "level", "series": "ab", "op": ">=", "threshold": 1}],
    }
    ok = validate_config({**base, "preferred": [{"id": "ab", "label": "AB", "sources": ["a", "b"]}]})
    info = ok.series_infos()["ab"]
    assert info.prefer == ("a", "b") and info.units == "KRW per USD" and ok.preferred_specs()[0].sources == ("a", "b")
    with pytest.raises(ConfigError) as e:
        validate_config({**base, "preferred": [{"id": "a", "label": "X", "sources": ["b", "c", "zz"]}]})
    text = str(e.value)
    assert "preferred[0].id: 'a' is already a [[series]] id" in text
    assert "preferred[0].sources[2]: unknown series 'zz'" in text
    assert "preferred[0].sources: the series have different units" in text
    assert "rules[0].series: unknown series 'ab'" in text  # a rule may name it only when it is defined


def test_the_krw_chart_draws_the_freshest_source_and_names_it(store) -> None:
    specs = [*SPECS]
    ctx = load_context(
        store,
        specs,
        date(2026, 3, 27),
        roles={"krw_usd": "noon"},
        preferred=[PreferredSpec("best", "KRW per USD (freshest)", ("spot", "noon"))],
    )
    assert ctx.freshest("krw_usd") == "best"
    fig = charts.render("krw_usd", ctx)
    # Headings and footers wrap to the chart's width: compare the words, not the line breaks.
    texts = " ".join(" ".join([*(t.get_text() for t in fig.texts), fig.get_suptitle()]).split())
    assert "KRW per USD: 1,509.0 on 2026-03-27 (Yahoo Finance KRW=X)" in texts  # value, date and source
    lines = {a.get_gid(): a for ax in fig.axes for a in ax.get_lines() if (a.get_gid() or "").startswith("krw_usd:")}
    assert set(lines) == {"krw_usd:spot", "krw_usd:noon"}  # one line per source, each labelled
    assert lines["krw_usd:spot"].get_label() == "KRW per USD (Yahoo)"
    assert "Source: FRED DEXKOUS, Yahoo Finance KRW=X" in texts  # in the order they appear
