"""The house style: one look for every chart, readable in colour-blind palettes, with source and as-of footers.

Colours are the Okabe-Ito palette (distinguishable under the common colour-vision deficiencies); series that
must be told apart also differ in line style or marker, never by colour alone.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import date
from typing import Any

import matplotlib
from cycler import cycler

matplotlib.use("Agg")  # headless: the report renders in cron and CI

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

BLACK, ORANGE, SKY, GREEN, YELLOW, BLUE, VERMILION, PURPLE = (
    "#000000",
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
)
PALETTE = (BLUE, VERMILION, GREEN, ORANGE, PURPLE, SKY, BLACK, YELLOW)
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1)), "-", "--")
SEVERITY_COLOURS = {"info": SKY, "warning": ORANGE, "critical": VERMILION}
POSITIVE, NEGATIVE = BLUE, VERMILION
GREY = "#6b6b6b"
SIZE = (10.0, 5.6)  # 16:9-ish for slides; PNG at 150 dpi is 1500 px wide
DPI = 150

RC: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9,
    "axes.labelcolor": "#333333",
    "axes.edgecolor": "#999999",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.prop_cycle": cycler(color=PALETTE),
    "grid.color": "#e3e3e3",
    "grid.linewidth": 0.7,
    "legend.frameon": False,
    "legend.fontsize": 8.5,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "svg.fonttype": "none",  # text stays text in SVG exports (editable in slides)
    "svg.hashsalt": "kr-macro-monitor",  # stable ids: re-running a date rewrites identical SVGs
    "pdf.fonttype": 42,
    # Labels come from the config and the data: drawn as written, never parsed as mathtext (a `$` in "US$" would
    # turn the text between two of them into math, and an unbalanced one fails the whole figure).
    "text.parse_math": False,
}


def figure(
    title: str,
    subtitle: str = "",
    *,
    rows: int = 1,
    heights: tuple[float, ...] | None = None,
    sharex: bool = True,
    size: tuple[float, float] = SIZE,
) -> tuple[Figure, list[Axes]]:
    """A figure with `rows` stacked panels; the title states the question the chart answers.

    Call inside `house_style()` (the chart registry does) so every artist picks up the style."""
    fig = Figure(figsize=size, dpi=DPI)
    grid = {"height_ratios": list(heights)} if heights else {}
    axes = fig.subplots(rows, 1, sharex=sharex, gridspec_kw=grid, squeeze=False)[:, 0].tolist()
    for ax in axes:
        ax.set_axisbelow(True)
    fig.suptitle(title, x=0.01, y=0.985, ha="left", fontsize=13, fontweight="bold")
    if subtitle:
        fig.text(0.01, 0.925, subtitle, ha="left", va="top", fontsize=9.5, color="#444444")
    fig.subplots_adjust(left=0.08, right=0.97, top=0.86 if subtitle else 0.9, bottom=0.13, hspace=0.18)
    return fig, axes


def house_style() -> AbstractContextManager[None]:
    return plt.rc_context(RC)  # type: ignore[arg-type,return-value]


def date_axis(ax: Axes) -> None:
    locator = mdates.AutoDateLocator(minticks=4, maxticks=9)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def thousands(ax: Axes, axis: str = "y", decimals: int = 0) -> None:
    fmt = FuncFormatter(lambda v, _: f"{v:,.{decimals}f}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def footer(fig: Figure, source: str, as_of: date, note: str = "") -> None:
    """Source and as-of date in every chart's footer (what a slide must carry)."""
    text = f"Source: {source}  |  as of {as_of.isoformat()}" + (f"  |  {note}" if note else "")
    fig.text(0.01, 0.015, text, ha="left", va="bottom", fontsize=7.5, color=GREY, gid="footer")
    fig.text(0.99, 0.015, "KR macro monitor", ha="right", va="bottom", fontsize=7.5, color=GREY)


def legend(ax: Axes, *, loc: str = "upper left", ncols: int | None = None) -> None:
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(loc=loc, ncols=ncols or min(len(handles), 4))  # type: ignore[call-overload]
