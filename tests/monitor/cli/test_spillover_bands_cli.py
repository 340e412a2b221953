"""`monitor spillover ... --bands`: full-sample bands in --json, rolling bands as extra OUT.csv columns, the same
numbers from every scheduler, and a one-line error with exit 2 for every bad option. SYNTHETIC CSV files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from monitor.cli import run
from monitor.models.bands import band_columns, full_sample_bands, rolling_bands
from monitor.spec import BandSpec
from series.sources.base import exact_floats
from tests.monitor.models.simulate import simulate_var
from tests.tolerance import WELL_CONDITIONED


@pytest.fixture(scope="module")
def path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = simulate_var(n_obs=180, n_vars=3, lags=1, seed=5)
    data.columns = ["krw", "kospi", "ust"]
    out = tmp_path_factory.mktemp("bands") / "synthetic.csv"
    data.to_csv(out, index_label="date")
    return out


def _frame(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, index_col=0, parse_dates=[0], **exact_floats())
    frame.index.name = "date"
    return frame


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def test_json_has_the_full_sample_bands(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["spillover", str(path), "-p", "1", "-H", "8", "--json", "--bands", "0.8", "--draws", "60"]
    assert run([*args, "--block-length", "4", "--seed", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    bands = out["bands"]
    expected = full_sample_bands(_frame(path), 1, 8, BandSpec(0.8, 60, block_length=4.0, seed=3))
    assert {k: bands[k] for k in ("level", "draws", "block_length", "seed", "interval")} == {
        "level": 0.8,
        "draws": 60,
        "block_length": 4.0,
        "seed": 3,
        "interval": "percentile",
    }
    assert bands["tci"] == {"lo": expected.at["TCI", "lo"], "hi": expected.at["TCI", "hi"]}
    assert bands["net"]["kospi"]["hi"] == expected.at["NET_kospi", "hi"]
    assert bands["from"]["ust"]["lo"] == expected.at["FROM_ust", "lo"]
    ab = bands["npdc"]["krw"]["ust"]
    assert ab == {"lo": expected.at["NPDC_krw_ust", "lo"], "hi": expected.at["NPDC_krw_ust", "hi"]}
    assert bands["npdc"]["ust"]["krw"] == {"lo": -ab["hi"], "hi": -ab["lo"]}
    assert out["tci"] == pytest.approx(expected.at["TCI", "estimate"], rel=WELL_CONDITIONED)


def test_rolling_bands_go_to_the_csv_the_same_from_every_scheduler(path: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    base = ["spillover", str(path), "-p", "1", "-H", "8", "-w", "120", "--bands", "0.9", "--draws", "40"]
    assert run([*base, "-o", str(tmp_path / "serial.csv")]) == 0
    assert run([*base, "-o", str(tmp_path / "pool.csv"), "--scheduler", "processes", "--workers", "2"]) == 0
    capsys.readouterr()
    serial = pd.read_csv(tmp_path / "serial.csv", index_col=0, parse_dates=[0], **exact_floats())
    pool = pd.read_csv(tmp_path / "pool.csv", index_col=0, parse_dates=[0], **exact_floats())
    names = ("krw", "kospi", "ust")
    assert serial.columns.tolist()[-len(band_columns(names)) :] == band_columns(names)
    expected = rolling_bands(_frame(path), 1, 8, 120, BandSpec(0.9, 40))
    np.testing.assert_allclose(serial[band_columns(names)].to_numpy(), expected.to_numpy(), rtol=1e-15)
    pd.testing.assert_frame_equal(serial, pool, check_exact=True)


def test_bias_corrected_interval(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["spillover", str(path), "-p", "1", "-H", "8", "--json", "--bands", "0.9", "--draws", "30"]
    assert run([*args, "--interval", "bias-corrected"]) == 0
    bands = json.loads(capsys.readouterr().out)["bands"]
    expected = full_sample_bands(_frame(path), 1, 8, BandSpec(0.9, 30, interval="bias_corrected"))
    assert bands["interval"] == "bias_corrected" and bands["tci"]["lo"] == expected.at["TCI", "lo"]


def test_the_table_shows_the_bands(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["spillover", str(path), "-p", "1", "-H", "8", "--bands", "0.9", "--draws", "20"]) == 0
    out = capsys.readouterr().out
    assert "90% bootstrap band (20 draws): TCI [" in out and "NET band" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--bands", "1.5"], "--bands must be between 0 and 1"),
        (["--bands", "0"], "--bands must be between 0 and 1"),
        (["--bands", "0.9", "--draws", "0"], "--draws must be at least 1, got 0"),
        (["--bands", "0.9", "--block-length", "0.5"], "--block-length must be at least 1"),
        (["--bands", "0.9", "--seed", "-1"], "--seed must be a non-negative whole number"),
        (["--bands", "0.9", "--workers", "0"], "--workers must be at least 1"),
        (["--bands", "0.9", "--address", "tcp://127.0.0.1:8786"], "--address is the Dask scheduler's"),
        (["--draws", "100"], "--draws sets up the bootstrap bands: add --bands LEVEL"),
        (["--scheduler", "processes"], "--scheduler only applies to the bootstrap: add --bands LEVEL"),
        (["--bands", "0.9", "--scheduler", "threads"], "Invalid value for '--scheduler'"),
        (["--bands", "0.9", "--interval", "bca"], "Invalid value for '--interval'"),
        (["--bands", "0.9", "--tvp", "-o", "x.csv"], "--bands bootstraps VAR models, not the TVP-VAR"),
    ],
)
def test_bad_band_options_are_one_line_errors(path: Path, capsys, extra: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    assert run(["spillover", str(path), "-p", "1", "-H", "8", *extra]) == 2
    assert message in one_line_error(capsys)


def test_dask_without_the_extra_names_the_install(path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    assert run(["spillover", str(path), "-p", "1", "-H", "8", "--bands", "0.9", "--scheduler", "dask"]) == 2
    assert "pip install -e '.[dask]'" in one_line_error(capsys)
