"""One way to read a date given by a caller: `as_date` takes a `datetime.date`, a `datetime` or pandas `Timestamp`
(both are dates) or an ISO string, and returns a `datetime.date`.

Every public reader that takes a date (the store's `as_of`, stored model results, the Python API) goes through it,
so a notebook may pass whichever it has. Pure Python: no pandas import, so it is cheap to use anywhere.
"""

from __future__ import annotations

from datetime import date, datetime

DateLike = date | str  # datetime and pandas.Timestamp are subclasses of date


def as_date(when: DateLike, what: str = "date") -> date:
    """`when` as a `datetime.date`; a ValueError or TypeError naming `what` and the accepted forms otherwise.

    >>> as_date("2026-03-27"), as_date(datetime(2026, 3, 27, 9, 30))
    (datetime.date(2026, 3, 27), datetime.date(2026, 3, 27))
    """
    if isinstance(when, datetime):  # before date: a datetime is a date, but comparing one with a date fails
        day = when.date()
        if type(day) is not date:  # pandas.NaT is a datetime whose date() is NaT
            raise ValueError(f"{what}: {when!r} is not a date")
        return day
    if isinstance(when, date):
        return when
    if isinstance(when, str):
        text = when.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(text).date()
        except ValueError:
            raise ValueError(f"{what}: {when!r} is not a date; use YYYY-MM-DD, e.g. 2026-03-27") from None
    raise TypeError(
        f"{what}: expected a date (str YYYY-MM-DD, datetime.date or pandas.Timestamp), got {type(when).__name__}"
    )
