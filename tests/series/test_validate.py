"""Every check of `series.validate.check_batch`, one test each: a batch that only that check rejects, and the exact
problem it reports (check, severity, message). Removing or weakening any check fails its test; a clean batch and
what must not be reported (a vintage repeated, newest-first order, an exchange holiday) are pinned as well."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from series.spec import SeriesSpec, SourceRef
from series.validate import ERROR, WARN, check_batch

AS_OF = date(2026, 3, 27)  # a Friday
CLEAN = [1400.0, 1401.0, 1402.5, 1401.5, 1403.0]  # 2026-03-23 .. 2026-03-27, one a day


def spec(freq: str = "D", **kw: object) -> SeriesSpec:
    return SeriesSpec("krw", "KRW/USD", freq, "KRW", SourceRef("csv", "krw.csv"), **kw)  # type: ignore[arg-type]


def batch(values: list[float], dates: list[str] | pd.DatetimeIndex | None = None) -> pd.DataFrame:
    index = pd.date_range(end=AS_OF, periods=len(values), freq="D") if dates is None else pd.DatetimeIndex(dates)
    return pd.DataFrame({"date": index, "value": values})


def problems(s: SeriesSpec, frame: pd.DataFrame, **kw: object) -> list[tuple[str, str, str]]:
    found = check_batch(s, frame, AS_OF, **kw)  # type: ignore[arg-type]
    assert all(i.series_id == "krw" for i in found)
    return [(i.check, i.severity, i.message) for i in found]


def test_a_clean_batch_has_no_problem():
    assert problems(spec(valid_min=500, valid_max=3000, max_jump=0.1), batch(CLEAN), history=batch_history()) == []


def batch_history() -> pd.Series:
    """Stored values before the batch: ten days with the batch's median (1401.5), the last 1406."""
    return pd.Series(1397.0 + np.arange(10), index=pd.date_range(end="2026-03-22", periods=10, freq="D"))


def test_empty():
    assert problems(spec(), batch([np.nan, np.nan, np.nan])) == [
        ("empty", ERROR, "the source returned no observations (an empty answer is an error, not 'no news')")
    ]


def test_infinite():
    values = [*CLEAN[:2], np.inf, *CLEAN[3:]]
    assert problems(spec(), batch(values)) == [("infinite", ERROR, "1 infinite values, first inf on 2026-03-25")]


def test_duplicates():
    dates = ["2026-03-23", "2026-03-24", "2026-03-25", "2026-03-25", "2026-03-26", "2026-03-27"]
    assert problems(spec(), batch([*CLEAN, 1403.5], dates)) == [
        ("duplicates", ERROR, "1 duplicate dates, first 2026-03-25")
    ]


def test_a_date_repeated_once_per_vintage_is_no_duplicate():
    frame = batch([1400.0, 1401.0], ["2026-03-27", "2026-03-27"])
    frame["realtime_start"] = pd.to_datetime(["2026-03-27", "2026-03-30"])
    assert problems(spec(), frame) == []


def test_order():
    dates = ["2026-03-23", "2026-03-25", "2026-03-24", "2026-03-26", "2026-03-27"]
    assert problems(spec(), batch(CLEAN, dates)) == [("order", WARN, "dates are not in order (sorted before storing)")]


def test_newest_first_is_an_order_too():
    frame = batch(CLEAN).iloc[::-1]
    assert problems(spec(), frame) == []


def test_gap_in_the_sessions_of_the_series_calendar():
    sessions = pd.bdate_range("2026-03-16", "2026-03-27").drop(pd.Timestamp("2026-03-19"))  # a holiday: no gap
    dates = sessions.drop(pd.Timestamp("2026-03-20"))  # a session without a value: a gap
    frame = batch([1400.0 + i for i in range(len(dates))], dates)
    s = spec("B", calendar="XKRX")
    assert problems(s, frame, sessions=sessions) == [("gap", WARN, "1 sessions of XKRX missing, first 2026-03-20")]
    assert problems(s, batch(list(range(1400, 1400 + len(sessions))), sessions), sessions=sessions) == []


def test_gap_longer_than_the_frequency_allows():
    dates = [*pd.date_range("2026-03-10", "2026-03-14"), *pd.date_range("2026-03-20", "2026-03-27")]
    frame = batch([1400.0 + i for i in range(len(dates))], dates)
    assert problems(spec(), frame) == [("gap", WARN, "1 gaps longer than 4 days, largest 6 days ending 2026-03-20")]


def test_stale():
    frame = batch(CLEAN, pd.date_range(end="2026-03-20", periods=5, freq="D"))
    assert problems(spec(), frame) == [
        ("stale", WARN, "last observation 2026-03-20 is 7 days old (stale after 5 days)"),
    ]


def test_range_below():
    values = [*CLEAN[:2], 14.025, *CLEAN[3:]]
    assert problems(spec(valid_min=500), batch(values)) == [
        ("range", ERROR, "1 values below 500 KRW, first 14.025 on 2026-03-25 (check units or widen min/max in config)")
    ]


def test_range_above():
    values = [*CLEAN[:3], 14025.0, 14030.0]
    assert problems(spec(valid_max=3000), batch(values)) == [
        ("range", ERROR, "2 values above 3000 KRW, first 14025 on 2026-03-26 (check units or widen min/max in config)")
    ]


def test_jump():
    values = [*CLEAN[:4], 1600.0]
    assert problems(spec(max_jump=0.1), batch(values)) == [
        ("jump", WARN, "1 implausible jumps above 10%, first on 2026-03-27 (1401.5 -> 1600)")
    ]


def test_jump_from_the_stored_history_into_the_batch():
    history = batch_history()  # ends at 1406 on 2026-03-22
    values = [1600.0, 1601.0, 1602.0, 1601.0, 1603.0]
    assert problems(spec(max_jump=0.1), batch(values), history=history) == [
        ("jump", WARN, "1 implausible jumps above 10%, first on 2026-03-23 (1406 -> 1600)")
    ]


@pytest.mark.parametrize(("factor", "ratio"), [(0.01, "0.01"), (100.0, "100")])
def test_units(factor, ratio):
    values = [v * factor for v in CLEAN]
    assert problems(spec(), batch(values), history=batch_history()) == [
        (
            "units",
            ERROR,
            f"values are {ratio} times the stored history's size: the units probably changed "
            "(expected KRW; set scale in config)",
        )
    ]
