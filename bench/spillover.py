"""Benchmark: the rolling connectedness engine against the obvious per-window statsmodels loop, in one run.

Simulated stable VAR(2), T = 5000, N = 6, H = 10, W = 250 (4751 windows). Prints the speed-up of the full rolling
computation, the largest absolute difference between the two (percentage points, over every table entry of every
window), and the cost of a one-day incremental update as a fraction of the full recompute.

    python bench/spillover.py [--windows-baseline K]   (K < 4751 times the baseline on the first K windows and
                                                         scales it; default: all windows)

The engine runs the compiled kernel when numba is installed (the `fast` extra), else numpy; MONITOR_KERNEL=numpy
in the environment measures the numpy kernel. The median of 5 runs is not moved by the first call's one-off load
of the compiled kernel from the disk cache.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.tsa.vector_ar.var_model import VAR

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout, not an installed copy

from simdata import stable_var  # bench/ is the script's own folder, first on sys.path

from monitor.models.fused import enabled as compiled_kernel
from monitor.models.rolling import window_tables
from monitor.models.spillover import rolling_connectedness, update_rolling

T, N, P, H, W = 5000, 6, 2, 10, 250


def simulate(seed: int = 20240601) -> pd.DataFrame:
    return stable_var(T, N, P, scale=0.18, intercept=0.1, seed=seed, start="2005-01-03")


def gfevd_loop(coefs: np.ndarray, sigma: np.ndarray, horizon: int) -> np.ndarray:
    """The textbook generalized FEVD of one VAR, in percent (rows receive)."""
    p, n, _ = coefs.shape
    ma = [np.eye(n)]
    for h in range(1, horizon):
        ma.append(sum(coefs[lag - 1] @ ma[h - lag] for lag in range(1, min(h, p) + 1)))
    num = np.zeros((n, n))
    for a in ma:
        num += (a @ sigma) ** 2
    num /= np.diag(sigma)[None, :]
    return 100.0 * num / num.sum(axis=1, keepdims=True)


def baseline(data: pd.DataFrame, n_windows: int) -> np.ndarray:
    values = data.to_numpy()
    out = np.empty((n_windows, N, N))
    for s in range(n_windows):
        res = VAR(values[s : s + W]).fit(P)
        out[s] = gfevd_loop(res.coefs, res.sigma_u, H)
    return out


def matmul_gflops() -> float:
    """Calibration: this machine's float64 matmul rate now (GFLOP/s, best of 5), to tell load from a slow build."""
    a = np.random.default_rng(0).random((512, 512))
    best = min(timed(lambda: a @ a, 1)[0] for _ in range(5))
    return 2 * 512**3 / best / 1e9


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--windows-baseline", type=int, default=None)
    args = parser.parse_args()
    data = simulate()
    gflops = matmul_gflops()
    n_windows = T - W + 1
    k = min(args.windows_baseline or n_windows, n_windows)

    t_ours, frame = timed(lambda: rolling_connectedness(data, P, H, W), repeat=5)
    assert isinstance(frame, pd.DataFrame) and len(frame) == n_windows
    t_base, base = timed(lambda: baseline(data, k), repeat=1)
    t_base_full = t_base * n_windows / k
    names = tuple(data.columns)
    ends = data.index[W - 1 :]
    ours = window_tables(data.to_numpy(), names, ends, P, H, W)
    diff = float(np.max(np.abs(ours[:k] - np.asarray(base))))

    previous = rolling_connectedness(data.iloc[:-1], P, H, W)
    t_inc, new = timed(lambda: update_rolling(previous, data, P, H, W), repeat=200)
    t_inc_append, combined = timed(lambda: rolling_connectedness(data, P, H, W, previous=previous), repeat=50)
    assert isinstance(new, pd.DataFrame) and len(new) == 1
    assert isinstance(combined, pd.DataFrame)
    inc_diff = float(np.max(np.abs(combined.to_numpy() - frame.to_numpy())))

    print(f"simulated VAR({P}): T = {T}, N = {N}, H = {H}, W = {W} ({n_windows} windows)")
    print(f"machine: float64 matmul {gflops:.1f} GFLOP/s before, {matmul_gflops():.1f} after")
    kernel = "numba" if compiled_kernel() else "numpy"
    print(f"rolling engine (full):        {t_ours * 1e3:9.1f} ms  (median of 5, {kernel} kernel)")
    scaled = "" if k == n_windows else f"  (timed on {k} windows, scaled)"
    print(f"statsmodels loop (full):      {t_base_full * 1e3:9.1f} ms{scaled}")
    print(f"speed-up:                     {t_base_full / t_ours:9.1f}x")
    print(f"largest |difference|:         {diff:9.2e} percentage points (all table entries, {k} windows)")
    print(
        f"one-day incremental update:   {t_inc * 1e3:9.3f} ms = {100 * t_inc / t_ours:.2f}% of the full recompute "
        "(update_rolling: only the new window; the stored frame gets one row appended)"
    )
    print(
        f"  as a whole new frame:       {t_inc_append * 1e3:9.3f} ms (rolling_connectedness(previous=...), which also "
        f"copies the {len(previous)} stored rows); largest |difference| from the full recompute {inc_diff:.2e}"
    )


if __name__ == "__main__":
    main()
