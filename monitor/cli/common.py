"""Options and helpers shared by the command modules (kept light: no pandas at import time)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from monitor.errors import MonitorError

if TYPE_CHECKING:
    from monitor.config import Config

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Path of the config file.", show_default=True)]
DEFAULT_CONFIG = Path("config.toml")
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="Date (YYYY-MM-DD) to act as of; default: today in Asia/Seoul.")
]


def load(path: Path) -> Config:
    from monitor.config import load_config

    return load_config(path)


def today(tz: str = "Asia/Seoul") -> date:
    return datetime.now(ZoneInfo(tz)).date()


def parse_date(text: str | None, option: str = "--as-of", *, default: date | None = None) -> date:
    if text is None:
        return default or today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise MonitorError(f"{option}: {text!r} is not a date; use YYYY-MM-DD, e.g. 2026-03-27") from None


def known_date(config: Config, day: date, option: str = "--as-of") -> date:
    """`day`, if every session calendar the config uses knows it (the run's and the series'); otherwise a usage
    error naming the range, raised before anything is fetched or stored."""
    from series import calendars

    codes = sorted({config.run.calendar} | {s.calendar for s in config.series if s.calendar})
    first = {c: calendars.sessions(c)[0].date() for c in codes}
    last = {c: calendars.sessions(c)[-1].date() for c in codes}
    lo, hi = max(first, key=lambda c: first[c]), min(last, key=lambda c: last[c])
    if first[lo] <= day <= last[hi]:
        return day
    edge = (
        f"before {first[lo]}, the first {lo} session" if day < first[lo] else f"after {last[hi]}, the last {hi} session"
    )
    raise MonitorError(f"{option} {day} is {edge} the calendars know; use a date from {first[lo]} to {last[hi]}")


def is_tty() -> bool:
    import sys

    return sys.stderr.isatty()
