"""Model panels: KRX sessions, US-timed series one Seoul session later, limited filling, monthly aggregation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from monitor.align import Panel, daily_panel, model_panel, monthly_panel
from monitor.errors import InputDataError
from monitor.spec import ModelSpec, VariableSpec


def bdays(start: str, end: str, base: float) -> pd.Series:
    idx = pd.bdate_range(start, end)
    return pd.Series(base + np.arange(len(idx), dtype=float), index=idx)


def test_us_close_is_known_on_the_next_seoul_session() -> None:
    # Mon 2024-05-06 is a Korean holiday (substitute for Children's Day) but a New York session: that close is
    # known in Seoul on Tue 2024-05-07, and it supersedes Friday's close, also first usable then.
    us = bdays("2024-04-22", "2024-05-10", 100.0)
    kr = bdays("2024-04-22", "2024-05-10", 500.0)
    panel = daily_panel(
        {"ust": us, "kospi": kr},
        [VariableSpec("ust", timing="us"), VariableSpec("kospi", timing="kr")],
        "2024-05-10",
    )
    frame = panel.frame
    assert pd.Timestamp("2024-05-06") not in frame.index  # not a KRX session
    assert frame.loc["2024-05-07", "ust"] == us["2024-05-06"]
    assert frame.loc["2024-05-03", "ust"] == us["2024-05-02"]  # Thursday's close, known Friday in Seoul
    assert frame.loc["2024-05-08", "ust"] == us["2024-05-07"]
    assert frame.loc["2024-05-07", "kospi"] == kr["2024-05-07"]  # Seoul-timed: same day
    # The US close of the as-of date itself is not known yet in Seoul.
    assert frame.loc["2024-05-10", "ust"] == us["2024-05-09"]
    assert panel.as_of == pd.Timestamp("2024-05-10") and panel.freq == "D"


def test_values_on_seoul_holidays_move_to_the_next_session() -> None:
    s = pd.Series([1.0, 2.0, 3.0], index=pd.to_datetime(["2024-05-03", "2024-05-06", "2024-05-07"]))
    other = pd.Series([5.0, 6.0, 8.0], index=pd.to_datetime(["2024-05-03", "2024-05-07", "2024-05-08"]))
    panel = daily_panel({"a": s, "b": other}, [VariableSpec("a"), VariableSpec("b")], "2024-05-08", ffill_limit=0)
    # The holiday value (2024-05-06) and the 05-07 value both land on 05-07: the later one wins.
    assert panel.frame.loc["2024-05-07", "a"] == 3.0


def test_fill_forward_is_limited_and_reported() -> None:
    a = bdays("2024-01-02", "2024-03-29", 10.0)
    b = a.drop(a["2024-02-05":"2024-02-16"].index)  # a ten-session gap
    b = b.drop(pd.Timestamp("2024-03-05"))  # a one-session gap
    panel = daily_panel({"a": a, "b": b}, [VariableSpec("a"), VariableSpec("b")], "2024-03-29", ffill_limit=3)
    frame = panel.frame
    assert frame.loc["2024-03-05", "b"] == b["2024-03-04"]  # filled
    assert frame.loc["2024-02-07", "b"] == b["2024-02-02"]  # third filled session of the gap
    assert pd.Timestamp("2024-02-13") not in frame.index  # beyond the limit: the row is dropped
    assert any("dropped" in n and "row(s) with a missing value" in n for n in panel.notes)
    assert any(n.startswith("b:") and "filled forward" in n for n in panel.notes)


def test_transforms_apply_after_alignment_and_stale_inputs_are_noted() -> None:
    a = bdays("2024-01-02", "2024-03-29", 100.0)
    b = bdays("2024-01-02", "2024-03-15", 50.0)
    panel = daily_panel(
        {"a": a, "b": b}, [VariableSpec("a", transform="diff"), VariableSpec("b", name="B")], "2024-03-29"
    )
    assert list(panel.frame.columns) == ["a", "B"]
    # Differences between KRX sessions: across Seollal (Feb 9 and the substitute Feb 12 closed) the step spans
    # three business days of the source.
    assert panel.frame.loc["2024-02-08", "a"] == 1.0
    assert panel.frame.loc["2024-02-13", "a"] == 3.0
    assert any("B is stale: last value 2024-03-15" in n for n in panel.notes)
    assert panel.frame.index[-1] < pd.Timestamp("2024-03-29")  # the stale tail is not invented
    with pytest.raises(dataclasses.FrozenInstanceError):
        panel.freq = "M"  # type: ignore[misc]


def test_monthly_aggregation_per_variable() -> None:
    idx = pd.bdate_range("2024-01-01", "2024-04-15")
    daily = pd.Series(np.arange(len(idx), dtype=float), index=idx)
    monthly = pd.Series(
        [1.0, 2.0, 3.0, 4.0], index=pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"])
    )
    specs = [
        VariableSpec("d", aggregation="last", name="d_last"),
        VariableSpec("d", aggregation="mean", name="d_mean"),
        VariableSpec("d", aggregation="sum", name="d_sum"),
        VariableSpec("m"),
    ]
    panel = monthly_panel({"d": daily, "m": monthly}, specs, "2024-04-15")
    frame = panel.frame
    assert list(frame.index) == list(pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31"]))
    feb = daily["2024-02"]
    assert frame.loc["2024-02-29", "d_last"] == feb.iloc[-1]
    assert frame.loc["2024-02-29", "d_mean"] == pytest.approx(feb.mean())
    assert frame.loc["2024-02-29", "d_sum"] == pytest.approx(feb.sum())
    assert frame.loc["2024-02-29", "m"] == 2.0
    assert any("left out 2024-04" in n for n in panel.notes)  # April is not over on the 15th
    on_month_end = monthly_panel({"d": daily[:"2024-03-29"], "m": monthly[:"2024-03-01"]}, specs, "2024-03-31")
    assert on_month_end.frame.index[-1] == pd.Timestamp("2024-03-31")


def test_model_panel_follows_the_spec_frequency() -> None:
    a = bdays("2024-01-02", "2024-06-28", 100.0)
    b = bdays("2024-01-02", "2024-06-28", 300.0)
    daily = ModelSpec("m", "D", (VariableSpec("a", timing="us"), VariableSpec("b", transform="log_diff")), lags=1)
    monthly = dataclasses.replace(daily, freq="M")
    assert model_panel({"a": a, "b": b}, daily, "2024-06-28").freq == "D"
    out = model_panel({"a": a, "b": b}, monthly, "2024-06-30")
    assert out.freq == "M" and out.frame.index[-1] == pd.Timestamp("2024-06-30")
    assert isinstance(out, Panel)


def test_bad_series_are_clear_errors() -> None:
    a = bdays("2024-01-02", "2024-02-28", 1.0)
    with pytest.raises(InputDataError, match="series missing is not in the data"):
        daily_panel({"a": a}, [VariableSpec("a"), VariableSpec("missing")], "2024-02-28")
    with pytest.raises(InputDataError, match="no observations up to 2023-12-31"):
        daily_panel({"a": a, "b": a}, [VariableSpec("a"), VariableSpec("b")], "2023-12-31")
    text = pd.Series(["x"] * len(a), index=a.index)
    with pytest.raises(InputDataError, match="series b is not numeric"):
        daily_panel({"a": a, "b": text}, [VariableSpec("a"), VariableSpec("b")], "2024-02-28")
