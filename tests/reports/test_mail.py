"""Alert mail rendering: the chart shows the statistic, the threshold and the firing periods; subjects say what
fired; text from config or data is escaped in HTML. Inputs are SYNTHETIC."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from matplotlib.colors import to_rgba

from monitor.alerts import engine
from monitor.alerts.data import Provenance, RuleData, SeriesInfo, health_of
from monitor.alerts.rules import DataHealthRule, LevelRule
from reports.context import ReportContext
from reports.html import headline
from reports.mail import alert_figure, chart_data, render_notification, subject_line

KRW = pd.Series(
    [1400.0, 1455, 1460, 1430, 1420, 1470, 1480, 1510, 1460, 1430],
    index=pd.bdate_range("2026-03-02", periods=10),
)


def rules() -> list[LevelRule]:
    def make(name: str, threshold: float, severity: str, label: str = "KRW/USD") -> LevelRule:
        return LevelRule.model_validate(
            {
                "name": name,
                "kind": "level",
                "series": "krw_usd",
                "op": ">=",
                "threshold": threshold,
                "severity": severity,
                "label": label,
            }
        )

    return [make("krw_usd_warning", 1450, "warning"), make("krw_usd_critical", 1500, "critical")]


def alerts_on(day: str, rule_list=None):
    as_of = pd.Timestamp(day).date()
    prov = {"krw_usd": Provenance("krw_usd", "fred", as_of, as_of, f"{as_of}T22:00:00Z")}
    data = RuleData(
        as_of, {"krw_usd": KRW[:day]}, {"krw_usd": SeriesInfo("krw_usd", "KRW per USD", "KRW")}, provenance=prov
    )
    evaluations = engine.evaluate(rule_list or rules(), data)
    return engine.order(engine.advance(evaluations, {}, data).alerts), evaluations, as_of


def test_the_chart_draws_the_threshold_and_shades_the_firing_periods():
    alerts, evaluations, as_of = alerts_on("2026-03-12")
    warning = next(a for a in alerts if a.rule == "krw_usd_warning")
    ev = next(e for e in evaluations if e.rule.name == "krw_usd_warning")
    cd = chart_data(warning, ev, as_of)
    # Two episodes of KRW/USD >= 1,450 (keep_firing_for = 0): 03-03..03-05 (resolved 03-05) and from 03-09.
    assert cd.firing == ((date(2026, 3, 3), date(2026, 3, 5)), (date(2026, 3, 9), None))
    fig = alert_figure(cd)
    ax = fig.axes[0]
    data_line, threshold_line = ax.get_lines()
    np.testing.assert_array_equal(data_line.get_ydata(), KRW[:"2026-03-12"].to_numpy())
    assert set(threshold_line.get_ydata()) == {1450.0}
    spans = [p for p in ax.patches if p.get_facecolor()[:3] == to_rgba("#D55E00")[:3]]
    assert len(spans) == 2
    assert fig._suptitle.get_text() == "KRW/USD" and ax.get_ylabel() == "KRW"  # the report's house style
    footer = " ".join(t.get_text() for t in fig.texts)
    assert "fred (krw_usd, known 2026-03-12)" in footer and "as of 2026-03-12" in footer


def test_subjects_say_what_fired_most_severe_first():
    alerts, _, _ = alerts_on("2026-03-11")
    assert subject_line(alerts) == "[KR monitor] 2 firing: KRW/USD 1,510 >= 1,500"
    alerts, _, _ = alerts_on("2026-03-12")
    # 1,460: the critical alert resolved; the warning still fires.
    assert [(a.rule, a.state) for a in alerts] == [("krw_usd_warning", "firing"), ("krw_usd_critical", "resolved")]
    assert subject_line(alerts) == "[KR monitor] 1 firing, 1 resolved: KRW/USD 1,460 >= 1,450"
    assert subject_line([]) == ""


def test_a_long_headline_is_cut_at_a_word_in_the_subject_but_kept_whole_in_the_body():
    error = "source down (failed: [fredgraph] krw_usd: ConnectionError: " + "Max retries exceeded " * 10
    alerts, _, as_of = alerts_on("2026-03-11", [rules()[0].model_copy(update={"label": error})])
    subject = subject_line(alerts)
    full = " ".join(f"[KR monitor] 1 firing: {error}".split())
    kept = subject.removesuffix("…")
    assert len(subject) <= 120 and subject.endswith("…") and len(kept) > 100
    assert full.startswith(kept) and full[len(kept)] == " "  # cut between words, never inside one
    assert " ".join(error.split()) in " ".join(render_notification("desk", as_of, alerts, {}).text.split())


def test_text_from_config_and_data_is_escaped_in_html():
    evil = "<script>alert(1)</script>"
    rule = LevelRule.model_validate(
        {
            "name": "x",
            "kind": "level",
            "series": "krw_usd",
            "op": ">=",
            "threshold": 1450,
            "label": evil,
            "labels": {"desk": evil},
            "annotations": {"description": f"see {evil}"},
        }
    )
    alerts, evaluations, as_of = alerts_on("2026-03-10", [rule])
    cd = {alerts[0].fingerprint: chart_data(alerts[0], evaluations[0], as_of)}
    n = render_notification("desk", as_of, alerts, cd)
    assert "<script>" not in n.html
    assert n.html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # headline, label, description
    assert evil in n.text and evil in n.subject  # plain text stays as written
    assert [i.cid for i in n.images] == [f"chart-{alerts[0].fingerprint}@kr-monitor"]
    assert f'src="cid:chart-{alerts[0].fingerprint}@kr-monitor"' in n.html
    assert [(i.fingerprint, i.state) for i in n.items] == [(alerts[0].fingerprint, "firing")]


def test_risk_alerts_come_first_and_data_health_is_one_compact_block_counted_apart():
    """The offline e-mail used to say '13 firing' over ten data-health cards with 'value n/a, threshold 5' and
    the KRW/USD warning last; the report counted risk alerts only. Both now count as engine.tally does."""
    as_of = date(2026, 3, 11)
    infos = {
        "krw_usd": SeriesInfo("krw_usd", "KRW per USD", "KRW"),
        "aaa_rate": SeriesInfo("aaa_rate", stale_days=5),  # sorts before krw_usd_*: order must not be by name
        "jpy_usd": SeriesInfo("jpy_usd", stale_days=5),
    }
    health = {
        "krw_usd": health_of(infos["krw_usd"], as_of, as_of),
        "aaa_rate": health_of(infos["aaa_rate"], date(2026, 3, 2), as_of),
        "jpy_usd": health_of(infos["jpy_usd"], None, as_of, status="failed", message="HTTP 500"),
    }
    data = RuleData(as_of, {"krw_usd": KRW[:"2026-03-11"]}, infos, health=health)
    rule_list = [*rules(), DataHealthRule.model_validate({"name": "aaa_inputs", "kind": "data_health"})]
    alerts = engine.order(engine.advance(engine.evaluate(rule_list, data), {}, data).alerts)
    assert [a.display_id for a in alerts] == [
        "krw_usd_critical",
        "krw_usd_warning",
        "aaa_inputs{series=aaa_rate}",
        "aaa_inputs{series=jpy_usd}",
    ]
    subject = subject_line(alerts)
    assert subject == "[KR monitor] 2 firing, 2 inputs stale or down: KRW/USD 1,510 >= 1,500"
    n = render_notification("desk", as_of, alerts, {})
    text = n.text
    # Two risk cards, then one block that says what is wrong in words, with units.
    assert text.index("[FIRING] critical krw_usd_critical") < text.index("[FIRING] warning krw_usd_warning")
    block = text[text.index("Data health") :]
    assert text.index("[FIRING] warning krw_usd_warning") < text.index("Data health")
    assert "  - aaa_rate: stale: last observation 2026-03-02 is 9 days old (limit 5 days)\n" in block
    assert "  - jpy_usd: source down (failed: HTTP 500); no observations stored\n" in block
    assert "inputs_stale" not in text and "aaa_inputs" not in text and "value n/a" not in text
    assert text.count("[FIRING]") == 2 and n.html.count('class="alert"') == 2 and 'class="health"' in n.html
    # The report's headline counts the same way.
    ctx = ReportContext(as_of, {}, {}, alerts=alerts)
    assert headline(ctx)[1] == "2 firing, 2 inputs stale or down"
    assert subject.startswith("[KR monitor] " + headline(ctx)[1] + ": ")


def test_a_health_card_says_its_values_in_words():
    as_of = date(2026, 3, 11)
    info = SeriesInfo("kospi", stale_days=5)
    data = RuleData(as_of, {}, {"kospi": info}, health={"kospi": health_of(info, date(2026, 3, 2), as_of)})
    rule = DataHealthRule.model_validate({"name": "inputs_stale", "kind": "data_health"})
    [alert] = engine.advance(engine.evaluate([rule], data), {}, data).alerts
    assert (alert.annotations["value"], alert.annotations["threshold"]) == ("9 days old", "stale after 5 days")
