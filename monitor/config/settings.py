"""The single-table blocks: [paths], [run], [fetch], [compute]."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from monitor.config.base import Block
from monitor.config.errors import suggest
from series.spec import CALENDARS


class PathsBlock(Block):
    store: str = "data/monitor.sqlite"
    exports: str = "exports"


class RunBlock(Block):
    timezone: str = "Asia/Seoul"
    calendar: str = "XKRX"  # the session calendar of the daily run
    catch_up_days: int = Field(5, ge=0, le=31)
    heartbeat_url: str = ""
    # Processes drawing the charts, the run's own included; absent: one per core, at most 4. 1: all in the run.
    chart_workers: int | None = Field(None, ge=1, le=64)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{v!r} is not a time zone name such as Asia/Seoul") from None
        return v

    @field_validator("calendar")
    @classmethod
    def _calendar(cls, v: str) -> str:
        if v not in CALENDARS:
            raise ValueError(f"{v!r} is not one of {', '.join(CALENDARS)}{suggest(v, list(CALENDARS))}")
        return v


class FetchBlock(Block):
    timeout_seconds: float = Field(30.0, gt=0)
    retries: int = Field(4, ge=0, le=10)
    # The largest answer a fetch accepts, decompressed (a gzip bomb or a runaway endpoint ends as a schema error).
    max_response_mb: float = Field(50.0, gt=0, le=4096)
    # Per-source base URL overrides (a mirror, a proxy, a local test server): {fred = "http://127.0.0.1:8080"}.
    endpoints: dict[str, str] = {}


class ComputeBlock(Block):
    scheduler: Literal["serial", "processes", "dask"] = "serial"
    workers: int = Field(2, ge=1)
    address: str = ""
