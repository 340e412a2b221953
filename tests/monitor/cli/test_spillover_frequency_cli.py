"""`monitor spillover --frequency`: the band tables in JSON and the per-band columns in OUT.csv."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from monitor.cli import run
from monitor.models.frequency import frequency_connectedness, rolling_frequency
from tests.monitor.cli.test_spillover_cli import one_line_error, write
from tests.monitor.models.simulate import simulate_var
from tests.tolerance import WELL_CONDITIONED, assert_close


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    data = simulate_var(n_obs=160, n_vars=3, lags=1, seed=5)
    data.columns = ["krw", "kospi", "ust"]
    return data


def test_json_has_the_band_tables(frame: pd.DataFrame, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = write(frame, tmp_path / "synthetic.csv")
    assert run(["spillover", str(path), "-p", "1", "-H", "30", "--frequency", "5,20", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)["frequency"]
    expected = frequency_connectedness(frame, 1, 30, (5, 20))
    assert list(out["bands"]) == ["1-5", "5-20", "20+"] and out["grid"] == 30
    for label, a, w in zip(expected.labels, expected.absolute, expected.within, strict=True):
        assert_close(out["bands"][label]["absolute"]["table"], a.matrix, WELL_CONDITIONED)
        assert out["bands"][label]["within"]["tci"] == pytest.approx(w.tci, rel=WELL_CONDITIONED)
        assert "pci" in out["bands"][label]["absolute"]


def test_window_writes_band_columns_and_the_table_prints_bands(frame: pd.DataFrame, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path, out_csv = write(frame, tmp_path / "synthetic.csv"), tmp_path / "rolling.csv"
    args = ["spillover", str(path), "-p", "1", "-H", "20", "-w", "80", "--frequency", "5", "--out", str(out_csv)]
    assert run(args) == 0
    printed = capsys.readouterr().out
    assert "Frequency bands" in printed and "1-5" in printed and "5+" in printed
    written = pd.read_csv(out_csv, index_col="date", parse_dates=True)
    expected = rolling_frequency(frame, 1, 20, 80, (5,))
    assert_close(written[expected.columns].to_numpy(), expected.to_numpy(), WELL_CONDITIONED)
    assert "TCI" in written.columns  # the time-domain measures stay


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--frequency", "20,5"], "--frequency: frequency cut points must be increasing"),
        (["--frequency-grid", "50"], "add --frequency"),
        (["--frequency", "5", "--frequency-grid", "4"], "at least the horizon"),
        (["--frequency", "5,5.2"], "no frequency in band"),
    ],
)
def test_bad_frequency_options_are_one_line_errors(frame: pd.DataFrame, tmp_path: Path, capsys, extra, message) -> None:  # type: ignore[no-untyped-def]
    path = write(frame, tmp_path / "synthetic.csv")
    assert run(["spillover", str(path), "-p", "1", "-H", "10", *extra]) == 2
    assert message in one_line_error(capsys)
