"""One model end to end on a panel: VAR, table, rolling with reuse of the stored frame, TVP, JSON summary."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd

from monitor.align import Panel
from monitor.models.estimate import estimate
from monitor.models.spec import ModelSpec, TvpSettings, VariableSpec
from monitor.models.spillover import connectedness, rolling_connectedness
from tests.models.simulate import simulate_var

SPEC = ModelSpec(
    "market_daily", "D", tuple(VariableSpec(f"y{i}") for i in (1, 2, 3)), lags="bic", max_lags=4, horizon=8, window=80
)


def panel(n: int) -> Panel:
    frame = simulate_var(n_obs=300, n_vars=3, lags=1, seed=13).iloc[:n]
    return Panel(frame=frame, as_of=frame.index[-1], freq="D", notes=("from the aligner",))


def test_estimate_daily_model_and_reuse_the_stored_rolling_frame() -> None:
    first = estimate(SPEC, panel(299))
    assert first.var.lags == 1 and first.nobs == 299
    np.testing.assert_allclose(first.table.matrix, connectedness(panel(299).frame, 1, 8).matrix)
    assert first.per_date is not None and len(first.per_date) == 299 - 80 + 1
    assert "from the aligner" in first.notes

    # The next day: the stored frame comes back from storage without attrs; its settings travel in to_dict().
    summary = json.loads(json.dumps(first.to_dict()))
    stored = pd.read_csv(pd.io.common.StringIO(first.per_date.to_csv()), index_col=0, parse_dates=True)
    stored.attrs.update(summary["rolling"])
    second = estimate(SPEC, panel(300), previous=stored)
    full = rolling_connectedness(panel(300).frame, 1, 8, 80)
    assert second.per_date is not None
    np.testing.assert_allclose(second.per_date.to_numpy(), full.to_numpy(), atol=1e-8)
    assert not any("recomputed" in n for n in second.notes)

    # Another lag order makes the stored frame unusable: recomputed in full, and said so.
    other = dataclasses.replace(SPEC, lags=2)
    third = estimate(other, panel(300), previous=stored)
    assert any("recomputed in full" in n for n in third.notes)
    assert third.per_date is not None and third.per_date.attrs["lags"] == 2


def test_summary_is_json_and_tvp_runs() -> None:
    spec = dataclasses.replace(SPEC, window=None, tvp=TvpSettings(), lags=1)
    result = estimate(spec, panel(150))
    assert result.tvp is not None and result.per_date is not None and len(result.per_date) == 150
    summary = json.loads(json.dumps(result.to_dict()))
    assert summary["table"]["method"] == "VAR" and summary["rolling"] is None
    assert summary["latest"]["date"] == str(panel(150).frame.index[-1].date())
    assert {r["variable"] for r in summary["stationarity"]} == {"y1", "y2", "y3"}
    assert len(summary["granger"]) == 6


def test_short_sample_notes_the_missing_rolling_measures() -> None:
    result = estimate(SPEC, panel(60))
    assert result.per_date is None
    assert any("fewer than the rolling window of 80" in n for n in result.notes)
