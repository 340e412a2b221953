"""tests/replay.py: every conversion of the replay-directory builder, checked against the real files directly."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.replay import (
    DEXKOUS,
    JGB_10Y,
    JGB_HISTORY,
    KRWX,
    KS11_FILES,
    KS11_INCOMING,
    LEGACY,
    TONA,
    VIXCLS,
)


@pytest.fixture
def replay(replay_dir: Path) -> Path:
    return replay_dir  # built once per session by tests/conftest.py


def _csv(path: Path, skip: int = 1) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))[skip:]


def test_fred_downloads_are_kept_byte_for_byte_and_extended_with_the_newer_files(shared: Path, replay: Path) -> None:
    for fred_id, (old, _) in LEGACY.items():
        body, original = (replay / "fredgraph" / f"{fred_id}.csv").read_bytes(), (shared / old).read_bytes()
        assert body.startswith(original), fred_id  # the legacy `DATE,<ID>` download, then later days
        assert body.splitlines()[0] == f"DATE,{fred_id}".encode()
    dexkous = (replay / "fredgraph" / "DEXKOUS.csv").read_bytes()
    assert dexkous.startswith((shared / DEXKOUS[0]).read_bytes())
    newer = {r[0]: r[1] for r in _csv(shared / DEXKOUS[1])}
    tail = dict(_csv(replay / "fredgraph" / "DEXKOUS.csv"))
    later = [d for d in tail if d > "2026-03-27"]
    assert later and all(float(tail[d]) == float(newer[d]) for d in later)
    assert max(later) == "2026-08-14" and len(later) == sum(1 for d in newer if d > "2026-03-27")
    upper = dict(_csv(replay / "fredgraph" / "DFEDTARU.csv"))
    assert upper["2024-01-31"] == "5.50" and upper["2025-12-11"] == "3.75" and max(upper) == "2026-08-21"
    dgs10 = dict(_csv(replay / "fredgraph" / "DGS10.csv"))
    assert dgs10["2026-06-04"] == f"{float(dict(_csv(shared / LEGACY['DGS10'][1]))['2026-06-04']):.2f}"
    assert max(dgs10) == "2026-08-20" and list(dgs10) == sorted(dgs10)


def test_yahoo_files_in_yfinance_layout_with_every_cell_as_written(shared: Path, replay: Path) -> None:
    rows = {r[0]: r for f in KS11_FILES for r in _csv(shared / f, skip=3)}
    merged = {r[0]: r for r in _csv(replay / "yahoo" / "^KS11.csv", skip=3)}
    assert all(merged[d] == r for d, r in rows.items())  # the yfinance-layout files win where they have a day
    incoming = {r[0]: r for r in _csv(shared / KS11_INCOMING)}  # Date,Adj Close,Close,High,Low,Open,Volume
    gap = [d for d in merged if "2025-03-01" <= d <= "2025-09-05"]
    assert len(gap) > 100 and all(merged[d] == [d, *incoming[d][2:]] for d in gap)
    assert max(merged) == "2026-08-21"
    krw = {r[0]: r for r in _csv(replay / "yahoo" / "KRW=X.csv", skip=3)}
    assert krw == {d: [d, *r[2:]] for d, r in ((r[0], r) for r in _csv(shared / KRWX))}
    for name, ticker in (("^KS11.csv", "^KS11"), ("KRW=X.csv", "KRW=X")):
        header = (replay / "yahoo" / name).read_text().splitlines()[:3]
        assert header == ["Price,Close,High,Low,Open,Volume", f"Ticker{f',{ticker}' * 5}", "Date,,,,,"]
        assert not (replay / "yahoo" / name).read_bytes().startswith(b"\xef\xbb\xbf")


def test_bis_and_boj_recordings_hold_the_real_daily_rates(shared: Path, replay: Path) -> None:
    bis = _csv(replay / "bis" / "D.JP.csv", skip=0)
    assert bis[0][:5] == ["DATAFLOW", "FREQ", "REF_AREA", "TIME_PERIOD", "OBS_VALUE"]
    policy = {r[3]: float(r[4]) for r in bis[1:]}
    assert policy["2024-03-21"] == 0.05 and policy["2026-06-17"] == 1.0 and max(policy) == "2026-08-04"
    assert policy["2021-08-09"] == -0.1 and len(policy) == 1302
    body = json.loads((replay / "boj" / "FM01_STRDCLUCON.json").read_text())
    values = body["RESULTSET"][0]["VALUES"]
    tona = {r[0]: float(r[4]) for r in _csv(shared / TONA)}
    assert dict(zip(map(str, values["SURVEY_DATES"]), values["VALUES"], strict=True)) == tona
    assert body["NEXTPOSITION"] is None


def test_mof_vix_and_us_2y_recordings(shared: Path, replay: Path) -> None:
    assert (replay / "mof" / "jgbcme_all.csv").read_bytes() == (shared / JGB_HISTORY).read_bytes()
    current = _csv(replay / "mof" / "jgbcme.csv", skip=1)
    header, rows = current[0], current[1:]
    daily = {r[0]: float(r[4]) for r in _csv(shared / JGB_10Y)}
    later = {k: v for k, v in daily.items() if k > "20260430"}
    assert len(rows) == len(later) == 66 and rows[-1][0] == "2026/8/6"
    for row in rows:
        y, m, d = (int(x) for x in row[0].split("/"))
        assert float(row[header.index("10Y")]) == later[f"{y:04d}{m:02d}{d:02d}"]
        assert {c for i, c in enumerate(row) if header[i] not in ("Date", "10Y")} == {"-"}
    vix = {r[0]: float(r[1]) for r in _csv(replay / "fredgraph" / "VIXCLS.csv")}
    assert vix == {r[0]: float(r[1]) for r in _csv(shared / VIXCLS)}
    assert vix["2026-02-06"] == 17.76  # INCOMING.md: FRED 17.76 where Yahoo has 20.37
    us_2y = {r[0]: float(r[1]) for r in _csv(replay / "csv" / "us_2y.csv")}
    cache = json.loads((shared / "data/real/incoming/fredapi_cache_33series_2021-05_2026-08.json").read_text())
    ten, spread = dict(cache["series"]["DGS10"]), dict(cache["series"]["T10Y2Y"])
    assert all(round(ten[d] - spread[d] - v, 9) == 0 for d, v in us_2y.items())
    assert len(us_2y) > 1250 and max(us_2y) == "2026-08-20"


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
    semis = dict(_csv(replay / "csv" / "exports_semis.csv"))
    assert float(semis["2026-06-01"]) == 33_567_818 * 1_000  # thousand USD -> USD
    assert len(semis) == 169 and min(semis) == "2012-06-01"
    bok = dict(_csv(replay / "csv" / "bok_rate.csv"))
    assert bok["2004-01-31"] == "3.75" and bok["2020-03-31"] == "0.75" and bok["2025-12-31"] == "2.5"
    assert not (replay / "csv" / "boj_rate.csv").exists()  # the BIS recording serves boj_rate now
