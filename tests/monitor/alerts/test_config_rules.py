"""[[rules]] blocks are validated by kind: every problem at once, one line each, with its key path (exit 2)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from monitor.cli import run
from monitor.config import ConfigError, validate_config

REPO = Path(__file__).resolve().parents[3]

SERIES = """
[[series]]
id = "krw_usd"
label = "KRW per USD"
source = "csv"
key = "krw.csv"
freq = "B"
units = "KRW"

[[series]]
id = "fed_upper"
label = "Fed upper bound"
source = "csv"
key = "fed.csv"
freq = "D"
units = "%"

[[models]]
name = "market_daily"
freq = "D"
variables = [{ series = "krw_usd" }, { series = "fed_upper" }]
"""

PLANTED = (
    SERIES
    + """
[[rules]]
name = "a"
kind = "levle"                             # 1. unknown kind

[[rules]]
name = "b"
kind = "level"
series = "krw_usd"
op = "=>"                                  # 2. bad operator
treshold = 3                               # 3. typo (and 4. threshold missing)

[[rules]]
name = "c"
kind = "level"
series = "krw_us"                          # 5. unknown series
op = ">="
threshold = 1450
severity = "urgent"                        # 6. bad severity

[[rules]]
name = "d"
kind = "emp"
components = [{ series = "krw_usd", sgn = 1 }]   # 7. unknown key in a nested table

[[rules]]
name = "e"
kind = "spillover_sign"
model = "market_dialy"                     # 8. unknown model
variable = "krw_usd"

[[rules]]
name = "f"
kind = "spillover_pairwise"
model = "market_daily"
from = "krw_usd"
to = "kospi"                               # 9. not a variable of the model
threshold = 1

[[rules]]
name = "g"
kind = "level"
series = "krw_usd"
op = ">="
threshold = 1
annotations = { summary = "{vlaue} is high" }   # 10. unknown template field

[[rules]]
name = "h"
kind = "hysteresis"
series = "krw_usd"
enter = 1
exit = 2                                   # 11. exit above enter

[[rules]]
name = "a"                                 # 12. duplicate name
kind = "data_health"
for = -1                                   # 13. negative

[[silences]]
matchers = { rule = "~krw_(" }             # 14. bad regular expression
expires = "2026-12-31"
"""
)


def test_every_planted_rule_mistake_is_named_with_its_key_path(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(PLANTED)
    assert run(["check-config", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    expected = [
        "rules[0].kind: 'levle' is not one of level, change, zscore, percentile, streak, hysteresis, spread, "
        "divergence, reconcile, emp, spillover_percentile, spillover_sign, spillover_pairwise, model_level, "
        "data_health, flows_at_risk (did you mean 'level'?)",
        "rules[1].op: '=>' is not one of >=, <=, >, <",
        "rules[1].treshold: unknown key (did you mean 'threshold'?)",
        "rules[1].threshold: required key is missing",
        "rules[2].series: unknown series 'krw_us' (did you mean 'krw_usd'?)",
        "rules[3].components[0].sgn: unknown key (did you mean 'sign'?)",
        "rules[4].model: unknown model 'market_dialy' (did you mean 'market_daily'?)",
        "rules[5].to: model market_daily has no variable 'kospi' (its variables: krw_usd, fed_upper)",
        "rules[6].annotations.summary: unknown field {vlaue} in the template",
        "rules[7]: direction above needs exit <= enter (got enter 1.0, exit 2.0)",
        "rules[8].name: duplicate name 'a' (first used by rules[0])",
        "rules[8].for: Input should be greater than or equal to 0",
        "silences[0].matchers: matcher rule = '~krw_(' is not a valid regular expression",
    ]
    for want in expected:
        assert any(want in line for line in lines), f"missing: {want}\n{err}"
    # One problem per line, each starting with its key path.
    assert all(line.startswith("  rules[") or line.startswith("  silences[") for line in lines[1:]), err
    assert "rules[2].severity: 'urgent' is not one of info, warning, critical" in err


def shipped_with_csv_sources() -> dict:
    """The shipped config with every series read from a file, so this test does not depend on the source
    modules (the rules, models and series ids are the shipped ones)."""
    raw = tomllib.loads((REPO / "config.toml").read_text())
    for s in raw["series"]:
        s.update(source="csv", key=f"{s['id']}.csv", params={}, fallback=[])
    return raw


def test_the_shipped_rule_set_is_valid_and_covers_the_capital_flow_risks():
    config = validate_config(shipped_with_csv_sources(), REPO / "config.toml")
    rules = {r.name: r for r in config.rules}
    assert {r.kind for r in rules.values()} >= {
        "level",
        "change",
        "streak",
        "percentile",
        "spread",
        "divergence",
        "emp",
        "spillover_percentile",
        "data_health",
    }
    assert (rules["krw_usd_warning"].threshold, rules["krw_usd_warning"].severity) == (1450, "warning")
    assert (rules["krw_usd_critical"].threshold, rules["krw_usd_critical"].severity) == (1500, "critical")
    assert (rules["krw_depreciation_5d"].periods, rules["krw_depreciation_5d"].threshold) == (5, 2.0)
    assert rules["foreign_selling_streak"].n == 10 and rules["foreign_selling_streak"].op == "<"
    pct = rules["foreign_selling_20d"]
    assert (pct.transform, pct.periods, pct.q, pct.op) == ("rolling_sum", 20, 5, "<")
    spread = rules["bok_fed_differential"]
    assert (spread.series, spread.minus, spread.op, spread.threshold) == ("bok_rate", "fed_upper", "<=", -1.75)
    div = rules["boj_fed_divergence"]
    assert (div.hiking, div.cutting, div.within_months) == ("boj_rate", "fed_upper", 3)
    assert (rules["emp_episode"].enter, rules["emp_episode"].exit) == (2.0, 1.0)
    tci = rules["tci_high"]
    assert (tci.model, tci.measure, tci.q) == ("market_daily", "TCI", 90)
    semis = rules["semis_exports_down_yoy"]
    assert (semis.series, semis.transform, semis.n) == ("exports_semis", "yoy", 2)
    assert rules["inputs_stale"].series == ["*"]


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"name": "x", "kind": "streak", "series": "krw_usd", "op": "<", "threshold": 0}, "rules[0].n: required key"),
        (
            {"name": "x", "kind": "spillover_percentile", "model": "market_daily", "measure": "NET", "q": 90},
            "rules[0]: measure NET needs variable",
        ),
        (
            {"name": "x", "kind": "zscore", "series": "krw_usd", "window": 10, "min_periods": 20, "threshold": 2},
            "rules[0]: min_periods (20) must not exceed window (10)",
        ),
        (
            {"name": "x", "kind": "level", "series": "krw_usd", "op": ">=", "threshold": 1, "labels": {"rule": "y"}},
            "rules[0].labels: label 'rule' is set by the monitor",
        ),
        (
            {
                "name": "x",
                "kind": "level",
                "series": "krw_usd",
                "op": ">=",
                "threshold": 1,
                "annotations": {"summary": "{value.__class__}"},
            },
            "rules[0].annotations.summary: unknown field",
        ),
        (
            {
                "name": "x",
                "kind": "level",
                "series": "krw_usd",
                "op": ">=",
                "threshold": 1,
                "annotations": {"summary": "{label:,.0f}"},
            },
            "rules[0].annotations.summary: bad format {label:,.0f}",
        ),
        ({"kind": "level"}, "rules[0].name: required key is missing"),
        ({"name": "x"}, "rules[0].kind: required key is missing (one of level"),
    ],
)
def test_one_line_errors(block, message):
    raw = tomllib.loads(SERIES)
    raw["rules"] = [block]
    with pytest.raises(ConfigError) as e:
        validate_config(raw, "c.toml")
    assert any(p.startswith(message) for p in e.value.problems), e.value.problems
