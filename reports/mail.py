"""Alert e-mail rendering: subject, text and HTML (Jinja2, autoescaped) and one chart per alert (matplotlib Agg).

Takes plain data (the alerts, and per alert its evaluated history: the statistic, the threshold and the firing
periods) and returns a `monitor.notify.Notification`; the notifiers only deliver it. The daily report reuses
`alert_chart` and the templates folder.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from monitor.alerts.engine import FIRING, RESOLVED, Alert, episodes
from monitor.alerts.rules import Evaluation
from monitor.notify.message import InlineImage, NoticeItem, Notification

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TEMPLATES = Path(__file__).with_name("templates")
PREFIX = "[KR monitor]"
_LOOKBACK = pd.DateOffset(years=2)
# Colour-blind-safe pair (Okabe-Ito): blue for the data, vermillion for the threshold and firing shading.
_BLUE, _RED, _GREY = "#0072B2", "#D55E00", "#555555"


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


def alert_chart(cd: ChartData, *, dpi: int = 110) -> bytes:
    """The chart as PNG (for mail)."""
    buf = io.BytesIO()
    alert_figure(cd, dpi=dpi).savefig(buf, format="png")
    return buf.getvalue()


def alert_figure(cd: ChartData, *, dpi: int = 110) -> Figure:
    """The statistic, the threshold (dashed) and the firing periods (shaded); source and as-of in the footer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 3.0), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(cd.values.index, cd.values.to_numpy(), color=_BLUE, linewidth=1.4, label=cd.title)
    if cd.threshold.notna().any():
        ax.step(
            cd.threshold.index,
            cd.threshold.to_numpy(),
            where="post",
            color=_RED,
            linestyle="--",
            linewidth=1.1,
            label="threshold",
        )
    lo = cd.values.index[0] if len(cd.values) else pd.Timestamp(cd.as_of)
    hi = cd.values.index[-1] if len(cd.values) else pd.Timestamp(cd.as_of)
    for i, (start, end) in enumerate(cd.firing):
        ax.axvspan(
            max(pd.Timestamp(start), lo),
            pd.Timestamp(end) if end else hi,
            color=_RED,
            alpha=0.15,
            linewidth=0,
            label="firing" if i == 0 else None,
        )
    ax.set_title(cd.title, loc="left", fontsize=10)
    ax.set_ylabel(cd.units, fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=7, frameon=False)
    fig.text(0.01, 0.0, f"Source: {cd.source} · as of {cd.as_of}", fontsize=7, color=_GREY, ha="left", va="bottom")
    return fig


def subject_line(alerts: Sequence[Alert]) -> str:
    """`[KR monitor] 2 firing, 1 resolved: KRW/USD 1,468 >= 1,450` (the headline of the first alert)."""
    if not alerts:
        return ""
    counts = [(sum(a.state == s for a in alerts), s) for s in (FIRING, RESOLVED)]
    head = ", ".join(f"{n} {s}" for n, s in counts if n)
    return " ".join(f"{PREFIX} {head}: {alerts[0].headline}".split())


def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_notification(
    receiver: str, as_of: date, alerts: Sequence[Alert], charts: Mapping[str, ChartData]
) -> Notification:
    """One message for one receiver: alerts in the order given (engine.order), a chart for each that has one."""
    images = []
    cids: dict[str, str] = {}
    for a in alerts:
        cd = charts.get(a.fingerprint)
        if cd is not None:
            cid = f"chart-{a.fingerprint}@kr-monitor"
            cids[a.fingerprint] = cid
            images.append(InlineImage(cid, alert_chart(cd), "png", f"{a.rule}.png"))
    env = _env()
    subject = subject_line(alerts)
    view = {
        "as_of": as_of,
        "receiver": receiver,
        "subject": subject,
        "alerts": [_view(a, cids.get(a.fingerprint)) for a in alerts],
    }
    return Notification(
        receiver=receiver,
        as_of=as_of,
        subject=subject,
        text=env.get_template("alert_mail.txt.j2").render(view),
        html=env.get_template("alert_mail.html.j2").render(view),
        images=tuple(images),
        items=tuple(NoticeItem(a.fingerprint, a.episode, a.state) for a in alerts),
    )


def renderer(evaluations: Sequence[Evaluation], as_of: date) -> Callable[[str, Sequence[Alert]], Notification]:
    """The `render` callback for monitor.notify.dispatch.queue: each alert with the chart of its evaluation."""
    by_fp = {e.fingerprint: e for e in evaluations}

    def render(receiver: str, alerts: Sequence[Alert]) -> Notification:
        charts = {
            a.fingerprint: chart_data(a, by_fp[a.fingerprint], as_of)
            for a in alerts
            if a.fingerprint in by_fp and len(by_fp[a.fingerprint].frame) >= 2
        }
        return render_notification(receiver, as_of, alerts, charts)

    return render


def _view(a: Alert, cid: str | None) -> dict[str, object]:
    return {
        "id": a.display_id,
        "state": a.state,
        "severity": a.severity,
        "headline": a.headline,
        "summary": a.summary,
        "value": a.annotations.get("value", ""),
        "threshold": a.annotations.get("threshold", ""),
        "since": a.since,
        "observed": a.obs_date,
        "reason": a.annotations.get("resolved_reason", ""),
        "mutes": a.annotations.get("mutes", ""),
        "description": a.annotations.get("description", ""),
        "provenance": a.annotations.get("provenance", ""),
        "labels": sorted((k, v) for k, v in a.labels.items() if k not in ("rule", "severity")),
        "cid": cid,
    }
