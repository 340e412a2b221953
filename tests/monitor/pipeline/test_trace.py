"""The charts' firing periods of a rule (pipeline.trace) are the episodes the alert engine finds: from each
episode's start up to its end, to the last observation while one is still firing."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.alerts import engine
from monitor.alerts.data import RuleData, SeriesInfo
from monitor.alerts.rules import LevelRule
from monitor.pipeline import firing_mask, trace


def _evaluation(values: list[float], for_: int, keep: int) -> engine.Evaluation:
    rule = LevelRule.model_validate(
        {
            "name": "krw",
            "kind": "level",
            "series": "krw_usd",
            "op": ">=",
            "threshold": 1450.0,
            "for": for_,
            "keep_firing_for": keep,
        }
    )
    krw = pd.Series(values, index=pd.bdate_range("2026-01-05", periods=len(values)), dtype="float64")
    data = RuleData(date(2026, 12, 31), {"krw_usd": krw}, {"krw_usd": SeriesInfo("krw_usd", "krw_usd")})
    [ev] = engine.evaluate([rule], data)
    return ev


@settings(max_examples=80, deadline=None)
@given(
    values=st.lists(st.sampled_from([1400.0, 1460.0, float("nan")]), min_size=1, max_size=60),
    for_=st.integers(0, 3),
    keep=st.integers(0, 3),
)
def test_the_firing_periods_are_the_engines_episodes(values: list[float], for_: int, keep: int) -> None:
    ev = _evaluation(values, for_, keep)
    days = ev.frame.index
    expected = np.zeros(len(days), dtype=bool)
    for ep in engine.episodes(ev):
        expected |= (days >= pd.Timestamp(ep.start)) & (days < pd.Timestamp(ep.end) if ep.end is not None else True)
    np.testing.assert_array_equal(firing_mask(ev), expected)
    shown = trace(ev).firing
    assert shown.index.equals(days) and shown.dtype == bool
    np.testing.assert_array_equal(shown.to_numpy(), expected)
