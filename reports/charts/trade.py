"""Exports: how big are Korean exports and chip exports, and are they growing year on year?"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from reports.charts.common import clip_years
from reports.charts.registry import ChartSkipped, chart
from reports.context import ReportContext
from reports.style import BLUE, GREY, MIN_TEXT_PT, VERMILION, date_axis, figure, footer
from reports.style import legend as draw_legend

YEARS = 6
_TO_BILLION_USD = {"thousand USD": 1e-6, "USD": 1e-9, "million USD": 1e-3, "billion USD": 1.0}


def monthly_billions(s: pd.Series, units: str) -> pd.Series:
    """Monthly totals in billion USD, dated the first of the month."""
    if units not in _TO_BILLION_USD:
        raise ChartSkipped(f"export units {units!r} are not a USD amount this chart knows")
    monthly = s.groupby(s.index.to_period("M")).sum(min_count=1)
    monthly.index = monthly.index.to_timestamp()
    return monthly * _TO_BILLION_USD[units]


def yoy(s: pd.Series) -> pd.Series:
    """Year-on-year growth in percent against the same month a year earlier (by date, not by position)."""
    earlier = s.reindex(s.index - pd.DateOffset(years=1))
    earlier.index = s.index
    return (s / earlier - 1.0) * 100.0


@chart("exports", "Trade", "Are total and semiconductor exports growing year on year?")
def exports(ctx: ReportContext) -> Figure:
    total, semis = ctx.values("exports_total"), ctx.values("exports_semis")
    if total is None and semis is None:
        raise ChartSkipped("no export series in the store")
    start = pd.Timestamp(ctx.as_of) - pd.DateOffset(years=YEARS)
    fig, (ax, ax2) = figure(
        "Korean exports: total and semiconductors",
        "Monthly value in billion USD (top) and year-on-year growth in % (bottom)",
        rows=2,
        heights=(1.6, 1.0),
    )
    missing, young = [], []
    for role, colour, style in (("exports_total", BLUE, "-"), ("exports_semis", VERMILION, "--")):
        s = ctx.values(role)
        name = ctx.short(ctx.role(role))  # short: the legend fits the panel's width
        if s is None:
            missing.append(f"{name}: no data stored for {ctx.role(role)}")
            continue
        level = monthly_billions(s, ctx.units(role))
        growth = clip_years(yoy(level), start)
        level = clip_years(level, start)
        ax.plot(
            level.index,
            level.values,
            color=colour,
            ls=style,
            lw=1.5,
            marker="o",
            ms=2.5,
            label=name,
            gid=f"{role}_level",
        )
        if growth.notna().any():
            ax2.plot(
                growth.index,
                growth.values,
                color=colour,
                ls=style,
                lw=1.4,
                marker="o",
                ms=2.5,
                label=f"{name}, YoY",
                gid=f"{role}_yoy",
            )
        else:
            young.append(f"{name}: YoY needs 13 months ({len(level)} stored)")
    ax.set_ylabel("billion USD")
    if missing:  # said in the chart, where the title promises the line
        ax.text(
            0.99,
            0.03,
            "\n".join(missing),
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            color=GREY,
            fontsize=MIN_TEXT_PT,
        )
    if not ax2.get_lines():
        # No growth to draw: say why on a blank panel, without the axes, ticks and zero line of an empty plot.
        ax2.set_axis_off()
        ax.tick_params(labelbottom=True)  # the shared date axis is the top panel's now
        ax2.text(0.5, 0.5, "\n".join(young), transform=ax2.transAxes, ha="center", va="center", fontsize=MIN_TEXT_PT)
    else:
        ax2.axhline(0, color=GREY, lw=0.8)
        ax2.set_ylabel("YoY %")
        if young:
            ax2.text(
                0.01,
                0.97,
                "\n".join(young),
                transform=ax2.transAxes,
                ha="left",
                va="top",
                color=GREY,
                fontsize=MIN_TEXT_PT,
            )
    draw_legend(ax)
    date_axis(ax2 if ax2.axison else ax)
    footer(fig, ctx.source_of("exports_total", "exports_semis"), ctx.as_of)
    return fig
