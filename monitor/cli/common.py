"""Options and helpers shared by the command modules (kept light: no pandas at import time)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
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
    from monitor.config import ConfigError, load_config

    if not path.exists():  # an installed monitor has no config.toml in the folder it is run from
        raise ConfigError(
            path,
            [
                f"file not found in {path.resolve().parent}: write a commented one with `monitor init [DIR]`, "
                "or pass --config PATH"
            ],
        )
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


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGINT during a writing command. A KeyboardInterrupt, so that no `except Exception` on the way
    (a failing series or model is contained, a stop is not) swallows it; each store transaction rolls back, the
    run is recorded as interrupted and the lock is released on the way out."""

    def __init__(self, signum: int) -> None:
        self.signal = signal.Signals(signum).name
        self.exit_code = 128 + signum  # the shell's convention: 130 for SIGINT, 143 for SIGTERM
        super().__init__(self.signal)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM (systemd stopping the job, `kill`) and SIGINT (Ctrl-C) raise Interrupted in the command; Python's
    default for SIGTERM ends the process on the spot, leaving the run "running" and nothing said. A second signal
    during the clean-up is ignored, so the clean-up (a rollback and one small write) finishes."""
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return

    def stop(signum: int, frame: object) -> None:
        for s in (signal.SIGTERM, signal.SIGINT):
            signal.signal(s, signal.SIG_IGN)
        raise Interrupted(signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
