"""Spillovers: how connected are the markets, who transmits to whom, and how do Fed and BOJ shocks propagate?"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from reports.charts.registry import ChartSkipped, chart
from reports.context import ReportContext
from reports.style import (
    BLACK,
    BLUE,
    GREY,
    LINESTYLES,
    MIN_TEXT_PT,
    NEGATIVE,
    ORANGE,
    PALETTE,
    POSITIVE,
    SKY,
    WIDTH,
    date_axis,
    figure,
    footer,
)
from reports.style import legend as draw_legend

PERCENTILE = 0.90
PT_PER_PP = 0.6  # network arrow width: points per percentage point of net pairwise spillover


def _model(ctx: ReportContext, role: str = "daily_model"):  # type: ignore[no-untyped-def]
    model = ctx.model(role) or ctx.model("monthly_model" if role == "daily_model" else "daily_model")
    if model is None:
        raise ChartSkipped("no spillover model was estimated for this date")
    return model


def _labels(ctx: ReportContext, model) -> list[str]:  # type: ignore[no-untyped-def]
    series = model.series or model.variables
    return [ctx.short(s) for s in series]


def _round1(x: float) -> float:
    """x to one significant digit (a legend's reference widths)."""
    return float(f"{x:.1g}")


def _described(ctx: ReportContext, model) -> str:  # type: ignore[no-untyped-def]
    """'Daily market spillovers of KRW/USD and KOSPI': the variables the model was estimated on, not the configured
    list (its label), which names inputs a run may have left out (stale, missing)."""
    name = (model.label or model.name).split(":")[0]
    labels = _labels(ctx, model)
    used = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    return f"{name} of {used}"


def _method(model) -> str:  # type: ignore[no-untyped-def]
    window = f", {model.window}-observation windows" if model.window else ""
    return f"{model.method}({model.lags}), generalized FEVD, H = {model.horizon}{window}"


def expanding_percentile(s: pd.Series, q: float) -> pd.Series:
    """Point in time: the q-quantile of everything up to and including each date."""
    return s.expanding(min_periods=min(len(s), 20)).quantile(q)


@chart("spillover_tci", "Spillovers", "Is total connectedness unusually high right now?")
def spillover_tci(ctx: ReportContext) -> Figure:
    model = _model(ctx)
    if model.rolling is None or model.rolling.empty or "TCI" not in model.rolling:
        raise ChartSkipped(f"model {model.name} has no rolling or TVP results")
    r = model.rolling
    pct = expanding_percentile(r["TCI"], PERCENTILE)
    fig, (ax,) = figure(
        f"Total connectedness: TCI {r['TCI'].iloc[-1]:.1f}% on {r.index[-1]:%Y-%m-%d}",
        f"{_described(ctx, model)}: {_method(model)}; dotted: expanding {PERCENTILE:.0%} percentile of TCI",
    )
    ax.plot(r.index, r["TCI"], color=BLUE, lw=1.5, label="TCI", gid="tci")
    if "cTCI" in r:
        ax.plot(r.index, r["cTCI"], color=ORANGE, lw=1.2, ls="--", label="cTCI (corrected, x N/(N-1))", gid="ctci")
    ax.plot(
        pct.index,
        pct.values,
        color=BLACK,
        lw=1.0,
        ls=":",
        label=f"TCI {PERCENTILE:.0%} percentile (expanding)",
        gid="tci_percentile",
    )
    if {"TCI_lo", "TCI_hi"} <= set(r.columns):
        ax.fill_between(r.index, r["TCI_lo"], r["TCI_hi"], color=SKY, alpha=0.3, lw=0, label="TCI band", gid="tci_band")
    ax.set_ylabel("% of forecast-error variance")
    draw_legend(ax)
    date_axis(ax)
    footer(fig, "model estimates from the stored series", ctx.as_of)
    return fig


def frequency_bands(rolling: pd.DataFrame) -> list[str]:
    """The frequency band labels of a per-date frame ("1-5", "5-20", "20+"), from its "<band>:TCI" columns."""
    return [c.split(":")[0] for c in rolling.columns if c.count(":") == 1 and c.endswith(":TCI")]


@chart("spillover_frequency", "Spillovers", "Do shocks spread within days, or over weeks and months?")
def spillover_frequency(ctx: ReportContext) -> Figure:
    model = _model(ctx)
    r = model.rolling
    bands = frequency_bands(r) if r is not None else []
    if r is None or not bands:
        raise ChartSkipped(f"model {model.name} has no frequency bands (set frequency = [5, 20] in its config)")
    last = r.index[-1]
    shares = " + ".join(f"{r[f'{b}:TCI'].iloc[-1]:.1f} ({b})" for b in bands)
    fig, (top, bottom) = figure(
        f"Connectedness by frequency band: TCI {r['TCI'].iloc[-1]:.1f}% = {shares} on {last:%Y-%m-%d}",
        f"{model.label or model.name}: {_method(model)}; bands in periods of observations (Barunik-Krehlik).\n"
        "Top: each band's part of TCI (they add up to it). Bottom: connectedness within each band on its own.",
        rows=2,
    )
    colours = [PALETTE[k % len(PALETTE)] for k in range(len(bands))]
    parts = [r[f"{b}:TCI"].to_numpy(dtype=float) for b in bands]
    stack = top.stackplot(r.index, parts, colors=colours, alpha=0.75, labels=[f"{b} (absolute)" for b in bands])
    for band, area in zip(bands, stack, strict=True):
        area.set_gid(f"band_tci:{band}")
    top.plot(r.index, r["TCI"], color=BLACK, lw=1.0, label="TCI (all frequencies)", gid="tci")
    top.set_ylabel("% of forecast-error variance")
    draw_legend(top, ncols=len(bands) + 1)
    for k, band in enumerate(bands):
        col = f"{band}:within:TCI"
        if col in r:
            bottom.plot(
                r.index,
                r[col],
                color=colours[k],
                ls=LINESTYLES[k % len(LINESTYLES)],
                lw=1.3,
                label=band,
                gid=f"within_tci:{band}",
            )
    bottom.set_ylabel("within-band TCI, %")
    draw_legend(bottom, ncols=len(bands))
    date_axis(bottom)
    footer(fig, "model estimates from the stored series", ctx.as_of)
    return fig


@chart("spillover_net", "Spillovers", "Which markets are net transmitters of shocks, and which receive them?")
def spillover_net(ctx: ReportContext) -> Figure:
    model = _model(ctx)
    if model.rolling is None or model.rolling.empty:
        raise ChartSkipped(f"model {model.name} has no rolling or TVP results")
    r = model.rolling
    fig, (ax,) = figure(
        "Net spillovers by variable (TO minus FROM)",
        f"Above zero: net transmitter of shocks; below: net receiver. {_method(model)}",
    )
    banded = False
    for k, (var, label) in enumerate(zip(model.variables, _labels(ctx, model), strict=True)):
        col = f"NET_{var}"
        if col in r:
            colour = PALETTE[k % len(PALETTE)]
            ax.plot(
                r.index,
                r[col],
                color=colour,
                ls=LINESTYLES[k % len(LINESTYLES)],
                lw=1.3,
                label=label,
                gid=f"net:{var}",
            )
            if {f"{col}_lo", f"{col}_hi"} <= set(r.columns):
                banded = True
                ax.fill_between(
                    r.index, r[f"{col}_lo"], r[f"{col}_hi"], color=colour, alpha=0.12, lw=0, gid=f"net_band:{var}"
                )
    if banded:
        level = model.bootstrap.get("level")
        ax.set_title(
            f"shaded: {level:.0%} bootstrap bands" if isinstance(level, float) else "shaded: bootstrap bands",
            fontsize=MIN_TEXT_PT,
            fontweight="normal",
            loc="right",
            color=GREY,
        )
    ax.axhline(0, color=GREY, lw=0.8)
    ax.set_ylabel("percentage points")
    draw_legend(ax, ncols=3)
    date_axis(ax)
    footer(fig, "model estimates from the stored series", ctx.as_of)
    return fig


@chart("spillover_table", "Spillovers", "Who drives whom right now (the latest connectedness table)?")
def spillover_table(ctx: ReportContext) -> Figure:
    model = _model(ctx)
    t = model.current_table
    if t is None:
        raise ChartSkipped(f"model {model.name} has no connectedness table")
    labels = _labels(ctx, model)
    n = len(labels)
    fig, (ax,) = figure(
        f"Connectedness table: TCI {t.tci:.1f}%",
        "Row i, column j: % of i's forecast-error variance due to shocks in j (rows receive, columns transmit)",
        size=(WIDTH, 4.4),
    )
    ax.grid(False)
    matrix = np.asarray(t.matrix, dtype=float)
    shown = matrix.copy()
    np.fill_diagonal(shown, np.nan)  # own shares would swamp the colour scale
    # A fixed 0-100 scale: a 3% share must not look as hot as a 90% one because it is the table's largest.
    image = ax.imshow(shown, cmap="cividis", vmin=0, vmax=100, gid="heatmap")
    for i in range(n):
        for j in range(n):
            value = matrix[i, j]
            colour = "white" if (i != j and value < 60) else BLACK  # cividis is dark below about 60
            ax.text(
                j,
                i,
                f"{value:.1f}",
                ha="center",
                va="center",
                fontsize=MIN_TEXT_PT,
                color=colour,
                fontweight="bold" if i == j else "normal",
                gid=f"cell:{i}:{j}",
            )
    ax.set_xticks(range(n), labels, rotation=30, ha="right", fontsize=MIN_TEXT_PT)
    ax.set_yticks(range(n), labels, fontsize=MIN_TEXT_PT)
    ax.set_xlabel("transmitter (shock in)")
    ax.set_ylabel("receiver")
    fig.colorbar(image, ax=ax, shrink=0.8, label="% of forecast-error variance (off-diagonal, 0-100)")
    footer(fig, "model estimates from the stored series", ctx.as_of, _method(model))
    return fig


@chart("spillover_network", "Spillovers", "Which way do net pairwise spillovers run?")
def spillover_network(ctx: ReportContext) -> Figure:
    model = _model(ctx)
    t = model.current_table
    if t is None:
        raise ChartSkipped(f"model {model.name} has no connectedness table")
    npdc = np.asarray(t.npdc, dtype=float)  # npdc[i, j] > 0: i is a net transmitter to j
    net = np.asarray(t.net, dtype=float)
    labels = _labels(ctx, model)
    n = len(labels)
    fig, (ax,) = figure(
        "Net pairwise spillovers",
        "Arrow i -> j: i transmits more to j than it receives from j; width proportional to the net share. "
        "Blue nodes: net transmitters, red: net receivers",
        size=(WIDTH, 4.4),
    )
    ax.set_axis_off()
    angles = [math.pi / 2 - 2 * math.pi * k / n for k in range(n)]
    pos = [(math.cos(a), math.sin(a)) for a in angles]
    biggest = max(float(np.max(npdc)), 1e-9)
    # Width proportional to NPDC (points per percentage point), the same for every arrow: a 0.1 pp arrow is a
    # hairline next to a 5 pp one. At most 6 pt for the largest; the legend gives the scale.
    scale = min(PT_PER_PP, 6.0 / biggest)
    for i in range(n):
        for j in range(n):
            if i != j and npdc[i, j] > 0:
                width = scale * npdc[i, j]
                ax.add_patch(
                    FancyArrowPatch(
                        pos[i],
                        pos[j],
                        arrowstyle="-|>",
                        mutation_scale=8 + 2 * width,
                        lw=width,
                        color=GREY,
                        alpha=0.8,
                        shrinkA=22,
                        shrinkB=22,
                        connectionstyle="arc3,rad=0.08",
                        gid=f"edge:{i}:{j}",
                    )
                )
    for k, ((x, y), label) in enumerate(zip(pos, labels, strict=True)):
        colour = POSITIVE if net[k] >= 0 else NEGATIVE
        ax.scatter([x], [y], s=900, color=colour, zorder=3, edgecolors="white", gid=f"node:{k}")
        ax.annotate(
            f"{label}\nNET {net[k]:+.1f}",
            (x, y),
            xytext=(0, -30 if y < 0 else 26),
            textcoords="offset points",
            ha="center",
            va="center",
            fontsize=MIN_TEXT_PT,
        )
    ax.set_xlim(-1.6, 1.6)
    ax.set_ylim(-1.45, 1.45)
    ax.set_aspect("equal")
    keys = sorted({_round1(biggest), _round1(biggest / 4)})
    handles = [Line2D([], [], color=GREY, lw=scale * v, label=f"{v:g} pp") for v in keys if v > 0]
    ax.legend(
        handles=handles, title="net pairwise share", loc="upper left", fontsize=MIN_TEXT_PT, title_fontsize=MIN_TEXT_PT
    )
    footer(fig, "model estimates from the stored series", ctx.as_of, _method(model))
    return fig


GROUP_ROWS = 25  # markets shown in the group chart: those that stand out most


@chart("spillover_groups", "Spillovers", "Which market's connectedness or net transmission stands out today?")
def spillover_groups(ctx: ReportContext) -> Figure:
    from monitor.models.groups import group_summary

    summary = group_summary(m for m in ctx.models.values() if not m.error)
    if summary.empty:
        raise ChartSkipped("no model groups were estimated for this date (add [[model_groups]] to config.toml)")
    summary["column"] = np.where(summary["measure"] == "TCI", "TCI", "NET " + summary["variable"])
    summary["row"] = summary["group"] + " / " + summary["market"]
    columns = list(dict.fromkeys(["TCI", *summary["column"]]))
    strength = summary.groupby("row")["zscore"].apply(lambda z: float(np.nanmax(np.abs(z))) if z.notna().any() else 0)
    rows = strength.sort_values(ascending=False, kind="stable").index[:GROUP_ROWS].tolist()
    shown = summary[summary["row"].isin(rows)]
    z = shown.pivot(index="row", columns="column", values="zscore").reindex(index=rows, columns=columns)
    cut = "" if len(rows) == len(strength) else f"; the {len(rows)} of {len(strength)} markets that stand out most"
    fig, (ax,) = figure(
        "Which market stands out today?",
        "Colour: z-score of today's value against the market's own history (red: unusually high); text: the value "
        f"(TCI in %, NET in pp) and its percentile in that history{cut}",
        size=(WIDTH, min(1.2 + 0.36 * len(rows), 10.0)),
    )
    ax.grid(False)
    image = ax.imshow(
        np.clip(z.to_numpy(dtype=float), -3, 3), cmap="RdBu_r", vmin=-3, vmax=3, aspect="auto", gid="group_heatmap"
    )
    for row in shown.itertuples():
        i, j = rows.index(row.row), columns.index(row.column)
        pct = "" if np.isnan(row.percentile) else f"\n{row.percentile:.0f}th pct"
        ax.text(
            j,
            i,
            f"{row.value:.1f}{pct}",
            ha="center",
            va="center",
            fontsize=MIN_TEXT_PT,
            gid=f"cell:{row.model}:{row.column}",
        )
    ax.set_xticks(range(len(columns)), columns, fontsize=MIN_TEXT_PT)
    ax.set_yticks(range(len(rows)), rows, fontsize=MIN_TEXT_PT)
    fig.colorbar(image, ax=ax, shrink=0.8, label="z-score (clipped at ±3)")
    dates = sorted({d.strftime("%Y-%m-%d") for d in shown["date"]})
    footer(fig, "model estimates from the stored series", ctx.as_of, f"latest windows: {', '.join(dates)}")
    return fig


IRF_SHOCKS = ("fed_upper", "boj")
IRF_RESPONSES = ("krw_usd", "kospi")


@chart("irf_grid", "Spillovers", "How do KRW/USD and KOSPI respond to a Fed or BOJ shock?")
def irf_grid(ctx: ReportContext) -> Figure:
    model = ctx.model("monthly_model") or ctx.model("daily_model")
    if model is None or model.irf is None:
        raise ChartSkipped("no VAR with impulse responses was estimated for this date")
    index = {s: k for k, s in enumerate(model.series)}
    shocks = [r for r in IRF_SHOCKS if ctx.role(r) in index]
    responses = [r for r in IRF_RESPONSES if ctx.role(r) in index]
    if not shocks or not responses:
        raise ChartSkipped(f"model {model.name} does not contain the Fed/BOJ shocks and KRW/KOSPI responses")
    fig, flat = figure(
        "Impulse responses: Fed and BOJ shocks on the won and KOSPI",
        f"Orthogonalised one-s.d. shocks, {_described(ctx, model)}, {model.freq}-frequency "
        f"VAR({model.lags}); shaded: 95% band. Responses in the units of the transformed variable",
        rows=len(responses),
        cols=len(shocks),
        size=(WIDTH, 1.7 * len(responses)),
    )
    axes = [flat[r * len(shocks) : (r + 1) * len(shocks)] for r in range(len(responses))]
    steps = np.arange(model.irf.shape[0])
    for r, resp in enumerate(responses):
        for c, shock in enumerate(shocks):
            ax = axes[r][c]
            i, j = index[ctx.role(resp)], index[ctx.role(shock)]
            ax.plot(steps, model.irf[:, i, j], color=BLUE, lw=1.5, gid=f"irf:{resp}:{shock}")
            if model.irf_lower is not None and model.irf_upper is not None:
                ax.fill_between(
                    steps,
                    model.irf_lower[:, i, j],
                    model.irf_upper[:, i, j],
                    color=SKY,
                    alpha=0.35,
                    lw=0,
                    gid=f"band:{resp}:{shock}",
                )
            ax.axhline(0, color=GREY, lw=0.8)
            ax.set_title(f"{ctx.short(ctx.role(resp))} <- {ctx.short(ctx.role(shock))}", fontsize=9, loc="left")
            if r == len(responses) - 1:
                ax.set_xlabel("months after the shock" if model.freq == "M" else "sessions after the shock")
    footer(fig, "model estimates from the stored series", ctx.as_of)
    return fig
