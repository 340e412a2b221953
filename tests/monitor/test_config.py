"""Config validation: every problem named at once with its key path; the shipped config is valid."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from monitor.cli import run
from monitor.config import ConfigError, load_config, validate_config

REPO = Path(__file__).resolve().parents[2]

MINIMAL = """
[[series]]
id = "krw"
label = "KRW per USD"
source = "csv"
key = "krw.csv"
freq = "B"
units = "KRW"
"""

PLANTED = """
[paths]
store = "data/monitor.sqlite"
exprots = "exports"                     # 1. unknown key (typo)

[[series]]
id = "krw"
label = "KRW per USD"
source = "csv"
key = "krw.csv"
freq = "B"
units = "KRW"

[[series]]
id = "kospi"
label = "KOSPI"
source = "csv"
key = "kospi.csv"
freq = "Monthly"                        # 2. bad enum value
units = "points"
max_jump = "big"                        # 3. wrong type

[[series]]
id = "krw"                              # 4. duplicate id
label = "again"
source = "csv"
key = "krw2.csv"
freq = "B"
units = "KRW"
params = { value_colum = "v" }          # 5. unknown source parameter

[[receivers]]
name = "desk"
kind = "email"
to = ["a@example.com"]
from = "m@example.com"
host = "smtp.example.com"
password_env = "hunter2 is my password"  # 6. a password pasted where a variable name belongs
"""


def test_shipped_config_is_valid():
    config = load_config(REPO / "config.toml")
    ids = {s.id for s in config.series}
    # The mission's inventory: Fed range + effective, BOJ, BOK, KRW/USD, KOSPI, exports total + semis, flows.
    assert {
        "fed_upper",
        "fed_lower",
        "fed_effective",
        "boj_rate",
        "bok_rate",
        "krw_usd",
        "kospi",
        "exports_total",
        "exports_semis",
        "foreign_net_kospi",
    } <= ids
    for s in config.series:
        assert s.source and s.key and s.freq and s.units and s.label


def test_check_config_exits_0_with_a_summary_on_the_shipped_file(capsys):
    assert run(["check-config", "--config", str(REPO / "config.toml")]) == 0
    out = capsys.readouterr().out
    assert "ok" in out and "series" in out and len(out.strip().splitlines()) == 1


def test_every_planted_mistake_is_named_at_once(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(PLANTED)
    assert run(["check-config", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "paths.exprots: unknown key (did you mean 'exports'?)" in err
    assert "series[1].freq: 'Monthly' is not one of D, B, W, M, Q" in err
    assert "series[1].max_jump: expected" in err and "'big'" in err
    assert "series[2].id: duplicate id 'krw' (first used by series[0])" in err
    assert "series[2].params.value_colum: unknown key (did you mean 'value_column'?)" in err
    assert "receivers[0].password_env: must be the NAME of an environment variable" in err
    assert "hunter2" not in err  # never echo what looks like a secret
    assert "6 problems" in err


def test_problems_in_toml_syntax_and_missing_file(tmp_path, capsys):
    path = tmp_path / "broken.toml"
    path.write_text("[paths\nstore = 1\n")
    assert run(["check-config", "--config", str(path)]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert run(["check-config", "--config", str(tmp_path / "nope.toml")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_unknown_series_in_a_model_and_unknown_source(tmp_path):
    raw = tomllib.loads(MINIMAL)
    raw["series"][0]["source"] = "bloomberg"
    raw["models"] = [{"name": "m", "freq": "M", "variables": [{"series": "krw"}, {"series": "kopsi"}]}]
    with pytest.raises(ConfigError) as e:
        validate_config(raw, tmp_path / "c.toml")
    text = "\n".join(e.value.problems)
    assert "series[0].source: unknown source 'bloomberg'" in text
    assert "models[0].variables[1].series: unknown series 'kopsi'" in text


def test_relative_paths_resolve_against_the_config_folder(tmp_path):
    config = validate_config(tomllib.loads(MINIMAL), tmp_path / "sub" / "config.toml")
    assert config.store_path() == (tmp_path / "sub" / "data" / "monitor.sqlite").resolve()
    [spec] = config.series_specs()
    assert spec.key == str((tmp_path / "sub" / "krw.csv").resolve())  # csv keys are file paths


def test_models_become_model_specs_with_timing_from_the_series_calendar():
    config = load_config(REPO / "config.toml")
    specs = {m.name: m for m in config.model_specs()}
    daily = specs["market_daily"]
    timing = {v.series_id: v.timing for v in daily.variables}
    assert timing["krw_usd"] == "us" and timing["kospi"] == "kr" and timing["us_10y"] == "us"
    assert daily.window == 250 and daily.freq == "D" and daily.horizon == 10
    monthly = specs["macro_monthly"]
    aggregation = {v.series_id: v.aggregation for v in monthly.variables}
    assert aggregation["krw_usd"] == "mean" and aggregation["foreign_net_kospi"] == "sum"
    assert monthly.lags == "bic" and monthly.tvp is None


RUN_TIME_MISTAKES = """
[run]
timezone = "Asia/Seol"                   # 1. not a time zone
calendar = "KRX"                         # 2. not a calendar

[[series]]
id = "krw"
label = "KRW per USD"
source = "csv"
key = "krw.csv"
freq = "B"
units = "KRW"
max = inf                                # 3. a limit that is not finite
params = { encoding = "utf-9", date_format = "%Y-%m-%d %Q" }   # 4, 5. fail on every fetch

[[series]]
id = "won"
label = "KRW per USD"
source = "csv"
key = "won.csv"
freq = "B"
units = "KRW"
fallback = [{ source = "csv", key = "won2.csv", params = { encoding = "hex" } }]   # 6. a bytes codec

[[rules]]
name = "krw_high"
kind = "level"
series = "krw"
op = ">="
threshold = nan                          # 7. would never fire
"""


def test_what_used_to_fail_only_at_run_time_is_named_by_check_config(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(RUN_TIME_MISTAKES)
    assert run(["check-config", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "run.timezone: 'Asia/Seol' is not a time zone name such as Asia/Seoul" in err
    assert "run.calendar: 'KRX' is not one of XKRX, XNYS, XTKS (did you mean 'XKRX'?)" in err
    assert "series[0].max: inf is not a finite number" in err
    assert "series[0].params.encoding: 'utf-9' is not a text encoding" in err
    assert "series[0].params.date_format: '%Y-%m-%d %Q' is not a strftime format" in err
    assert "series[1].fallback[0].params.encoding: 'hex' is not a text encoding" in err
    assert "rules[0].threshold: nan is not a finite number" in err
    assert "7 problems" in err


def test_csv_params_that_python_knows_pass(tmp_path):
    raw = tomllib.loads(MINIMAL)
    raw["series"][0]["params"] = {"encoding": "cp949", "date_format": "%d/%m/%Y", "sep": ";"}
    validate_config(raw, tmp_path / "c.toml")


def test_model_frequency_bands_reach_the_spec_and_bad_cuts_are_named(tmp_path):
    raw = tomllib.loads(MINIMAL)
    raw["series"].append({**raw["series"][0], "id": "kospi", "key": "kospi.csv"})
    model = {"name": "m", "freq": "D", "variables": [{"series": "krw"}, {"series": "kospi"}], "window": 250}
    raw["models"] = [{**model, "frequency": [5, 20], "frequency_grid": 100}]
    [spec] = validate_config(raw, tmp_path / "c.toml").model_specs()
    assert (spec.frequency, spec.frequency_grid) == ((5.0, 20.0), 100)
    raw["models"] = [{**model, "frequency": [20, 5]}]
    with pytest.raises(ConfigError) as e:
        validate_config(raw, tmp_path / "c.toml")
    assert "models[0].frequency: frequency cut points must be increasing" in "\n".join(e.value.problems)
