"""Benchmark: the model kernels of this checkout against a baseline commit, in one run, with the results compared.

    python bench/models.py --baseline COMMIT [--repeat N]

Three workloads on simulated data (bench/simdata.py), each timed best of N in a fresh process per checkout (same
venv, the checkout first on PYTHONPATH), the checkouts interleaved so that a shared machine's load hits both:

- rolling: window_tables over every window, T = 5000, N = 6, p = 2, H = 10, W = 250 (4,751 windows);
- bootstrap: rolling_bands on 60 windows x 200 draws (12,000 bootstrap regressions and decompositions), reported
  as regressions per second;
- tvp: tvp_var, T = 1500, N = 6, p = 2 (the Kalman filter), reported per step.

Each process also saves its results; the largest difference between the checkouts, relative to the size of the
results, is printed (identical to rounding: below 1e-10). The calibration line is one core's float64 matmul rate.
The rolling engine's ratio to the per-window statsmodels loop is bench/spillover.py's. "this [numba]" or
"[numpy]" names the kernel this checkout ran (monitor/models/fused.py: numba when installed; MONITOR_KERNEL=numpy in
the environment measures the numpy kernel). Each process makes one untimed call first (for either checkout), so
numba loading its kernels from the disk cache (~0.4 s; the first process after a change compiles them, ~10 s) and
first-call set-up are left out of both.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[3])  # bench/ for simdata
import numpy as np
from simdata import stable_var
import monitor.models.rolling as rolling
from monitor.models.bands import BandSpec, rolling_bands  # where bands finds it, in either layout
from monitor.models.tvp import tvp_var

work, out = sys.argv[1], sys.argv[2]
def best(fn, n):
    result = fn()  # untimed: imports, first-call set-up, numba's kernels loaded from its disk cache
    times = []
    for _ in range(n):
        t0 = time.perf_counter(); result = fn(); times.append(time.perf_counter() - t0)
    return min(times), result

if work == "rolling":
    data = stable_var(5000, 6, 2, scale=0.18, intercept=0.1)
    v, names, ends = data.to_numpy(), tuple(data.columns), data.index[249:]
    t, res = best(lambda: rolling.window_tables(v, names, ends, 2, 10, 250), 3)
    units = len(ends)
elif work == "bootstrap":
    data = stable_var(310, 4, 2, scale=0.18, intercept=0.1)
    spec = BandSpec(level=0.9, draws=200, seed=1)
    t, frame = best(lambda: rolling_bands(data, 2, 10, 250, spec), 3)
    res = frame.to_numpy(dtype=float)
    units = 61 * 200
else:
    data = stable_var(1500, 6, 2, scale=0.18, intercept=0.1)
    t, (phis, qs) = best(lambda: tvp_var(data.to_numpy(), 2, prior_window=198), 2)
    res = np.concatenate([phis.ravel(), qs.ravel()])
    units = len(data)
np.save(out, res)
try:
    from monitor.models.fused import enabled
    kernel = "numba" if enabled() else "numpy"
except ImportError:  # a checkout from before the compiled kernels
    kernel = "numpy"
print("BENCH " + json.dumps({"seconds": t, "units": units, "source": rolling.__file__, "kernel": kernel}))
"""

WORKS = {"rolling": "windows", "bootstrap": "regressions", "tvp": "steps"}


def calibration() -> float:
    code = (
        "import numpy as np, time\n"
        "a = np.random.default_rng(0).random((512, 512)); best = 1e9\n"
        "for _ in range(5):\n"
        "    t = time.perf_counter(); a @ a; best = min(best, time.perf_counter() - t)\n"
        "print(2 * 512**3 / best / 1e9)\n"
    )
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout)


def run(checkout: Path, work: str, out: Path) -> tuple[float, int, str]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, work, str(out), str(ROOT / "bench")],
        env=env,
        cwd=checkout,  # python -c puts the working folder first on sys.path
        capture_output=True,
        text=True,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH "):
            got = json.loads(line[6:])
            if not Path(got["source"]).is_relative_to(checkout):
                raise SystemExit(f"the {work} run meant for {checkout} imported another checkout")
            return float(got["seconds"]), int(got["units"]), str(got["kernel"])
    raise SystemExit(f"{work} in {checkout} failed: {proc.stderr.strip()[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, help="a commit to compare with (e.g. 9f74baa)")
    parser.add_argument("--repeat", type=int, default=3, help="processes per checkout and workload (best of)")
    parser.add_argument("--only", choices=list(WORKS), action="append", help="run only these workloads")
    args = parser.parse_args()
    works = args.only or list(WORKS)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_models_") as tmp:
        base = Path(tmp)
        tree = base / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), args.baseline], cwd=ROOT, check=True)
        try:
            before = calibration()
            checkouts = {"baseline": tree, "this": ROOT}
            for work in works:
                best = {tag: float("inf") for tag in checkouts}
                units, kernels = 0, {}
                for _ in range(args.repeat):
                    for tag, path in checkouts.items():  # interleaved
                        seconds, units, kernels[tag] = run(path, work, base / f"{work}-{tag}.npy")
                        best[tag] = min(best[tag], seconds)
                old, new = np.load(base / f"{work}-baseline.npy"), np.load(base / f"{work}-this.npy")
                diff = float(np.nanmax(np.abs(new - old)) / np.nanmax(np.abs(old)))
                same_nan = bool((np.isnan(old) == np.isnan(new)).all())
                rows.append((work, units, best["baseline"], best["this"], diff, same_nan, kernels["this"]))
            after = calibration()
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
    print(f"model kernels, this checkout vs {args.baseline}, best of {args.repeat} processes each, interleaved")
    print(f"machine: one-core matmul {before:.1f} GFLOP/s before, {after:.1f} after")
    for work, units, old, new, diff, same_nan, kernel in rows:
        what = WORKS[work]
        print(
            f"{work:<10} baseline {old:8.3f}s ({units / old:10.0f} {what}/s)   this [{kernel}] {new:8.3f}s "
            f"({units / new:10.0f} {what}/s)   ratio {old / new:5.2f}x   max rel diff {diff:.1e}"
            + ("" if same_nan else "   (NaN patterns differ!)")
        )


if __name__ == "__main__":
    main()
