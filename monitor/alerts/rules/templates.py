"""The fields of an alert message and the user's annotation templates filled from them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from monitor.alerts.info import SeriesInfo, shown
from monitor.alerts.rules.base import Evaluation

if TYPE_CHECKING:
    import pandas as pd

    from monitor.alerts.data import RuleData


def template_context(ev: Evaluation, data: RuleData, row: pd.Series, when: pd.Timestamp) -> dict[str, Any]:
    """The fields a summary template may use, for one observation of an evaluation."""
    import numpy as np

    rule = ev.rule
    primary = ev.inputs[0] if ev.inputs else ""
    info = data.info_of(primary) if primary else SeriesInfo("")
    ctx: dict[str, Any] = {
        "value": float(row["value"]),
        "threshold": float(row["threshold"]),
        "date": when.strftime("%Y-%m-%d"),
        "rule": rule.name,
        "severity": rule.severity,
        "label": rule.display(data),
        "units": info.units,
        "series": primary,
        **rule.labels,
        **ev.instance,
    }
    for name in ev.frame.columns:
        if name not in ("value", "threshold", "condition"):
            v = row[name]
            ctx[name] = float(v) if isinstance(v, (int, float, np.floating, np.integer)) else v
    return ctx


class _NotAvailable:
    """A value that is not known (a stale leg, no data): 'n/a' whatever the template's format spec ('+nan' would
    read as a number)."""

    def __format__(self, spec: str) -> str:
        return "n/a"


def render(template: str, ctx: Mapping[str, Any]) -> str:
    """Fill a validated template; field names are plain identifiers (checked at config load), never attributes."""
    units = str(ctx.get("units", ""))
    known = {k: (_NotAvailable() if v != v else shown(v, units)) if isinstance(v, float) else v for k, v in ctx.items()}
    return template.format_map(known)


def summary(ev: Evaluation, ctx: Mapping[str, Any]) -> str:
    template = ev.rule.annotations.get("summary")
    return render(template, ctx) if template else ev.rule.default_summary(ctx)
