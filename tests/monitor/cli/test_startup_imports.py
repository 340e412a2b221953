"""What the quick commands import: `monitor --help` and `monitor check-config` never load the modelling and
plotting stacks (statsmodels, scipy, matplotlib), nor pandas (the sources read it lazily: series/lazy.py). Checked
on sys.modules in a fresh interpreter (not a timer: the machine's load must not decide the result)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("statsmodels", "scipy", "matplotlib")

PROBE = """
import json, sys
from monitor.cli import run
code = run(sys.argv[1:])
print("MODULES " + json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def imported(*args: str) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    line = next(x for x in proc.stdout.splitlines() if x.startswith("MODULES "))
    return set(json.loads(line.removeprefix("MODULES ")))


def test_help_imports_no_modelling_plotting_or_pandas() -> None:
    mods = imported("--help")
    assert not mods & {*HEAVY, "pandas"}, mods & {*HEAVY, "pandas"}
    # Plain help: rich's help formatter (and the markdown parser it loads) was a third of `--help`.
    assert not mods & {"rich", "markdown_it"}, mods & {"rich", "markdown_it"}


def test_check_config_imports_no_modelling_plotting_or_pandas() -> None:
    mods = imported("check-config", "--config", str(ROOT / "config.toml"))
    assert "monitor" in mods  # the probe ran the command
    assert not mods & {*HEAVY, "pandas", "numpy"}, mods & {*HEAVY, "pandas", "numpy"}
