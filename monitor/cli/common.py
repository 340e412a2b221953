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


def is_tty() -> bool:
    import sys

    return sys.stderr.isatty()
