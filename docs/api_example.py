"""The Python API in one script: build a small store, then read it the way a notebook would.

    python docs/api_example.py [WORKDIR]      # default: a temporary folder, removed at the end

It writes three synthetic daily series (KRW/USD, KOSPI, the US 10-year yield) as in-house CSV files, a config that
reads them (the `csv` source), one rolling spillover model and two rules, and fills a store with the real daily
job, `monitor run --as-of 2026-03-27`; then it revises one value and fetches again on 2026-03-30, so the store holds
two vintages of that date. Everything after that is `import monitor`. No network, no API key; the synthetic
numbers are made here (seeded), not real data. `tests/monitor/test_api.py` runs this script.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

import monitor

AS_OF = "2026-03-27"
LATER = date(2026, 3, 30)  # a date, a str or a Timestamp: every function takes any of them
REVISED = "2026-03-26"  # the KRW/USD value of this date is revised in the second fetch

CONFIG = """\
[paths]
store = "data/monitor.sqlite"
exports = "exports"

[[series]]
id = "krw_usd"
label = "KRW per USD"
source = "csv"
key = "csv/krw_usd.csv"
freq = "B"
units = "KRW"
calendar = "XKRX"

[[series]]
id = "kospi"
label = "KOSPI"
source = "csv"
key = "csv/kospi.csv"
freq = "B"
units = "index"
calendar = "XKRX"

[[series]]
id = "ust10y"
label = "US 10-year yield"
source = "csv"
key = "csv/ust10y.csv"
freq = "B"
units = "percent"
calendar = "XNYS"

[[models]]
name = "market_daily"
label = "KRW, KOSPI and US yields"
freq = "D"
lags = 1
horizon = 10
window = 250
variables = [
  { series = "krw_usd", transform = "log_diff", name = "KRW" },
  { series = "kospi", transform = "log_diff", name = "KOSPI" },
  { series = "ust10y", transform = "diff", name = "UST10Y" },
]

[[rules]]
name = "krw_usd_warning"
kind = "level"
label = "KRW/USD"
series = "krw_usd"
op = ">="
threshold = 1450

[[rules]]
name = "inputs_stale"
kind = "data_health"
"""


def write_inputs(folder: Path, revise: bool = False) -> None:
    """Seeded random walks on business days up to the day after AS_OF (known from the second fetch on)."""
    dates = pd.bdate_range(end="2026-03-30", periods=700)
    rng = np.random.default_rng(7)
    shocks = rng.standard_normal((len(dates), 3)) @ np.array([[1.0, 0.0, 0.0], [-0.5, 0.9, 0.0], [0.3, 0.1, 1.0]])
    values = {
        "krw_usd": 1300 * np.exp(np.cumsum(0.004 * shocks[:, 0] + 0.0002)),
        "kospi": 2500 * np.exp(np.cumsum(0.01 * shocks[:, 1])),
        "ust10y": 4 + np.cumsum(0.03 * shocks[:, 2]),
    }
    (folder / "csv").mkdir(parents=True, exist_ok=True)
    for sid, v in values.items():
        frame = pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "value": np.round(v, 4)})
        if not revise:
            frame = frame[frame["date"] <= AS_OF]
        elif sid == "krw_usd":
            frame.loc[frame["date"] == REVISED, "value"] += 5.0
        frame.to_csv(folder / "csv" / f"{sid}.csv", index=False)


def build_store(folder: Path) -> Path:
    """The store the daily job leaves: `monitor run` on AS_OF, then a fetch on LATER with one value revised."""
    config = folder / "config.toml"
    config.write_text(CONFIG)
    write_inputs(folder)
    job("run", "--config", str(config), "--as-of", AS_OF, "--no-catch-up")
    write_inputs(folder, revise=True)
    job("fetch", "--config", str(config), "--as-of", str(LATER))
    return config


def job(*args: str) -> None:
    """`monitor ARGS` in a child process, as cron would run it; its log is shown only if it fails."""
    done = subprocess.run([sys.executable, "-m", "monitor", *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"monitor {args[0]} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")


def show(title: str, value: object) -> None:
    print(f"\n== {title}\n{textwrap.indent(str(value), '   ')}")


def main(folder: Path) -> None:
    config = build_store(folder)
    pd.set_option("display.width", 120)
    pd.set_option("display.max_columns", 8)

    with monitor.open_store(config=config) as store:  # read-only; or monitor.open_store("data/monitor.sqlite")
        # A series as known on a date, and every vintage of it known then.
        known = monitor.series_as_of(store, "krw_usd", AS_OF)
        show(f"KRW/USD as known on {AS_OF}", known.tail(3))
        revised = monitor.series_as_of(store, "krw_usd", LATER)
        show(f"KRW/USD as known on {LATER} (the {REVISED} value revised)", revised.tail(3))
        vintages = monitor.series_as_of(store, "krw_usd", LATER, vintages=True)
        show(f"the vintages of {REVISED}", vintages[vintages["date"] == REVISED][["date", "value", "realtime_start"]])

        # The panel the model estimates (inputs chosen, aligned on KRX sessions, transformed), as of a date.
        frame = monitor.panel(store, "market_daily", pd.Timestamp(AS_OF), config=config)
        show(f"market_daily's panel: {len(frame)} rows", frame.tail(3))

        # The spillover engine on any DataFrame.
        table = monitor.connectedness(frame, lags=1, horizon=10)
        show(f"connectedness table (TCI {table.attrs['tci']:.1f}%)", table.round(1))
        rolling = monitor.rolling_connectedness(frame, lags=1, horizon=10, window=250)
        show("rolling TCI, last 3 windows", rolling["TCI"].tail(3).round(2))
        tvp = monitor.tvp_connectedness(frame, lags=1, horizon=10)
        show(f"TVP-VAR TCI (prior on the first {tvp.attrs['prior_window']} rows)", tvp["TCI"].tail(3).round(2))

        # What the daily run stored for the date.
        show(f"model results stored for {AS_OF}", monitor.model_results(store, AS_OF)[["method", "nobs", "tci"]])
        stored = monitor.model_result(store, "market_daily", date(2026, 3, 27))
        assert stored.rolling is not None
        gap = (stored.rolling["TCI"] - rolling["TCI"]).abs().max()
        show("the stored rolling TCI against the one computed above: largest difference", gap)

        # A rule from the config, and one written as a dict, evaluated on the store as known on the date.
        fired = monitor.evaluate_rule("krw_usd_warning", store, AS_OF, config=config)
        show("krw_usd_warning: the last 3 evaluations", fired.tail(3))
        drop = {"name": "kospi_drop", "kind": "change", "series": "kospi", "periods": 5, "mode": "pct"}
        drop |= {"op": "<=", "threshold": -3}
        evaluated = monitor.evaluate_rule(drop, store, AS_OF)
        show(f"kospi down 3% in 5 sessions: held on {int(evaluated['condition'].sum())} days", evaluated.tail(3))
        # ... or on a plain pandas Series (here the stored one; any Series with a date index will do).
        kospi = monitor.series_as_of(store, "kospi", AS_OF)
        on_series = monitor.evaluate_rule(drop, kospi, AS_OF)
        show("the same rule on a Series: the same days", on_series["condition"].equals(evaluated["condition"]))


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp))
