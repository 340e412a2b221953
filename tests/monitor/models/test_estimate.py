"""One model end to end on a panel: VAR, table, rolling with reuse of the stored result, TVP, storage."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from monitor.align import Panel
from monitor.models.estimate import estimate
from monitor.models.results import ModelResult
from monitor.models.spillover import connectedness, rolling_connectedness
from monitor.spec import ModelSpec, TvpSettings, VariableSpec
from tests.monitor.models.simulate import simulate_var
from tests.tolerance import WELL_CONDITIONED, assert_close

SPEC = ModelSpec(
    "market_daily", "D", tuple(VariableSpec(f"y{i}") for i in (1, 2, 3)), lags="bic", max_lags=4, horizon=8, window=80
)


def panel(n: int, bump: float = 0.0) -> Panel:
    frame = simulate_var(n_obs=300, n_vars=3, lags=1, seed=13).iloc[:n].copy()
    frame.iloc[-5, 0] += bump  # a revision inside the last stored window
    return Panel(frame=frame, as_of=frame.index[-1], freq="D", notes=("from the aligner",))


def stored(result: ModelResult) -> ModelResult:
    """What the next run reads back: the JSON round trip of the store."""
    return ModelResult.from_dict(json.loads(json.dumps(result.to_dict())))


def test_estimate_daily_model_and_reuse_the_stored_rolling_frame() -> None:
    first = estimate(SPEC, panel(299))
    assert first.lags == 1 and first.nobs == 299 and first.method == "rolling VAR"
    assert first.table is not None and first.latest_table is not None and first.rolling is not None
    np.testing.assert_allclose(first.table.matrix, connectedness(panel(299).frame, 1, 8).matrix)
    np.testing.assert_allclose(first.latest_table.matrix, connectedness(panel(299).frame.iloc[-80:], 1, 8).matrix)
    assert len(first.rolling) == 299 - 80 + 1
    assert first.latest_table.tci == pytest.approx(first.rolling["TCI"].iloc[-1], rel=WELL_CONDITIONED)
    assert "from the aligner" in first.notes

    second = estimate(SPEC, panel(300), previous=stored(first))
    full = rolling_connectedness(panel(300).frame, 1, 8, 80)
    assert second.rolling is not None
    assert_close(second.rolling.to_numpy(), full.to_numpy(), WELL_CONDITIONED)
    assert not any("recomputed" in n for n in second.notes)

    # Another lag order makes the stored frame unusable: recomputed in full, and said so.
    third = estimate(dataclasses.replace(SPEC, lags=2), panel(300), previous=stored(first))
    assert any("recomputed in full" in n for n in third.notes) and third.lags == 2


def test_a_revision_in_the_tail_recomputes_only_the_windows_that_hold_it() -> None:
    first = estimate(SPEC, panel(299))
    # Row 295 of 300 is revised (as the aligner's forward-filled tail is each morning) and one row is new: the
    # windows of 80 rows ending at rows 295..299 hold a changed row, the 216 ending before do not.
    revised = estimate(SPEC, panel(300, bump=5.0), previous=stored(first))
    update = revised.extra["rolling_update"]
    assert {k: update[k] for k in ("windows", "recomputed", "new", "revised", "full")} == {
        "windows": 221,
        "recomputed": 5,
        "new": 1,
        "revised": 4,
        "full": False,
    }
    day = panel(300).frame.index[295].date()
    assert update["why"] == f"1 new; 4 holding the 1 row(s) revised since the last run, the first dated {day}"
    assert any(n.startswith("rolling measures: 5 of 221 windows computed (1 new; 4 holding") for n in revised.notes)
    assert revised.rolling is not None and first.rolling is not None
    pd.testing.assert_frame_equal(revised.rolling.iloc[:216], first.rolling.iloc[:216], check_exact=True)
    full = rolling_connectedness(panel(300, bump=5.0).frame, 1, 8, 80)
    assert revised.rolling.index.equals(full.index)
    assert_close(revised.rolling.to_numpy(), full.to_numpy(), WELL_CONDITIONED)


def test_an_older_revision_recomputes_the_windows_that_hold_it_and_a_new_start_everything() -> None:
    first = estimate(SPEC, panel(299))
    today = panel(300)
    today.frame.iloc[150, 1] += 1.0  # held by the 80 windows ending at rows 150..229
    again = estimate(SPEC, today, previous=stored(first))
    assert again.extra["rolling_update"]["recomputed"] == 81 and not again.extra["rolling_update"]["full"]
    assert_close(again.rolling.to_numpy(), rolling_connectedness(today.frame, 1, 8, 80).to_numpy(), WELL_CONDITIONED)

    later_start = dataclasses.replace(panel(300), frame=panel(300).frame.iloc[1:])  # the sample starts a row later
    moved = estimate(SPEC, later_start, previous=stored(first))
    assert moved.extra["rolling_update"]["full"] and moved.extra["rolling_update"]["recomputed"] == 220
    day = panel(300).frame.index[0].date()
    assert f"recomputed in full (220 windows): today's data has other dates from {day} on" in " ".join(moved.notes)


def test_result_round_trips_through_storage_and_tvp_runs() -> None:
    spec = dataclasses.replace(SPEC, window=None, tvp=TvpSettings(), lags=1)
    result = estimate(spec, panel(150))
    assert result.method == "TVP-VAR" and result.rolling is not None and len(result.rolling) == 150
    # 150 rows are fewer than the default 200 - p: the prior takes them all, and the result says so.
    last = panel(150).frame.index[-1].date()
    assert result.extra["prior_window"] == {"rows": 150, "start": "2015-01-05", "end": last.isoformat()}
    assert any(n.startswith("TVP-VAR prior from the first 150 observations (2015-01-05 to") for n in result.notes)
    back = stored(result)
    np.testing.assert_allclose(back.rolling.to_numpy(), result.rolling.to_numpy())
    np.testing.assert_allclose(back.current_table.matrix, result.current_table.matrix)
    assert back.current_table.tci == pytest.approx(result.rolling["TCI"].iloc[-1], rel=WELL_CONDITIONED)
    np.testing.assert_allclose(back.irf, result.irf)
    assert back.stationarity is not None and list(back.stationarity.index) == ["y1", "y2", "y3"]
    assert back.stationarity["verdict"].tolist() == result.stationarity["verdict"].tolist()
    assert back.granger is not None and len(back.granger) == 6
    assert back.as_of == panel(150).frame.index[-1].date()


def test_short_sample_notes_the_missing_rolling_measures() -> None:
    result = estimate(SPEC, panel(60))
    assert result.rolling is None
    assert any("fewer than the rolling window of 80" in n for n in result.notes)
