"""tests/replay.py: every conversion of the replay-directory builder, checked against the real files directly."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.replay import COPIES, KS11_FILES, build_replay_dir


@pytest.fixture(scope="module")
def replay(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_replay_dir(shared, tmp_path_factory.mktemp("replay"))


def _csv(path: Path, skip: int = 1) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))[skip:]


def test_wire_files_are_copied_byte_for_byte(shared: Path, replay: Path) -> None:
    for name, source in COPIES.items():
        assert (replay / name).read_bytes() == (shared / source).read_bytes(), name


def test_ks11_is_the_three_yfinance_files_in_yfinance_layout(shared: Path, replay: Path) -> None:
    rows = [r for f in KS11_FILES for r in _csv(shared / f, skip=3)]
    merged = _csv(replay / "yahoo" / "^KS11.csv", skip=3)
    assert merged == sorted({r[0]: r for r in rows}.values())  # every row as written, by date
    header = (replay / "yahoo" / "^KS11.csv").read_text().splitlines()[:3]
    assert header == ["Price,Close,High,Low,Open,Volume", "Ticker,^KS11,^KS11,^KS11,^KS11,^KS11", "Date,,,,,"]
    assert not (replay / "yahoo" / "^KS11.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_dff_merges_the_two_downloads_in_the_current_format(shared: Path, replay: Path) -> None:
    rows = _csv(replay / "fredgraph" / "DFF.csv", skip=0)
    assert rows[0] == ["observation_date", "DFF"]
    values = dict(rows[1:])
    assert values["1954-07-01"] == "1.13"  # from the re-saved file (7/1/1954,1.13)
    old = {r[0]: r[1] for r in _csv(shared / "data/real/fred_DFF_1954_2024-01_excel_resaved.csv")}
    assert values["1990-01-02"] == f"{float(old['1/2/1990']):.2f}"
    assert values["2026-08-06"] == "3.63"  # from the newer download
    assert len(values) == len(set(values)) and list(values) == sorted(values)
    assert min(values) == "1954-07-01" and max(values) == "2026-08-06"


def test_stand_in_csv_conversions(shared: Path, replay: Path) -> None:
    exports = dict(_csv(replay / "csv" / "exports_total.csv"))
    assert float(exports["2025-06-01"]) == 59.80 * 1_000_000  # billion USD -> thousand USD
    assert len(exports) == 16
    flows = dict(_csv(replay / "csv" / "foreign_net_kospi.csv"))
    assert float(flows["2024-08-05"]) == pytest.approx(-1_519_801 / 100)  # million KRW -> 100 million KRW
    assert len(flows) == 500
    bok = dict(_csv(replay / "csv" / "bok_rate.csv"))
    assert bok["2004-01-31"] == "3.75" and bok["2020-03-31"] == "0.75" and bok["2025-12-31"] == "2.5"
    boj = dict(_csv(replay / "csv" / "boj_rate.csv"))
    assert boj["1992-10-31"] == "4.07386"  # the October average, dated when October is over
    assert all(d[8:] in ("28", "29", "30", "31") for d in boj)
