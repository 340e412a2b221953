"""Render report.html: one self-contained file (images inline), every text from config or data escaped."""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape

from reports.charts import REGISTRY
from reports.context import ReportContext


@dataclass(frozen=True)
class Latest:
    label: str
    value: float
    units: str
    date: str
    source: str


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["fmt"] = fmt
    env.globals["delta"] = delta
    return env


def fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if abs(value) >= 1000:
        return f"{value:,.0f}" if abs(value) >= 100_000 else f"{value:,.2f}"
    return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.3g}"


def delta(previous: float | None, current: float | None) -> str:
    if previous is None or current is None:
        return "new" if current is not None else ""
    diff = current - previous
    if diff == 0:
        return "unchanged"
    pct = f" ({diff / previous:+.1%})" if previous else ""
    return f"{diff:+,.2f}{pct}"


def headline(ctx: ReportContext) -> tuple[str, str]:
    """(status, one-line summary) for the top of the report."""
    risk = [a for a in ctx.alerts if not a.data_health]
    firing = sum(a.state == "firing" for a in risk)
    resolved = sum(a.state == "resolved" for a in risk)
    health = sum(a.state == "firing" for a in ctx.alerts if a.data_health)
    failed = list(ctx.run.get("failed", []))
    status = str(ctx.run.get("status") or ("errors" if failed else "ok"))
    parts = [f"{firing} firing", f"{resolved} resolved"]
    if health:
        parts.append(f"{health} input{'s' if health != 1 else ''} stale or down")
    if failed:
        parts.append(f"{len(failed)} problem{'s' if len(failed) != 1 else ''} in this run")
    return status, ", ".join(parts)


def render_report(ctx: ReportContext, pngs: Mapping[str, bytes], skipped: Mapping[str, str]) -> str:
    sections: dict[str, list[dict[str, str]]] = {}
    for name, png in pngs.items():
        chart = REGISTRY[name]
        sections.setdefault(chart.section, []).append(
            {"name": name, "question": chart.question, "png": base64.b64encode(png).decode("ascii")}
        )
    latest = []
    for sid, s in ctx.series.items():
        if s is None or s.dropna().empty:
            continue
        s = s.dropna()
        info = ctx.info.get(sid)
        latest.append(
            Latest(
                info.label if info else sid,
                float(s.iloc[-1]),
                info.units if info else "",
                f"{s.index[-1]:%Y-%m-%d}",
                f"{info.source} {info.key}" if info else "",
            )
        )
    status, line = headline(ctx)
    return (
        environment()
        .get_template("report.html")
        .render(
            title=ctx.title,
            as_of=ctx.as_of.isoformat(),
            run=ctx.run,
            status=status,
            headline=line,
            alerts=[a for a in ctx.alerts if not a.data_health],
            health=[a for a in ctx.alerts if a.data_health],
            failures=list(ctx.run.get("failed", [])),
            changes=ctx.changes,
            freshness=ctx.freshness,
            sections=list(sections.items()),
            skipped=sorted(skipped.items()),
            models=list(ctx.models.values()),
            latest=latest,
        )
    )
