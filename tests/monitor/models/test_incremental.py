"""Which rolling windows a run computes: the windows that are new or hold a revised row, and nothing else."""

from __future__ import annotations

import pandas as pd
import pytest

from monitor.models.incremental import REVISED, plan_update
from monitor.models.spillover import refresh_rolling, rolling_connectedness
from tests.monitor.models.simulate import simulate_var
from tests.tolerance import WELL_CONDITIONED, assert_close

W = 30


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return simulate_var(n_obs=120, n_vars=3, lags=1, seed=17)


def ends_of(frame: pd.DataFrame) -> pd.Index:
    return frame.index[W - 1 :]


@pytest.mark.parametrize("rows", [[100], [118, 119], [40, 75], [5]])
def test_the_windows_computed_are_exactly_those_holding_a_changed_or_new_row(data: pd.DataFrame, rows) -> None:  # type: ignore[no-untyped-def]
    stored = data.iloc[:-2]
    today = data.copy()
    for r in rows:
        today.iloc[r, r % 3] += 0.1
    plan = plan_update(stored, today, W, ends_of(stored))
    # Brute force: window ending at row e holds rows e - W + 1 .. e.
    touched = {r for r in rows if r < len(stored)}
    want = [e >= len(stored) or any(e - W + 1 <= r <= e for r in touched) for e in range(W - 1, len(today))]
    assert plan.compute.tolist() == want and not plan.full
    assert (plan.new, plan.revised) == (2, sum(want) - 2)
    # ... and the frame they give equals a full recomputation on today's data.
    previous = rolling_connectedness(stored, 1, 6, W)
    refreshed = refresh_rolling(previous, today, 1, 6, W, plan.compute)
    full = rolling_connectedness(today, 1, 6, W)
    assert refreshed.index.equals(full.index)
    assert_close(refreshed.to_numpy(), full.to_numpy(), WELL_CONDITIONED)
    kept = plan.kept
    pd.testing.assert_frame_equal(refreshed.loc[kept], previous.loc[kept], check_exact=True)


def test_unchanged_data_compute_nothing_and_rounding_noise_is_not_a_revision(data: pd.DataFrame) -> None:
    plan = plan_update(data, data.copy(), W, ends_of(data))
    assert not plan.compute.any() and plan.why == "nothing new or revised"
    noisy = data.copy()
    noisy.iloc[60, 0] += 0.1 * REVISED * data.iloc[:, 0].abs().max()  # below the threshold
    assert not plan_update(data, noisy, W, ends_of(data)).compute.any()
    noisy.iloc[60, 0] += 10 * REVISED * data.iloc[:, 0].abs().max()  # above it
    assert plan_update(data, noisy, W, ends_of(data)).compute.sum() == W


def test_what_cannot_be_reused_is_recomputed_in_full_and_said_why(data: pd.DataFrame) -> None:
    stored = data.iloc[:-1]
    cases = {
        "no model inputs to compare with": plan_update(None, data, W, ends_of(stored)),
        "variables changed": plan_update(stored.rename(columns={"y1": "z"}), data, W, ends_of(stored)),
        "does not line up": plan_update(stored, data, W, ends_of(stored)[1:]),
        f"has other dates from {data.index[0]:%Y-%m-%d} on": plan_update(stored, data.iloc[1:], W, ends_of(stored)),
        f"ends from {data.index[100]:%Y-%m-%d} on": plan_update(stored, data.iloc[:100], W, ends_of(stored)),
    }
    for why, plan in cases.items():
        assert plan.full and plan.compute.all() and why in plan.why, (why, plan.why)
        assert plan.note().startswith(f"rolling measures recomputed in full ({len(plan.ends)} windows): ")
    every = data.copy()
    every.iloc[[W - 1, 2 * W - 1, 3 * W - 1], 2] += 1.0  # rows held by every stored window between them
    plan = plan_update(stored, every, W, ends_of(stored))
    assert plan.full and "inside every stored window" in plan.why
