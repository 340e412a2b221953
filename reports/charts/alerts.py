"""The alert timeline: which rules fired when."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from reports.charts.common import periods
from reports.charts.registry import ChartSkipped, chart
from reports.context import ReportContext
from reports.style import MIN_TEXT_PT, ORANGE, SEVERITY_COLOURS, WIDTH, date_axis, figure, footer

YEARS = 3


@chart("alert_timeline", "Alerts", "Which rules fired when?")
def alert_timeline(ctx: ReportContext) -> Figure:
    if not ctx.rules:
        raise ChartSkipped("no alert rules are configured")
    start = pd.Timestamp(ctx.as_of) - pd.DateOffset(years=YEARS)
    end = pd.Timestamp(ctx.as_of)
    # Every rule gets a row (a rule that never fired says so too), but of a rule's many instances (one per
    # series for data health) only those that fired in the window: fourteen empty rows would hide the one that did.
    rules = [r for r in ctx.rules if not r.instance or any(b >= start for _, b in periods(r.firing))]
    fig, (ax,) = figure(
        "Alert timeline",
        f"Bars: periods each rule was firing over the last {YEARS} years (colour = severity)",
        size=(WIDTH, max(1.8, 0.6 + 0.3 * len(rules))),
    )
    for row, rule in enumerate(rules):
        colour = SEVERITY_COLOURS.get(rule.severity, ORANGE)
        spans = [(a, b) for a, b in periods(rule.firing) if b >= start]
        for first, last in spans:
            first = max(first, start)
            ax.broken_barh(
                [(first, last - first + pd.Timedelta(days=1))],
                (row - 0.35, 0.7),
                color=colour,
                gid=f"episode:{rule.display}:{first:%Y-%m-%d}:{last:%Y-%m-%d}",
            )
    ax.set_yticks(range(len(rules)), [r.display for r in rules], fontsize=MIN_TEXT_PT)
    ax.set_ylim(-0.7, len(rules) - 0.3)
    ax.invert_yaxis()
    ax.set_xlim(start, end + pd.Timedelta(days=5))
    ax.grid(axis="y", visible=False)
    date_axis(ax)
    footer(fig, "rule evaluations on the stored series (point in time)", ctx.as_of)
    return fig
