"""The chart registry: each chart is a function `(ReportContext) -> Figure`, registered with a name and section.

A chart whose data are missing raises `ChartSkipped(reason)`; the report lists the reason instead of failing.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from reports.charts.registry import REGISTRY, Chart, ChartSkipped, chart
from reports.context import ReportContext
from reports.style import house_style, settle

__all__ = ["FORMATS", "REGISTRY", "SECTIONS", "Chart", "ChartSkipped", "chart", "names", "render"]

FORMATS = ("png", "svg", "pdf")
# The order of the report: from the data the morning meeting starts with to the models and the alert history.
SECTIONS = ("Rates & FX", "Markets", "Trade", "Spillovers", "Alerts")


def render(name: str, ctx: ReportContext) -> Figure:
    _load_all()
    with house_style():
        return settle(REGISTRY[name].draw(ctx))


def names() -> list[str]:
    """Chart names in report order (by section, then registration order)."""
    _load_all()
    return sorted(REGISTRY, key=lambda n: SECTIONS.index(REGISTRY[n].section))


def _load_all() -> None:
    from reports.charts import alerts, flows, gap, markets, rates, spillovers, trade  # noqa: F401
