"""Render report.html: one self-contained file (images inline), every text from config or data escaped."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from monitor.alerts.engine import Alert, tally
from monitor.meetings import calendar_gap
from monitor.models.results import ModelResult
from reports.charts import REGISTRY
from reports.context import ReportContext, krw_per_usd, network_down, run_failures
from reports.narrative import paragraph
from reports.overnight import Move, rate_on
from series import numbers
from series.failures import keys_line


@dataclass(frozen=True)
class Latest:
    label: str
    value: str  # in display units, to the series' precision (series.numbers)
    units: str
    date: str
    source: str
    usd: str = ""  # a won amount in dollars at that day's rate


@cache
def environment() -> Environment:
    """The one Jinja2 environment of the report and the e-mails: every template is autoescaped but the plain-text
    e-mail body (`*.txt.j2`), and an undefined name is an error, not an empty string."""
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=lambda name: name is None or not name.endswith(".txt.j2"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["number"] = numbers.number
    env.globals["change"] = numbers.change
    env.globals["shown_units"] = lambda units: numbers.display(units).units
    return env


def overnight_rows(moves: Sequence[Move], short: Mapping[str, str]) -> list[dict[str, object]]:
    """The overnight table as the templates show it (the report and the e-mail alike)."""
    return [
        {
            "name": short.get(m.series_id, m.label),
            "value": numbers.number(m.value, m.units),
            "units": numbers.display(m.units).units,
            "usd": m.usd,
            "change": numbers.change(m.value - m.change, m.value, m.units) if m.change is not None else "",
            "z": "" if m.z is None else f"{m.z:+.1f}",
            "flagged": m.flagged,
            "date": m.date.isoformat(),
            "stale": m.stale,
        }
        for m in moves
    ]


def is_health(a: Alert) -> bool:
    return a.kind == "data_health"


def headline(ctx: ReportContext) -> tuple[str, str]:
    """(status, one-line summary) for the top of the report."""
    failed = list(ctx.run.get("failed", []))
    status = str(ctx.run.get("status") or ("errors" if failed else "ok"))
    parts = [tally(ctx.alerts)]  # what the e-mail subject counts, too
    if failed:
        parts.append(f"{len(failed)} problem{'s' if len(failed) != 1 else ''} in this run")
    if network_down(ctx.run):  # first: every other line of the report follows from it
        return status, "Network unreachable: no source answered, the report shows stored data. " + ", ".join(parts)
    return status, ", ".join(parts)


def render_report(ctx: ReportContext, pngs: Mapping[str, bytes], skipped: Mapping[str, str]) -> str:
    sections: dict[str, list[dict[str, str]]] = {}
    for name, png in pngs.items():
        chart = REGISTRY[name]
        sections.setdefault(chart.section, []).append(
            {"name": name, "question": chart.question, "png": base64.b64encode(png).decode("ascii")}
        )
    latest = []
    rate = krw_per_usd(ctx.series, ctx.roles)
    for sid, s in ctx.series.items():
        if s is None or s.dropna().empty:
            continue
        s = s.dropna()
        info = ctx.info.get(sid)
        units = info.units if info else ""
        latest.append(
            Latest(
                info.label if info else sid,
                numbers.number(float(s.iloc[-1]), units),
                numbers.display(units).units,
                f"{s.index[-1]:%Y-%m-%d}",
                f"{info.source} {info.key}" if info else "",
                numbers.usd(float(s.iloc[-1]), units, rate_on(rate, s.index[-1])),
            )
        )
    status, line = headline(ctx)
    short = {m.series_id: ctx.short(m.series_id) for m in ctx.overnight}
    return (
        environment()
        .get_template("report.html")
        .render(
            title=ctx.title,
            as_of=ctx.as_of.isoformat(),
            run=ctx.run,
            status=status,
            headline=line,
            alerts=[alert_view(a) for a in ctx.alerts if not is_health(a)],
            health=[alert_view(a) for a in ctx.alerts if is_health(a)],
            failures=run_failures(ctx.run),
            keys=keys_line(ctx.run.get("fetch", {})),
            changes=ctx.changes,
            narrative=paragraph(ctx.as_of, ctx.overnight, ctx.alerts, ctx.meetings, short),
            overnight=overnight_rows(ctx.overnight, short),
            freshness=ctx.freshness,
            sections=list(sections.items()),
            skipped=sorted(skipped.items()),
            models=list(ctx.models.values()),
            latest=latest,
            meetings=ctx.meetings,
            calendar_gap=calendar_gap(ctx.as_of),
            response=response_text,
        )
    )


def response_text(m: ModelResult) -> str:
    """The flows' response to the yield gap in words: per 10 bp of gap, in billion KRW (beta is in 100 million
    KRW per percentage point: x 0.1 pp x 0.1 billion = x 0.01)."""
    latest = m.extra.get("latest")
    if not latest:
        return ""
    beta, lo, hi = (latest[k] * 0.01 for k in ("beta", "beta_lo", "beta_hi"))
    level = m.extra.get("level", 0.9)
    verdict = "the band includes zero: no clear response" if lo <= 0 <= hi else "the band excludes zero"
    return (
        f"As of {latest['date']}: a US-Japan 10-year gap 10 bp wider went with foreign net purchases of KOSPI "
        f"{beta:+,.0f} billion KRW that session ({level:.0%} band {lo:+,.0f} to {hi:+,.0f}; {verdict}). "
        f"Rolling OLS over {m.window} sessions."
    )


def alert_view(a: Alert, cid: str | None = None) -> dict[str, object]:
    """One alert as the templates show it (the e-mail and the report's headline use the same card)."""
    return {
        "id": a.display_id,
        "state": a.state,
        "severity": a.severity,
        "headline": a.headline,
        "summary": a.summary,
        "value": a.annotations.get("value", ""),
        "threshold": a.annotations.get("threshold", ""),
        "since": a.since,
        "observed": a.obs_date,
        "reason": a.annotations.get("resolved_reason", ""),
        "mutes": a.annotations.get("mutes", ""),
        "description": a.annotations.get("description", ""),
        "provenance": a.annotations.get("provenance", ""),
        "labels": sorted((k, v) for k, v in a.labels.items() if k not in ("rule", "severity")),
        "cid": cid,
    }
