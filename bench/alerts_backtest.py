"""Benchmark: the point-in-time backtest (one vectorised evaluation per revision epoch) against the literal
day-by-day replay (every day: the store as known that day, a full evaluation, the state stepped).

    python bench/alerts_backtest.py [--days N]

Uses the real KRW/USD history in ../shared/data/real when present (SYNTHETIC random walk otherwise), stored with
a 4-day publication lag and 40 revised vintages. Both methods must give the same firing days; the script checks
that and prints the time of each and their ratio (measured in this run; timings are noisy, the ratio is the
point). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.alerts import engine
from monitor.alerts.backtest import Vintages, pit_histories, score
from monitor.alerts.data import RuleData, SeriesInfo
from monitor.alerts.engine import FIRING, AlertState
from monitor.alerts.rules import KINDS
from series.store import Store

REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real" / "fred_DEXKOUS.csv"
RULES = [
    {"name": "krw_1400", "kind": "level", "series": "krw_usd", "op": ">=", "threshold": 1400, "keep_firing_for": 10},
    {"name": "krw_5d", "kind": "change", "series": "krw_usd", "periods": 5, "op": ">=", "threshold": 2.0},
    {
        "name": "krw_z",
        "kind": "zscore",
        "series": "krw_usd",
        "transform": "pct_change",
        "window": 250,
        "method": "robust",
        "threshold": 3.0,
    },
]


def history() -> tuple[pd.DataFrame, str]:
    if REAL.is_file():
        raw = pd.read_csv(REAL).dropna()
        frame = pd.DataFrame({"date": pd.to_datetime(raw.iloc[:, 0]), "value": raw.iloc[:, 1].astype(float)})
        label = "real FRED DEXKOUS"
    else:
        days = pd.bdate_range("1990-01-01", "2026-03-27")
        r = np.random.default_rng(0)
        frame = pd.DataFrame({"date": days, "value": 1100 * np.exp(np.cumsum(r.normal(0, 0.006, len(days))))})
        label = "SYNTHETIC random walk"
    frame["realtime_start"] = frame["date"] + pd.Timedelta(days=4)
    r = np.random.default_rng(1)
    pick = frame.sample(40, random_state=1)
    revised = pick.assign(
        value=pick["value"] * (1 + r.normal(0, 0.01, 40)), realtime_start=pick["date"] + pd.Timedelta(days=35)
    )
    return pd.concat([frame, revised]), label


def naive(store: Store, rule, grid: pd.DatetimeIndex) -> pd.Series:
    info = {"krw_usd": SeriesInfo("krw_usd")}
    st = None
    out = {}
    for day in grid:
        s = store.as_of("krw_usd", day)
        [ev] = rule.evaluate(RuleData(day.date(), {"krw_usd": s}, info))
        st = st or AlertState(ev.fingerprint, rule.name, ev.labels)
        engine.replay(st, ev.frame[ev.frame.index <= day], rule.for_, rule.keep_firing_for)
        out[day] = st.state == FIRING
    return pd.Series(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=500, help="business days replayed at the end of the history")
    args = parser.parse_args()
    frame, label = history()
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "b.sqlite", writer="bench") as store:
        store.append("krw_usd", frame, source="bench")
        end = store.latest("krw_usd").index[-1] + pd.Timedelta(days=10)
        grid = pd.bdate_range(end=end, periods=args.days)
        print(f"{label}: {store.count('krw_usd')} stored rows; replaying the last {args.days} business days")
        for block in RULES:
            rule = KINDS[block["kind"]].model_validate(block)
            t0 = time.perf_counter()
            slow = naive(store, rule, grid)
            t_naive = time.perf_counter() - t0
            t0 = time.perf_counter()
            vintages = {"krw_usd": Vintages(store.vintages("krw_usd"))}
            [h] = pit_histories(rule, vintages, {"krw_usd": SeriesInfo("krw_usd")}, {}, end.date())
            fast = score(h, None, grid[0].date(), end.date()).daily.reindex(grid, fill_value=False)
            t_fast = time.perf_counter() - t0
            same = bool((slow.to_numpy() == fast.to_numpy()).all())
            print(
                f"  {rule.name:9} day-by-day {t_naive:7.2f} s   epochs {t_fast:6.3f} s   ratio {t_naive / t_fast:6.0f}x"
                f"   same firing days: {same}   ({len(vintages['krw_usd'].revision_days())} revision epochs,"
                f" full history replayed)"
            )


if __name__ == "__main__":
    main()
