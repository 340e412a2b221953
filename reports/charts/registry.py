"""Where each chart module registers its charts (`@chart(...)`). A leaf module: the chart modules import from here
and `reports.charts` imports them, so the package and its charts never import each other in a circle."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from matplotlib.figure import Figure

from reports.context import ReportContext


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
