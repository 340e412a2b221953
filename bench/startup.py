"""Benchmark: how long each command takes to start, and what it imports.

    python bench/startup.py [--repeat N] [--baseline COMMIT]

For `monitor --help`, `monitor check-config`, `monitor series show` and `monitor run --help` (the run command's
imports without running it): the wall time of the whole process, best of N (the processes of the checkouts
interleaved), and from one `python -X importtime` run the cumulative import time of the heavy packages the command
pulls in (statsmodels, scipy, matplotlib, pandas). With --baseline a temporary git worktree of that commit runs the
same commands (same venv, the checkout first on PYTHONPATH) and the ratios are printed. The calibration line is
the start-up of a bare `python -c pass`, the floor every command pays.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("statsmodels", "scipy", "matplotlib", "pandas")


def commands(config: Path) -> dict[str, list[str]]:
    return {
        "--help": ["--help"],
        "check-config": ["check-config", "--config", str(config)],
        "series show": ["series", "show", "krw_usd", "--config", str(config)],
        "run --help": ["run", "--help"],
    }


def launcher(args: list[str]) -> list[str]:
    return [sys.executable, "-c", "import sys; from monitor.cli import main; sys.argv[0] = 'monitor'; main()", *args]


def wall(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, capture_output=True)
    return time.perf_counter() - t0


def heavy_imports(cmd: list[str], env: dict[str, str], cwd: Path) -> dict[str, float]:
    """Cumulative import time (s) of each heavy top-level package the command imports (from -X importtime)."""
    proc = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], env=env, cwd=cwd, capture_output=True, text=True)
    out: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s+(\S+)$", line)  # self | cumulative | module (any depth)
        if m and m.group(2) in HEAVY:
            out[m.group(2)] = int(m.group(1)) / 1e6
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--baseline", help="a commit to compare with (e.g. 9f74baa)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_startup_") as tmp:
        base = Path(tmp)
        config = base / "config.toml"  # the checkout's config with an empty store of its own, for `series show`
        text = (ROOT / "config.toml").read_text()
        store = base / "monitor.sqlite"
        config.write_text(re.sub(r"(?m)^store = .*$", f'store = "{store}"', text))
        subprocess.run(
            [
                sys.executable,
                "-c",
                f"from series.store import Store; Store.open({str(store)!r}, writer='bench').close()",
            ],
            cwd=ROOT,
            check=True,
        )
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
            envs = {tag: {**os.environ, "PYTHONPATH": str(path)} for tag, path in checkouts.items()}
            floor = min(wall([sys.executable, "-c", "pass"], envs["this"], ROOT) for _ in range(args.repeat))
            best: dict[str, dict[str, float]] = {tag: {} for tag in checkouts}
            heavy: dict[str, dict[str, dict[str, float]]] = {tag: {} for tag in checkouts}
            for name, cmd in commands(config).items():
                for _ in range(args.repeat):
                    for tag, path in checkouts.items():  # interleaved
                        t = wall(launcher(cmd), envs[tag], path)
                        best[tag][name] = min(best[tag].get(name, float("inf")), t)
                for tag, path in checkouts.items():
                    heavy[tag][name] = heavy_imports(launcher(cmd), envs[tag], path)
        finally:
            if args.baseline:
                subprocess.run(["git", "worktree", "remove", "--force", str(base / "baseline")], cwd=ROOT)

    print(f"command start-up, wall time of the process, best of {args.repeat} (checkouts interleaved)")
    print(f"machine: bare `python -c pass` {floor * 1e3:.0f} ms")
    tags = list(checkouts)
    print(f"{'command':<14}" + "".join(f"{tag:>10}" for tag in tags) + ("     ratio" if len(tags) == 2 else ""))
    for name in commands(config):
        row = f"{name:<14}" + "".join(f"{best[tag][name]:9.3f}s" for tag in tags)
        if len(tags) == 2:
            row += f"  {best['baseline'][name] / best['this'][name]:7.2f}x"
        print(row)
    print("heavy packages imported (cumulative import time, one -X importtime run):")
    for name in commands(config):
        for tag in tags:
            found = heavy[tag][name]
            text = ", ".join(f"{pkg} {t * 1e3:.0f} ms" for pkg, t in sorted(found.items())) or "none"
            print(f"  {name:<14} {tag:<9} {text}")


if __name__ == "__main__":
    main()
