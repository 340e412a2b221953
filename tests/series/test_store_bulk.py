"""The store's bulk append (rows decided at once, several vintages of a date row by row) against a plain model of
the rule: a row is stored unless the vintage in effect at its realtime_start has the same value."""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, timedelta

import numpy as np
import pandas as pd

from series.store import Store

BASE = date(1965, 1, 1)  # before 1970 too: day numbers are negative there


def reference(
    batches: list[list[tuple[int, float, int]]],
) -> tuple[list[tuple[int, float, int]], list[tuple[int, int]]]:
    """Stored rows (day, value, realtime day) in insertion order and (added, revised) per batch, by the rule."""
    history: dict[int, tuple[list[int], list[float]]] = {}
    stored, counts = [], []
    for batch in batches:
        added = revised = 0
        for d, v, r in sorted(batch, key=lambda row: (row[0], row[2])):
            rts, vals = history.setdefault(d, ([], []))
            i = bisect_right(rts, r)
            if i > 0 and abs(vals[i - 1] - v) <= max(1e-12 * max(abs(v), abs(vals[i - 1])), 1e-12):
                continue
            added, revised = (added, revised + 1) if rts else (added + 1, revised)
            rts.insert(i, r)
            vals.insert(i, v)
            stored.append((d, v, r))
        counts.append((added, revised))
    return stored, counts


def to_frame(batch: list[tuple[int, float, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": [pd.Timestamp(BASE + timedelta(days=d)) for d, _, _ in batch],
            "value": [v for _, v, _ in batch],
            "realtime_start": [pd.Timestamp(BASE + timedelta(days=r)) for _, _, r in batch],
        }
    )


def test_bulk_append_matches_the_row_by_row_rule_with_revisions_and_several_vintages(tmp_path):
    rng = np.random.default_rng(7)
    batches = []
    for _ in range(6):
        # Mostly one vintage per date (the daily case), some dates with two or three vintages in one batch, values
        # repeated from a small set so that unchanged rows, revisions and reverts all occur.
        days = rng.choice(20000, size=300, replace=False)
        batch = []
        for d in days:
            for k in range(int(rng.choice([1, 1, 1, 2, 3]))):
                batch.append((int(d % 400), float(rng.choice([1.0, 2.0, 2.0 + 1e-14, 3.5])), int(d % 400 + 5 * k)))
        batch = list({(d, r): (d, v, r) for d, v, r in batch}.values())  # one row per (date, realtime_start)
        rng.shuffle(batch)
        batches.append(batch)
    expected_rows, expected_counts = reference(batches)
    with Store.open(tmp_path / "m.sqlite", writer="test") as store:
        counts = []
        for batch in batches:
            result = store.append("x", to_frame(batch), source="test")
            counts.append((result.added, result.revised))
            assert result.unchanged == len(batch) - result.added - result.revised
        got = store.connection.execute("SELECT date, value, realtime_start FROM observations ORDER BY id").fetchall()
    assert counts == expected_counts
    as_days = [((date.fromisoformat(d) - BASE).days, v, (date.fromisoformat(r) - BASE).days) for d, v, r in got]
    assert as_days == expected_rows  # same rows, same values, same insertion order (ties are read by id)
