"""The rule test files in tests/monitor/alerts/rules (SYNTHETIC inputs) pass, through the CLI and directly, cover every
rule kind, and a wrong expectation fails with exit 1 and a readable diff."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from monitor.alerts.rules import KINDS
from monitor.cli import run
from monitor.errors import MonitorError
from monitor.rule_tests import parse_values, run_file
from reports.mail import subject_line

RULES_DIR = Path(__file__).resolve().parent / "rules"
FILES = sorted(RULES_DIR.glob("*.toml"))


def test_the_files_cover_every_rule_kind_and_say_they_are_synthetic():
    kinds = set()
    for path in FILES:
        raw = tomllib.loads(path.read_text())
        assert raw["description"].startswith("SYNTHETIC"), path
        kinds |= {r["kind"] for r in raw["rules"]}
    assert kinds == set(KINDS)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_rule_file_passes_directly(path):
    outcome = run_file(path, subject_line)
    assert outcome.ok, "\n".join(outcome.failures)
    assert outcome.checks == len(tomllib.loads(path.read_text())["expect"])


def test_all_rule_files_pass_through_the_cli(capsys):
    assert run(["alerts", "test", *map(str, FILES)]) == 0
    out = capsys.readouterr().out
    assert out.count("PASS") == len(FILES)


def test_a_wrong_expectation_exits_1_with_a_readable_diff(tmp_path, capsys):
    text = (RULES_DIR / "level.toml").read_text()
    text = text.replace('subject = "[KR monitor] 1 firing: KRW/USD 1,460 >= 1,450"', 'subject = "[KR monitor] nothing"')
    text = text.replace(
        'at = "2026-01-09"\nfiring = ["krw_usd_warning"]', 'at = "2026-01-09"\nfiring = ["krw_usd_critical"]'
    )
    path = tmp_path / "wrong.toml"
    path.write_text(text)
    assert run(["alerts", "test", str(path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "2 of 8 expectations differ" in out
    assert (
        "at 2026-01-08: subject\n      expected '[KR monitor] nothing'\n"
        "      got      '[KR monitor] 1 firing: KRW/USD 1,460 >= 1,450'" in out
    )
    assert "missing  ['krw_usd_critical']" in out and "extra    ['krw_usd_warning']" in out


def test_a_broken_test_file_is_a_one_line_usage_error(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(
        '[series.x]\nvalues = "1 2"\nstart = "2026-01-05"\nbogus = 1\n[[rules]]\nname = "r"\nkind = "level"\n'
        'series = "y"\nop = ">="\nthreshold = 1\n[[expect]]\nat = "2026-01-05"\n'
    )
    assert run(["alerts", "test", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "series.x.bogus: unknown key" in err
    path.write_text(path.read_text().replace("bogus = 1\n", ""))
    assert run(["alerts", "test", str(path)]) == 2
    assert "rules[0].series: unknown series 'y'" in capsys.readouterr().err


def test_value_notation():
    assert parse_values("1 2x3 10+5x3 _ nan", "v")[:8] == [1.0, 2.0, 2.0, 2.0, 10.0, 15.0, 20.0, None]
    with pytest.raises(MonitorError, match="cannot read 'x3'"):
        parse_values("1 x3", "series.a.values")
