"""The chart registry: each chart is a function `(ReportContext) -> Figure`, registered with a name and section.

A chart whose data are missing raises `ChartSkipped(reason)`; the report lists the reason instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from matplotlib.figure import Figure

from reports.context import ReportContext
from reports.style import house_style, settle

FORMATS = ("png", "svg", "pdf")
# The order of the report: from the data the morning meeting starts with to the models and the alert history.
SECTIONS = ("Rates & FX", "Markets", "Trade", "Spillovers", "Alerts")


class ChartSkipped(Exception):
    """The chart cannot be drawn from this context; the message says why (shown in the report)."""


@dataclass(frozen=True)
class Chart:
    name: str
    section: str
    question: str  # the one question the chart answers (the report's caption)
    draw: Callable[[ReportContext], Figure]


REGISTRY: dict[str, Chart] = {}


def chart(name: str, section: str, question: str) -> Callable[[Callable[[ReportContext], Figure]], Callable]:
    def register(func: Callable[[ReportContext], Figure]) -> Callable[[ReportContext], Figure]:
        REGISTRY[name] = Chart(name, section, question, func)
        return func

    return register


def render(name: str, ctx: ReportContext) -> Figure:
    _load_all()
    with house_style():
        return settle(REGISTRY[name].draw(ctx))


def names() -> list[str]:
    """Chart names in report order (by section, then registration order)."""
    _load_all()
    return sorted(REGISTRY, key=lambda n: SECTIONS.index(REGISTRY[n].section))


def _load_all() -> None:
    from reports.charts import alerts, markets, rates, spillovers, trade  # noqa: F401
