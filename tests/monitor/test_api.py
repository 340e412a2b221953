"""The Python API (`import monitor`): docs/api_example.py runs as a user would run it (a child process), and the
store it leaves is read back through every function and checked against the CSV files it was built from, the
daily run's own stored results, and the engine's other route to the same numbers. `import monitor` stays cheap."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import monitor
from monitor import api
from monitor.errors import MonitorError
from monitor.models.results import load_result, load_results

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "api_example.py"
AS_OF = "2026-03-27"
REVISED = "2026-03-26"
# Every form a caller may have a date in.
DATE_FORMS = [AS_OF, date(2026, 3, 27), pd.Timestamp(AS_OF)]
# Both routes run the same float operations on the same rows in another order (a sliding sum against one
# cross-product); 1e-10 of the TCI's size is far above that rounding and far below any real difference.
RTOL = 1e-10


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> tuple[Path, str]:
    """docs/api_example.py run in a child process into a folder kept for the tests below: its output and folder."""
    folder = tmp_path_factory.mktemp("api_example")
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), str(folder)], capture_output=True, text=True, cwd=folder, timeout=240
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return folder, done.stdout


@pytest.fixture
def store(example):
    with monitor.open_store(config=example[0] / "config.toml") as s:
        yield s


def csv_values(folder: Path, series_id: str) -> pd.Series:
    frame = pd.read_csv(folder / "csv" / f"{series_id}.csv", parse_dates=["date"])
    return frame.set_index("date")["value"]


def test_the_example_script_runs_and_shows_every_function(example):
    folder, out = example
    for title in (
        f"KRW/USD as known on {AS_OF}",
        f"the vintages of {REVISED}",
        "market_daily's panel",
        "connectedness table",
        "rolling TCI",
        "TVP-VAR TCI",
        f"model results stored for {AS_OF}",
        "krw_usd_warning",
        "the same rule on a Series: the same days\n   True",
    ):
        assert title in out
    assert (folder / "data" / "monitor.sqlite").is_file()


def test_import_monitor_loads_no_heavy_library():
    code = (
        "import sys, monitor\n"
        "heavy = ('pandas', 'numpy', 'statsmodels', 'scipy', 'matplotlib')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
        "print(callable(monitor.open_store))\n"  # the first use loads the API
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.splitlines() == ["[]", "True"]


def test_the_package_exports_the_api_and_still_imports_its_submodules():
    assert monitor.__all__ == api.__all__
    for name in monitor.__all__:
        fn = getattr(monitor, name)
        assert fn is getattr(api, name)
        assert fn.__doc__ and ">>> " in fn.__doc__, f"{name} has no example in its docstring"
    assert set(monitor.__all__) <= set(dir(monitor))
    from monitor import cli  # a submodule, not an API name

    assert cli.__name__ == "monitor.cli"
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        _ = monitor.nothing  # type: ignore[attr-defined]


@pytest.mark.parametrize("when", DATE_FORMS, ids=["str", "date", "Timestamp"])
def test_a_series_as_known_on_a_date_is_the_csv_then(example, store, when):
    known = monitor.series_as_of(store, "krw_usd", when)
    written = csv_values(example[0], "krw_usd")
    # The first fetch knew the file as it was on AS_OF; the revision and the next day came later.
    expected = written[written.index <= AS_OF].copy()
    expected[REVISED] -= 5.0
    assert known.index[-1] == pd.Timestamp(AS_OF)
    np.testing.assert_array_equal(known.to_numpy(), expected.to_numpy())
    latest = monitor.series_as_of(store, "krw_usd")
    assert latest[REVISED] == written[REVISED] and latest.index[-1] == written.index[-1]


def test_the_vintages_known_on_a_date(store):
    then = monitor.series_as_of(store, "krw_usd", AS_OF, vintages=True)
    later = monitor.series_as_of(store, "krw_usd", "2026-03-30", vintages=True)
    assert (then["realtime_start"] <= pd.Timestamp(AS_OF)).all()
    assert len(later) == len(then) + 2  # the revision of REVISED and the new date
    rows = later[later["date"] == REVISED]
    assert rows["value"].diff().iloc[-1] == pytest.approx(5.0)
    assert list(rows["realtime_start"].dt.strftime("%Y-%m-%d")) == [REVISED, "2026-03-30"]


def test_stored_results_read_with_any_form_of_date(store):
    # load_results(store, "2026-03-27") used to raise AttributeError ('str' has no isoformat).
    for when in DATE_FORMS:
        assert list(load_results(store, when)) == ["market_daily"]
        assert load_result(store, "market_daily", when) is not None
        summary = monitor.model_results(store, when)
        assert list(summary.index) == ["market_daily"] and summary.loc["market_daily", "method"] == "rolling VAR"
    assert load_result(store, "market_daily", "2026-03-26") is None  # nothing stored before the first run


def test_the_panel_is_what_the_model_was_estimated_on(example, store):
    config = example[0] / "config.toml"
    frames = [monitor.panel(store, "market_daily", when, config=config) for when in DATE_FORMS]
    stored = monitor.model_result(store, "market_daily", AS_OF)
    assert stored.inputs is not None
    for frame in frames:
        pd.testing.assert_frame_equal(frame, stored.inputs, check_freq=False, check_names=False)
    assert frames[0].attrs["dropped"] == []
    # A list of series ids with the same transforms and timing: the same rows (one more at the start, which the
    # model's US-timed yield, moved a session later, does not have).
    adhoc = monitor.panel(store, ["krw_usd", "kospi"], AS_OF, transform="log_diff")
    assert len(adhoc) == len(frames[0]) + 1
    np.testing.assert_array_equal(adhoc.iloc[1:].to_numpy(), frames[0][["KRW", "KOSPI"]].to_numpy())


def test_connectedness_rolling_and_tvp_agree_with_the_stored_run(example, store):
    frame = monitor.panel(store, "market_daily", AS_OF, config=example[0] / "config.toml")
    stored = monitor.model_result(store, "market_daily", AS_OF)
    rolling = monitor.rolling_connectedness(frame, lags=1, horizon=10, window=250)
    assert stored.rolling is not None
    pd.testing.assert_frame_equal(rolling, stored.rolling[rolling.columns], rtol=RTOL, check_freq=False)
    # The last window by the full-sample route: the same table.
    last = monitor.connectedness(frame.iloc[-250:], lags=1, horizon=10)
    assert last.attrs["tci"] == pytest.approx(rolling["TCI"].iloc[-1], rel=RTOL)
    assert monitor.model_results(store, AS_OF).loc["market_daily", "tci"] == pytest.approx(last.attrs["tci"], rel=RTOL)
    names = list(frame.columns)
    np.testing.assert_allclose(last.loc[names, [*names]].sum(axis=1), 100.0, rtol=RTOL)
    net = last.loc["TO", names].to_numpy() - last.loc[names, "FROM"].to_numpy()
    np.testing.assert_allclose(last.loc["NET", names].to_numpy(), net, rtol=RTOL)
    tvp = monitor.tvp_connectedness(frame, lags=1, horizon=10)
    assert list(tvp.columns) == list(rolling.columns) and tvp.index.equals(frame.index)
    assert tvp.attrs["prior_window"] == 199  # 200 - lags


def test_a_rule_from_the_config_from_a_dict_and_on_a_series(example, store):
    config = example[0] / "config.toml"
    written = csv_values(example[0], "krw_usd")
    by_name = [monitor.evaluate_rule("krw_usd_warning", store, when, config=config) for when in DATE_FORMS]
    block = {"name": "krw_high", "kind": "level", "series": "krw_usd", "op": ">=", "threshold": 1400}
    by_dict = monitor.evaluate_rule(block, store, AS_OF)
    known = monitor.series_as_of(store, "krw_usd", AS_OF)
    on_series = monitor.evaluate_rule(block, known, AS_OF)
    # Independently: the values known on AS_OF against the threshold.
    expected = written[written.index <= AS_OF].copy()
    expected[REVISED] -= 5.0
    for frame in by_name:
        assert frame["condition"].tolist() == (expected >= 1450).tolist()
    assert by_dict["condition"].tolist() == (expected >= 1400).tolist() and by_dict["condition"].any()
    pd.testing.assert_frame_equal(on_series, by_dict)
    # A later value in the Series is not used.
    longer = monitor.evaluate_rule(block, monitor.series_as_of(store, "krw_usd"), AS_OF)
    assert longer.index[-1] == pd.Timestamp(AS_OF)


def test_data_health_has_one_instance_per_series(example, store):
    frame = monitor.evaluate_rule("inputs_stale", store, "2026-04-20", config=example[0] / "config.toml")
    latest = frame.groupby("instance").tail(1).set_index("instance")
    assert set(latest.index) == {"series=krw_usd", "series=kospi", "series=ust10y"}
    assert latest["condition"].all()  # three weeks without a new value: stale


def test_mistakes_are_one_line(example, store):
    config = example[0] / "config.toml"
    with pytest.raises(MonitorError, match=r"^unknown rule 'krw'; known: krw_usd_warning, inputs_stale$"):
        monitor.evaluate_rule("krw", store, AS_OF, config=config)
    with pytest.raises(MonitorError, match=r"^the rule is not valid: .*threshold"):
        monitor.evaluate_rule({"name": "x", "kind": "level", "series": "krw_usd", "op": ">="}, store, AS_OF)
    with pytest.raises(MonitorError, match=r"reads 2 series \(krw_usd, kospi\): pass a mapping"):
        spread = {"name": "s", "kind": "spread", "series": "krw_usd", "minus": "kospi", "op": ">", "threshold": 0}
        monitor.evaluate_rule(spread, pd.Series(dtype=float), AS_OF)
    with pytest.raises(MonitorError, match=r"^unknown model 'daily'; known: market_daily$"):
        monitor.panel(store, "daily", AS_OF, config=config)
    with pytest.raises(MonitorError, match=r"^no stored result of model 'x' on or before 2026-03-27; stored: market_"):
        monitor.model_result(store, "x", AS_OF)
    with pytest.raises(ValueError, match=r"^as_of: '2026-02-30' is not a date"):
        monitor.series_as_of(store, "krw_usd", "2026-02-30")
