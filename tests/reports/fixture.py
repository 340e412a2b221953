"""A small fixture store for the report tests: SYNTHETIC series for every chart role, model results computed
by the project's own engine, and hand-made rule traces with known firing periods."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from monitor.align import Panel
from monitor.models.estimate import estimate
from monitor.models.flow_response import estimate_flow_response
from monitor.models.groups import GroupRun, estimate_groups
from monitor.models.results import save_result
from monitor.spec import BandSpec, GroupSpec, MarketModel, ModelSpec, VariableSpec
from reports.context import ReportContext, RuleTrace, load_context
from series.spec import SeriesSpec, SourceRef
from series.store import Store
from tests.monitor.models.simulate import simulate_var

AS_OF = date(2026, 3, 27)
XSS = "<script>alert(1)</script>"


def spec(sid: str, label: str, units: str, freq: str, source: str = "csv", key: str = "synthetic") -> SeriesSpec:
    return SeriesSpec(sid, label, freq, units, SourceRef(source, key))


def step(dates: pd.DatetimeIndex, changes: dict[str, float], start: float) -> pd.Series:
    s = pd.Series(np.nan, index=dates)
    s.iloc[0] = start
    for day, value in changes.items():
        s[s.index >= pd.Timestamp(day)] = value
    return s.ffill()


def make_series() -> tuple[list[SeriesSpec], dict[str, pd.Series]]:
    rng = np.random.default_rng(7)
    days = pd.date_range("2015-01-01", AS_OF, freq="D")
    sessions = pd.bdate_range("2015-01-01", AS_OF)
    months = pd.date_range("2015-01-01", AS_OF, freq="MS")
    upper = step(
        days, {"2022-03-17": 0.5, "2022-06-16": 1.75, "2023-07-27": 5.5, "2024-09-19": 5.0, "2025-12-11": 3.75}, 0.25
    )
    krw = pd.Series(1200 + np.cumsum(rng.normal(0, 4, len(sessions))), index=sessions)
    krw[krw.index >= "2025-11-01"] += 1550 - krw[krw.index >= "2025-11-01"].iloc[0]  # into alert territory
    kospi = pd.Series(2500 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, len(sessions)))), index=sessions)
    flows = pd.Series(rng.normal(0, 3000, len(sessions)), index=sessions)
    us_10y = pd.Series(3 + np.cumsum(rng.normal(0, 0.04, len(sessions))), index=sessions)
    jgb_10y = pd.Series(0.5 + np.cumsum(rng.normal(0, 0.02, len(sessions))), index=sessions)
    exports = pd.Series(50e6 * (1 + 0.05 * np.sin(np.arange(len(months)) / 3)), index=months)
    semis = pd.Series(10e9 * (1 + 0.1 * np.sin(np.arange(len(months)) / 4)), index=months)
    values = {
        "fed_upper": upper,
        "fed_lower": upper - 0.25,
        "fed_effective": upper - 0.17,
        "boj_rate": step(days, {"2024-03-19": 0.1, "2024-07-31": 0.25, "2025-01-24": 0.5, "2025-12-19": 0.75}, -0.1),
        "bok_rate": step(days, {"2022-01-14": 1.25, "2023-01-13": 3.5, "2024-10-11": 3.25, "2025-05-29": 2.5}, 1.0),
        "krw_usd": krw,
        "kospi": kospi,
        "foreign_net_kospi": flows,
        "exports_total": exports,
        "exports_semis": semis,
        "us_10y": us_10y,
        "jgb_10y": jgb_10y,
    }
    specs = [
        spec("fed_upper", "Fed funds target range, upper limit", "%", "D", "fredgraph", "DFEDTARU"),
        spec("fed_lower", "Fed funds target range, lower limit", "%", "D", "fredgraph", "DFEDTARL"),
        spec("fed_effective", "Fed funds effective rate", "%", "D", "fredgraph", "DFF"),
        spec("boj_rate", "BOJ policy rate", "%", "D", "bis", "D.JP"),
        spec("bok_rate", "BOK base rate", "%", "D", "bis", "D.KR"),
        spec("krw_usd", f"KRW per USD {XSS}", "KRW per USD", "B", "fredgraph", "DEXKOUS"),
        spec("kospi", "KOSPI composite index", "points", "B", "yahoo", "^KS11"),
        spec("foreign_net_kospi", "Foreign net purchases of KOSPI stocks", "100 million KRW", "B"),
        spec("exports_total", "Korea exports", "thousand USD", "M", "ecos", "901Y118/T002"),
        spec("exports_semis", "Semiconductor exports", "USD", "M", "customs", "8542"),
        spec("us_10y", "US Treasury 10-year yield", "%", "B", "fredgraph", "DGS10"),
        spec("jgb_10y", "JGB 10-year yield", "%", "B", "mof", "10Y"),
    ]
    return specs, values


def fill_store(path: Path) -> tuple[Store, list[SeriesSpec], dict[str, pd.Series]]:
    specs, values = make_series()
    store = Store.open(path, writer="report tests")
    by_id = {s.id: s for s in specs}
    for sid, s in values.items():
        frame = pd.DataFrame({"date": s.index, "value": s.values, "realtime_start": s.index})
        store.append(sid, frame, source=by_id[sid].source)
    daily = (
        pd.DataFrame(
            {
                "krw_usd": np.log(values["krw_usd"]).diff(),
                "kospi": np.log(values["kospi"]).diff(),
                "foreign_net_kospi": values["foreign_net_kospi"] / 1000,
            }
        )
        .dropna()
        .iloc[-400:]
    )
    monthly = pd.DataFrame(
        {
            "fed_upper": values["fed_upper"].resample("MS").last().diff(),
            "boj_rate": values["boj_rate"].resample("MS").last().diff(),
            "krw_usd": np.log(values["krw_usd"].resample("MS").mean()).diff(),
            "kospi": np.log(values["kospi"].resample("MS").last()).diff(),
        }
    ).dropna()
    for name, label, freq, frame, window, horizon, bands in (
        ("market_daily", "Daily market spillovers", "D", daily, 150, 10, BandSpec(0.9, 20)),
        ("macro_monthly", "Monthly macro spillovers", "M", monthly, None, 12, None),
    ):
        variables = tuple(VariableSpec(c) for c in frame.columns)
        spec = ModelSpec(name, freq, variables, lags=1, horizon=horizon, window=window, label=label, bands=bands)
        save_result(store, estimate(spec, Panel(frame, pd.Timestamp(AS_OF), freq)))
    for result in market_group().results.values():
        save_result(store, result)
    save_result(store, estimate_flow_response(values, AS_OF))
    return store, specs, values


def market_group() -> GroupRun:
    """A SYNTHETIC model group: three markets' FX and equity returns with a common US yield, simulated."""
    markets, data = [], {}
    for k, market in enumerate(("KR", "TW", "JP")):
        sim = simulate_var(260, 2, 1, seed=70 + k, start="2025-03-03")
        data[f"{market}_fx"], data[f"{market}_eq"] = sim["y1"], sim["y2"]
        variables = (
            VariableSpec("us_yield", name="ust", timing="none"),
            VariableSpec(f"{market}_fx", name="fx", timing="none"),
            VariableSpec(f"{market}_eq", name="equity", timing="none"),
        )
        spec = ModelSpec(f"asia.{market}", "D", variables, lags=1, horizon=8, window=120, bands=BandSpec(0.9, 20))
        markets.append(MarketModel(market, market, spec))
    data["us_yield"] = simulate_var(260, 2, 1, seed=79, start="2025-03-03")["y1"]
    return estimate_groups([GroupSpec("asia", "Asia", tuple(markets))], data, AS_OF)


def rule_traces(values: dict[str, pd.Series]) -> list[RuleTrace]:
    krw = values["krw_usd"]
    gap = (values["bok_rate"] - values["fed_upper"]).dropna()
    return [
        RuleTrace("krw_usd_warning", "warning", ("krw_usd",), "KRW/USD >= 1,450", krw >= 1450, 1450.0, ">="),
        RuleTrace("krw_usd_critical", "critical", ("krw_usd",), "KRW/USD >= 1,500", krw >= 1500, 1500.0, ">="),
        RuleTrace(
            "bok_fed_gap",
            "warning",
            ("bok_rate", "fed_upper"),
            "BOK - Fed <= -1.75 pp",
            gap <= -1.75,
            -1.75,
            "<=",
            "spread",
        ),
        RuleTrace(
            "krw_depreciation",
            "warning",
            ("krw_usd",),
            "KRW down 2% in 5 sessions",
            krw.pct_change(5) >= 0.02,
            2.0,
            ">=",
            "change",
        ),
    ]


def context(path: Path) -> tuple[ReportContext, dict[str, pd.Series]]:
    store, specs, values = fill_store(path)
    try:
        ctx = load_context(store, specs, AS_OF, rules=rule_traces(values), run={"status": "ok", "run_id": 1})
    finally:
        store.close()
    return ctx, values
