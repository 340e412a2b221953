"""`monitor alerts explain` on a store filled by `monitor fetch` from a SYNTHETIC in-house CSV."""

from __future__ import annotations

import json

from monitor.cli import run

CONFIG = """
[paths]
store = "store.sqlite"

[[series]]
id = "krw_usd"
label = "KRW per USD"
source = "csv"
key = "krw.csv"
freq = "B"
units = "KRW per USD"

[[rules]]
name = "krw_usd_warning"
kind = "level"
label = "KRW/USD"
series = "krw_usd"
op = ">="
threshold = 1450
for = 1
annotations = { summary = "KRW/USD {value:,.0f} >= {threshold:,.0f}" }

[[rules]]
name = "tci_high"
kind = "spillover_percentile"
model = "market_daily"
q = 90
min_periods = 3

[[models]]
name = "market_daily"
freq = "D"
variables = [{ series = "krw_usd" }, { series = "krw_usd", name = "krw2" }]
"""

# SYNTHETIC: five sessions, the last two at or above 1,450.
KRW = "date,value\n2026-03-02,1430\n2026-03-03,1440\n2026-03-04,1445\n2026-03-05,1455\n2026-03-06,1468\n"


def test_explain_shows_inputs_statistic_threshold_and_state(tmp_path, capsys):
    (tmp_path / "config.toml").write_text(CONFIG)
    (tmp_path / "krw.csv").write_text(KRW)
    config = ["--config", str(tmp_path / "config.toml")]
    assert run(["fetch", *config, "--as-of", "2026-03-06"]) == 0
    capsys.readouterr()
    assert run(["alerts", "explain", "krw_usd_warning", *config, "--as-of", "2026-03-05"]) == 0
    out = capsys.readouterr().out
    assert "rule krw_usd_warning (warning): for=1, label='KRW/USD', series='krw_usd'" in out
    assert (
        "input krw_usd: 4 observations to 2026-03-05, last 1,455.00 KRW per USD [ok]; krw_usd from csv: "
        "observation 2026-03-05" in out
    )
    assert "2026-03-05  value=1,455  threshold=1,450  condition=yes" in out
    assert "2026-03-04  value=1,445  threshold=1,450  condition=no" in out
    assert "state as of 2026-03-05: pending since 2026-03-05 (for=1, keep_firing_for=0)" in out
    assert run(["alerts", "explain", "krw_usd_warning", *config, "--as-of", "2026-03-06"]) == 0
    out = capsys.readouterr().out
    assert "state as of 2026-03-06: firing since 2026-03-06" in out and "summary: KRW/USD 1,468 >= 1,450" in out
    assert run(["alerts", "explain", "krw_usd_warning", *config, "--as-of", "2026-03-20"]) == 0
    assert "[stale: last observation 2026-03-06 is 14 days old (limit " in capsys.readouterr().out  # in days


def test_explain_a_spillover_rule_with_results_from_a_file(tmp_path, capsys):
    (tmp_path / "config.toml").write_text(CONFIG)
    (tmp_path / "krw.csv").write_text(KRW)
    (tmp_path / "rolling.csv").write_text(
        "date,TCI,cTCI\n2026-03-02,30,60\n2026-03-03,31,62\n2026-03-04,30,60\n2026-03-05,45,90\n"
    )
    config = ["--config", str(tmp_path / "config.toml")]
    assert run(["fetch", *config, "--as-of", "2026-03-06"]) == 0
    capsys.readouterr()
    assert run(["alerts", "explain", "tci_high", *config, "--as-of", "2026-03-06"]) == 2
    assert "no rolling results for model 'market_daily'" in capsys.readouterr().err
    results = ["--results", f"market_daily={tmp_path / 'rolling.csv'}"]
    assert run(["alerts", "explain", "tci_high", *config, "--as-of", "2026-03-06", *results]) == 0
    out = capsys.readouterr().out
    assert "2026-03-05  value=45  threshold=30.8  condition=yes" in out  # 90th percentile of 30, 31, 30
    assert run(["alerts", "explain", "tci_high", *config, "--results", "nomodel=x.csv"]) == 2
    assert "--results: unknown model 'nomodel'" in capsys.readouterr().err


def test_backtest_runs_every_rule_and_says_which_it_could_not_evaluate(tmp_path, capsys):
    (tmp_path / "config.toml").write_text(CONFIG)
    (tmp_path / "krw.csv").write_text(KRW)
    (tmp_path / "rolling.csv").write_text(
        "date,TCI,cTCI\n2026-03-02,30,60\n2026-03-03,31,62\n2026-03-04,30,60\n2026-03-05,45,90\n"
    )
    config = ["--config", str(tmp_path / "config.toml")]
    assert run(["fetch", *config, "--as-of", "2026-03-06"]) == 0
    capsys.readouterr()
    assert run(["alerts", "backtest", *config, "--to", "2026-03-06"]) == 0
    out = capsys.readouterr().out
    assert "tci_high: not evaluated: rule tci_high: no rolling results for model 'market_daily'" in out
    assert "krw_usd_warning: 1 episodes" in out
    results = ["--results", f"market_daily={tmp_path / 'rolling.csv'}"]
    assert run(["alerts", "backtest", *config, "--to", "2026-03-06", "--rule", "tci_high", "--json", *results]) == 0
    [report] = json.loads(capsys.readouterr().out)
    assert [(s["start"], s["end"]) for s in report["signals"]] == [("2026-03-05", None)]


MORE = """
[[series]]
id = "kospi"
label = "KOSPI"
source = "csv"
key = "kospi.csv"
freq = "B"
units = "points"

[[rules]]
name = "kospi_low"
kind = "level"
series = "kospi"
op = "<="
threshold = 2000

[[rules]]
name = "inputs_stale"
kind = "data_health"
"""


def stored_rolling(tmp_path) -> None:
    """What `monitor run` leaves for the spillover rules: the model's rolling results in the store."""
    import pandas as pd

    from monitor.models.results import ModelResult, save_result
    from series.store import Store

    rolling = pd.DataFrame(
        {"TCI": [30.0, 31, 30, 45], "cTCI": [60.0, 62, 60, 90]}, index=pd.bdate_range("2026-03-02", periods=4)
    )
    result = ModelResult("market_daily", "", "D", pd.Timestamp("2026-03-06").date(), rolling=rolling)
    with Store.open(tmp_path / "store.sqlite", writer="test") as store:
        save_result(store, result)


def test_backtest_without_a_rule_evaluates_what_is_stored_and_summarises_data_health(tmp_path, capsys):
    (tmp_path / "config.toml").write_text(CONFIG + MORE)
    (tmp_path / "krw.csv").write_text(KRW)  # no kospi.csv: KOSPI was never stored
    config = ["--config", str(tmp_path / "config.toml")]
    assert run(["fetch", *config, "--series", "krw_usd", "--as-of", "2026-03-06"]) == 0
    stored_rolling(tmp_path)
    capsys.readouterr()
    assert run(["alerts", "backtest", *config, "--to", "2026-03-20"]) == 0
    out = capsys.readouterr().out
    assert "krw_usd_warning: 1 episodes" in out
    assert "kospi_low: not evaluated: no stored history for kospi (run `monitor fetch` first)" in out
    # The spillover rule reads the rolling results the last run stored: no --results needed.
    assert "tci_high: 1 episodes" in out
    # Data health: one row per series, no episode table; KRW/USD stale from 2026-03-12 (last 03-06, limit 5).
    block = out[out.index("inputs_stale (data health): 1 series with stored history") :]
    row = next(line for line in block.splitlines() if line.strip().startswith("krw_usd"))
    assert row.split()[-3:] == ["stale", "since", "2026-03-12"]
    assert "no stored history for kospi" in block and "start" not in block
    # Asked for that rule alone: the reason, and exit 1 (done, nothing evaluated).
    assert run(["alerts", "backtest", *config, "--to", "2026-03-20", "--rule", "kospi_low"]) == 1
    captured = capsys.readouterr()
    assert "kospi_low: not evaluated: no stored history for kospi" in captured.out
    assert captured.err == "no rule could be evaluated on the stored history: see the reasons above\n"


def test_explain_reads_the_stored_rolling_results(tmp_path, capsys):
    (tmp_path / "config.toml").write_text(CONFIG)
    (tmp_path / "krw.csv").write_text(KRW)
    config = ["--config", str(tmp_path / "config.toml")]
    assert run(["fetch", *config, "--as-of", "2026-03-06"]) == 0
    stored_rolling(tmp_path)
    capsys.readouterr()
    assert run(["alerts", "explain", "tci_high", *config, "--as-of", "2026-03-06"]) == 0
    assert "2026-03-05  value=45  threshold=30.8  condition=yes" in capsys.readouterr().out
