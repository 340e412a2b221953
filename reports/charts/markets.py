"""KOSPI and foreign investors: are foreigners buying or selling Korean stocks, and how does KOSPI respond?"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from reports.charts.common import clip_years
from reports.charts.registry import ChartSkipped, chart
from reports.context import ReportContext, krw_per_usd
from reports.overnight import rate_on
from reports.style import BLACK, BLUE, GREY, MIN_TEXT_PT, NEGATIVE, POSITIVE, date_axis, figure, footer
from reports.style import legend as draw_legend
from series import numbers

MONTHS = 12
CUMULATIVE = 20  # sessions


@chart("kospi_flows", "Markets", "Are foreign investors buying or selling KOSPI, and what is the index doing?")
def kospi_flows(ctx: ReportContext) -> Figure:
    kospi, flows = ctx.values("kospi"), ctx.values("foreign_flows")
    if kospi is None and flows is None:
        raise ChartSkipped("neither KOSPI nor foreign net purchases are in the store")
    start = pd.Timestamp(ctx.as_of) - pd.DateOffset(months=MONTHS)
    rows = 3 if flows is not None else 1
    units = ctx.units("foreign_flows")
    shown = numbers.display(units)  # trillion won, not "x 100 million KRW"
    summed = flows.dropna().rolling(CUMULATIVE, min_periods=CUMULATIVE).sum().dropna() if flows is not None else None
    latest = ""
    if summed is not None and not summed.empty:
        dollars = numbers.usd(
            float(summed.iloc[-1]), units, rate_on(krw_per_usd(ctx.series, ctx.roles), summed.index[-1])
        )
        latest = f"; latest {numbers.with_units(float(summed.iloc[-1]), units)}" + (f" ({dollars})" if dollars else "")
    fig, axes = figure(
        "KOSPI and foreign investors' net purchases",
        f"Daily net purchases (bars: blue = buying, red = selling) and their {CUMULATIVE}-session sum{latest}",
        rows=rows,
        heights=(2.0, 1.0, 1.0)[:rows],
    )
    ax = axes[0]
    if kospi is not None:
        k = clip_years(kospi, start)
        ax.plot(k.index, k.values, color=BLACK, lw=1.4, label=ctx.label("kospi"), gid="kospi")
        ax.set_ylabel(ctx.units("kospi"))
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
        draw_legend(ax)
    else:
        ax.text(0.5, 0.5, "KOSPI not in the store", transform=ax.transAxes, ha="center")
    if flows is not None:
        f = flows.dropna() * shown.factor
        cumulative = f.rolling(CUMULATIVE, min_periods=CUMULATIVE).sum()
        f, cumulative = clip_years(f, start), clip_years(cumulative, start)
        colours = [POSITIVE if v >= 0 else NEGATIVE for v in f.values]
        axes[1].bar(f.index, f.values, width=1.0, color=colours, gid="flows_daily")
        axes[1].axhline(0, color=GREY, lw=0.7)
        axes[1].set_ylabel(f"daily,\n{shown.units}", fontsize=MIN_TEXT_PT)
        axes[2].plot(
            cumulative.index,
            cumulative.values,
            color=BLUE,
            lw=1.3,
            gid="flows_cumulative",
            label=f"{CUMULATIVE}-session cumulative",
        )
        axes[2].fill_between(
            cumulative.index, cumulative.values, 0, where=cumulative.values < 0, color=NEGATIVE, alpha=0.2, lw=0
        )
        axes[2].axhline(0, color=GREY, lw=0.7)
        axes[2].set_ylabel(f"{CUMULATIVE}-session\nsum", fontsize=MIN_TEXT_PT)
        for a in axes[1:]:
            a.yaxis.set_major_formatter(lambda v, _: f"{v:,g}")
    date_axis(axes[-1])
    footer(fig, ctx.source_of("kospi", "foreign_flows"), ctx.as_of)
    return fig
