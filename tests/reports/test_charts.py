"""Every registered chart renders from a small fixture store, with the right axes, units, dates, thresholds and
shaded periods (checked against the data, never pixel by pixel)."""

from __future__ import annotations

from dataclasses import replace

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest

from reports import charts
from reports.charts.common import periods
from reports.context import load_context
from series.store import Store
from tests.reports.fixture import AS_OF, make_series


@pytest.fixture(scope="module")
def fixture(report_fixture):
    return report_fixture  # built once per session (tests/reports/conftest.py)


@pytest.fixture(scope="module")
def figs(fixture):
    ctx, _ = fixture
    return {name: charts.render(name, ctx) for name in charts.names()}


def by_gid(fig, gid):
    found = [a for ax in fig.axes for a in ax.get_children() if a.get_gid() == gid]
    assert found, f"no artist {gid!r}"
    return found[0]


def gids(fig, prefix):
    return sorted(a.get_gid() for ax in fig.axes for a in ax.get_children() if (a.get_gid() or "").startswith(prefix))


def day(x: float) -> pd.Timestamp:
    return pd.Timestamp(mdates.num2date(x)).tz_localize(None).normalize()


def test_every_registered_chart_renders_with_source_and_as_of_footer(figs):
    assert set(figs) == {
        "policy_rates",
        "krw_usd",
        "kospi_flows",
        "flows_at_risk",
        "exports",
        "spillover_tci",
        "spillover_frequency",
        "spillover_net",
        "spillover_table",
        "spillover_network",
        "spillover_groups",
        "irf_grid",
        "alert_timeline",
        "yield_gap_flows",
    }
    for name, fig in figs.items():
        footer = [t.get_text() for t in fig.texts if t.get_gid() == "footer"]
        assert footer and "Source: " in footer[0] and f"as of {AS_OF}" in footer[0], name
        assert fig._suptitle is not None and fig._suptitle.get_text(), name


def test_policy_rates_gap_threshold_and_decisions(figs, fixture):
    _, values = fixture
    fig = figs["policy_rates"]
    gap = by_gid(fig, "bok_fed_gap")
    expected = values["bok_rate"].iloc[-1] - values["fed_upper"].iloc[-1]
    assert gap.get_ydata()[-1] == pytest.approx(expected)
    assert by_gid(fig, "threshold:bok_fed_gap").get_ydata()[0] == -1.75
    # The series' own moves before the central-bank calendar starts (2024-01); from then on, the calendar's.
    decisions = by_gid(fig, "bok_decisions").get_offsets()
    bok = values["bok_rate"]
    window = bok[(bok.index >= pd.Timestamp(AS_OF) - pd.DateOffset(years=10)) & (bok.index < "2024-01-11")]
    moved = window[window.ne(window.shift())].iloc[1:]
    assert [day(x) for x in decisions[:, 0]] == list(moved.index)
    assert fig.axes[0].get_ylabel() == "% per year" and fig.axes[1].get_ylabel() == "pp"


def test_the_gap_is_drawn_only_while_both_rates_are_known(tmp_path):
    """A stale Fed series (its files end in January 2024) must not be carried forward into a made-up gap."""
    specs, values = make_series()
    ids = ("fed_upper", "bok_rate")
    upper = values["fed_upper"][:"2024-01-31"]
    with Store.open(tmp_path / "m.sqlite", writer="test") as store:
        for sid, s in (("fed_upper", upper), ("bok_rate", values["bok_rate"])):
            frame = pd.DataFrame({"date": s.index, "value": s.values, "realtime_start": s.index})
            store.append(sid, frame, source="csv")
        ctx = load_context(store, [x for x in specs if x.id in ids], AS_OF, rules=[], run={"status": "ok"})
    gap = by_gid(charts.render("policy_rates", ctx), "bok_fed_gap")
    assert pd.Timestamp(gap.get_xdata()[-1]) == pd.Timestamp("2024-01-31")
    assert gap.get_ydata()[-1] == pytest.approx(values["bok_rate"]["2024-01-31"] - upper.iloc[-1])


def test_krw_chart_draws_thresholds_and_shades_exactly_the_firing_periods(figs, fixture):
    _, values = fixture
    fig = figs["krw_usd"]
    ax = fig.axes[0]
    assert ax.get_ylabel() == "KRW per USD"
    last = values["krw_usd"]
    assert f"{last.iloc[-1]:,.1f} on {last.index[-1]:%Y-%m-%d}" in fig._suptitle.get_text()
    assert by_gid(fig, "threshold:krw_usd_warning").get_ydata()[0] == 1450
    assert by_gid(fig, "threshold:krw_usd_critical").get_ydata()[0] == 1500
    start = pd.Timestamp(AS_OF) - pd.DateOffset(years=3)
    krw = values["krw_usd"][values["krw_usd"].index >= start]
    for rule, level in (("krw_usd_warning", 1450), ("krw_usd_critical", 1500)):
        expected = [f"firing:{rule}:{a:%Y-%m-%d}:{b:%Y-%m-%d}" for a, b in periods(krw >= level)]
        assert expected and gids(fig, f"firing:{rule}:") == sorted(expected)
    # A 2% change rule's threshold is not in KRW per USD: neither drawn nor shaded on this chart.
    assert gids(fig, "threshold:krw_depreciation") == [] and gids(fig, "firing:krw_depreciation") == []


def test_kospi_flows_bars_and_cumulative_sum(figs, fixture):
    _, values = fixture
    fig = figs["kospi_flows"]
    flows = values["foreign_net_kospi"]
    cumulative = by_gid(fig, "flows_cumulative")
    trillion = 1e-4  # the fixture's flows are in 100 million KRW; the chart reads in trillion won
    assert cumulative.get_ydata()[-1] == pytest.approx(flows.iloc[-20:].sum() * trillion)
    start = pd.Timestamp(AS_OF) - pd.DateOffset(months=12)
    bars = [p for p in fig.axes[1].patches if p.get_gid() == "flows_daily"]
    inside = flows[flows.index >= start]
    assert len(bars) == len(inside)
    assert [b.get_height() for b in bars[-3:]] == pytest.approx((inside.iloc[-3:] * trillion).tolist())
    assert fig.axes[0].get_ylabel() == "points" and "trillion KRW" in fig.axes[1].get_ylabel()
    # The 20-session sum in dollars at the day's rate (the fixture's KRW/USD on the last session).
    dollars = flows.iloc[-20:].sum() * 1e8 / values["krw_usd"].iloc[-1] / 1e9
    subtitle = next(t.get_text() for t in fig.texts if t.get_gid() == "subtitle")
    assert f"${abs(dollars):,.2f} billion" in " ".join(subtitle.split())


def test_exports_levels_in_billions_and_yoy_against_an_independent_computation(figs, fixture):
    _, values = fixture
    fig = figs["exports"]
    total = values["exports_total"]  # thousand USD, monthly
    level = by_gid(fig, "exports_total_level")
    assert level.get_ydata()[-1] == pytest.approx(total.iloc[-1] / 1e6)
    growth = by_gid(fig, "exports_total_yoy")
    assert growth.get_ydata()[-1] == pytest.approx((total.iloc[-1] / total.iloc[-13] - 1) * 100)
    semis = by_gid(fig, "exports_semis_level")
    assert semis.get_ydata()[-1] == pytest.approx(values["exports_semis"].iloc[-1] / 1e9)
    assert fig.axes[0].get_ylabel() == "billion USD" and fig.axes[1].get_ylabel() == "YoY %"


def test_exports_under_13_months_say_why_there_is_no_growth(fixture):
    from dataclasses import replace

    ctx, _ = fixture
    short = {k: (v.iloc[-9:] if k.startswith("exports") else v) for k, v in ctx.series.items()}
    fig = charts.render("exports", replace(ctx, series=short))
    assert len(by_gid(fig, "exports_total_level").get_ydata()) == 9
    assert "needs 13 months" in " ".join(t.get_text() for t in fig.axes[1].texts)
    # No empty axes: the growth panel shows its message without ticks or a zero line drawn through it.
    assert not fig.axes[1].axison and not fig.axes[1].get_lines()
    assert not any("needs 13 months" in t.get_text() for t in charts.render("exports", ctx).axes[1].texts)


def test_exports_draw_semiconductors_whenever_stored_and_say_in_the_chart_when_not(fixture):
    ctx, _ = fixture
    # Total exports only 9 months old while chips have years: chips keep their level and growth lines.
    short = {k: (v.iloc[-9:] if k == "exports_total" else v) for k, v in ctx.series.items()}
    fig = charts.render("exports", replace(ctx, series=short))
    assert gids(fig, "exports_semis") == ["exports_semis_level", "exports_semis_yoy"]
    assert "Exports: YoY needs 13 months (9 stored)" in [t.get_text() for t in fig.axes[1].texts]
    without = {k: v for k, v in ctx.series.items() if k != "exports_semis"}
    fig = charts.render("exports", replace(ctx, series=without))
    assert gids(fig, "exports_semis") == []
    assert "Chip exports: no data stored for exports_semis" in [t.get_text() for t in fig.axes[0].texts]


def test_tci_chart_and_its_point_in_time_percentile(figs, fixture):
    ctx, _ = fixture
    rolling = ctx.models["market_daily"].rolling
    fig = figs["spillover_tci"]
    np.testing.assert_allclose(by_gid(fig, "tci").get_ydata(), rolling["TCI"].to_numpy())
    pct = by_gid(fig, "tci_percentile").get_ydata()
    tci = rolling["TCI"].to_numpy()
    for k in (30, 120, len(tci) - 1):  # the percentile at k uses only TCI up to k
        assert pct[k] == pytest.approx(np.quantile(tci[: k + 1], 0.9))
    assert [day(x) for x in by_gid(fig, "tci").get_xdata(orig=False)[-1:]] == [rolling.index[-1]]


def test_flows_at_risk_fan_chart(figs, fixture):
    ctx, _ = fixture
    r = ctx.models["flows_at_risk"].rolling
    fig = figs["flows_at_risk"]
    shown = r[r.index >= pd.Timestamp(AS_OF) - pd.DateOffset(months=24)]
    np.testing.assert_allclose(by_gid(fig, "q05").get_ydata(), shown["q05"].to_numpy())
    np.testing.assert_allclose(by_gid(fig, "median").get_ydata(), shown["q50"].to_numpy())
    realised = shown["realised"].dropna()
    np.testing.assert_allclose(by_gid(fig, "realised").get_ydata(), realised.to_numpy())
    below = realised < shown.loc[realised.index, "q05"]
    assert len(by_gid(fig, "breaches").get_offsets()) == int(below.sum())
    assert "5th percentile" in fig._suptitle.get_text()


def test_frequency_chart_stacks_the_band_tcis_up_to_the_tci(figs, fixture):
    ctx, _ = fixture
    rolling = ctx.models["market_daily"].rolling
    fig = figs["spillover_frequency"]
    assert gids(fig, "band_tci:") == ["band_tci:1-5", "band_tci:20+", "band_tci:5-20"]
    # The stacked areas' top edge is the sum of the bands, which is the time-domain TCI.
    top = sum(rolling[f"{b}:TCI"] for b in ("1-5", "5-20", "20+"))
    np.testing.assert_allclose(top.to_numpy(), rolling["TCI"].to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(by_gid(fig, "within_tci:5-20").get_ydata(), rolling["5-20:within:TCI"].to_numpy())
    np.testing.assert_allclose(by_gid(fig, "tci").get_ydata(), rolling["TCI"].to_numpy())


def _band_edges(collection) -> tuple[np.ndarray, np.ndarray]:
    """The lower and upper edges of a fill_between (one polygon per run of dates with a band: start, the lower
    points forward, end, the upper points backwards, closing point)."""
    lows, highs = [], []
    for path in collection.get_paths():
        vertices = path.vertices
        n = (len(vertices) - 3) // 2
        lows.append(vertices[1 : n + 1, 1])
        highs.append(vertices[n + 2 : 2 * n + 2, 1][::-1])
    return np.concatenate(lows), np.concatenate(highs)


def test_tci_and_net_charts_shade_the_stored_bands(figs, fixture):
    ctx, _ = fixture
    model = ctx.models["market_daily"]
    rolling = model.rolling
    assert model.bootstrap["level"] == 0.9 and "TCI_lo" in rolling
    assert rolling["TCI_lo"].isna().sum() == 1  # the window ending in the fixture's jump has no band
    lo, hi = _band_edges(by_gid(figs["spillover_tci"], "tci_band"))
    np.testing.assert_allclose(lo, rolling["TCI_lo"].dropna().to_numpy())
    np.testing.assert_allclose(hi, rolling["TCI_hi"].dropna().to_numpy())
    fig = figs["spillover_net"]
    assert gids(fig, "net_band:") == sorted(f"net_band:{v}" for v in model.variables)
    for var in model.variables:
        lo, hi = _band_edges(by_gid(fig, f"net_band:{var}"))
        np.testing.assert_allclose(lo, rolling[f"NET_{var}_lo"].dropna().to_numpy())
        np.testing.assert_allclose(hi, rolling[f"NET_{var}_hi"].dropna().to_numpy())
    assert fig.axes[0].get_title(loc="right") == "shaded: 90% bootstrap bands"


def test_group_chart_shows_each_market_today_against_its_history(figs, fixture):
    from monitor.models.groups import group_summary

    ctx, _ = fixture
    summary = group_summary(ctx.models.values())
    assert set(summary["market"]) == {"KR", "TW", "JP"}
    fig = figs["spillover_groups"]
    for row in summary.itertuples():
        column = "TCI" if row.measure == "TCI" else f"NET {row.variable}"
        text = by_gid(fig, f"cell:{row.model}:{column}").get_text()
        assert text == f"{row.value:.1f}\n{row.percentile:.0f}th pct"
    heat = by_gid(fig, "group_heatmap").get_array()
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    order = summary.groupby("market")["zscore"].apply(lambda z: z.abs().max()).sort_values(ascending=False)
    assert ticks == [f"asia / {m}" for m in order.index]  # the market that stands out most on top
    kr_tci = summary[(summary.market == "KR") & (summary.measure == "TCI")]["zscore"].iloc[0]
    assert heat[ticks.index("asia / KR"), 0] == pytest.approx(np.clip(kr_tci, -3, 3))


def test_table_heatmap_and_network_follow_the_table(figs, fixture):
    ctx, _ = fixture
    table = ctx.models["market_daily"].current_table  # the latest window's table
    assert table.tci == pytest.approx(ctx.models["market_daily"].rolling["TCI"].iloc[-1])
    heat = figs["spillover_table"]
    n = len(table.variables)
    for i in range(n):
        for j in range(n):
            assert by_gid(heat, f"cell:{i}:{j}").get_text() == f"{table.matrix[i, j]:.1f}"
    network = figs["spillover_network"]
    expected = sorted(f"edge:{i}:{j}" for i in range(n) for j in range(n) if i != j and table.npdc[i, j] > 0)
    assert gids(network, "edge:") == expected and expected
    # Fixed scale: 0-100 whatever the table's largest share (it once stopped at the largest, 3% looked like 90%).
    assert by_gid(heat, "heatmap").get_clim() == (0, 100)
    assert "0-100" in heat.axes[-1].get_ylabel()  # the colour bar says its scale
    # Widths proportional to NPDC: one ratio for every arrow, and a legend giving the scale.
    ratios = {
        by_gid(network, g).get_linewidth() / table.npdc[int(g.split(":")[1]), int(g.split(":")[2])] for g in expected
    }
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-9)  # floating-point division only
    legend = network.axes[0].get_legend()
    assert legend is not None and all(t.get_text().endswith(" pp") for t in legend.get_texts())


def test_spillover_subtitles_name_the_variables_the_model_used_not_the_configured_list(fixture):
    ctx, _ = fixture
    model = ctx.models["market_daily"]  # estimated on krw_usd, kospi and foreign_net_kospi
    configured = replace(model, label="Daily market spillovers: won, KOSPI, yen, US yields, foreign flows")
    fig = charts.render("spillover_tci", replace(ctx, models={**ctx.models, "market_daily": configured}))
    subtitle = " ".join(next(t.get_text() for t in fig.texts if t.get_gid() == "subtitle").split())
    assert subtitle.startswith("Daily market spillovers of KRW/USD, KOSPI and Foreign flows:")
    assert "yen" not in subtitle
    # Never cut off: every line of the heading lies inside the figure.
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    for text in fig.texts:
        box = text.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width, text.get_text()


def test_irf_grid_lines_are_the_stored_responses(figs, fixture):
    ctx, _ = fixture
    model = ctx.models["macro_monthly"]
    fig = figs["irf_grid"]
    k = {s: i for i, s in enumerate(model.series)}
    for resp, shock, sid_r, sid_s in (
        ("krw_usd", "fed_upper", "krw_usd", "fed_upper"),
        ("kospi", "boj", "kospi", "boj_rate"),
    ):
        line = by_gid(fig, f"irf:{resp}:{shock}")
        np.testing.assert_allclose(line.get_ydata(), model.irf[:, k[sid_r], k[sid_s]])
    assert len(fig.axes) == 4


def test_alert_timeline_has_one_bar_per_episode(figs, fixture):
    ctx, _ = fixture
    fig = figs["alert_timeline"]
    start = pd.Timestamp(AS_OF) - pd.DateOffset(years=3)
    for rule in ctx.rules:
        expected = [a for a, b in periods(rule.firing) if b >= start]
        assert len(gids(fig, f"episode:{rule.name}:")) == len(expected)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [r.name for r in ctx.rules]


def test_alert_timeline_names_instances_and_leaves_out_those_that_never_fired(fixture):
    from dataclasses import replace

    from reports.context import RuleTrace

    ctx, _ = fixture
    days = pd.bdate_range("2026-03-02", AS_OF)
    health = [
        RuleTrace("inputs_stale", "warning", (sid,), "data", pd.Series(days >= fire, index=days), instance=sid)
        for sid, fire in (("krw_usd", pd.Timestamp("2026-03-20")), ("kospi", pd.Timestamp("2027-01-01")))
    ]
    fig = charts.render("alert_timeline", replace(ctx, rules=(*ctx.rules, *health)))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == [r.name for r in ctx.rules] + ["inputs_stale: krw_usd"]  # kospi's never fired
    assert gids(fig, "episode:inputs_stale: krw_usd:") == ["episode:inputs_stale: krw_usd:2026-03-20:2026-03-27"]


def test_a_chart_without_its_data_is_skipped_with_a_reason(fixture):
    ctx, _ = fixture
    from dataclasses import replace

    empty = replace(ctx, series={k: v for k, v in ctx.series.items() if not k.startswith("exports")}, models={})
    for name, reason in (
        ("exports", "no export series"),
        ("spillover_tci", "no spillover model"),
        ("irf_grid", "no VAR"),
        ("spillover_groups", "no model groups were estimated"),
    ):
        with pytest.raises(charts.ChartSkipped, match=reason):
            charts.render(name, empty)


def test_labels_are_drawn_as_written_never_as_mathtext(fixture):
    """`US$_$` between two dollars used to be parsed as mathtext, and failed the figure (and the run)."""
    from dataclasses import replace

    from reports.drawing import figure_bytes

    ctx, _ = fixture
    label = "KRW per US$_$ (noon, $x^2$)"
    info = {**ctx.info, "krw_usd": replace(ctx.info["krw_usd"], label=label)}
    svg = figure_bytes(charts.render("krw_usd", replace(ctx, info=info)), "svg").decode()
    assert label.replace("&", "&amp;") in svg  # svg.fonttype none: the text is in the file as text


def test_a_series_without_a_value_in_the_charts_window_is_skipped_with_a_reason(fixture):
    from dataclasses import replace

    ctx, _ = fixture
    krw = ctx.series["krw_usd"]
    old = krw[krw.index < pd.Timestamp(AS_OF) - pd.DateOffset(years=3, days=1)]
    with pytest.raises(charts.ChartSkipped, match=f"no KRW/USD value in the last 3 years .*{old.index[-1]:%Y-%m-%d}"):
        charts.render("krw_usd", replace(ctx, series={**ctx.series, "krw_usd": old}))
