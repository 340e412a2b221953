"""Exports: how big are Korean exports and chip exports, and are they growing year on year?"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from reports.charts.common import clip_years
from reports.charts.registry import ChartSkipped, chart
from reports.context import ReportContext
from reports.style import BLUE, GREY, VERMILION, date_axis, figure, footer
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
    for role, colour, style in (("exports_total", BLUE, "-"), ("exports_semis", VERMILION, "--")):
        s = ctx.values(role)
        if s is None:
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
            label=ctx.label(role),
            gid=f"{role}_level",
        )
        ax2.plot(
            growth.index,
            growth.values,
            color=colour,
            ls=style,
            lw=1.4,
            marker="o",
            ms=2.5,
            label=f"{ctx.label(role)}, YoY",
            gid=f"{role}_yoy",
        )
    ax.set_ylabel("billion USD")
    if not any(
        (line.get_gid() or "").endswith("_yoy") and pd.notna(line.get_ydata()).any() for line in ax2.get_lines()
    ):
        # Under 13 months of history: say why the panel is empty rather than leave a blank axis to puzzle over.
        ax2.text(0.5, 0.5, "year-on-year growth needs 13 months of data", transform=ax2.transAxes, ha="center")
    ax2.axhline(0, color=GREY, lw=0.8)
    ax2.set_ylabel("YoY %")
    draw_legend(ax)
    date_axis(ax2)
    footer(fig, ctx.source_of("exports_total", "exports_semis"), ctx.as_of)
    return fig
