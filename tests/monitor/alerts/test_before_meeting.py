"""`before_meeting`: a rule fires only in the days before a central bank's meeting (the calendar's dates; SYNTHETIC
series)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from pydantic import ValidationError

from monitor.alerts.data import RuleData, SeriesInfo
from monitor.alerts.rules import KINDS

BLOCK = {"name": "krw_high", "kind": "level", "series": "krw", "op": ">=", "threshold": 1400}


def _evaluate(block: dict) -> pd.DataFrame:
    days = pd.date_range("2026-03-01", "2026-04-30", freq="D")
    krw = pd.Series(1450.0, index=days)  # above the line every day
    rule = KINDS["level"].model_validate(block)
    [ev] = rule.evaluate(RuleData(date(2026, 4, 30), {"krw": krw}, {"krw": SeriesInfo("krw", freq="D")}))
    return ev.frame


def test_the_condition_holds_only_within_n_days_before_the_banks_meeting() -> None:
    assert _evaluate(BLOCK)["condition"].all()
    frame = _evaluate({**BLOCK, "before_meeting": {"bank": "BOK", "days": 5}})
    # The BOK's MPB met on 2026-04-10 (and next on 2026-05-28): 04-05 .. 04-10 are at most 5 days before it.
    held = [d.date().isoformat() for d in frame.index[frame["condition"]]]
    assert held == ["2026-04-05", "2026-04-06", "2026-04-07", "2026-04-08", "2026-04-09", "2026-04-10"]
    fed = _evaluate({**BLOCK, "before_meeting": {"bank": "Fed", "days": 1}})
    # FOMC decisions on 2026-03-18 and 2026-04-29.
    assert [d.date().isoformat() for d in fed.index[fed["condition"]]] == [
        "2026-03-17", "2026-03-18", "2026-04-28", "2026-04-29"
    ]  # fmt: skip
    # The values are untouched: only whether the rule fires changes.
    assert (frame["value"] == 1450.0).all()


@pytest.mark.parametrize("bad", [{"bank": "ECB", "days": 5}, {"bank": "BOK", "days": -1}, {"bank": "BOK"}])
def test_bad_options_are_config_errors(bad: dict) -> None:
    with pytest.raises(ValidationError):
        KINDS["level"].model_validate({**BLOCK, "before_meeting": bad})
