"""The overnight table: last value, one-session change and its z-score against the previous 250 sessions,
checked against an independent pandas computation (rolling windows, not the module's slicing)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from reports.overnight import WINDOW, overnight
from series.spec import SeriesSpec, SourceRef

AS_OF = date(2026, 3, 27)


def spec(sid: str, units: str, freq: str = "B") -> SeriesSpec:
    return SeriesSpec(sid, sid.upper(), freq, units, SourceRef("csv", sid))


def expected_z(s: pd.Series) -> float:
    """z of the last change against the WINDOW changes before it: rolling statistics shifted by one session."""
    d = s.diff()
    mean = d.rolling(WINDOW).mean().shift(1)
    sd = d.rolling(WINDOW).std().shift(1)
    return float(((d - mean) / sd).iloc[-1])


@pytest.fixture
def market() -> dict[str, pd.Series]:
    rng = np.random.default_rng(3)
    days = pd.bdate_range(end=AS_OF, periods=600)
    krw = pd.Series(1400 + np.cumsum(rng.normal(0, 5, len(days))), index=days)
    krw.iloc[-1] = krw.iloc[-2] + 40.0  # a large depreciation on the last session: |z| well above 2
    kospi = pd.Series(2500 + np.cumsum(rng.normal(0, 20, len(days))), index=days)
    old = pd.Series(np.cumsum(rng.normal(0, 1, 400)), index=pd.bdate_range(end="2025-12-31", periods=400))
    flows = pd.Series(rng.normal(0, 3000, len(days)), index=days)
    months = pd.Series([1.0, 2.0, 3.0], index=pd.date_range("2026-01-01", periods=3, freq="MS"))
    return {"krw_usd": krw, "kospi": kospi, "bok_rate": old, "foreign_net_kospi": flows, "exports": months}


def test_moves_match_an_independent_rolling_computation(market):
    specs = [spec("krw_usd", "KRW per USD"), spec("kospi", "points"), spec("exports", "USD", "M")]
    moves = {m.series_id: m for m in overnight(market, specs, AS_OF)}
    assert set(moves) == {"krw_usd", "kospi"}  # a monthly series is not an overnight move
    for sid, m in moves.items():
        s = market[sid]
        assert m.value == s.iloc[-1] and m.date == AS_OF
        assert m.change == pytest.approx(s.iloc[-1] - s.iloc[-2], rel=1e-12)  # two float subtractions apart
        # Same statistic by another route (rolling sums vs a slice): agreement to floating-point noise.
        assert m.z == pytest.approx(expected_z(s), rel=1e-9)
    assert moves["krw_usd"].z is not None and moves["krw_usd"].z > 2 and moves["krw_usd"].flagged
    assert not moves["kospi"].flagged


def test_a_stale_entry_keeps_its_date_and_says_it_is_stale(market):
    (m,) = overnight(market, [spec("bok_rate", "%", "D")], AS_OF)
    assert m.date == date(2025, 12, 31) and "stale after" in m.stale and "2025-12-31" in m.stale
    assert not m.flagged  # an old move is not last night's


def test_a_young_series_or_one_that_never_moves_has_no_z_score():
    days = pd.bdate_range(end=AS_OF, periods=300)
    flat = pd.Series(2.5, index=days)
    young = pd.Series(np.arange(30.0), index=days[-30:])
    moves = overnight({"flat": flat, "young": young}, [spec("flat", "%"), spec("young", "points")], AS_OF)
    assert [(m.series_id, m.z) for m in moves] == [("flat", None), ("young", None)]


def test_flows_carry_their_dollar_value_at_that_days_rate(market):
    rate = pd.Series(1500.0, index=market["foreign_net_kospi"].index)
    rate.iloc[-1] = np.nan  # the rate of the day before is the last one known
    rate.iloc[-2] = 1450.0
    (m,) = overnight(market, [spec("foreign_net_kospi", "100 million KRW")], AS_OF, rate)
    dollars = market["foreign_net_kospi"].iloc[-1] * 1e8 / 1450.0
    assert m.usd == f"{'-' if dollars < 0 else ''}${abs(dollars) / 1e9:,.2f} billion"


def test_a_move_is_flagged_as_its_z_reads():
    from datetime import date

    from reports.overnight import Move

    def move(z: float) -> Move:
        return Move("jgb_2y", "JGB 2y", "%", date(2026, 3, 27), 1.39, 0.04, z)

    # 1.96 reads "2.0" in the table and the paragraph, so it is flagged; 1.94 reads "1.9" and is not.
    assert move(1.96).flagged and move(-1.96).flagged and not move(1.94).flagged
