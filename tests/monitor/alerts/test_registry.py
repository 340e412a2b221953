"""Adding a rule kind is one module, its registration, its rule test file and its doc lines: a registered kind
whose wording no rule test file pins fails here (tests/test_docs_sync.py checks the README and config.toml lines of
every kind and source); and the kinds' config models load without pandas."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from monitor.alerts.rules import KINDS

ROOT = Path(__file__).resolve().parents[3]
RULES_DIR = Path(__file__).resolve().parent / "rules"


def _worded_kinds() -> set[str]:
    """Kinds whose message wording a rule test file pins (a `summaries` expectation on a rule of that kind)."""
    worded = set()
    for path in RULES_DIR.glob("*.toml"):
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        kind_of = {r["name"]: r["kind"] for r in raw["rules"]}
        for expect in raw["expect"]:
            worded |= {kind_of[alert.split("{")[0]] for alert in expect.get("summaries", {})}
    return worded


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_rule_kind_has_its_wording_pinned_by_a_rule_test_file(kind):
    assert kind in _worded_kinds(), f"no file in {RULES_DIR} checks the summaries of a {kind!r} rule"


def test_the_wording_check_can_fail():
    assert _worded_kinds() and "no_such_kind" not in _worded_kinds()


def test_the_kinds_and_the_config_load_without_pandas():
    """Validating config reads the kinds' models only: their evaluation (pandas) is imported when a rule runs."""
    code = "import sys, monitor.config, monitor.alerts.rules; print(sorted({'pandas', 'numpy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
