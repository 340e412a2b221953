"""What a series is: the data layer's view of one `[[series]]` block of config.toml."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

FREQUENCIES = ("D", "B", "W", "M", "Q")
CALENDARS = ("XKRX", "XNYS", "XTKS")  # the exchange calendars series.calendars builds (a name needs no pandas)

# How old the last observation may be (calendar days after its period ends) before the series counts as stale.
# D/B: a long weekend plus a holiday; W: one missed week; M/Q: one missed release plus the usual publication lag.
DEFAULT_STALE_DAYS = {"D": 5, "B": 5, "W": 12, "M": 45, "Q": 120}


@dataclass(frozen=True)
class SourceRef:
    """One way to get a series: a registered source, its key there and source-specific parameters."""

    source: str
    key: str
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    scale: float = 1.0  # multiply this source's values to get the series' units (e.g. KRW -> 100 million KRW)


@dataclass(frozen=True)
class SeriesSpec:
    id: str
    label: str
    freq: str
    units: str
    primary: SourceRef
    fallbacks: tuple[SourceRef, ...] = ()
    start: date | None = None
    calendar: str | None = None  # exchange_calendars code (XKRX, XNYS, XTKS) for B-frequency series
    release_lag_days: int = 0  # days after the period ends until a value is first known (no vintage info)
    stale_after_days: int | None = None
    valid_min: float | None = None
    valid_max: float | None = None
    max_jump: float | None = None  # largest plausible relative change between consecutive observations

    @property
    def source(self) -> str:
        return self.primary.source

    @property
    def key(self) -> str:
        return self.primary.key

    @property
    def stale_days(self) -> int:
        return self.stale_after_days if self.stale_after_days is not None else DEFAULT_STALE_DAYS[self.freq]

    def refs(self) -> tuple[SourceRef, ...]:
        return (self.primary, *self.fallbacks)
