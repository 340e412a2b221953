"""The facts about a series that rules and messages need, and how messages show numbers: no pandas, so config
validation and the rule kinds' config models load without it (monitor.alerts.data adds the store side)."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from series import numbers

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class SeriesInfo:
    """The few facts about a series that rules and messages need (from its `[[series]]` block)."""

    id: str
    label: str = ""
    units: str = ""
    freq: str = "B"
    stale_days: int = 5
    source: str = ""
    prefer: tuple[str, ...] = ()  # a preferred-sources series ([[preferred]]): its source series, best first

    @property
    def name(self) -> str:
        return self.label or self.id


@dataclass(frozen=True)
class SeriesHealth:
    """Health of one series on the run date: given by the pipeline from its fetch outcomes and the store."""

    series_id: str
    last_date: date | None
    stale: bool = False
    status: str = "ok"  # ok | failed (the source is down) | skipped (no usable route)
    message: str = ""
    age_days: int | None = None
    stale_after_days: int | None = None
    source: str = ""
    # Day by day as each day knew it, the age of the last observation (series.freshness.known_ages): data-health
    # state then comes from the vintages, not from which days were evaluated first. None: not computed.
    ages: pd.Series | None = field(default=None, compare=False)

    @property
    def missing(self) -> bool:
        return self.last_date is None

    @property
    def down(self) -> bool:
        return self.status not in ("ok", "")

    @property
    def healthy(self) -> bool:
        return not (self.stale or self.missing or self.down)


def fingerprint(labels: Mapping[str, str]) -> str:
    """The identity of an alert: a hash of its sorted labels (order-free, stable across runs and machines)."""
    text = json.dumps(sorted(labels.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fmt_number(x: float | None) -> str:
    """A value for people: thousands separators, no decimals from 1,000, else up to two."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    text = f"{x:,.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class Shown(float):
    """A number of a rule's series: `{value:units}` in a template shows it as every table does (series.numbers:
    '-36.87 trillion KRW', '1,508.20 KRW per USD'); any other spec formats the float as Python does."""

    units = ""

    def __format__(self, spec: str) -> str:
        return numbers.with_units(float(self), self.units) if spec == "units" else float.__format__(self, spec)


def shown(value: float, units: str) -> Shown:
    number = Shown(value)
    number.units = units
    return number
