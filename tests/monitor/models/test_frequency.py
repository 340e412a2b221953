"""Frequency connectedness (Barunik-Krehlik) against the time-domain table, a direct DFT written here, its
invariances, and the frequencyConnectedness package's documented example."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.vector_ar.var_model import VAR

from monitor.errors import InputDataError
from monitor.models.frequency import (
    band_labels,
    band_masks,
    band_shares,
    frequency_connectedness,
    frequency_from_coefs,
    parse_cuts,
    rolling_frequency,
    tvp_frequency,
)
from monitor.models.spillover import connectedness, rolling_connectedness, tvp_connectedness
from tests.monitor.models.simulate import simulate_var
from tests.tolerance import WELL_CONDITIONED, assert_close, max_rel_diff

# The acceptance bound: bands covering every frequency add up to the time-domain table, and a direct DFT agrees,
# within 1e-8 of the table's scale (100). The computations differ only in summation order (FFT vs explicit sums,
# bins vs MA terms), which leaves ~1e-14 relative on these well-conditioned samples; 1e-8 is the bound.
BAND_SUM = 1e-8


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return simulate_var(n_obs=500, n_vars=4, lags=2, seed=11)


@pytest.mark.parametrize(
    ("cuts", "grid", "orthogonal"), [((5, 20), None, False), ((3, 8, 30), 64, False), ((5,), None, True)]
)
def test_bands_add_up_to_the_time_domain_table(sample: pd.DataFrame, cuts, grid, orthogonal) -> None:  # type: ignore[no-untyped-def]
    horizon = 40
    time = connectedness(sample, 2, horizon, orthogonal=orthogonal)
    freq = frequency_connectedness(sample, 2, horizon, cuts, grid=grid, orthogonal=orthogonal)
    assert freq.labels == band_labels(tuple(float(c) for c in cuts))
    total = sum(t.matrix for t in freq.absolute)
    assert_close(total, time.matrix, BAND_SUM)
    assert sum(t.tci for t in freq.absolute) == pytest.approx(time.tci, rel=BAND_SUM)
    assert_close(sum(t.net for t in freq.absolute), time.net, BAND_SUM)
    # Each band carries part of it (not all in one band, which would also add up).
    assert all(0.05 < t.matrix.sum() / time.matrix.sum() < 0.95 for t in freq.absolute)
    # Within tables total 100 N, as a time-domain table does.
    for w in freq.within:
        assert w.matrix.sum() == pytest.approx(100.0 * sample.shape[1], rel=1e-12)


def _direct_dft_bands(results, horizon: int, cuts: tuple[float, ...], grid: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Absolute band tables in percent, written from the definitions with explicit sums (no FFT, no monitor code):
    statsmodels' MA matrices, Psi(w) = sum_h A_h exp(-i w h) at w = 2 pi k / M, the band of each bin decided by
    its period 2 pi / w folded to [0, pi]."""
    sigma = np.asarray(results.sigma_u)
    ma = results.ma_rep(horizon - 1)
    n = sigma.shape[0]
    edges = [0.0, *cuts, np.inf]
    num = np.zeros((len(cuts) + 1, n, n))
    for k in range(grid):
        w = 2 * np.pi * k / grid
        w = min(w, 2 * np.pi - w)
        period = np.inf if w == 0 else 2 * np.pi / w
        band = next(b for b in range(len(cuts) + 1) if edges[b] < period <= edges[b + 1] + 1e-12)
        psi = sum(ma[h] * np.exp(-1j * w * h) for h in range(horizon))
        for i in range(n):
            for j in range(n):
                num[band, i, j] += abs(psi[i] @ sigma[:, j]) ** 2 / sigma[j, j] / grid
    return 100.0 * num / num.sum(axis=(0, 2))[None, :, None]


@pytest.mark.parametrize("grid", [None, 50])
def test_matches_a_direct_dft_of_statsmodels_ma_terms(sample: pd.DataFrame, grid: int | None) -> None:
    horizon, cuts = 30, (5.0, 20.0)
    res = VAR(sample).fit(2)
    expected = _direct_dft_bands(res, horizon, cuts, grid or horizon)
    freq = frequency_from_coefs(res.coefs, res.sigma_u, horizon, cuts, grid=grid)
    assert_close(np.stack([t.matrix for t in freq.absolute]), expected, BAND_SUM)
    # And from the data, through our own VAR: the same model, so the same bands.
    ours = frequency_connectedness(sample, 2, horizon, cuts, grid=grid)
    assert_close(np.stack([t.matrix for t in ours.absolute]), expected, BAND_SUM)


def test_permuting_and_rescaling_variables(sample: pd.DataFrame) -> None:
    cuts = (5, 20)
    base = frequency_connectedness(sample, 2, 25, cuts)
    order = [3, 1, 0, 2]
    moved = sample.iloc[:, order] * np.array([1e3, 0.01, -2.0, 7.0])
    perm = frequency_connectedness(moved, 2, 25, cuts)
    for a, b in zip(base.absolute + base.within, perm.absolute + perm.within, strict=True):
        assert_close(b.matrix, a.matrix[np.ix_(order, order)], WELL_CONDITIONED)
        assert b.tci == pytest.approx(a.tci, rel=WELL_CONDITIONED)
    # ... while the bands themselves do differ from each other (the check can fail).
    assert max_rel_diff(base.absolute[0].matrix, base.absolute[2].matrix) > 1e-3


def test_band_assignment_of_bins() -> None:
    # M = 20 bins, cuts at 5 and 10 sessions: bin k has period 20 / min(k, 20 - k).
    masks = band_masks((5, 10), 20)
    assert np.flatnonzero(masks[2]).tolist() == [0, 1, 19]  # periods inf, 20 (bin 19 mirrors bin 1)
    assert np.flatnonzero(masks[1]).tolist() == [2, 3, 17, 18]  # periods 10 (on the cut: shorter band), 6.67
    assert np.flatnonzero(masks[0]).tolist() == list(range(4, 17))  # periods 5 .. 2
    assert masks.sum(axis=0).tolist() == [1] * 20
    with pytest.raises(InputDataError, match="no frequency in band"):
        band_masks((5, 5.5), 20)


@pytest.mark.parametrize(
    ("text", "message"), [("5,x", "numbers"), ("20,5", "increasing"), ("2,5", "above 2"), ("", "at least one")]
)
def test_bad_cut_points_are_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(InputDataError, match=message):
        parse_cuts(text)


def test_rolling_bands_add_up_to_the_rolling_measures(sample: pd.DataFrame) -> None:
    horizon, window, cuts = 20, 150, (5.0, 20.0)
    data = sample.iloc[:230]
    time = rolling_connectedness(data, 2, horizon, window)
    freq = rolling_frequency(data, 2, horizon, window, cuts)
    assert freq.index.equals(time.index)
    for col in ("TCI", "TO_y1", "NET_y3", "NPDC_y1_y4"):
        total = sum(freq[f"{lab}:{col}"] for lab in band_labels(cuts))
        assert_close(total, time[col], BAND_SUM)
    # A window's bands equal the full-sample computation on that window alone (no look-ahead, right window).
    last = frequency_connectedness(data.iloc[-window:], 2, horizon, cuts)
    for lab, table in zip(last.labels, last.within, strict=True):
        assert freq[f"{lab}:within:TCI"].iloc[-1] == pytest.approx(table.tci, rel=1e-9)


def test_tvp_bands_add_up_to_the_tvp_measures(sample: pd.DataFrame) -> None:
    horizon, cuts = 15, (5.0,)
    data = sample.iloc[:260]
    time = tvp_connectedness(data, 1, horizon, prior_window=120)
    frame, average = tvp_frequency(data, 1, horizon, cuts, prior_window=120)
    assert_close(frame["1-5:TCI"] + frame["5+:TCI"], time.frame["TCI"], BAND_SUM)
    assert_close(sum(t.matrix for t in average.absolute), time.table.matrix, BAND_SUM)
    # One date's bands equal the static computation on that date's filtered coefficients.
    from monitor.models.tvp import tvp_var

    phis, qs = tvp_var(data.to_numpy(), 1, prior_window=120)
    one = band_shares(phis[200], qs[200], horizon, band_masks(cuts, horizon))
    assert frame["5+:TCI"].iloc[200] == pytest.approx(100 * (one[1].sum() - np.trace(one[1])) / 4, rel=1e-9)


# -- the package's documented example ---------------------------------------------------------------------------
# README of tomaskrehlik/frequencyConnectedness: est <- VAR(exampleSim[1:600,], p = 2, type = "const");
# spilloverBK12(est, n.ahead = 100, no.corr = F, partition = c(pi + 0.00001, pi/4, 0)) prints (2 decimals):
README_BK12_SHORT = [[0.14, 0.28, 0.53], [0.09, 2.30, 4.81], [0.04, 0.04, 29.86]]
README_BK12_LONG = [[8.42, 10.07, 80.57], [2.52, 9.20, 81.07], [0.27, 0.22, 69.57]]
README_BK12_SHORT_FROM_WTH = [2.11, 12.87, 0.21]  # from(within = T) = our within FROM / N
README_BK12_LONG_TO_WTH, README_BK12_LONG_OVERALL_WTH = [1.07, 3.93, 61.71], 66.71
# spilloverBK09 (orthogonal), the same partition: the short band's table.
README_BK09_SHORT = [[0.15, 0.26, 0.55], [0.09, 2.27, 4.85], [0.04, 0.02, 29.87]]
# With partition c(pi + 0.00001, pi/4, pi/10, 0), the middle band (pi/10 to pi/4) of spilloverBK12:
README_BK12_MIDDLE = [[1.74, 3.00, 19.54], [0.94, 4.25, 31.71], [0.18, 0.10, 38.24]]
PRINTED = 0.005 + 1e-9  # half a unit of the printed second decimal (plus rounding of the comparison itself)


@pytest.fixture(scope="module")
def example_sim(shared: Path) -> pd.DataFrame:
    path = shared / "data" / "reference" / "fc_exampleSim.csv"
    if not path.is_file():
        pytest.skip(
            f"{path} is absent: the package's exampleSim data (data/exampleSim.rda in tomaskrehlik/"
            "frequencyConnectedness, 6000 x 3, written as CSV with header V1,V2,V3) is not in ../shared"
        )
    return pd.read_csv(path).iloc[:600]


def _package_masks(partition: list[float], m: int) -> np.ndarray:
    """frequencyConnectedness' bin assignment, written from its documented rule: bin k of M is labelled
    pi k / floor(M/2) (k <= M/2, mirrored above) and belongs to [down, up) of the partition."""
    half = m // 2
    label = np.pi * np.minimum(np.arange(m), m - np.arange(m)) / half
    return np.array([(label >= lo) & (label < up) for up, lo in itertools.pairwise(partition)])


def test_reproduces_the_packages_documented_bk12_example(example_sim: pd.DataFrame) -> None:
    # n.ahead = 100 is H = 101 MA terms and M = 101 bins; the cut pi/4 is the period 8.
    freq = frequency_connectedness(example_sim, 2, 101, (8,))
    short, long_ = freq.absolute
    np.testing.assert_allclose(short.matrix, README_BK12_SHORT, rtol=0, atol=PRINTED)
    np.testing.assert_allclose(long_.matrix, README_BK12_LONG, rtol=0, atol=PRINTED)
    np.testing.assert_allclose(freq.within[0].from_ / 3, README_BK12_SHORT_FROM_WTH, rtol=0, atol=PRINTED)
    np.testing.assert_allclose(freq.within[1].to / 3, README_BK12_LONG_TO_WTH, rtol=0, atol=PRINTED)
    assert freq.within[1].tci == pytest.approx(README_BK12_LONG_OVERALL_WTH, abs=PRINTED)
    orth = frequency_connectedness(example_sim, 2, 101, (8,), orthogonal=True)
    np.testing.assert_allclose(orth.absolute[0].matrix, README_BK09_SHORT, rtol=0, atol=PRINTED)


def test_reproduces_the_three_band_example_with_the_packages_bin_labels(example_sim: pd.DataFrame) -> None:
    res = VAR(example_sim).fit(2)
    partition = [np.pi + 0.00001, np.pi / 4, np.pi / 10, 0.0]
    shares = band_shares(res.coefs, res.sigma_u, 101, _package_masks(partition, 101))
    np.testing.assert_allclose(100 * shares[1], README_BK12_MIDDLE, rtol=0, atol=PRINTED)
    # Our true-frequency bins differ from the package's labels by one bin at the pi/10 cut (period 20): a
    # visible difference, which is why the package's assignment is needed to reproduce this table.
    ours = frequency_connectedness(example_sim, 2, 101, (8, 20))
    assert np.abs(ours.absolute[1].matrix - np.asarray(README_BK12_MIDDLE)).max() > 1.0


def test_a_model_with_frequency_bands_stores_them_and_its_next_run_keeps_them() -> None:
    import dataclasses
    import json

    from monitor.align import Panel
    from monitor.models.estimate import estimate
    from monitor.models.frequency import FrequencyTables
    from monitor.models.results import ModelResult
    from monitor.spec import ModelSpec, VariableSpec

    data = simulate_var(n_obs=300, n_vars=3, lags=1, seed=13)
    spec = ModelSpec("m", "D", tuple(VariableSpec(f"y{i}") for i in (1, 2, 3)), lags=1, horizon=12, window=80)
    spec = dataclasses.replace(spec, frequency=(5.0,))

    def run(n: int, previous: ModelResult | None = None) -> ModelResult:
        frame = data.iloc[:n]
        result = estimate(spec, Panel(frame=frame, as_of=frame.index[-1], freq="D"), previous=previous)
        return ModelResult.from_dict(json.loads(json.dumps(result.to_dict())))  # as the store gives it back

    first = run(299)
    second = run(300, previous=first)
    expected = rolling_frequency(data.iloc[:300], 1, 12, 80, (5.0,))
    assert second.rolling is not None
    assert_close(second.rolling[expected.columns].to_numpy(), expected.to_numpy(), WELL_CONDITIONED)
    table = FrequencyTables.from_dict(second.extra["frequency"]["table"])
    assert_close(sum(t.matrix for t in table.absolute), second.table.matrix, BAND_SUM)  # type: ignore[union-attr]
    latest = FrequencyTables.from_dict(second.extra["frequency"]["latest"])
    assert latest.within[0].tci == pytest.approx(second.rolling["1-5:within:TCI"].iloc[-1], rel=1e-9)


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"frequency": (20.0, 5.0)}, "increasing periods"), ({"frequency_grid": 50}, "frequency_grid needs frequency")],
)
def test_model_spec_checks_its_frequency_settings(changes: dict[str, object], message: str) -> None:
    from monitor.errors import MonitorError
    from monitor.spec import ModelSpec, VariableSpec

    with pytest.raises(MonitorError, match=message):
        ModelSpec("m", "D", (VariableSpec("a"), VariableSpec("b")), **changes)  # type: ignore[arg-type]
