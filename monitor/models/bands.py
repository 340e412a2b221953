"""Bootstrap confidence bands for the connectedness measures (TCI, cTCI, TO, FROM, NET and net pairwise NPDC).

The bootstrap (residual-based, recursive design; Kilian 1998, without bias correction):
1. Fit the VAR(p) with a constant by OLS on the sample (a window, or the full sample): intercept c, slopes
   Phi_1..Phi_p, residuals u_t (t = p..T-1).
2. Resample the residual rows, whole rows so that their contemporaneous covariance is kept: iid (every row drawn
   uniformly with replacement) or, for serially dependent residuals, the stationary bootstrap of Politis & Romano
   (1994): blocks of consecutive rows with geometric lengths of mean `block_length`, wrapping around the end.
3. Rebuild the series recursively from the estimated VAR, y*_t = c + sum_l Phi_l y*_{t-l} + u*_t, with the first p
   observations fixed at their sample values; re-estimate the VAR(p) on y*; recompute the decomposition (same
   horizon, generalized or orthogonal) and its measures.
4. The band at level a is the percentile interval: the (1-a)/2 and (1+a)/2 quantiles of the draws (linear
   interpolation between order statistics). It is marginal, per measure and per date. With
   interval = "bias_corrected" it is shifted down by twice the bootstrap estimate of the bias (mean of the draws
   minus the estimate; shares clipped at 0): the estimates of a weakly connected system are biased up (noise
   reads as spillover), the draws again, so the plain percentile band sits about two biases above the truth
   (tests/monitor/models/test_bands.py measures the coverage of both).
A VAR that is not stable (a root on or outside the unit circle) cannot be bootstrapped this way (its simulated
paths explode): its band is NaN, and `monitor.models.estimate` says so in the result's notes.

Rolling bands: each window gets its own bootstrap from its own VAR and its own residuals. That is what the band
must describe: the estimation noise of that window's measure under that window's model (the reason to roll is that
the model changes). Generating one long pseudo-series from a full-sample VAR and rolling over it would be cheaper
(one sliding pass per draw) but describes the wrong model: a constant-parameter DGP, whose bands would not follow
the windows. The per-window bootstrap costs draws x windows small regressions, batched: all draws of a block of
windows are simulated together (one matmul per time step across windows and draws) and re-estimated together
(one batched cross-product, solve and decomposition), so the Python overhead is per time step and per chunk, not
per regression. With numba installed (the `fast` extra), the compiled kernel (monitor.models.fused) does a
window's draws of a block in one pass instead, its paths side by side as vector lanes, from the same streams (the
numpy kernel gives the same draws to rounding). Each window's data and VAR are taken from its own rows
(standardised per window, which changes nothing: the decompositions are invariant to rescaling a variable), so a
window's band depends on its own rows only: an incremental update computes the bands of the new windows alone and
gets what a full recompute would.

Randomness and reproducibility: the residual indices of window w, draws j*DRAW_BLOCK .. (j+1)*DRAW_BLOCK - 1, come
from their own stream, `SeedSequence(seed, spawn_key=(model, kind, w, j))` with w the window's last date (its
proleptic ordinal) and model a checksum of the model's name. The streams depend on what is bootstrapped, never on
how the work is cut or run, so the bands are the same whatever the chunk sizes, backend or number of workers, and
a window keeps its band from one daily run to the next.

Chunks: a rolling chunk is a block of consecutive windows with all their draws and returns just their percentiles
(small to send back); a full-sample chunk is a run of draw blocks and returns its draws, whose percentiles are
taken once all are back. Chunk sizes come from the work (about CHUNK_ROWS simulated rows each, ~1 s), never from
the backend.
"""

from __future__ import annotations

import contextlib
import warnings
import zlib
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from monitor.compute import Compute, Part, Runner
from monitor.errors import InputDataError
from monitor.models import fused
from monitor.models.data import check_frame
from monitor.models.fevd import fevd_shares, measures
from monitor.models.rolling import frame_columns, upper_pairs, var_from_moments
from monitor.spec import BandSpec

__all__ = [
    "BandJob",
    "band_columns",
    "band_measures",
    "band_settings",
    "full_sample_bands",
    "full_sample_job",
    "rolling_bands",
    "rolling_job",
    "run_jobs",
]

DRAW_BLOCK = 50  # draws per random stream: part of what the draws depend on (like the seed), so never change it
CHUNK_ROWS = 2_500_000  # simulated regression rows (windows x draws x rows) per chunk: ~1 s of work
# Simulated regression rows held in memory at once inside a chunk: ~2.5 MB per array for N = 6, so that two
# workers' working sets stay in the shared cache (larger batches gain nothing on one core, and lose on two).
BATCH_ROWS = 50_000  # (the compiled kernel takes one window at a time: it holds that window's paths only)
FULL, ROLLING = 0, 1  # stream kinds: a full sample and a rolling window ending on the same date draw differently


# -- what is banded ------------------------------------------------------------------------------------------------
def band_measures(names: Sequence[str]) -> list[str]:
    """The banded measures, in the rolling frame's order: TCI, cTCI, TO_, FROM_, NET_ and NPDC_ (not NPT_, a count)."""
    return [c for c in frame_columns(names) if not c.startswith("NPT_")]


def band_columns(names: Sequence[str]) -> list[str]:
    """The rolling frame's band columns: <measure>_lo, <measure>_hi for each banded measure."""
    return [f"{c}{s}" for c in band_measures(names) for s in ("_lo", "_hi")]


def _measure_vectors(tables: np.ndarray) -> np.ndarray:
    """Percent tables (..., N, N) -> measures (..., M) in `band_measures` order."""
    n = tables.shape[-1]
    m = measures(tables)
    iu, ju = upper_pairs(n)
    return np.concatenate(
        [m.tci[..., None], m.ctci[..., None], m.to, m.from_, m.net, m.npdc[..., iu, ju]],
        axis=-1,
    )


def _quantiles(level: float) -> tuple[float, float]:
    return (1.0 - level) / 2.0, (1.0 + level) / 2.0


# -- one chunk -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BandChunk:
    """Independent work: the windows starting at `starts` (rows of `values`, each `window` rows long), draw blocks
    blocks[0] .. blocks[1] - 1. `keys` are the windows' stream keys; `stream` = (model checksum, kind)."""

    values: np.ndarray | Part
    starts: tuple[int, ...]
    keys: tuple[int, ...]
    window: int
    lags: int
    horizon: int
    orthogonal: bool
    spec: BandSpec
    stream: tuple[int, int]
    blocks: tuple[int, int]
    reduce: bool  # True: return the bands (K, 2, M) from all draws; False: the draws (K, draws, M)


def _moments(y: np.ndarray, lags: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums (B, D) and cross-products (B, D, D) of the rows z_t = (y_{t-1}, ..., y_{t-p}, y_t), t = p..T-1, of each
    path of y, time-major (T, B, N), D = N (p + 1): one batched product per pair of lags on views of y (faster than
    building the rows, and than a path-major copy)."""
    t, b, n = y.shape
    d = n * (lags + 1)
    views = [y[lags - lag : t - lag] for lag in (*range(1, lags + 1), 0)]  # the column blocks of z, in order
    sums = np.empty((b, d))
    cross = np.empty((b, d, d))
    for i, vi in enumerate(views):
        sums[:, i * n : (i + 1) * n] = vi.sum(axis=0)
        left = vi.transpose(1, 2, 0)
        for j in range(i, len(views)):
            block = left @ views[j].transpose(1, 0, 2)
            cross[:, i * n : (i + 1) * n, j * n : (j + 1) * n] = block
            if j != i:
                cross[:, j * n : (j + 1) * n, i * n : (i + 1) * n] = np.swapaxes(block, -1, -2)
    return sums, cross


def _fit(y: np.ndarray, lags: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """OLS VAR(p) with a constant of each path of y, time-major (T, B, N): coefs (B, p, N, N), sigma (B, N, N),
    slopes (B, Np, N) (row = regressor (lag, variable), column = equation) and intercepts (B, N)."""
    n = y.shape[-1]
    length = y.shape[0] - lags
    sums, cross = _moments(y, lags)
    try:
        coefs, sigma = var_from_moments(sums, cross, length, n, lags)
    except np.linalg.LinAlgError:  # some path's regressors are collinear: that path alone becomes NaN
        coefs, sigma = np.full((len(sums), lags, n, n), np.nan), np.full((len(sums), n, n), np.nan)
        for b in range(len(sums)):
            with contextlib.suppress(np.linalg.LinAlgError):
                coefs[b], sigma[b] = (
                    a[0] for a in var_from_moments(sums[b : b + 1], cross[b : b + 1], length, n, lags)
                )
    slopes = np.swapaxes(coefs, -1, -2).reshape(-1, lags * n, n)
    means = sums / length
    intercept = means[:, lags * n :] - np.einsum("bk,bkn->bn", means[:, : lags * n], slopes)
    return coefs, sigma, slopes, intercept


def _tables(coefs: np.ndarray, sigma: np.ndarray, horizon: int, orthogonal: bool) -> np.ndarray:
    """Percent tables of many VARs; a degenerate one (singular, not positive definite) gives NaN, not an error."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        try:
            return 100.0 * fevd_shares(coefs, sigma, horizon, orthogonal=orthogonal)
        except np.linalg.LinAlgError:
            out = np.full(sigma.shape, np.nan)
            for b in range(len(sigma)):
                with contextlib.suppress(np.linalg.LinAlgError):
                    out[b] = 100.0 * fevd_shares(coefs[b : b + 1], sigma[b : b + 1], horizon, orthogonal=orthogonal)[0]
            return out


def _indices(rng: np.random.Generator, draws: int, length: int, block_length: float | None) -> np.ndarray:
    """Residual row indices (draws, length): iid, or the Politis-Romano stationary bootstrap (a block restarts at a
    uniform row with probability 1 / block_length, otherwise continues with the next row, wrapping around)."""
    if block_length is None:
        return rng.integers(0, length, size=(draws, length))
    starts = rng.integers(0, length, size=(draws, length))
    restart = rng.random((draws, length)) < 1.0 / block_length
    restart[:, 0] = True
    pos = np.arange(length)
    last = np.maximum.accumulate(np.where(restart, pos, 0), axis=1)
    return (np.take_along_axis(starts, last, axis=1) + pos - last) % length  # type: ignore[no-any-return]


def _max_root(slopes: np.ndarray, n: int, lags: int) -> np.ndarray:
    """Largest modulus of the companion matrix's eigenvalues of each VAR (K,); NaN coefficients give NaN."""
    k = len(slopes)
    companion = np.zeros((k, n * lags, n * lags))
    companion[:, :n] = np.swapaxes(slopes, -1, -2)  # row i: equation i, columns (lag, variable)
    companion[:, n:, :-n] = np.eye(n * (lags - 1))
    bad = ~np.isfinite(companion).all(axis=(1, 2))
    companion[bad] = 0.0
    roots = np.abs(np.linalg.eigvals(companion)).max(axis=-1)
    roots[bad] = np.nan
    return roots  # type: ignore[no-any-return]


def _stream(chunk: BandChunk, window_key: int, block: int) -> np.random.Generator:
    """The random stream of one window's draw block (see the module docstring)."""
    seq = np.random.SeedSequence(chunk.spec.seed, spawn_key=(*chunk.stream, window_key, block))
    return np.random.Generator(np.random.PCG64(seq))


def _draw_count(spec: BandSpec, block: int) -> int:
    return min(DRAW_BLOCK, spec.draws - block * DRAW_BLOCK)


def run_chunk(chunk: BandChunk) -> np.ndarray:
    """The bootstrap measures of one chunk (see BandChunk.reduce for the shape)."""
    p, w = chunk.lags, chunk.window
    # C order whatever the caller's layout: a pickled chunk arrives C-ordered, and the order of a reduction's terms
    # (so its last bits) follows the memory layout; identical layouts give identical bits on every backend.
    values = np.ascontiguousarray(chunk.values)
    windows = np.stack([values[s : s + w] for s in chunk.starts])  # (K, W, N)
    k_all, _, n = windows.shape
    length = w - p
    mean = windows.mean(axis=1, keepdims=True)
    scale = windows.std(axis=1, keepdims=True)
    z = (windows - mean) / np.where(scale > 0, scale, 1.0)
    coefs, sigma, slopes, intercept = _fit(z.transpose(1, 0, 2), p)
    resid = z[:, p:] - intercept[:, None, :]  # (K, L, N): y_t - c - sum_l Phi_l y_{t-l}
    for lag in range(1, p + 1):
        resid -= z[:, p - lag : w - lag] @ slopes[:, (lag - 1) * n : lag * n]
    # A VAR that is not stable (a root on or outside the unit circle, e.g. a window ending in an outlier) has no
    # bootstrap: its simulated paths explode. Those windows get NaN bands; a zero VAR keeps their arithmetic quiet.
    unstable = ~(_max_root(slopes, n, p) < 1.0)
    slopes = np.where(unstable[:, None, None], 0.0, slopes)

    first, last = chunk.blocks
    total = sum(_draw_count(chunk.spec, j) for j in range(first, last))
    out = np.empty((k_all, total, 2 + 3 * n + n * (n - 1) // 2))  # the banded measures, see band_measures
    col = 0
    compiled = fused.enabled()
    for j in range(first, last):
        b = _draw_count(chunk.spec, j)
        if compiled:  # the compiled kernel: window by window, straight from each stream (no batch to stack)
            tables = np.empty((k_all, b, n, n))
            for kk, key in enumerate(chunk.keys):
                idx = _indices(_stream(chunk, key, j), b, length, chunk.spec.block_length)
                one = slice(kk, kk + 1)
                fused.bootstrap_shares(
                    z[one],
                    resid[one],
                    slopes[one],
                    intercept[one],
                    idx[None],
                    p,
                    chunk.horizon,
                    chunk.orthogonal,
                    out=tables[one],
                )
            out[:, col : col + b] = _measure_vectors(_drop_broken(100.0 * tables))
            col += b
            continue
        per_batch = max(1, BATCH_ROWS // (b * length))
        for k0 in range(0, k_all, per_batch):
            sl = slice(k0, min(k0 + per_batch, k_all))
            keys = chunk.keys[sl]
            idx = np.stack([_indices(_stream(chunk, key, j), b, length, chunk.spec.block_length) for key in keys])
            out[sl, col : col + b] = _simulate_and_measure(z[sl], resid[sl], slopes[sl], intercept[sl], idx, chunk)
        col += b
    out[unstable] = np.nan
    if not chunk.reduce:
        return out
    point = _measure_vectors(_tables(coefs, sigma, chunk.horizon, chunk.orthogonal))  # (K, M)
    return np.stack(_interval(out, point, chunk.spec, n), axis=1)


def _interval(draws: np.ndarray, point: np.ndarray, spec: BandSpec, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The band (lo, hi) of draws (..., B, M) around point estimates (..., M); draws of degenerate VARs (NaN) are
    left out, and a measure without a valid draw gets NaN."""
    q = _quantiles(spec.level)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "All-NaN slice": that measure's band is NaN, as documented
        if np.isfinite(draws).all():
            lo, hi = np.quantile(draws, q, axis=-2)
            mean = draws.mean(axis=-2)
        else:
            clean = np.where(np.isfinite(draws), draws, np.nan)
            lo, hi = np.nanquantile(clean, q, axis=-2)
            mean = np.nanmean(clean, axis=-2)
    if spec.interval == "percentile":
        return lo, hi
    # bias_corrected: the draws' mean exceeds the estimate by about the estimate's own bias, so the percentile
    # interval sits about twice the bias away from the truth; shift it back by twice the bootstrap bias.
    shift = 2.0 * (mean - point)
    lo, hi = lo - shift, hi - shift
    nonnegative = slice(0, 2 + 2 * n)  # TCI, cTCI, TO_*, FROM_* are shares: never below 0
    lo[..., nonnegative] = np.maximum(lo[..., nonnegative], 0.0)
    hi[..., nonnegative] = np.maximum(hi[..., nonnegative], 0.0)
    return lo, hi


def _simulate_and_measure(
    z: np.ndarray,
    resid: np.ndarray,
    slopes: np.ndarray,
    intercept: np.ndarray,
    idx: np.ndarray,
    chunk: BandChunk,
) -> np.ndarray:
    """Rebuild b pseudo-samples per window from its VAR and resampled residuals, refit, measure: (K, b, M)."""
    k, b, length = idx.shape
    n, p = z.shape[-1], chunk.lags
    # Time-major while simulating, so that each step reads and writes contiguous (K, b, N) slices.
    rows = (idx + (np.arange(k) * length)[:, None, None]).transpose(2, 0, 1)  # (L, K, b) into resid's rows
    shocks = resid.reshape(k * length, n)[rows]
    shocks += intercept[:, None, :]
    y = np.empty((length + p, k, b, n))
    y[:p] = z[:, :p].transpose(1, 0, 2)[:, :, None, :]
    phis = [np.ascontiguousarray(slopes[:, lag * n : (lag + 1) * n]) for lag in range(p)]  # (K, N, N), transposed
    for t in range(p, length + p):
        step = np.matmul(y[t - 1], phis[0], out=y[t])
        for lag in range(2, p + 1):
            step += y[t - lag] @ phis[lag - 1]
        step += shocks[t - p]
    coefs, sigma, _, _ = _fit(y.reshape(length + p, k * b, n), p)
    tables = _tables(coefs, sigma, chunk.horizon, chunk.orthogonal)
    return _measure_vectors(_drop_broken(tables)).reshape(k, b, -1)


def _drop_broken(tables: np.ndarray) -> np.ndarray:
    """Shares lie in [0, 100] by construction; outside it (or NaN), the refit broke down numerically: that draw's
    table becomes NaN."""
    with np.errstate(invalid="ignore"):
        broken = ~((tables >= -1e-6) & (tables <= 100.0 + 1e-6)).all(axis=(-2, -1))
    tables[broken] = np.nan
    return tables


# -- planning and assembly -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BandJob:
    """The chunks of one band computation and how to assemble their outputs (in chunk order) into its frame."""

    chunks: tuple[BandChunk, ...]
    finish: Callable[[list[np.ndarray]], pd.DataFrame]


def run_jobs(jobs: Sequence[BandJob], compute: Runner | None = None) -> list[pd.DataFrame]:
    """Run the chunks of every job in one `map` (so that many models share the workers), then assemble each."""
    chunks = [c for job in jobs for c in job.chunks]
    outputs = (compute or Compute()).map(run_chunk, chunks)
    frames, pos = [], 0
    for job in jobs:
        frames.append(job.finish(outputs[pos : pos + len(job.chunks)]))
        pos += len(job.chunks)
    return frames


def _model_key(key: str) -> int:
    return zlib.crc32(key.encode())


def _window_key(label: Hashable, pos: int) -> int:
    """A window's stream key: its last date's ordinal (stable as the data grow), else its position."""
    if isinstance(label, pd.Timestamp | np.datetime64):
        return int(pd.Timestamp(label).toordinal())
    return pos


def _check(data: pd.DataFrame, lags: int, horizon: int, spec: BandSpec, window: int | None) -> np.ndarray:
    if not isinstance(spec, BandSpec):
        raise InputDataError(f"bands must be a BandSpec, got {type(spec).__name__}")
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise InputDataError(f"horizon must be a positive integer (number of MA terms), got {horizon!r}")
    values, _ = check_frame(data, lags, window=window)
    return values


def band_settings(spec: BandSpec) -> dict[str, float | int | str | None]:
    """What a band depends on besides the data and the model (stored with results, compared before reuse)."""
    return {**spec.settings(), "draw_block": DRAW_BLOCK}


def full_sample_job(
    data: pd.DataFrame,
    lags: int,
    horizon: int,
    spec: BandSpec,
    *,
    orthogonal: bool = False,
    key: str = "",
    estimate: pd.Series | None = None,
) -> BandJob:
    """Plan the full-sample bands of `data` (see `full_sample_bands`). estimate: the point measures, indexed by
    measure name, for the frame's `estimate` column (None: computed here)."""
    values = _check(data, lags, horizon, spec, None)
    names = tuple(str(c) for c in data.columns)
    t = len(values)
    blocks = -(-spec.draws // DRAW_BLOCK)
    per_chunk = max(1, CHUNK_ROWS // (DRAW_BLOCK * (t - lags)))
    wkey = _window_key(data.index[-1], t - 1)
    chunks = tuple(
        BandChunk(
            values=Part(values, 0, t),
            starts=(0,),
            keys=(wkey,),
            window=t,
            lags=lags,
            horizon=horizon,
            orthogonal=orthogonal,
            spec=spec,
            stream=(_model_key(key), FULL),
            blocks=(j, min(j + per_chunk, blocks)),
            reduce=False,
        )
        for j in range(0, blocks, per_chunk)
    )
    if estimate is None:
        from monitor.models.spillover import connectedness

        table = connectedness(data, lags, horizon, orthogonal=orthogonal)
        point = _measure_vectors(table.matrix[None])[0]
    else:
        point = estimate.reindex(band_measures(names)).to_numpy(dtype=float)

    def finish(outputs: list[np.ndarray]) -> pd.DataFrame:
        lo, hi = _interval(np.concatenate(outputs, axis=1)[0], point, spec, len(names))
        frame = pd.DataFrame({"estimate": point, "lo": lo, "hi": hi}, index=pd.Index(band_measures(names)))
        frame.index.name = "measure"
        frame.attrs.update(band_settings(spec))
        return frame

    return BandJob(chunks, finish)


def full_sample_bands(
    data: pd.DataFrame,
    lags: int,
    horizon: int,
    spec: BandSpec,
    *,
    orthogonal: bool = False,
    compute: Runner | None = None,
    key: str = "",
) -> pd.DataFrame:
    """Bootstrap bands of the full-sample measures of a VAR(lags) with a constant on every row of `data`.

    Returns a frame indexed by measure (TCI, cTCI, TO_<v>, FROM_<v>, NET_<v>, NPDC_<vi>_<vj>) with columns
    estimate, lo, hi; its attrs hold the settings. key: the model's name (it selects the random streams, so two
    models with the same seed still get independent draws). compute: the backend for the chunks (default serial).
    """
    return run_jobs([full_sample_job(data, lags, horizon, spec, orthogonal=orthogonal, key=key)], compute)[0]


def rolling_job(
    data: pd.DataFrame,
    lags: int,
    horizon: int,
    window: int,
    spec: BandSpec,
    *,
    orthogonal: bool = False,
    key: str = "",
    only: Sequence[Hashable] | None = None,
) -> BandJob:
    """Plan the rolling bands of `data` (see `rolling_bands`)."""
    values = _check(data, lags, horizon, spec, window)
    names = tuple(str(c) for c in data.columns)
    starts = np.arange(len(values) - window + 1)
    if only is not None:  # the windows ending at those labels
        starts = starts[data.index[window - 1 :].isin(only)]
    ends = data.index[starts + window - 1]
    blocks = -(-spec.draws // DRAW_BLOCK)
    per_chunk = max(1, CHUNK_ROWS // (spec.draws * (window - lags)))
    chunks = []
    for c0 in range(0, len(starts), per_chunk):
        s = starts[c0 : c0 + per_chunk]
        chunks.append(
            BandChunk(
                values=Part(values, int(s[0]), int(s[-1]) + window),  # on Dask: the market's rows sent once
                starts=tuple(int(v - s[0]) for v in s),
                keys=tuple(_window_key(ends[c0 + i], int(v) + window - 1) for i, v in enumerate(s)),
                window=window,
                lags=lags,
                horizon=horizon,
                orthogonal=orthogonal,
                spec=spec,
                stream=(_model_key(key), ROLLING),
                blocks=(0, blocks),
                reduce=True,
            )
        )
    columns = band_columns(names)

    def finish(outputs: list[np.ndarray]) -> pd.DataFrame:
        m = len(band_measures(names))
        bands = np.concatenate(outputs, axis=0) if outputs else np.empty((0, 2, m))
        # (nw, 2, M) -> columns m0_lo, m0_hi, m1_lo, ...
        frame = pd.DataFrame(np.swapaxes(bands, 1, 2).reshape(len(bands), 2 * m), index=ends, columns=columns)
        frame.attrs.update(band_settings(spec))
        return frame

    return BandJob(tuple(chunks), finish)


def rolling_bands(
    data: pd.DataFrame,
    lags: int,
    horizon: int,
    window: int,
    spec: BandSpec,
    *,
    orthogonal: bool = False,
    compute: Runner | None = None,
    key: str = "",
    only: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """Bootstrap bands of the rolling measures: for each window of `window` rows (dated at its last row), the
    percentile interval of each measure from its own VAR's bootstrap. Columns `<measure>_lo`, `<measure>_hi` for
    TCI, cTCI, TO_*, FROM_*, NET_*, NPDC_* (see `band_columns`), to be joined to `rolling_connectedness`'s frame.

    only: just the windows ending at these index labels (an incremental update; the others are unchanged).
    key: the model's name (selects the random streams). A window whose bootstrap VARs are all degenerate (a
    column constant inside it) gets NaN bands.
    """
    job = rolling_job(data, lags, horizon, window, spec, orthogonal=orthogonal, key=key, only=only)
    return run_jobs([job], compute)[0]
