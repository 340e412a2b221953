"""Hostile command-line arguments: each is refused with one line and exit 2 before anything is read, computed or
stored (a horizon of 10^8 once grew `monitor spillover` to 5.7 GB; an as-of date no calendar knows crashed the run
after its fetch was stored; `series export --out` into a missing folder crashed)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from monitor.cli import run
from tests.faults.support import write_config


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.fixture
def synthetic_csv(tmp_path: Path) -> Path:
    """SYNTHETIC: 160 rows of three independent normal variables."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        rng.standard_normal((160, 3)), columns=["a", "b", "c"], index=pd.date_range("2020-01-01", periods=160)
    )
    path = tmp_path / "synthetic.csv"
    frame.to_csv(path, index_label="date")
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lags", "1", "--horizon", "100000000"], "'--horizon' / '-H': Input should be less than or equal to 500"),
        (["--lags", "61", "--horizon", "10"], "'--lags' / '-p': Input should be less than or equal to 60"),
        (["--lags", "1", "--horizon", "10", "--window", "100000000"], "window 100000000 is longer than the data"),
        (
            ["--lags", "1", "--horizon", "10", "--bands", "0.9", "--draws", "100000000"],
            "--draws must be at most 100,000 (as in config), got 100000000",
        ),
    ],
)
def test_spillover_bounds_its_settings_as_the_config_does(synthetic_csv, tmp_path, capsys, args, message):
    assert run(["spillover", str(synthetic_csv), *args, "--out", str(tmp_path / "out.csv")]) == 2
    assert message in one_line_error(capsys)
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("day", ["1900-01-01", "2099-12-31", "9999-12-31"])
def test_an_as_of_date_the_calendars_do_not_know_is_refused_before_anything_is_stored(tmp_path, capsys, day):
    config = write_config(tmp_path, None, smtp_port=1, fx_days=(date(2024, 2, 1), date(2024, 3, 6)))
    last = f"{date.today().year + 1}-12-3"  # the calendars reach to the end of next year (its last session)
    for args in (
        ["run", "--as-of", day],
        ["backfill", "--from", "2024-03-04", "--to", day],
        ["backfill", "--from", day, "--to", "2024-03-04"],
        ["report", "--as-of", day],
        ["fetch", "--as-of", day],
    ):
        assert run([*args, "--config", str(config)]) == 2, args
        line = one_line_error(capsys)
        assert f" {day} is " in line and "the calendars know; use a date from 1990-01-03 to " + last in line, line
    assert not (tmp_path / "store.sqlite").exists() and not (tmp_path / "exports").exists()


def test_series_export_into_a_missing_folder_is_a_usage_error(tmp_path, capsys):
    config = write_config(tmp_path, None, smtp_port=1, fx_days=(date(2024, 2, 1), date(2024, 3, 6)))
    assert run(["fetch", "--config", str(config), "--as-of", "2024-03-05"]) == 0
    capsys.readouterr()
    out = tmp_path / "no" / "such" / "folder" / "won.csv"
    assert run(["series", "export", "won", "--config", str(config), "--out", str(out)]) == 2
    assert one_line_error(capsys) == (
        f"error: --out: folder {out.parent} does not exist; create it or choose another path"
    )
