"""Many-market model groups: the config block (validated with key paths, the shipped example valid), estimation
of every market equal to estimating it alone, the same results from a process pool, a failing market that does
not stop the others, and the cross-market summary checked against an independent computation. SYNTHETIC data."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from monitor.align import model_panel
from monitor.compute import Compute
from monitor.config import ConfigError, validate_config
from monitor.models.estimate import estimate
from monitor.models.groups import SUMMARY_COLUMNS, estimate_groups, group_summary
from monitor.models.results import ModelResult
from monitor.spec import BandSpec, GroupSpec, MarketModel, ModelSpec, VariableSpec
from tests.monitor.models.simulate import simulate_var
from tests.tolerance import WELL_CONDITIONED, assert_close

REPO = Path(__file__).resolve().parents[3]


def _series(sid: str, calendar: str = "XKRX") -> str:
    return (
        f'[[series]]\nid = "{sid}"\nlabel = "{sid}"\nsource = "csv"\nkey = "{sid}.csv"\nfreq = "B"\nunits = "x"\n'
        f'calendar = "{calendar}"\n'
    )


def shipped_example() -> str:
    """The commented [[model_groups]] example of config.toml, uncommented."""
    text = (REPO / "config.toml").read_text()
    start = text.index("# [[model_groups]]")
    block = []
    for line in text[start:].splitlines():
        if not line.startswith("#"):
            break
        block.append(line[2:])
    return "\n".join(block) + "\n"


def config_with(groups: str):  # type: ignore[no-untyped-def]
    head = "".join(_series(s) for s in ("krw_usd", "kospi", "twd_usd", "taiex")) + _series("us_10y", "XNYS")
    return validate_config(tomllib.loads(head + groups))


def test_the_shipped_example_is_valid_and_becomes_one_model_per_market() -> None:
    config = config_with(shipped_example())
    [group] = config.group_specs()
    assert group.name == "asia_fx_equity" and [m.market for m in group.markets] == ["KR", "TW"]
    kr = group.markets[0].spec
    assert kr.name == "asia_fx_equity.KR" and kr.names == ("ust", "fx", "equity")
    assert [v.series_id for v in kr.variables] == ["us_10y", "krw_usd", "kospi"]
    assert kr.variables[0].timing == "us" and kr.variables[1].timing == "kr"  # from each series' calendar
    assert kr.window == 250 and kr.lags == 1 and kr.bands == BandSpec(0.9, 200)
    assert group.markets[1].spec.names == ("ust", "fx", "equity")
    assert config.model_names() == ["asia_fx_equity.KR", "asia_fx_equity.TW"]
    assert config.model_specs() == []


def test_rules_may_name_a_market_model_and_its_variables() -> None:
    rule = (
        '[[rules]]\nname = "tw_fx"\nkind = "spillover_sign"\nmodel = "asia_fx_equity.TW"\nvariable = "fx"\n'
        '[[rules]]\nname = "bad"\nkind = "spillover_sign"\nmodel = "asia_fx_equity.TW"\nvariable = "fxx"\n'
    )
    with pytest.raises(ConfigError) as e:
        config_with(shipped_example() + rule)
    assert e.value.problems == [
        "rules[1].variable: model asia_fx_equity.TW has no variable 'fxx' (did you mean 'fx'?) "
        "(its variables: ust, fx, equity)"
    ]


def test_group_config_problems_are_listed_with_their_key_paths() -> None:
    bad = """
[[model_groups]]
name = "asia"
freq = "D"
lags = 1
bands = { level = 1.5, draws = 0, blocks = 3 }
variables = [{ series = "us_10y" }]
markets = [
    { name = "KR", variables = [{ series = "krw_usd" }, { series = "us_10y" }] },
    { name = "KR", variables = [{ series = "kosp" }] },
    { name = "7x", variables = [], colour = "red" },
]
"""
    with pytest.raises(ConfigError) as e:
        config_with(bad)
    problems = e.value.problems
    expected = [
        "model_groups[0].bands.level: Input should be less than 1",
        "model_groups[0].bands.draws: Input should be greater than or equal to 1",
        "model_groups[0].bands.blocks: unknown key",
        "model_groups[0].markets[2].name: '7x' must be",
        "model_groups[0].markets[2].variables: List should have at least 1 item",
        "model_groups[0].markets[2].colour: unknown key",
        "model_groups[0].markets[0].variables[1]: variable 'us_10y' is already in this market's model "
        "(from model_groups[0].variables[0])",
        "model_groups[0].markets[1].name: duplicate market 'KR' (first used by markets[0])",
        "model_groups[0].markets[2].variables: a market's model needs at least two variables",
        "model_groups[0].markets[1].variables[0].series: unknown series 'kosp' (did you mean 'kospi'?)",
    ]
    for want in expected:
        assert any(p.startswith(want) for p in problems), (want, problems)
    with pytest.raises(ConfigError, match=re.escape("model_groups[0]: a model group needs window = W")):
        config_with(
            '[[model_groups]]\nname = "g"\nfreq = "D"\nmarkets = [{ name = "KR", variables = '
            '[{ series = "krw_usd" }, { series = "kospi" }] }]\n'
        )


# -- estimation ------------------------------------------------------------------------------------------------
MARKETS = ("KR", "JP", "TW")


@pytest.fixture(scope="module")
def data() -> dict[str, pd.Series]:
    out = {}
    for k, market in enumerate(MARKETS):
        sim = simulate_var(260, 2, 1, seed=40 + k, start="2024-01-02")
        out[f"{market}_fx"], out[f"{market}_eq"] = sim["y1"], sim["y2"]
    out["ust"] = simulate_var(260, 2, 1, seed=99, start="2024-01-02")["y1"]
    return out


BANDS = BandSpec(0.9, 30, seed=1)


def group(markets: tuple[str, ...] = MARKETS, bands: BandSpec | None = BANDS) -> GroupSpec:
    def spec(m: str) -> ModelSpec:
        variables = (
            VariableSpec("ust", name="ust", timing="none"),
            VariableSpec(f"{m}_fx", name="fx", timing="none"),
            VariableSpec(f"{m}_eq", name="eq", timing="none"),
        )
        return ModelSpec(f"asia.{m}", "D", variables, lags=1, horizon=8, window=120, bands=bands, label=m)

    return GroupSpec("asia", "Asia", tuple(MarketModel(m, m, spec(m)) for m in markets))


AS_OF = "2024-12-20"


@pytest.fixture(scope="module")
def serial(data: dict[str, pd.Series]):  # type: ignore[no-untyped-def]
    return estimate_groups([group()], data, AS_OF)


def test_each_market_is_what_estimating_it_alone_gives(data: dict[str, pd.Series], serial) -> None:  # type: ignore[no-untyped-def]
    run = serial
    assert list(run.results) == ["asia.KR", "asia.JP", "asia.TW"]
    for market in group().markets:
        alone = estimate(market.spec, model_panel(data, market.spec, pd.Timestamp(AS_OF)))
        got = run.results[market.spec.name]
        assert got.group == "asia" and got.market == market.market and not got.error
        assert np.array_equal(got.rolling.to_numpy(), alone.rolling.to_numpy())  # type: ignore[union-attr]
        assert np.array_equal(got.bands.to_numpy(), alone.bands.to_numpy())  # type: ignore[union-attr]
        assert got.lags == alone.lags and got.table.tci == alone.table.tci  # type: ignore[union-attr]
        back = ModelResult.from_dict(json.loads(json.dumps(got.to_dict())))  # what the store keeps
        assert (back.group, back.market) == ("asia", market.market)


def test_a_process_pool_gives_the_same_results(data: dict[str, pd.Series], serial) -> None:  # type: ignore[no-untyped-def]
    with Compute("processes", workers=2) as compute:
        pooled = estimate_groups([group()], data, AS_OF, compute=compute)
    for name, result in serial.results.items():
        assert np.array_equal(pooled.results[name].rolling.to_numpy(), result.rolling.to_numpy())  # type: ignore[union-attr]
        assert np.array_equal(pooled.results[name].bands.to_numpy(), result.bands.to_numpy())  # type: ignore[union-attr]
    pd.testing.assert_frame_equal(pooled.summary, serial.summary)


def test_a_market_without_data_gets_an_error_and_the_others_go_on(data: dict[str, pd.Series]) -> None:
    partial = {k: v for k, v in data.items() if not k.startswith("JP_")}
    run = estimate_groups([group()], partial, AS_OF)
    assert "series JP_fx is not in the data" in run.results["asia.JP"].error
    assert run.results["asia.JP"].rolling is None and run.results["asia.KR"].rolling is not None
    assert set(run.summary["market"]) == {"KR", "TW"}


def test_the_next_day_extends_each_market_incrementally(data: dict[str, pd.Series], serial) -> None:  # type: ignore[no-untyped-def]
    first = estimate_groups([group()], {k: v.loc[:"2024-12-18"] for k, v in data.items()}, "2024-12-18")
    second = estimate_groups([group()], data, AS_OF, previous=first.results)
    full = serial
    for name in full.results:
        got, want = second.results[name].rolling, full.results[name].rolling
        assert got is not None and want is not None and got.index.equals(want.index)
        assert_close(got.to_numpy(), want.to_numpy(), WELL_CONDITIONED)
        assert not any("recomputed" in n for n in second.results[name].notes)


def test_the_summary_ranks_markets_by_how_unusual_today_is(serial) -> None:  # type: ignore[no-untyped-def]
    run = serial
    summary = run.summary
    assert summary.columns.tolist() == SUMMARY_COLUMNS
    assert len(summary) == 3 * 4  # TCI and NET of ust, fx, eq per market
    z = summary["zscore"].abs().to_numpy()
    assert (np.diff(z) <= 0).all()  # most unusual first
    for row in summary.itertuples():
        frame = run.results[row.model].rolling
        column = "TCI" if row.measure == "TCI" else f"NET_{row.variable}"
        s = frame[column]  # type: ignore[index]
        history, today = s.iloc[:-1], s.iloc[-1]
        assert row.value == today and row.date == s.index[-1] and row.history == len(history)
        # A percentile is a count over n (one rounding); a z-score a few sums of values of scale ~10.
        assert row.percentile == pytest.approx(stats.percentileofscore(history, today, kind="mean"), rel=1e-12)
        assert row.zscore == pytest.approx((today - np.mean(history)) / np.std(history, ddof=1), rel=1e-9)
        assert row.lo == frame[f"{column}_lo"].iloc[-1] and row.hi == frame[f"{column}_hi"].iloc[-1]  # type: ignore[index]


def test_summary_without_groups_or_history() -> None:
    assert group_summary([]).columns.tolist() == SUMMARY_COLUMNS and group_summary([]).empty
