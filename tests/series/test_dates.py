"""`series.dates.as_date`: the one reader of a caller's date (str, date, datetime, pandas Timestamp)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from series.dates import as_date

DAY = date(2026, 3, 27)


@pytest.mark.parametrize(
    "when",
    [
        "2026-03-27",
        " 2026-03-27 ",
        "20260327",
        "2026-03-27T09:30:00",
        DAY,
        datetime(2026, 3, 27, 23, 59),
        pd.Timestamp("2026-03-27"),
        pd.Timestamp("2026-03-27 07:30", tz="Asia/Seoul"),  # the date where the Timestamp is: Seoul's
    ],
)
def test_every_form_of_a_date_reads_as_that_day(when):
    day = as_date(when)
    assert day == DAY and type(day) is date


def test_a_utc_timestamp_is_read_on_its_own_calendar_day():
    assert as_date(datetime(2026, 3, 26, 22, 30, tzinfo=UTC)) == date(2026, 3, 26)


@pytest.mark.parametrize("text", ["2026-13-01", "27/03/2026", "yesterday", ""])
def test_a_string_that_is_no_date_is_one_line_naming_the_argument(text):
    with pytest.raises(ValueError, match=r"^as_of: .* is not a date; use YYYY-MM-DD, e.g. 2026-03-27$"):
        as_date(text, "as_of")


def test_nat_and_other_types_are_refused():
    with pytest.raises(ValueError, match="is not a date"):
        as_date(pd.NaT)
    with pytest.raises(TypeError, match=r"^as_of: expected a date .* got int$"):
        as_date(20260327, "as_of")  # type: ignore[arg-type]
