"""Calendar arithmetic: the period an observation covers (`period_end`) and exchange session calendars (KRX, NYSE,
Tokyo) from exchange_calendars, cached on disk.

Building the KRX calendar takes several seconds (lunisolar holidays), so the sessions are computed once per
exchange_calendars version and year and kept as a small text file in the cache folder
(`MONITOR_CACHE_DIR`, default `~/.cache/kr-macro-monitor`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
import warnings
from datetime import date
from importlib import metadata
from pathlib import Path

import pandas as pd

from series.spec import CALENDARS as CALENDARS

_EARLIEST = pd.Timestamp("1990-01-01")


# Observations of these frequencies are dated at the start of their period (monthly data on the 1st).
_PERIOD_END = {"W": "W", "M": "ME", "Q": "QE"}
_PERIODS = {"W": "W-SUN", "M": "M", "Q": "Q-DEC"}


def period_end(day: pd.Timestamp, freq: str) -> pd.Timestamp:
    """Last calendar day of the period an observation dated `day` covers (monthly data are dated the 1st)."""
    if freq not in _PERIOD_END:
        return day
    offset = pd.tseries.frequencies.to_offset(_PERIOD_END[freq])
    return day if offset.is_on_offset(day) else day + offset


def period_ends(days: pd.DatetimeIndex, freq: str) -> pd.DatetimeIndex:
    """`period_end` of every date (vectorised)."""
    if freq not in _PERIOD_END:
        return pd.DatetimeIndex(days)
    return pd.DatetimeIndex(days).to_period(_PERIODS[freq]).to_timestamp(how="end").normalize()


def cache_dir() -> Path:
    return Path(os.environ.get("MONITOR_CACHE_DIR") or Path.home() / ".cache" / "kr-macro-monitor")


@functools.cache
def sessions(code: str) -> pd.DatetimeIndex:
    """Every session of `code` from 1990 (or the calendar's first evaluable date) to the end of next year."""
    end = pd.Timestamp(date.today().year + 1, 12, 31)
    # importlib.metadata, not `import exchange_calendars`: a cache hit should not pay the library's import.
    path = cache_dir() / "calendars" / f"{code}-{metadata.version('exchange_calendars')}-{end.year}.txt"
    # In nanoseconds either way, as the store's series are: pandas 3 parses the cached strings to microseconds while
    # the library gives nanoseconds, and a frame must not depend on whether the cache was warm.
    if path.is_file():
        return pd.DatetimeIndex(pd.to_datetime(path.read_text().split()), name="date").as_unit("ns")
    import exchange_calendars as xc

    start = max(_EARLIEST, _bound_min(code))
    with warnings.catch_warnings():  # the library's own pandas deprecation notices are not the user's concern
        warnings.simplefilter("ignore")
        cal = xc.get_calendar(code, start=start, end=end)
    index = pd.DatetimeIndex(cal.sessions.tz_localize(None) if cal.sessions.tz else cal.sessions, name="date")
    index = pd.DatetimeIndex(index.as_unit("ns").to_numpy(), name="date")  # and without the library's freq
    # A temporary file of this process's own, renamed into place: two commands building the same calendar at once
    # (a run and a report) must not write through one shared name and leave the other's file half-written.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError:
        return index  # a read-only home still works, only slower
    try:
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(index.strftime("%Y-%m-%d")))
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return index


def _bound_min(code: str) -> pd.Timestamp:
    import exchange_calendars as xc

    # The earliest date a calendar can be evaluated from (XTKS: 1997); asking earlier raises.
    bound = xc.calendar_utils._default_calendar_factories[code].bound_min()
    return pd.Timestamp(bound).tz_localize(None) if bound is not None else _EARLIEST


def is_session(code: str, day: pd.Timestamp | date) -> bool:
    return pd.Timestamp(day) in sessions(code)


def next_session(code: str, day: pd.Timestamp | date) -> pd.Timestamp:
    """The first session strictly after `day`."""
    s = sessions(code)
    i = s.searchsorted(pd.Timestamp(day), side="right")
    return s[i] if i < len(s) else pd.Timestamp(day) + pd.offsets.BDay(1)


def sessions_between(code: str, start: pd.Timestamp | date, end: pd.Timestamp | date) -> pd.DatetimeIndex:
    s = sessions(code)
    return s[(s >= pd.Timestamp(start)) & (s <= pd.Timestamp(end))]
