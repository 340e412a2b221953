"""The house style: one look for every chart, readable in colour-blind palettes, with source and as-of footers.

Colours are the Okabe-Ito palette (distinguishable under the common colour-vision deficiencies); series that
must be told apart also differ in line style or marker, never by colour alone.
"""

from __future__ import annotations

import textwrap
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
# Drawn small with no text under MIN_TEXT_PT, so a chart filling a 375 px phone (about 350 px of it) still shows
# text of 8 CSS px (8.5 pt over 5 in at 350 px is 8.3 px); 1450 px wide at DPI for slides and the desktop report.
WIDTH = 5.0
SIZE = (WIDTH, 3.6)
DPI = 290
MIN_TEXT_PT = 8.5
TITLE_PT, SUBTITLE_PT, FOOTER_PT = 11.0, 8.5, 8.5

RC: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 8.5,
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
    cols: int = 1,
) -> tuple[Figure, list[Axes]]:
    """A figure with `rows` stacked panels (or a `rows` x `cols` grid, row by row); the title states the question
    the chart answers. Title and subtitle wrap to the width (never cut off); the panels fill what the heading and
    the footer leave (constrained layout, so tick labels and colour bars are never clipped either).

    Call inside `house_style()` (the chart registry does) so every artist picks up the style."""
    width, height = size
    title_lines = _wrap(title, TITLE_PT, width, bold=True)
    sub_lines = _wrap(subtitle, SUBTITLE_PT, width) if subtitle else []
    head = 0.08 + (len(title_lines) * TITLE_PT + len(sub_lines) * SUBTITLE_PT) * 1.3 / 72
    height += head  # the heading adds to the figure: the panels keep the height asked for
    # rect: (left, bottom, width, height) in figure fractions, between the footer and the heading
    foot = 0.1 + 2 * FOOTER_PT * 1.3 / 72  # two lines: a long source list wraps
    fig = Figure(figsize=(width, height + foot), dpi=DPI)
    fig.set_layout_engine(
        "constrained",
        rect=(0.0, foot / (height + foot), 1.0, (height - head) / (height + foot)),
        h_pad=0.03,
        w_pad=0.03,
    )
    grid = {"height_ratios": list(heights)} if heights else {}
    axes = fig.subplots(rows, cols, sharex=sharex, gridspec_kw=grid, squeeze=False).ravel().tolist()
    for ax in axes:
        ax.set_axisbelow(True)
    top = 1 - 0.04 / (height + foot)
    heading = fig.suptitle(
        "\n".join(title_lines), x=0.01, y=top, ha="left", va="top", fontsize=TITLE_PT, fontweight="bold"
    )
    heading.set_in_layout(False)  # placed above the layout's rect already: constrained layout leaves it be
    if sub_lines:
        below = top - (len(title_lines) * TITLE_PT * 1.3 / 72) / (height + foot)
        text = "\n".join(sub_lines)
        fig.text(0.01, below, text, ha="left", va="top", fontsize=SUBTITLE_PT, color="#444444", gid="subtitle")
    return fig, axes


def _wrap(text: str, points: float, width: float, bold: bool = False) -> list[str]:
    """`text` in lines that fit `width` inches at `points`."""
    return textwrap.wrap(text, _chars(points, width, bold)) or [""]


def _chars(points: float, width: float, bold: bool = False) -> int:
    """Characters that fit `width` inches at `points` (DejaVu Sans averages about 0.6 em a character)."""
    return max(int((width - 0.15) / (points / 72 * (0.66 if bold else 0.6))), 10)


def settle(fig: Figure) -> Figure:
    """Lay the finished figure out once and keep that layout: constrained layout would run again at every save,
    each run starting from the last one's positions, so the PNG, SVG and PDF (and a re-export) could differ."""
    # Only the layout, as the first step of a draw does it (drawing the rest without output, as
    # `draw_without_rendering` would, cost as much again and changes nothing the saves do not redo).
    engine = fig.get_layout_engine()
    if fig.axes and engine is not None:
        engine.execute(fig)
    # No layout engine at all, not "none" (a placeholder engine): with any engine, savefig first draws the whole
    # figure without output to lay it out again, about a third of every save.
    with plt.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)
    # The solver's last digits vary with what was drawn before in the process (text extents are cached), and
    # the SVG names clip paths by their exact bounds: positions to 1e-6 of the figure keep re-exports identical.
    for ax in fig.axes:
        x, y, w, h = (round(float(v), 6) for v in ax.get_position().bounds)
        ax.set_position((x, y, w, h))
    return fig


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
    """Source and as-of date in every chart's footer (what a slide must carry), in two lines at most: the parts
    are never split but where one alone is longer than a line."""
    parts = [f"Source: {source}", f"as of {as_of.isoformat()}", *([note] if note else []), "KR macro monitor"]
    budget = _chars(FOOTER_PT, fig.get_figwidth())
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + 5 + len(part) <= budget:
            lines[-1] += "  |  " + part
        else:
            lines += textwrap.wrap(part, budget) or [""]
    text = "\n".join(lines[:2])  # the figure keeps two lines' room for it
    fig.text(0.01, 0.015, text, ha="left", va="bottom", fontsize=FOOTER_PT, color=GREY, gid="footer")


def legend(ax: Axes, *, loc: str = "upper left", ncols: int | None = None) -> None:
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        # Two columns at most: a chart is WIDTH inches wide, and a wider legend would squeeze the panel.
        ax.legend(loc=loc, ncols=min(ncols or 2, len(handles), 2))  # type: ignore[call-overload]
