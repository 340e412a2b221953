"""The US-Japan yield gap and foreign flows: is the gap widening, and are foreigners selling KOSPI with it?"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from monitor.errors import MonitorError
from monitor.models.flow_response import yield_gap
from reports.charts.common import clip_years
from reports.charts.registry import ChartSkipped, chart
from reports.context import ReportContext
from reports.style import BLACK, BLUE, GREY, MIN_TEXT_PT, SKY, date_axis, figure, footer
from reports.style import legend as draw_legend

YEARS = 2
CUMULATIVE = 20  # sessions
TRILLION = 10_000  # 100 million KRW per trillion KRW
PER_10BP = 0.01  # beta (100 million KRW per pp) -> billion KRW per 10 bp


def _gap(ctx: ReportContext, tenor: str) -> pd.Series | None:
    try:
        gap = yield_gap(ctx.series, tenor, ctx.as_of)
    except MonitorError:  # a leg is not in the store
        return None
    return gap if not gap.empty else None


@chart(
    "yield_gap_flows",
    "Markets",
    "Is the US-Japan yield gap widening, and do foreigners sell KOSPI when it does?",
)
def yield_gap_flows(ctx: ReportContext) -> Figure:
    ten, two = _gap(ctx, "10y"), _gap(ctx, "2y")
    if ten is None and two is None:
        raise ChartSkipped("no US-Japan yield gap: needs us_10y and jgb_10y (or us_2y and jgb_2y) in the store")
    start = pd.Timestamp(ctx.as_of) - pd.DateOffset(years=YEARS)
    fig, (ax, ax2) = figure(
        "US-Japan yield gap and foreign net purchases of KOSPI",
        f"US minus Japan yield (pp); foreigners' {CUMULATIVE}-session net purchases (trillion KRW, right); "
        "below: their response to the gap",
        rows=2,
        heights=(2.0, 1.2),
    )
    for gap, label, style, gid in ((ten, "10-year gap", "-", "gap_10y"), (two, "2-year gap", "--", "gap_2y")):
        if gap is not None:
            g = clip_years(gap, start)
            ax.plot(g.index, g.values, color=BLACK, ls=style, lw=1.4, label=f"{label} {gap.iloc[-1]:.2f} pp", gid=gid)
    ax.set_ylabel("pp")
    flows = ctx.values("foreign_flows")
    if flows is not None:
        total = clip_years(flows.dropna().rolling(CUMULATIVE, min_periods=CUMULATIVE).sum().dropna(), start)
        right = ax.twinx()
        right.plot(total.index, total.values / TRILLION, color=BLUE, lw=1.1, gid="flows_20d")
        right.grid(False)  # the left axis' grid is the one to read; two grids would cross
        # Tick labels inside the axes: the house figure leaves no right margin for a second axis.
        right.tick_params(axis="y", colors=BLUE, labelsize=MIN_TEXT_PT, direction="in", pad=-6)
        for tick in right.get_yticklabels():
            tick.set_horizontalalignment("right")
        ax.plot([], [], color=BLUE, lw=1.1, label=f"foreign net purchases, {CUMULATIVE} sessions (right)")
    draw_legend(ax, loc="lower left")
    model = ctx.model("gap_model")
    if model is not None and model.rolling is not None:
        r = clip_years(model.rolling, start) * PER_10BP
        level = model.extra.get("level", 0.9)
        ax2.fill_between(r.index, r["beta_lo"], r["beta_hi"], color=SKY, alpha=0.4, lw=0, label=f"{level:.0%} band")
        ax2.plot(r.index, r["beta"], color=BLUE, lw=1.3, label="response", gid="flow_response")
        ax2.axhline(0, color=GREY, lw=0.8)
        ax2.set_ylabel("bn KRW per 10 bp", fontsize=MIN_TEXT_PT)
        draw_legend(ax2, loc="lower left")
    else:
        why = ctx.models["gap_flows"].error if "gap_flows" in ctx.models else "not estimated in this run"
        ax2.text(0.5, 0.5, f"flows' response: {why}", transform=ax2.transAxes, ha="center", wrap=True)
    date_axis(ax2)
    footer(fig, ", ".join(ctx.source_of_series(s) for s in ("us_10y", "jgb_10y", "foreign_net_kospi")), ctx.as_of)
    return fig
