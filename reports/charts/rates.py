"""Policy rates and the KRW: where are the Fed, BOJ and BOK, and is the won past its alert thresholds?"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from monitor.meetings import decisions
from reports.charts.common import changes, clip_years, shade_firing
from reports.charts.registry import ChartSkipped, chart
from reports.context import ReportContext
from reports.style import BLACK, BLUE, GREEN, GREY, ORANGE, SEVERITY_COLOURS, SKY, VERMILION, date_axis, figure, footer
from reports.style import legend as draw_legend

YEARS = 10
# Smallest move drawn as a decision: policy steps are 0.1 pp or more; a monthly-average rate drifts by less.
DECISION_STEP = 0.05


@chart("policy_rates", "Rates & FX", "Where do the Fed, BOJ and BOK stand, and how wide is the BOK-Fed gap?")
def policy_rates(ctx: ReportContext) -> Figure:
    upper, lower, eff = ctx.values("fed_upper"), ctx.values("fed_lower"), ctx.values("fed_effective")
    boj, bok = ctx.values("boj"), ctx.values("bok")
    if upper is None and bok is None and boj is None:
        raise ChartSkipped("no policy-rate series in the store")
    start = pd.Timestamp(ctx.as_of) - pd.DateOffset(years=YEARS)
    fig, (ax, ax2) = figure(
        "Policy rates: Fed, BOJ and BOK",
        "Fed target range (band) and effective rate; BOJ and BOK policy rates; dots: hikes and cuts (the calendar's)",
        rows=2,
        heights=(2.3, 1.0),
    )
    if upper is not None and lower is not None:
        band = pd.concat([lower, upper], axis=1, keys=["lo", "hi"]).dropna()
        band = clip_years(band, start)
        ax.fill_between(
            band.index,
            band["lo"],
            band["hi"],
            step="post",
            color=SKY,
            alpha=0.35,
            lw=0,
            label="Fed target range",
            gid="fed_range",
        )
    for s, label, colour, style, gid in (
        (eff, "Fed effective", BLUE, "-", "fed_effective"),
        (boj, ctx.short(ctx.role("boj")), VERMILION, "--", "boj"),  # short: a legend the panel's width holds
        (bok, ctx.short(ctx.role("bok")), GREEN, "-", "bok"),
    ):
        if s is None:
            continue
        s = clip_years(s, start)
        ax.plot(s.index, s.values, drawstyle="steps-post", color=colour, ls=style, lw=1.6, label=label, gid=gid)
    banks = (("Fed", upper, BLUE, "fed"), ("BOJ", boj, VERMILION, "boj"), ("BOK", bok, GREEN, "bok"))
    for bank, rate, colour, gid in banks:
        if rate is not None:
            decision_markers(ax, bank, clip_years(rate, start), colour, gid, ctx.as_of)
    ax.scatter([], [], s=16, facecolors="none", edgecolors=GREY, label="unverified decision")
    ax.set_ylabel("% per year")
    draw_legend(ax)
    if bok is not None and upper is not None:
        days = bok.index.union(upper.index)
        gap = (bok.reindex(days).ffill() - upper.reindex(days).ffill()).dropna()
        # Only while both are known: carrying a stale rate forward would draw a gap nobody has seen.
        gap = clip_years(gap[gap.index <= min(bok.index[-1], upper.index[-1])], start)
        ax2.plot(
            gap.index,
            gap.values,
            drawstyle="steps-post",
            color=BLACK,
            lw=1.4,
            label="BOK minus Fed upper",
            gid="bok_fed_gap",
        )
        ax2.axhline(0, color=GREY, lw=0.8)
        for rule in ctx.rules_on("bok"):
            if (
                rule.kind == "spread"
                and rule.threshold is not None
                and set(rule.series) >= {ctx.role("bok"), ctx.role("fed_upper")}
            ):
                ax2.axhline(
                    rule.threshold,
                    color=SEVERITY_COLOURS.get(rule.severity, ORANGE),
                    ls="--",
                    lw=1,
                    label=f"alert: {rule.threshold:+.2f} pp",
                    gid=f"threshold:{rule.name}",
                )
        ax2.set_ylabel("pp")
        draw_legend(ax2)
    else:
        ax2.text(0.5, 0.5, "BOK-Fed differential needs both rates", transform=ax2.transAxes, ha="center")
    date_axis(ax2)
    footer(fig, ctx.source_of("fed_upper", "fed_effective", "boj", "bok"), ctx.as_of)
    return fig


def decision_markers(ax: Axes, bank: str, s: pd.Series, colour: str, gid: str, as_of: date) -> None:
    """Hikes and cuts at the rate after them: from the central-bank calendar (monitor.meetings) where it covers
    the dates, hollow when no data confirms the decision; before the calendar's first meeting, the series' own
    moves."""
    held = decisions(bank, as_of + timedelta(days=1))
    first = pd.Timestamp(held[0].date) if held else pd.Timestamp.max
    moves = changes(s, DECISION_STEP)
    moves = moves[moves.index < first]
    ax.scatter(moves.index, moves.values, s=14, color=colour, zorder=3, gid=f"{gid}_decisions")
    steps = [m for m in held if m.decision != "hold" and pd.Timestamp(m.date) >= s.index[0]]
    for verified in (True, False):
        shown = [(pd.Timestamp(m.date), m.rate) for m in steps if m.verified == verified and m.rate is not None]
        ax.scatter(
            [d for d, _ in shown],
            [r for _, r in shown],
            s=16,
            zorder=3,
            facecolors=colour if verified else "none",
            edgecolors=colour,
            gid=f"{gid}_calendar{'' if verified else '_unverified'}",
        )


@chart("krw_usd", "Rates & FX", "How weak is the won, and when was it past the alert thresholds?")
def krw_usd(ctx: ReportContext) -> Figure:
    sid = ctx.freshest("krw_usd")  # the freshest source when a [[preferred]] series has KRW/USD among its sources
    s = ctx.series.get(sid)
    if s is None or s.empty:
        raise ChartSkipped("no KRW/USD series in the store")
    start = pd.Timestamp(ctx.as_of) - pd.DateOffset(years=3)
    last = s.index[-1]
    s = clip_years(s, start)
    if s.empty:
        raise ChartSkipped(f"no KRW/USD value in the last 3 years (the last is of {last:%Y-%m-%d})")
    # Each value keeps its source: one line per source, named, so a change of source is never hidden.
    picked = ctx.sources.get(sid)
    by_source = picked.reindex(s.index) if picked is not None else pd.Series(sid, index=s.index)
    last_source = str(by_source.iloc[-1])
    fig, (ax,) = figure(
        f"KRW per USD: {s.iloc[-1]:,.1f} on {s.index[-1]:%Y-%m-%d} ({ctx.source_of_series(last_source)})",
        f"{ctx.info[sid].label if sid in ctx.info else sid}; higher = weaker won; dashed lines: alert thresholds, "
        "shading: alert firing",
    )
    colours = [BLUE, GREY, SKY]
    for i, source in enumerate(dict.fromkeys(by_source)):
        part = s.where(by_source == source)
        label = ctx.info[source].label if source in ctx.info else source
        gid = "krw_usd" if picked is None else f"krw_usd:{source}"
        ax.plot(part.index, part.values, color=colours[i % len(colours)], lw=1.4, label=label, gid=gid)
    # Level rules only: their thresholds are in KRW per USD (a 2% change or a z-score would not be).
    for rule in [r for r in ctx.rules if r.kind == "level" and r.series == (sid,)]:
        colour = SEVERITY_COLOURS.get(rule.severity, ORANGE)
        if rule.threshold is not None:
            ax.axhline(
                rule.threshold,
                color=colour,
                ls="--",
                lw=1.1,
                label=f"{rule.severity} {rule.op or ''} {rule.threshold:,.0f}",
                gid=f"threshold:{rule.name}",
            )
        shade_firing(ax, rule, start, colour)
    ax.set_ylabel(ctx.units("krw_usd"))
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    draw_legend(ax)
    date_axis(ax)
    footer(fig, ", ".join(ctx.source_of_series(x) for x in dict.fromkeys(by_source)), ctx.as_of)
    return fig
