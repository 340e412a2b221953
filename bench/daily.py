"""Benchmark: the warm daily replay run, broken down by step, for this checkout and optionally a baseline commit.

    python bench/daily.py [--baseline COMMIT] [--config own|baseline] [--repeat N] [--as-of 2026-08-21]

Builds the replay directory of `../shared` (tests/replay.py) once, then for each checkout runs one cold
`monitor run --replay` (fills its own store) followed by N warm runs of the same date, the checkouts interleaved
(A, B, A, B, ...) so that the load of a shared machine hits both alike. Each checkout runs its own config.toml
(the series and models it shipped with; an older checkout cannot read newer keys), or with `--config baseline`
both run the baseline's (the same work: what the daily run cost before, against what it costs now), with the
store and exports in the bench's folder; a run refused outright (exit 2 or 3) stops the bench. Each run is a
fresh process (same venv, the checkout first on PYTHONPATH); the process times its steps by wrapping the
pipeline's step functions:

- fetch:   fetching and parsing the replayed responses (monitor.pipeline.fetch less the store's share)
- store:   Store.save_fetch (archiving payloads, building and inserting observation rows)
- models:  monitor.pipeline.models (align, VAR, spillovers, rolling, TVP, bands)
- rules:   monitor.pipeline.rules + notify
- charts:  drawing and saving the charts, wall clock (reports.drawing.draw_all, whichever processes draw them;
           before that module existed, reports.charts.render + reports.export.figure_bytes)
- report:  the rest of the export step (context, tables, report.html)
- total:   run_daily, wall clock

Per step it prints the best of N for each checkout and the ratio baseline / this checkout, plus a machine
calibration line (one-core float64 matmul GFLOP/s, measured before and after) so a reader can tell a loaded machine
from a slow build. A git worktree of the baseline is made in a temporary folder and removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("fetch", "store", "models", "rules", "charts", "report", "total")

# Runs inside the measured process: wraps the step functions of whichever checkout is first on sys.path.
CHILD = r"""
import json, sys, time, logging
from collections import defaultdict
import monitor.pipeline as pl
import reports.export as ex
import reports.charts as charts
from series.store import Store

spent = defaultdict(float)

def timed(owner, name, step):
    fn = getattr(owner, name)
    def wrapper(*a, **k):
        t0 = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            spent[step] += time.perf_counter() - t0
    setattr(owner, name, wrapper)

timed(pl, "fetch", "fetch+store")
timed(Store, "save_fetch", "store")
timed(pl, "models", "models")
timed(pl, "rules", "rules")
timed(pl, "notify", "rules")
timed(pl, "export", "export")
if hasattr(ex, "draw_all"):  # the wall clock of drawing every chart, whichever processes draw them
    timed(ex, "draw_all", "charts")
else:  # before reports.drawing: each chart drawn and saved here
    timed(charts, "render", "charts")
    timed(ex, "figure_bytes", "charts")
from monitor.cli import main
t0 = time.perf_counter()
try:
    main()  # what the `monitor` command runs, to its exit (the process line includes the shutdown)
except SystemExit as e:
    code = e.code
total = time.perf_counter() - t0
out = {
    "fetch": spent["fetch+store"] - spent["store"],
    "store": spent["store"],
    "models": spent["models"],
    "rules": spent["rules"],
    "charts": spent["charts"],
    "report": spent["export"] - spent["charts"],
    "total": total,
    "exit": code,
    "source": pl.__file__,
}
print("BENCH " + json.dumps(out), flush=True)
"""


def calibration() -> float:
    """One core's float64 matmul throughput (GFLOP/s), best of 5, with BLAS limited to one thread."""
    code = (
        "import threadpoolctl, numpy as np, time\n"
        "threadpoolctl.threadpool_limits(1)\n"
        "a = np.random.default_rng(0).random((512, 512)); best = 1e9\n"
        "for _ in range(5):\n"
        "    t = time.perf_counter(); a @ a; best = min(best, time.perf_counter() - t)\n"
        "print(2 * 512**3 / best / 1e9)\n"
    )
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return float(out.stdout)
    except (subprocess.CalledProcessError, ValueError):  # threadpoolctl missing: plain numpy
        code = code.replace("import threadpoolctl, ", "import ").replace("threadpoolctl.threadpool_limits(1)\n", "")
        return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout)


def config_for(checkout: Path, base: Path, tag: str) -> Path:
    """A copy of the checkout's own config.toml (a baseline may not read today's keys, and runs the models it
    shipped with) whose store and exports live in the bench's own folder."""
    lines = []
    for line in (checkout / "config.toml").read_text().splitlines():
        if line.startswith("store = "):
            line = f'store = "{base / tag / "monitor.sqlite"}"'
        elif line.startswith("exports = "):
            line = f'exports = "{base / tag / "exports"}"'
        lines.append(line)
    path = base / f"{tag}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_once(checkout: Path, config: Path, replay: Path, as_of: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(checkout), "MONITOR_LOG_FORMAT": "json"}
    args = ["run", "--as-of", as_of, "--replay", str(replay), "--config", str(config)]
    proc = subprocess.run([sys.executable, "-c", CHILD, *args], env=env, cwd=checkout, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH "):
            result = json.loads(line[6:])
            if result["exit"] not in (0, 1):  # 2: the config or arguments were refused; the run did nothing
                raise SystemExit(f"bench run in {checkout} exited {result['exit']}: {proc.stderr.strip()[-2000:]}")
            if not Path(result.pop("source")).is_relative_to(checkout):  # the venv's editable copy won
                raise SystemExit(f"bench run meant for {checkout} imported another checkout")
            return {k: float(v) for k, v in result.items()}
    raise SystemExit(f"bench run in {checkout} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", help="a commit to compare with (e.g. 9f74baa)")
    parser.add_argument("--repeat", type=int, default=3, help="warm runs per checkout (best of N is reported)")
    parser.add_argument("--as-of", default="2026-08-21")
    parser.add_argument(
        "--config",
        choices=("own", "baseline"),
        default="own",
        help="own: each checkout its config.toml; baseline: both the baseline's (the same series and models)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_daily_") as tmp:
        base = Path(tmp)
        replay = base / "replay"
        subprocess.run([sys.executable, "-m", "tests.replay", str(replay)], cwd=ROOT, check=True, capture_output=True)
        checkouts = {"this": ROOT}
        if args.baseline:
            tree = base / "baseline"
            subprocess.run(
                ["git", "worktree", "add", "--detach", str(tree), args.baseline],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            checkouts = {"baseline": tree, "this": ROOT}
        try:
            gflops_before = calibration()
            shared = checkouts.get("baseline") if args.config == "baseline" else None
            configs = {tag: config_for(shared or checkout, base, tag) for tag, checkout in checkouts.items()}
            for tag, checkout in checkouts.items():  # cold runs: fill each store
                run_once(checkout, configs[tag], replay, args.as_of)
            best: dict[str, dict[str, float]] = {tag: {} for tag in checkouts}
            for _ in range(args.repeat):
                for tag, checkout in checkouts.items():  # interleaved
                    t0 = time.perf_counter()
                    times = run_once(checkout, configs[tag], replay, args.as_of)
                    times["process"] = time.perf_counter() - t0
                    for step, value in times.items():
                        if step != "exit":  # 0 ok, 1 done with errors (the replay has no Seoul close)
                            best[tag][step] = min(best[tag].get(step, float("inf")), value)
            gflops_after = calibration()
        finally:
            if args.baseline:
                subprocess.run(["git", "worktree", "remove", "--force", str(base / "baseline")], cwd=ROOT)

    print(f"warm daily replay run as of {args.as_of}, best of {args.repeat} per checkout, interleaved")
    print("config: " + ("the baseline's for both" if args.baseline and args.config == "baseline" else "each its own"))
    print(f"machine: one-core matmul {gflops_before:.1f} GFLOP/s before, {gflops_after:.1f} after")
    tags = list(checkouts)
    header = f"{'step':<10}" + "".join(f"{tag:>12}" for tag in tags)
    print(header + ("       ratio (baseline / this)" if len(tags) == 2 else ""))
    for step in (*STEPS, "process"):
        row = f"{step:<10}" + "".join(f"{best[tag][step]:11.3f}s" for tag in tags)
        if len(tags) == 2 and best["this"][step] > 0:
            row += f"   {best['baseline'][step] / best['this'][step]:8.2f}x"
        print(row)


if __name__ == "__main__":
    main()
