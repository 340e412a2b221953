"""Capital flows at risk: the fan of forecast percentiles of foreign net purchases over the next h sessions."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from reports.charts.common import clip_years
from reports.charts.registry import ChartSkipped, chart
from reports.context import ReportContext
from reports.style import BLACK, BLUE, GREY, NEGATIVE, SKY, date_axis, figure, footer
from reports.style import legend as draw_legend

MONTHS = 24
METHOD = "flows at risk"


@chart("flows_at_risk", "Markets", "How much could foreign investors sell over the coming weeks?")
def flows_at_risk(ctx: ReportContext) -> Figure:
    models = [m for m in ctx.models.values() if m.method == METHOD and not m.error and m.rolling is not None]
    if not models:
        raise ChartSkipped("no flows-at-risk forecasts were estimated (add a [[flows_at_risk]] block)")
    model = models[0]
    r = model.rolling
    assert r is not None
    r = clip_years(r, pd.Timestamp(ctx.as_of) - pd.DateOffset(months=MONTHS))
    if r.empty:
        raise ChartSkipped(f"{model.name} has no forecast in the last {MONTHS} months")
    h = model.horizon
    units = ctx.units(model.series[0]) if model.series else ""
    last = r.index[-1]
    stored = model.extra.get("flows_at_risk", {})
    coverage = stored.get("coverage_q05")
    fig, (ax,) = figure(
        f"Foreign flows at risk: 5th percentile {r['q05'].iloc[-1]:,.0f} for the {h} sessions after {last:%Y-%m-%d}",
        f"{model.label or model.name}: quantile regressions of the next {h} sessions' cumulative foreign net "
        f"purchases on {', '.join(model.variables[1:])},\neach fitted only on data known at its date"
        + (f"; {coverage:.1%} of realised flows fell below the 5th percentile (5% if calibrated)" if coverage else ""),
    )
    ax.fill_between(r.index, r["q05"], r["q95"], color=SKY, alpha=0.35, lw=0, label="5th-95th percentile", gid="band")
    ax.plot(r.index, r["q50"], color=BLUE, lw=1.2, label="median forecast", gid="median")
    ax.plot(r.index, r["q05"], color=NEGATIVE, lw=1.2, label="5th percentile (flows at risk)", gid="q05")
    done = r["realised"].dropna()
    below = done[done < r.loc[done.index, "q05"]]
    ax.plot(done.index, done.values, color=BLACK, lw=0.9, label=f"realised, next {h} sessions", gid="realised")
    ax.scatter(below.index, below.values, color=NEGATIVE, s=10, zorder=3, label="realised below 5th", gid="breaches")
    ax.axhline(0, color=GREY, lw=0.7)
    ax.set_ylabel(f"cumulative, {units}" if units else "cumulative")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    draw_legend(ax, ncols=3)
    date_axis(ax)
    footer(fig, "model estimates from the stored series", ctx.as_of)
    return fig
