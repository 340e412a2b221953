"""Adding a rule kind or a source is one module, its registration, its test and its doc line: a registered kind
without a wording test or a README row, or a registered source without a README row, fails here."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from monitor.alerts.rules import KINDS
from series import sources

ROOT = Path(__file__).resolve().parents[3]
RULES_DIR = Path(__file__).resolve().parent / "rules"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end]


def _table_names(section: str) -> set[str]:
    """The first-column names of the section's tables (`| `name` | ...`)."""
    return set(re.findall(r"^\| `([a-z_]+)` \|", _section(section), flags=re.MULTILINE))


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
def test_every_rule_kind_has_a_wording_test_and_a_readme_row(kind):
    assert kind in _worded_kinds(), f"no file in {RULES_DIR} checks the summaries of a {kind!r} rule"
    assert kind in _table_names("Alerts"), f"the README's rule table has no row for {kind!r}"


@pytest.mark.parametrize("name", sources.names())
def test_every_source_has_a_readme_row(name):
    assert name in _table_names("Data sources, record and replay"), f"the README's source table has no row for {name!r}"


def test_the_checks_can_fail():
    assert "no_such_kind" not in _worded_kinds() | _table_names("Alerts")
    assert "no_such_source" not in _table_names("Data sources, record and replay")


def test_the_kinds_and_the_config_load_without_pandas():
    """Validating config reads the kinds' models only: their evaluation (pandas) is imported when a rule runs."""
    code = "import sys, monitor.config, monitor.alerts.rules; print(sorted({'pandas', 'numpy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
