"""The exchange calendars: the same sessions, in the same resolution, from a cold or a warm disk cache."""

from __future__ import annotations

import pandas as pd

from series import calendars


def test_a_warm_cache_gives_what_a_cold_one_gave(tmp_path, monkeypatch) -> None:
    # pandas 3 parses the cached date strings to microseconds, the library gives nanoseconds: a model frame built
    # on a cold cache then stored and read back (nanoseconds, as the store gives) differed from a warm one's.
    monkeypatch.setenv("MONITOR_CACHE_DIR", str(tmp_path))
    calendars.sessions.cache_clear()
    cold = calendars.sessions("XKRX")
    assert list(tmp_path.glob("calendars/XKRX-*.txt"))  # it was written to the cache
    calendars.sessions.cache_clear()
    warm = calendars.sessions("XKRX")
    calendars.sessions.cache_clear()
    assert cold.dtype == warm.dtype == "datetime64[ns]"
    pd.testing.assert_index_equal(cold, warm)
    assert cold.freq is None and warm.freq is None  # not the library's business-day freq on one path only
    assert cold[0] >= pd.Timestamp("1990-01-01") and pd.Timestamp("2026-03-27") in cold


def test_building_a_calendar_leaves_another_writers_file_alone(tmp_path, monkeypatch) -> None:
    # Two commands building the same calendar at once wrote through one shared `<name>.tmp`: the second truncated
    # the first's file mid-write and the first renamed a half-written calendar into place. Here another process's
    # file is mid-write under that old shared name: it must be untouched, and no temporary file of ours remains.
    monkeypatch.setenv("MONITOR_CACHE_DIR", str(tmp_path))
    calendars.sessions.cache_clear()
    calendars.sessions("XTKS")
    (cached,) = tmp_path.glob("calendars/XTKS-*.txt")
    cached.unlink()
    other = cached.with_suffix(".tmp")
    other.write_text("1990-01-04\n1990-01-05")  # the other writer's first lines
    calendars.sessions.cache_clear()
    index = calendars.sessions("XTKS")
    calendars.sessions.cache_clear()
    assert other.read_text() == "1990-01-04\n1990-01-05"
    assert cached.read_text().split() == list(index.strftime("%Y-%m-%d"))
    assert sorted(p.name for p in cached.parent.iterdir()) == sorted([cached.name, other.name])
