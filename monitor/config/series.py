"""The data blocks: [[series]] (with its fallback routes) and [[preferred]]."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field, model_validator

from monitor.config.base import SLUG, Block, Freq


class SourceRefBlock(Block):
    """Another route to the SAME numbers (e.g. FRED API -> fredgraph CSV); never a different measure."""

    source: str
    key: str = Field(min_length=1)
    params: dict[str, Any] = {}
    scale: float = 1.0


class SeriesBlock(Block):
    id: str = Field(pattern=SLUG)
    label: str = Field(min_length=1)
    source: str
    key: str = Field(min_length=1)
    freq: Freq
    units: str = Field(min_length=1)
    params: dict[str, Any] = {}
    fallback: list[SourceRefBlock] = []
    start: date | None = None
    calendar: Literal["XKRX", "XNYS", "XTKS"] | None = None
    release_lag_days: int = Field(0, ge=0, le=400)
    stale_after_days: int | None = Field(None, gt=0)
    min: float | None = None
    max: float | None = None
    max_jump: float | None = Field(None, gt=0)
    scale: float = 1.0

    @model_validator(mode="after")
    def _range(self) -> SeriesBlock:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        return self


class PreferredBlock(Block):
    """One quantity from several [[series]], the best-ranked source with data on each date (series/preferred.py):
    e.g. KRW per USD from the Seoul close, else Yahoo KRW=X, else FRED's NY noon rate. Rules and charts name it
    like a series; every value keeps the id of the series it came from."""

    id: str = Field(pattern=SLUG)
    label: str = Field(min_length=1)
    sources: list[str] = Field(min_length=2)  # [[series]] ids, best first
