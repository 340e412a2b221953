"""The strategist's brief, data side: the next central-bank meetings in the report and the e-mail, decision markers
from the calendar on the policy-rate chart, and the yield-gap chart with the flows' response, each against an
independent computation on the fixture's (SYNTHETIC) series."""

from __future__ import annotations

from datetime import date

import matplotlib.dates as mdates
import pandas as pd
import pytest

from monitor.meetings import decisions
from reports import charts
from reports.html import render_report
from reports.mail import render_notification
from tests.reports.fixture import AS_OF


@pytest.fixture(scope="module")
def fixture(report_fixture):
    return report_fixture  # built once per session (tests/reports/conftest.py)


def _artist(fig, gid):
    found = [a for ax in fig.axes for a in ax.get_children() if a.get_gid() == gid]
    assert found, f"no artist {gid!r}"
    return found[0]


def _day(x: float) -> pd.Timestamp:
    return pd.Timestamp(mdates.num2date(x)).tz_localize(None).normalize()


def test_gap_chart_lines_against_the_inputs(fixture):
    ctx, values = fixture
    fig = charts.render("yield_gap_flows", ctx)
    gap = _artist(fig, "gap_10y")
    # On the as-of session (Friday 2026-03-27): the US close of the day before, the JGB of the day itself.
    expected = values["us_10y"][pd.Timestamp("2026-03-26")] - values["jgb_10y"][pd.Timestamp("2026-03-27")]
    assert pd.Timestamp(gap.get_xdata()[-1]) == pd.Timestamp(AS_OF)
    assert gap.get_ydata()[-1] == pytest.approx(expected, rel=1e-12)
    flows = _artist(fig, "flows_20d")
    assert flows.get_ydata()[-1] == pytest.approx(values["foreign_net_kospi"].iloc[-20:].sum() / 10_000, rel=1e-12)
    response = _artist(fig, "flow_response")
    rolling = ctx.models["gap_flows"].rolling
    assert response.get_ydata()[-1] == pytest.approx(rolling["beta"].iloc[-1] * 0.01, rel=1e-12)


def test_gap_chart_without_jgb_is_skipped_with_a_reason(fixture):
    ctx, _ = fixture
    bare = type(ctx)(**{**ctx.__dict__, "series": {k: v for k, v in ctx.series.items() if k != "jgb_10y"}})
    with pytest.raises(charts.ChartSkipped, match="jgb_10y"):
        charts.render("yield_gap_flows", bare)


def test_policy_chart_marks_the_calendars_hikes_and_cuts(fixture):
    ctx, _ = fixture
    fig = charts.render("policy_rates", ctx)
    fed = _artist(fig, "fed_calendar").get_offsets()
    steps = [m for m in decisions("Fed", date(2026, 3, 28)) if m.decision != "hold"]
    assert [_day(x).date() for x in fed[:, 0]] == [m.date for m in steps]
    assert list(fed[:, 1]) == [m.rate_upper for m in steps]
    assert [m.date.isoformat() for m in steps] == [
        "2024-09-18", "2024-11-07", "2024-12-18", "2025-09-17", "2025-10-29", "2025-12-10"
    ]  # fmt: skip
    assert len(_artist(fig, "bok_calendar_unverified").get_offsets()) == 0  # BOK 2026: holds so far


def test_report_and_mail_show_the_next_meetings(fixture):
    ctx, _ = fixture
    html = render_report(ctx, {}, {})
    strip = html.split('id="meetings"')[1].split("</table>")[0]
    assert '<td>Fed</td><td>2026-04-29</td><td class="num">33</td>' in strip
    assert "held at 2.50% on 2026-02-26 (unverified)" in strip  # the BOK's 2026 holds: press only
    assert "A US-Japan 10-year gap 10 bp wider" in html.replace("As of 2026-03-27: a", "A")
    mail = render_notification("desk", AS_OF, [], {})
    assert "BOK 2026-04-10 (in 14 days), rate now 2.50%; last: held at 2.50% on 2026-02-26 (unverified)" in mail.text
    assert "<strong>BOJ</strong> 2026-04-28 (in 32 days)" in mail.html
