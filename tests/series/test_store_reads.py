"""The store keeps the series it has read (a daily run reads each one in the models, the rules, the e-mail and
the report) and forgets them as soon as an observation changes, whoever changes it: a kept read never answers
for data that are no longer what the store holds."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import pandas as pd
import pytest

from series.store import SERIES_KEPT, Store

BASE = date(2020, 1, 1)


def rows(values: list[float], known: int = 0) -> pd.DataFrame:
    """One row a day from BASE, each first known `known` days after its date."""
    days = [pd.Timestamp(BASE + timedelta(days=i)) for i in range(len(values))]
    return pd.DataFrame({"date": days, "value": values, "realtime_start": [d + pd.Timedelta(days=known) for d in days]})


def read(store: Store, series: str = "x") -> pd.Series:
    return store.as_of(series, "2030-01-01")


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "m.sqlite", writer="test") as s:
        yield s


def test_a_series_read_again_is_the_same_and_a_changed_copy_stays_the_callers(store):
    store.append("x", rows([1.0, 2.0, 3.0]), source="csv")
    first = read(store)
    first.iloc[0] = 99.0  # the caller's own copy
    first.index.name = "renamed"
    again = read(store)
    assert again.tolist() == [1.0, 2.0, 3.0] and again.index.name == "date"
    assert again.index.unit == "ns" and again.name == "x"


def test_an_appended_revision_is_seen_by_the_next_read(store):
    store.append("x", rows([1.0, 2.0, 3.0]), source="csv")
    assert read(store).tolist() == [1.0, 2.0, 3.0]
    store.append("x", rows([1.0, 2.5, 3.0, 4.0], known=5), source="csv")
    assert read(store).tolist() == [1.0, 2.5, 3.0, 4.0]
    assert store.as_of("x", BASE + timedelta(days=3)).tolist() == [1.0, 2.0, 3.0]


def test_a_write_through_a_sibling_transaction_or_the_raw_connection_is_seen(store):
    """series.integrity deletes and re-dates rows in store.transaction(); other modules use the connection."""
    store.append("x", rows([1.0, 2.0, 3.0]), source="csv")
    assert len(read(store)) == 3
    with store.transaction() as c:
        c.execute("DELETE FROM observations WHERE series_id='x' AND date=?", ("2020-01-03",))
    assert read(store).tolist() == [1.0, 2.0]
    store.connection.execute("UPDATE observations SET value=7.0 WHERE series_id='x' AND date='2020-01-01'")
    assert read(store).tolist() == [7.0, 2.0]


def test_a_rolled_back_write_read_inside_its_transaction_is_not_kept(store):
    store.append("x", rows([1.0, 2.0]), source="csv")
    with pytest.raises(RuntimeError), store.transaction() as c:
        c.execute("UPDATE observations SET value=5.0 WHERE series_id='x'")
        assert read(store).tolist() == [5.0, 5.0]  # inside the transaction: its own write
        raise RuntimeError("give up")
    assert read(store).tolist() == [1.0, 2.0]


def test_a_commit_by_another_connection_is_seen(tmp_path):
    path = tmp_path / "m.sqlite"
    with Store.open(path, writer="test") as writer:
        writer.append("x", rows([1.0, 2.0]), source="csv")
    reader = Store.open(path)
    try:
        assert read(reader).tolist() == [1.0, 2.0]
        other = sqlite3.connect(path)  # another process's writer, as far as this connection can tell
        other.execute("UPDATE observations SET value=3.0 WHERE series_id='x'")
        other.commit()
        other.close()
        assert read(reader).tolist() == [3.0, 3.0]
    finally:
        reader.close()


def test_reads_of_many_dates_are_bounded(store):
    store.append("x", rows([float(i) for i in range(40)]), source="csv")
    for i in range(SERIES_KEPT + 20):
        assert len(store.as_of("x", BASE + timedelta(days=i))) == min(i + 1, 40)
    assert len(store._series) == SERIES_KEPT
