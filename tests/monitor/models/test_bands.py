"""Bootstrap bands: each draw equals an independent statsmodels bootstrap, the 90% band covers the true TCI of a
known VAR about 90% of the time, seeds reproduce, chunking and incremental updates change nothing, bad input is a
clear error. All data are SYNTHETIC (simulated in the test run)."""

from __future__ import annotations

import dataclasses
import json
import zlib

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.vector_ar.var_model import VAR

import monitor.models.bands as bands_mod
from monitor.align import Panel
from monitor.errors import InputDataError, MonitorError
from monitor.models.bands import (
    band_columns,
    band_measures,
    full_sample_bands,
    full_sample_job,
    rolling_bands,
    run_chunk,
)
from monitor.models.estimate import estimate
from monitor.models.results import ModelResult
from monitor.models.spillover import connectedness, connectedness_from_coefs, rolling_connectedness
from monitor.spec import BandSpec, ModelSpec, VariableSpec
from tests.monitor.models.simulate import simulate_var
from tests.tolerance import WELL_CONDITIONED, assert_close

# A bootstrap draw simulates a path recursively (up to 160 steps) and re-estimates on it: rounding compounds
# along the path (each step multiplies the previous error by the VAR's slopes, roots below 1 here), so draws
# computed in another order (statsmodels' loop vs our batched simulation) agree to ~5e-15 of the tables' scale;
# 1e-9 keeps a large margin for any BLAS and still catches a wrong stream, residual or lag (~1e-1).
BOOTSTRAP = 1e-9


# -- an independent bootstrap: statsmodels fits, plain loops, the documented random streams -------------------
def _streams(seed: int, key: str, kind: int, end: pd.Timestamp, block: int) -> np.random.Generator:
    """The documented stream of draws block*50 .. block*50 + 49 of the window ending `end`."""
    return np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(zlib.crc32(key.encode()), kind, end.toordinal(), block))
    )


def _stationary(rng: np.random.Generator, draws: int, length: int, mean_block: float) -> np.ndarray:
    starts = rng.integers(0, length, size=(draws, length))
    restart = rng.random((draws, length)) < 1.0 / mean_block
    idx = np.empty((draws, length), dtype=int)
    for b in range(draws):
        idx[b, 0] = starts[b, 0]
        for t in range(1, length):
            idx[b, t] = starts[b, t] if restart[b, t] else (idx[b, t - 1] + 1) % length
    return idx


def _measures(table) -> np.ndarray:  # type: ignore[no-untyped-def]
    n = len(table.variables)
    iu, ju = np.triu_indices(n, k=1)
    return np.concatenate([[table.tci, table.ctci], table.to, table.from_, table.net, table.npdc[iu, ju]])


def independent_draws(data: pd.DataFrame, lags: int, horizon: int, spec: BandSpec, key: str, kind: int) -> np.ndarray:
    """Draws (B, M) of the residual bootstrap done the textbook way: statsmodels VAR, recursion from the raw
    data with the first p rows fixed, statsmodels refit, GFEVD from the refitted matrices."""
    res = VAR(data.to_numpy()).fit(lags, trend="c")
    resid, coefs, intercept = np.asarray(res.resid), np.asarray(res.coefs), np.asarray(res.intercept)
    length, raw = len(resid), data.to_numpy()
    out = []
    for block in range(-(-spec.draws // 50)):
        b = min(50, spec.draws - 50 * block)
        rng = _streams(spec.seed, key, kind, data.index[-1], block)
        if spec.block_length is None:
            idx = rng.integers(0, length, size=(b, length))
        else:
            idx = _stationary(rng, b, length, spec.block_length)
        for row in idx:
            y = raw.copy()
            for t in range(lags, len(raw)):
                y[t] = intercept + sum(coefs[lag] @ y[t - 1 - lag] for lag in range(lags)) + resid[row[t - lags]]
            refit = VAR(y).fit(lags, trend="c")
            out.append(_measures(connectedness_from_coefs(refit.coefs, refit.sigma_u, horizon)))
    return np.array(out)


@pytest.mark.parametrize("block_length", [None, 4.0])
def test_full_sample_draws_equal_an_independent_statsmodels_bootstrap(block_length: float | None) -> None:
    data = simulate_var(160, 3, 2, seed=21)
    spec = BandSpec(0.9, 60, block_length=block_length, seed=7)  # two random streams: 50 + 10 draws
    ours = np.concatenate([run_chunk(c) for c in full_sample_job(data, 2, 8, spec, key="m").chunks], axis=1)[0]
    theirs = independent_draws(data, 2, 8, spec, key="m", kind=0)
    assert ours.shape == theirs.shape == (60, len(band_measures(data.columns)))
    assert_close(ours, theirs, BOOTSTRAP)

    frame = full_sample_bands(data, 2, 8, spec, key="m")
    assert frame.index.tolist() == band_measures(tuple(data.columns))
    assert_close(frame["lo"], np.quantile(theirs, 0.05, axis=0), BOOTSTRAP)
    assert_close(frame["hi"], np.quantile(theirs, 0.95, axis=0), BOOTSTRAP)
    assert_close(frame["estimate"], _measures(connectedness(data, 2, 8)), WELL_CONDITIONED)
    assert frame.attrs["draws"] == 60 and frame.attrs["block_length"] == block_length


def test_a_rolling_window_is_bootstrapped_from_its_own_var() -> None:
    data = simulate_var(140, 3, 1, seed=4)
    spec = BandSpec(0.8, 40, seed=2)
    frame = rolling_bands(data, 1, 6, 100, spec, key="m")
    assert frame.columns.tolist() == band_columns(tuple(data.columns))
    assert frame.index.equals(rolling_connectedness(data, 1, 6, 100).index)
    for end in (99, 120):  # the windows ending at rows 99 and 120
        window = data.iloc[end - 99 : end + 1]
        draws = independent_draws(window, 1, 6, spec, key="m", kind=1)
        row = frame.loc[window.index[-1]].to_numpy().reshape(-1, 2)
        assert_close(row[:, 0], np.quantile(draws, 0.1, axis=0), BOOTSTRAP)
        assert_close(row[:, 1], np.quantile(draws, 0.9, axis=0), BOOTSTRAP)


# -- the bands cover: a simulation on a known VAR ----------------------------------------------------------------
COEFS = np.array([[[0.5, 0.2, 0.0], [0.1, 0.4, 0.2], [0.0, 0.2, 0.3]]])
CHOL = np.array([[1.0, 0.0, 0.0], [0.4, 1.0, 0.0], [0.2, 0.3, 1.0]])


def _known_var(scale: float) -> tuple[np.ndarray, np.ndarray]:
    """The test VAR(1) with its cross-variable coefficients and shock correlations multiplied by scale."""
    off = np.where(np.eye(3) > 0, 1.0, scale)
    chol = np.tril(CHOL * off)
    return COEFS * off, chol


def _simulate(coefs: np.ndarray, chol: np.ndarray, n_obs: int, rng: np.random.Generator) -> pd.DataFrame:
    shocks = rng.normal(size=(n_obs + 100, 3)) @ chol.T
    y = np.zeros((n_obs + 100, 3))
    for t in range(1, n_obs + 100):
        y[t] = 0.1 + coefs[0] @ y[t - 1] + shocks[t]
    return pd.DataFrame(y[100:], index=pd.bdate_range("2000-01-03", periods=n_obs), columns=["a", "b", "c"])


def _coverage(scale: float, n_obs: int, reps: int, spec: BandSpec) -> tuple[float, float]:
    coefs, chol = _known_var(scale)
    truth = connectedness_from_coefs(coefs, chol @ chol.T, 10).tci
    rng = np.random.default_rng(2024)
    hits = 0
    for r in range(reps):
        frame = full_sample_bands(_simulate(coefs, chol, n_obs, rng), 1, 10, dataclasses.replace(spec, seed=r))
        hits += frame.at["TCI", "lo"] <= truth <= frame.at["TCI", "hi"]
    return hits / reps, truth


@pytest.mark.slow
def test_the_90_percent_percentile_band_of_the_tci_covers_the_truth_about_90_percent_of_the_time() -> None:
    """400 samples of T = 300 from a VAR(1) with TCI = 26.6%, each with a 90% band from 199 draws.

    Tolerance: the hit count is binomial(400, 0.9) when the band is right; its standard error is
    sqrt(0.9 * 0.1 / 400) = 0.015, and 3 standard errors (0.045) leave a false alarm once in ~370 runs while
    an 80% or a 97% band (coverage 0.80 or 0.97) fails. Why a plain percentile interval is right here: with the
    TCI well inside (0, 100) and T = 300 the estimate's bias is small (the mean estimate is within 0.1 points of
    the truth), so the percentile interval, which inherits that bias twice, still centres on the truth. For a
    weakly connected system it does not (next test)."""
    coverage, truth = _coverage(1.0, 300, 400, BandSpec(0.9, 199))
    assert truth == pytest.approx(26.65, abs=0.01)  # the truth as the docstring states it, to 2 decimals
    assert abs(coverage - 0.9) <= 3 * np.sqrt(0.9 * 0.1 / 400), coverage


def test_the_bias_corrected_band_covers_a_weakly_connected_system() -> None:
    """TCI = 3.1%: the estimate is biased up (about 3.8 at T = 600: noise reads as spillover) and the plain
    percentile band covers the truth only ~78% of the time (65% at T = 300; measured with 300 replications).
    The bias-corrected band (shifted by twice the bootstrap bias) covers ~91%. 200 replications of T = 600:
    standard error 0.021, tolerance 3 of them (0.064), so a band that ignored the bias (0.78) fails."""
    coverage, truth = _coverage(0.3, 600, 200, BandSpec(0.9, 199, interval="bias_corrected"))
    assert truth == pytest.approx(3.12, abs=0.01)  # to the docstring's 2 decimals
    assert abs(coverage - 0.9) <= 3 * np.sqrt(0.9 * 0.1 / 200), coverage


# -- reproducibility and independence from how the work is cut ----------------------------------------------------
def test_seeds_reproduce_and_select_the_draws() -> None:
    data = simulate_var(200, 3, 1, seed=8)
    spec = BandSpec(0.9, 80, seed=11)
    first = full_sample_bands(data, 1, 8, spec, key="m")
    again = full_sample_bands(data, 1, 8, spec, key="m")
    assert np.array_equal(first.to_numpy(), again.to_numpy())
    other_seed = full_sample_bands(data, 1, 8, dataclasses.replace(spec, seed=12), key="m")
    other_model = full_sample_bands(data, 1, 8, spec, key="other")
    assert not np.allclose(first[["lo", "hi"]], other_seed[["lo", "hi"]])
    assert not np.allclose(first[["lo", "hi"]], other_model[["lo", "hi"]])


def test_bands_do_not_depend_on_chunk_sizes_and_a_window_only_on_its_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    data = simulate_var(260, 3, 2, seed=5)
    spec = BandSpec(0.9, 70, block_length=3.0, seed=3)
    rolling = rolling_bands(data, 2, 8, 120, spec, key="m")
    full = full_sample_bands(data, 2, 8, spec, key="m")
    monkeypatch.setattr(bands_mod, "CHUNK_ROWS", 20_000)  # many small chunks and batches instead of a few
    monkeypatch.setattr(bands_mod, "BATCH_ROWS", 3_000)
    assert len(bands_mod.rolling_job(data, 2, 8, 120, spec).chunks) > 50
    assert np.array_equal(rolling_bands(data, 2, 8, 120, spec, key="m").to_numpy(), rolling.to_numpy())
    assert np.array_equal(full_sample_bands(data, 2, 8, spec, key="m").to_numpy(), full.to_numpy())
    window = data.iloc[60:180]  # a window's band from that window's rows alone
    alone = rolling_bands(window, 2, 8, 120, spec, key="m")
    assert np.array_equal(alone.to_numpy()[0], rolling.loc[window.index[-1]].to_numpy())
    newest = rolling_bands(data, 2, 8, 120, spec, key="m", only=data.index[-3:])
    assert newest.index.equals(data.index[-3:])
    assert np.array_equal(newest.to_numpy(), rolling.iloc[-3:].to_numpy())
    some = [data.index[130], data.index[-1]]  # windows far apart: each still from its own rows and stream
    assert np.array_equal(
        rolling_bands(data, 2, 8, 120, spec, key="m", only=some).to_numpy(), rolling.loc[some].to_numpy()
    )


def test_the_stationary_bootstrap_resamples_blocks_of_the_mean_length() -> None:
    rng = np.random.default_rng(0)
    idx = bands_mod._indices(rng, 200, 400, 8.0)
    continues = np.diff(idx, axis=1) == 1
    restarts = (~continues).sum() + len(idx)  # a block starts at each break and at position 0
    assert idx.size / restarts == pytest.approx(8.0, rel=0.05)  # a continuation can also land by chance: tiny
    assert np.bincount(idx.ravel(), minlength=400).min() > 0.7 * idx.size / 400  # every row is used, ~uniformly
    iid = bands_mod._indices(np.random.default_rng(0), 200, 400, 1.0)
    assert (np.diff(iid, axis=1) == 1).mean() < 0.01  # block length 1: every row a new start


def test_bias_corrected_bands_shift_by_twice_the_bootstrap_bias() -> None:
    data = simulate_var(150, 3, 1, seed=2)
    plain = full_sample_bands(data, 1, 8, BandSpec(0.9, 100, seed=1))
    shifted = full_sample_bands(data, 1, 8, BandSpec(0.9, 100, seed=1, interval="bias_corrected"))
    job = full_sample_job(data, 1, 8, BandSpec(0.9, 100, seed=1))
    draws = np.concatenate([run_chunk(c) for c in job.chunks], axis=1)[0]
    shift = 2.0 * (draws.mean(axis=0) - plain["estimate"].to_numpy())
    expect_lo = plain["lo"].to_numpy() - shift
    nonnegative = 2 + 2 * 3
    expect_lo[:nonnegative] = np.maximum(expect_lo[:nonnegative], 0.0)
    # The same draws, shifted by the same arithmetic: only the subtraction's rounding differs.
    assert_close(shifted["lo"], expect_lo, WELL_CONDITIONED)
    assert_close(shifted["hi"], plain["hi"].to_numpy() - shift, WELL_CONDITIONED)


# -- bad input -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"level": 1.0}, "bands level must be between 0 and 1"),
        ({"level": 0.0}, "bands level must be between 0 and 1"),
        ({"draws": 0}, "draws must be a whole number of at least 1"),
        ({"draws": 2.5}, "draws must be a whole number of at least 1"),
        ({"block_length": 0.5}, "block length must be at least 1"),
        ({"seed": -1}, "seed must be a non-negative whole number"),
        ({"interval": "bca"}, "band interval must be one of percentile, bias_corrected"),
    ],
)
def test_bad_band_settings_are_clear_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(MonitorError, match=message):
        BandSpec(**kwargs)  # type: ignore[arg-type]


def test_bad_data_is_a_clear_error() -> None:
    data = simulate_var(120, 3, 1, seed=1)
    gap = data.copy()
    gap.iloc[50, 1] = np.nan
    with pytest.raises(InputDataError, match="missing value in column y2"):
        full_sample_bands(gap, 1, 8, BandSpec(draws=10))
    with pytest.raises(InputDataError, match="window 200 is longer than the data"):
        rolling_bands(data, 1, 8, 200, BandSpec(draws=10))
    with pytest.raises(InputDataError, match="horizon must be a positive integer"):
        full_sample_bands(data, 1, 0, BandSpec(draws=10))


# -- in the stored model results -------------------------------------------------------------------------------
SPEC = ModelSpec(
    "market_daily",
    "D",
    tuple(VariableSpec(f"y{i}") for i in (1, 2, 3)),
    lags=1,
    horizon=8,
    window=80,
    bands=BandSpec(0.9, 40, seed=5),
)


def _panel(n: int) -> Panel:
    frame = simulate_var(n_obs=300, n_vars=3, lags=1, seed=13).iloc[:n]
    return Panel(frame=frame, as_of=frame.index[-1], freq="D")


def _stored(result: ModelResult) -> ModelResult:
    return ModelResult.from_dict(json.loads(json.dumps(result.to_dict())))


def test_estimate_stores_bands_and_extends_them_with_the_new_windows_only(monkeypatch: pytest.MonkeyPatch) -> None:
    first = estimate(SPEC, _panel(200))
    assert first.rolling is not None and first.bands is not None
    assert first.rolling.columns.tolist()[-len(band_columns(SPEC.names)) :] == band_columns(SPEC.names)
    assert first.bootstrap == {**SPEC.bands.settings(), "draw_block": 50}  # type: ignore[union-attr]
    alone = rolling_bands(_panel(200).frame, 1, 8, 80, SPEC.bands, key=SPEC.name)  # type: ignore[arg-type]
    assert np.array_equal(first.rolling[band_columns(SPEC.names)].to_numpy(), alone.to_numpy())
    assert np.array_equal(
        first.bands.to_numpy(),
        full_sample_bands(_panel(200).frame, 1, 8, SPEC.bands, key=SPEC.name).to_numpy(),  # type: ignore[arg-type]
    )

    back = _stored(first)  # the JSON round trip of the store keeps every band
    assert back.bootstrap == first.bootstrap
    np.testing.assert_array_equal(back.bands.to_numpy(), first.bands.to_numpy())  # type: ignore[union-attr]
    assert back.bands.index.tolist() == first.bands.index.tolist()  # type: ignore[union-attr]
    np.testing.assert_array_equal(back.rolling.to_numpy(), first.rolling.to_numpy())  # type: ignore[union-attr]

    calls: list[int] = []
    real = bands_mod.run_chunk

    def counting(chunk: bands_mod.BandChunk) -> np.ndarray:
        calls.append(len(chunk.starts))
        return real(chunk)

    monkeypatch.setattr(bands_mod, "run_chunk", counting)
    second = estimate(SPEC, _panel(203), previous=back)
    assert calls == [1, 3]  # the full sample, then the three new windows and no other
    full = estimate(SPEC, _panel(203))
    cols = band_columns(SPEC.names)
    assert np.array_equal(second.rolling[cols].to_numpy(), full.rolling[cols].to_numpy())  # type: ignore[index]
    assert_close(second.rolling.to_numpy(), full.rolling.to_numpy(), WELL_CONDITIONED)  # type: ignore[union-attr]
    assert not any("recomputed" in n for n in second.notes)

    calls.clear()
    other = dataclasses.replace(SPEC, bands=dataclasses.replace(SPEC.bands, seed=6))  # type: ignore[type-var]
    third = estimate(other, _panel(203), previous=back)  # other settings: every window's band again
    assert calls == [1, 124]
    assert third.bootstrap["seed"] == 6


def test_a_revised_tail_recomputes_the_bands_of_the_windows_that_hold_it(monkeypatch: pytest.MonkeyPatch) -> None:
    back = _stored(estimate(SPEC, _panel(200)))
    revised = _panel(201)
    revised.frame.iloc[197:200, 0] += 0.5  # yesterday's last three rows change (a forward-filled tail replaced)
    calls: list[int] = []
    real = bands_mod.run_chunk

    def counting(chunk: bands_mod.BandChunk) -> np.ndarray:
        calls.append(len(chunk.starts))
        return real(chunk)

    monkeypatch.setattr(bands_mod, "run_chunk", counting)
    second = estimate(SPEC, revised, previous=back)
    assert calls == [1, 4]  # the full sample, then the windows ending at rows 197..199 and the new one at 200
    assert second.extra["rolling_update"]["recomputed"] == 4
    full = estimate(SPEC, revised)
    cols = band_columns(SPEC.names)
    assert np.array_equal(second.rolling[cols].to_numpy(), full.rolling[cols].to_numpy())  # type: ignore[index]
    assert_close(second.rolling.to_numpy(), full.rolling.to_numpy(), WELL_CONDITIONED)  # type: ignore[union-attr]
    assert not np.array_equal(second.rolling[cols].iloc[-4:-1], back.rolling[cols].iloc[-3:])  # type: ignore[index]


def test_a_model_without_bands_stores_none() -> None:
    result = estimate(dataclasses.replace(SPEC, bands=None), _panel(120))
    assert result.bands is None and result.bootstrap == {}
    assert not any(c.endswith("_lo") for c in result.rolling.columns)  # type: ignore[union-attr]
    assert ModelResult.from_dict(result.to_dict()).bands is None


def test_the_chunk_plan_covers_every_window_once_and_grows_with_the_draws() -> None:
    data = simulate_var(3000, 3, 1, seed=3)
    small = bands_mod.rolling_job(data, 1, 8, 250, BandSpec(draws=50))
    large = bands_mod.rolling_job(data, 1, 8, 250, BandSpec(draws=500))
    for job in (small, large):
        ends = [c.keys for c in job.chunks]
        flat = [k for keys in ends for k in keys]
        assert flat == [d.toordinal() for d in data.index[249:]]  # in order, each window once
        assert all(c.blocks == (0, 10 if job is large else 1) for c in job.chunks)
    assert len(large.chunks) > len(small.chunks) > 1


def test_an_explosive_var_gets_nan_bands_and_a_note() -> None:
    """Paths simulated from an estimated VAR with a root outside the unit circle explode: no band, said so."""
    rng = np.random.default_rng(3)
    y = np.zeros((150, 2))
    for t in range(1, 150):
        y[t] = np.array([[1.04, 0.0], [0.1, 0.5]]) @ y[t - 1] + rng.normal(size=2)
    data = pd.DataFrame(y, index=pd.bdate_range("2020-01-01", periods=150), columns=["a", "b"])
    from monitor.models.var import _companion_max_root

    coefs = VAR(y).fit(1).coefs
    assert _companion_max_root(coefs) > 1.0
    slopes = np.swapaxes(coefs, -1, -2).reshape(1, 2, 2)
    assert bands_mod._max_root(slopes, 2, 1)[0] == pytest.approx(_companion_max_root(coefs))
    frame = full_sample_bands(data, 1, 8, BandSpec(0.9, 20))
    assert frame[["lo", "hi"]].isna().all().all() and frame["estimate"].notna().all()
    spec = ModelSpec("x", "D", (VariableSpec("a"), VariableSpec("b")), lags=1, horizon=8, bands=BandSpec(0.9, 20))
    result = estimate(spec, Panel(frame=data, as_of=data.index[-1], freq="D"))
    assert any(
        n.startswith("no bootstrap bands for the full sample: its simulated paths would explode") for n in result.notes
    )


def test_max_root_of_a_var2_matches_the_companion_eigenvalues() -> None:
    from monitor.models.var import _companion_max_root

    rng = np.random.default_rng(5)
    coefs = rng.normal(scale=0.3, size=(2, 3, 3))
    slopes = np.swapaxes(coefs, -1, -2).reshape(1, 6, 3)
    assert bands_mod._max_root(slopes, 3, 2)[0] == pytest.approx(_companion_max_root(coefs), rel=1e-12)
