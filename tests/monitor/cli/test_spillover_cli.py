"""`monitor spillover`: output shapes, files written, and one-line errors with exit 2 for every kind of bad input.

The CSV files are SYNTHETIC: simulated in the test and written to tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from monitor.cli import run
from monitor.models.spillover import connectedness, rolling_connectedness
from tests.monitor.models.simulate import simulate_var
from tests.tolerance import WELL_CONDITIONED, assert_close


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    data = simulate_var(n_obs=160, n_vars=3, lags=1, seed=5)
    data.columns = ["krw", "kospi", "ust"]
    return data


def write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index_label="date")
    return path


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err
    return lines[0]


def test_json_is_the_full_sample_table(frame: pd.DataFrame, tmp_path: Path, capsys) -> None:
    path = write(frame, tmp_path / "synthetic.csv")
    assert run(["spillover", str(path), "--lags", "2", "--horizon", "10", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["variables", "table", "from", "to", "net", "tci", "ctci", "npdc", "pci", "influence"]
    expected = connectedness(frame, 2, 10)
    assert out["variables"] == ["krw", "kospi", "ust"]
    assert_close(out["table"], expected.matrix, WELL_CONDITIONED)
    assert out["tci"] == pytest.approx(expected.tci) and out["ctci"] == pytest.approx(expected.ctci)
    assert out["net"]["ust"] == pytest.approx(expected.net[2])
    assert out["npdc"]["krw"]["kospi"] == pytest.approx(expected.matrix[1, 0] - expected.matrix[0, 1])


def test_readable_table(frame: pd.DataFrame, tmp_path: Path, capsys) -> None:
    path = write(frame, tmp_path / "synthetic.csv")
    assert run(["spillover", str(path), "--lags", "1", "--horizon", "5", "--orthogonal"]) == 0
    out = capsys.readouterr().out
    table = connectedness(frame, 1, 5, orthogonal=True)
    assert "Orthogonal VAR(1)" in out and f"TCI {table.tci:.2f}%" in out and "NET" in out


def test_window_writes_the_per_date_series(frame: pd.DataFrame, tmp_path: Path, capsys) -> None:
    path, out_csv = write(frame, tmp_path / "synthetic.csv"), tmp_path / "rolling.csv"
    assert run(["spillover", str(path), "-p", "1", "-H", "8", "--window", "60", "--out", str(out_csv)]) == 0
    assert f"wrote 101 dates to {out_csv}" in capsys.readouterr().out
    written = pd.read_csv(out_csv, index_col="date", parse_dates=True)
    expected = rolling_connectedness(frame, 1, 8, 60)
    assert written.index.equals(expected.index)
    assert_close(written.to_numpy(), expected.to_numpy(), WELL_CONDITIONED)


def test_tvp_writes_every_date(frame: pd.DataFrame, tmp_path: Path, capsys) -> None:
    path, out_csv = write(frame, tmp_path / "synthetic.csv"), tmp_path / "tvp.csv"
    assert run(["spillover", str(path), "-p", "1", "-H", "8", "--tvp", "--out", str(out_csv), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    written = pd.read_csv(out_csv, index_col="date", parse_dates=True)
    assert len(written) == len(frame)
    # The average table's TCI is the mean of the dates' TCIs (a linear measure): the same up to the CSV's
    # rounding of each date's value, and the mean's own summation.
    assert out["tci"] == pytest.approx(written["TCI"].mean(), rel=WELL_CONDITIONED)


def test_transform_and_trimmed_edges(frame: pd.DataFrame, tmp_path: Path, capsys) -> None:
    levels = np.exp(frame.cumsum() / 50)
    levels.iloc[0, 1] = np.nan  # kospi starts a day late: the leading row is left out, with a note
    path = write(levels, tmp_path / "synthetic_levels.csv")
    assert run(["spillover", str(path), "-p", "1", "-H", "6", "--transform", "log_diff", "--json"]) == 0
    captured = capsys.readouterr()
    assert "note:" in captured.err and "1 leading" in captured.err
    expected = connectedness(np.log(levels.iloc[1:]).diff().iloc[1:], 1, 6)
    assert_close(json.loads(captured.out)["table"], expected.matrix, WELL_CONDITIONED)


def _bad_files(frame: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """name -> (CSV text, expected fragment of the one-line error)."""
    missing = frame.copy()
    missing.iloc[80, 1] = np.nan
    text = frame.astype(object).copy()
    text.iloc[30, 2] = "n/a?"
    return {
        "missing inside": (missing.to_csv(index_label="date"), "missing value in column kospi at"),
        "too short": (
            frame.iloc[:9].to_csv(index_label="date"),
            "9 observations are too few for a VAR(2) in 3 variables with a constant: it needs at least 10",
        ),
        "constant": (frame.assign(ust=2.5).to_csv(index_label="date"), "constant column(s): ust"),
        "duplicated": (frame.assign(ust=frame["krw"]).to_csv(index_label="date"), "columns krw and ust are identical"),
        "non-numeric": (text.to_csv(index_label="date"), "column ust is not numeric: row 32"),
        "bad dates": (frame.to_csv(index_label="date").replace("2015-01-07", "someday", 1), "must hold dates"),
        "one variable": (frame[["krw"]].to_csv(index_label="date"), "at least two variable columns"),
        "no date column": (frame.to_csv(index=False), "must hold dates such as 2024-05-31, found numbers"),
        "empty": ("", "not a readable CSV file"),
    }


@pytest.mark.parametrize(
    "case",
    list(_bad_files(simulate_var(n_obs=160, n_vars=3, lags=1, seed=5).set_axis(["krw", "kospi", "ust"], axis=1))),
)
def test_bad_data_exit_2_with_one_line(frame: pd.DataFrame, tmp_path: Path, capsys, case: str) -> None:
    content, fragment = _bad_files(frame)[case]
    path = tmp_path / "synthetic_bad.csv"
    path.write_text(content)
    assert run(["spillover", str(path), "--lags", "2", "--horizon", "10"]) == 2
    assert fragment in one_line_error(capsys)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--window", "5", "--out", "OUT"], "window 5 is shorter than the regression needs"),
        (["--window", "60"], "--out OUT.csv is required"),
        (["--tvp"], "--out OUT.csv is required"),
        (["--window", "60", "--tvp", "--out", "OUT"], "either --window or --tvp"),
        (["--transform", "cube"], "'cube' is not one of"),
        (["--lags", "0"], "--lags"),
        (["--tvp", "--out", "OUT", "--kappa1", "1.5"], "kappa1 must be in (0, 1]"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(frame: pd.DataFrame, tmp_path: Path, capsys, args, fragment) -> None:
    path = write(frame, tmp_path / "synthetic.csv")
    argv = ["spillover", str(path), "--lags", "2", "--horizon", "10"]
    argv += [str(tmp_path / "out.csv") if a == "OUT" else a for a in args]
    assert run(argv) == 2
    assert fragment in one_line_error(capsys)
    assert not (tmp_path / "out.csv").exists()


def test_missing_file(tmp_path: Path, capsys) -> None:
    assert run(["spillover", str(tmp_path / "nope.csv"), "--lags", "1", "--horizon", "5"]) == 2
    assert "no such file" in one_line_error(capsys)
