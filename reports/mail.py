"""Alert e-mail rendering: subject, text and HTML (Jinja2, autoescaped) and one chart per alert (matplotlib Agg).

Takes plain data (the alerts, and per alert its evaluated history: the statistic, the threshold and the firing
periods) and returns a `monitor.notify.Notification`; the notifiers only deliver it. The daily report reuses
`alert_chart` and the templates folder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from monitor.alerts.engine import DATA_HEALTH, Alert, episodes, order, tally
from monitor.alerts.rules import Evaluation
from monitor.meetings import calendar_gap, next_meetings
from monitor.notify.message import InlineImage, NoticeItem, Notification
from reports.context import Brief
from reports.html import alert_view, environment, overnight_rows
from reports.narrative import paragraph
from reports.style import BLUE, VERMILION, date_axis, figure, footer, house_style, legend, settle

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PREFIX = "[KR monitor]"
SUBJECT_MAX = 120  # characters: what mail clients show of a subject, with room to spare
_LOOKBACK = pd.DateOffset(years=2)
MAIL_SIZE = (7.5, 3.4)  # inches: 640 px wide in a mail client at the house DPI's scale


@dataclass(frozen=True)
class ChartData:
    """What one alert chart shows: the statistic, its threshold and the firing periods, with a footer."""

    title: str
    units: str
    values: pd.Series
    threshold: pd.Series
    firing: tuple[tuple[date, date | None], ...]
    source: str
    as_of: date


def chart_data(alert: Alert, ev: Evaluation, as_of: date) -> ChartData:
    frame = ev.frame[ev.frame.index <= pd.Timestamp(as_of)]
    start = pd.Timestamp(as_of) - _LOOKBACK
    shown = frame[frame.index >= start] if (frame.index >= start).sum() >= 2 else frame.tail(60)
    periods = tuple((e.start, e.end) for e in episodes(ev, frame) if e.end is None or e.end >= shown.index[0].date())
    sources = sorted({f"{p.source} ({p.series_id}, known {p.realtime_start})" for p in alert.provenance})
    return ChartData(
        title=alert.annotations.get("label", alert.rule),
        units=alert.annotations.get("units", ""),
        values=shown["value"],
        threshold=shown["threshold"],
        firing=periods,
        source="; ".join(sources) or "monitor store",
        as_of=as_of,
    )


def alert_chart(cd: ChartData) -> bytes:
    """The chart as PNG (for mail)."""
    from reports.drawing import figure_bytes

    return figure_bytes(alert_figure(cd), "png")


def alert_figure(cd: ChartData) -> Figure:
    """The statistic, the threshold (dashed) and the firing periods (shaded), in the report's house style, with
    source and as-of in the footer: the chart that shows why the alert fired."""
    with house_style():
        fig, (ax,) = figure(cd.title, cd.units, size=MAIL_SIZE)
        ax.plot(cd.values.index, cd.values.to_numpy(), color=BLUE, lw=1.4, label=cd.title, gid="statistic")
        if cd.threshold.notna().any():
            ax.step(
                cd.threshold.index,
                cd.threshold.to_numpy(),
                where="post",
                color=VERMILION,
                ls="--",
                lw=1.1,
                label="threshold",
                gid="threshold",
            )
        lo = cd.values.index[0] if len(cd.values) else pd.Timestamp(cd.as_of)
        hi = cd.values.index[-1] if len(cd.values) else pd.Timestamp(cd.as_of)
        for i, (start, end) in enumerate(cd.firing):
            ax.axvspan(
                max(pd.Timestamp(start), lo),
                pd.Timestamp(end) if end else hi,
                color=VERMILION,
                alpha=0.15,
                lw=0,
                label="firing" if i == 0 else None,
                gid="firing",
            )
        ax.set_ylabel(cd.units)
        legend(ax)
        date_axis(ax)
        footer(fig, cd.source, cd.as_of)
        return settle(fig)


def subject_line(alerts: Sequence[Alert]) -> str:
    """`[KR monitor] 2 firing, 1 resolved, 3 inputs stale or down: KRW/USD 1,468 >= 1,450`: the counts the
    report's headline gives (engine.tally), then the headline of the first alert in message order."""
    if not alerts:
        return ""
    line = " ".join(f"{PREFIX} {tally(alerts)}: {order(alerts)[0].headline}".split())
    # A headline can carry a whole error message (a source down): the body has it all, the subject stays a line.
    if len(line) > SUBJECT_MAX:
        line = line[: SUBJECT_MAX - 1].rsplit(" ", 1)[0] + "…"
    return line


def render_notification(
    receiver: str,
    as_of: date,
    alerts: Sequence[Alert],
    charts: Mapping[str, ChartData],
    brief: Brief | None = None,
) -> Notification:
    """One message for one receiver: with a `brief`, first the paragraph of what changed overnight and the
    overnight table (the report's); then risk alerts as cards in the order given (engine.order), a chart for each
    that has one; then data health as one compact block."""
    images = []
    cids: dict[str, str] = {}
    for a in alerts:
        cd = charts.get(a.fingerprint)
        if cd is not None:
            cid = f"chart-{a.fingerprint}@kr-monitor"
            cids[a.fingerprint] = cid
            images.append(InlineImage(cid, alert_chart(cd), "png", f"{a.rule}.png"))
    env = environment()
    subject = subject_line(alerts)
    view = {
        "as_of": as_of,
        "receiver": receiver,
        "subject": subject,
        "alerts": [alert_view(a, cids.get(a.fingerprint)) for a in alerts if a.kind != DATA_HEALTH],
        "health": [alert_view(a) for a in alerts if a.kind == DATA_HEALTH],
        "meetings": brief.meetings if brief else next_meetings(as_of),
        "calendar_gap": calendar_gap(as_of),
        "narrative": paragraph(as_of, brief.moves, alerts, brief.meetings, dict(brief.short)) if brief else "",
        "overnight": overnight_rows(brief.moves, brief.short) if brief else [],
    }
    return Notification(
        receiver=receiver,
        as_of=as_of,
        subject=subject,
        text=env.get_template("alert_mail.txt.j2").render(view),
        html=env.get_template("alert_mail.html.j2").render(view),
        images=tuple(images),
        items=tuple(notice_item(a, cids.get(a.fingerprint, "")) for a in alerts),
    )


def notice_item(a: Alert, chart: str) -> NoticeItem:
    """What chat and webhook notifiers show of an alert (they render from the Notification, not from HTML)."""
    return NoticeItem(
        a.fingerprint,
        a.episode,
        a.state,
        rule=a.rule,
        severity=a.severity,
        kind=a.kind,
        headline=a.headline,
        value=a.value,
        threshold=a.threshold,
        obs_date=a.obs_date.isoformat(),
        labels=tuple(sorted(a.labels.items())),
        chart=chart,
    )


def renderer(
    evaluations: Sequence[Evaluation], as_of: date, brief: Brief | None = None
) -> Callable[[str, Sequence[Alert]], Notification]:
    """The `render` callback for monitor.notify.dispatch.queue: each alert with the chart of its evaluation,
    after the overnight brief when there is one."""
    by_fp = {e.fingerprint: e for e in evaluations}

    def render(receiver: str, alerts: Sequence[Alert]) -> Notification:
        charts = {
            a.fingerprint: chart_data(a, by_fp[a.fingerprint], as_of)
            for a in alerts
            if a.kind != DATA_HEALTH and a.fingerprint in by_fp and len(by_fp[a.fingerprint].frame) >= 2
        }
        return render_notification(receiver, as_of, alerts, charts, brief)

    return render
