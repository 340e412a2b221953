"""mof: the real English history file (jgbcme_all.csv, byte for byte as MOF serves it), checked against an
independent reading and against a second real file; the Japanese layout (Shift-JIS, era dates) on a SYNTHETIC
body in MOF's documented layout; the current month's file winning over the history; typed errors."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from series import sources
from series.errors import SourceRequestError, SourceSchemaError
from series.sources.base import Response, Window
from series.sources.mof import jgb_date
from tests.series.sources.support import make_spec

HISTORY = "data/real/incoming/mof_jgbcme_all_1974-09_2026-04.csv"
TEN_YEAR_DAILY = "data/real/incoming/mof_jgb10y_daily_2021-08_2026-08.csv"

# SYNTHETIC: the Japanese current-month file's layout (Shift-JIS, era dates, `-` for missing), values made up.
JAPANESE = (
    "国債金利情報,,,(単位 : %)\r\n基準日,1年,2年,10年,40年\r\n"
    "H31.4.26,-0.15,-0.16,-0.04,0.51\r\nR元.5.7,-0.15,-0.16,-0.05,-\r\nR8.3.27,0.9,1.26,2.31,3.6\r\n"
).encode("cp932")


def _fetch(pages: list[bytes], key: str, lang: str = "en", window: Window | None = None) -> pd.DataFrame:
    src = sources.get("mof")
    spec = make_spec("mof", key, params={"lang": lang})
    request = src.build_query(spec.primary, spec, window or Window(), {})
    raws = []
    for body in pages:
        assert request is not None
        raw = src.extract(Response(200, body, request), spec.primary, spec)
        raws.append(raw)
        request = src.next_request(request, Response(200, body, request), raw)
    assert request is None  # two files, then done
    return src.parse(raws, spec.primary, spec)


def _independent(path: Path, column: str) -> dict[str, float | None]:
    with path.open(newline="") as f:
        rows = list(csv.reader(f))[1:]
    col = rows[0].index(column)
    out = {}
    for r in rows[1:]:
        y, m, d = (int(x) for x in r[0].split("/"))
        out[f"{y:04d}-{m:02d}-{d:02d}"] = None if r[col] == "-" else float(r[col])
    return out


@pytest.mark.parametrize(("tenor", "values"), [("10Y", 9847), ("2Y", None)])
def test_real_history_file_matches_an_independent_reading(shared: Path, tenor: str, values: int | None) -> None:
    path = shared / HISTORY
    body = path.read_bytes()
    assert b"\r\n" in body  # MOF's CRLF, kept as served
    frame = _fetch([body, b"Interest Rate,,(Unit : %)\r\nDate,2Y,10Y\r\n"], tenor)
    expected = _independent(path, tenor)
    assert len(frame) == len(expected) == 13208
    assert [d.strftime("%Y-%m-%d") for d in frame["date"]] == list(expected)
    for want, got in zip(expected.values(), frame["value"], strict=True):
        assert (want is None and np.isnan(got)) or want == got
    if values is not None:
        assert frame["value"].notna().sum() == values  # INCOMING.md: 10Y missing ("-") before 1986-07-05
    assert frame["value"].dtype == np.float64


def test_real_10y_agrees_with_the_second_real_file(shared: Path) -> None:
    ten = _fetch([(shared / HISTORY).read_bytes(), b"Date,10Y\r\n"], "10Y").set_index("date")["value"].dropna()
    other = pd.read_csv(shared / TEN_YEAR_DAILY, dtype={"DATE": str})
    close = pd.Series(other["CLOSE"].to_numpy(), index=pd.to_datetime(other["DATE"], format="%Y%m%d"))
    common = ten.index.intersection(close.index)
    assert len(common) == 1156  # INCOMING.md: 2021-08-10 .. 2026-04-30
    assert (ten[common] - close[common]).abs().max() == 0
    assert ten[pd.Timestamp("2026-04-30")] == 2.52


def test_japanese_layout_shift_jis_and_era_dates() -> None:
    frame = _fetch([JAPANESE, JAPANESE], "10Y", lang="jp")
    assert list(frame["date"].dt.strftime("%Y-%m-%d")) == ["2019-04-26", "2019-05-07", "2026-03-27"]
    assert list(frame["value"]) == [-0.04, -0.05, 2.31]
    forty = _fetch([JAPANESE, JAPANESE], "40Y", lang="jp")["value"]
    assert np.isnan(forty.iloc[1])  # "-": missing


@pytest.mark.parametrize(
    ("text", "day"),
    [("R8.3.27", date(2026, 3, 27)), ("H31.4.30", date(2019, 4, 30)), ("S49.9.24", date(1974, 9, 24)),
     ("R元.5.1", date(2019, 5, 1)), ("2026/4/30", date(2026, 4, 30))],
)  # fmt: skip
def test_era_dates(text: str, day: date) -> None:
    assert jgb_date(text).date() == day


def test_current_month_wins_and_the_window_applies() -> None:
    history = b"Interest Rate,,(Unit : %)\r\nDate,2Y,10Y\r\n2026/3/30,1.2,2.3\r\n2026/3/31,1.21,2.31\r\n"
    current = b"Interest Rate,,(Unit : %)\r\nDate,2Y,10Y\r\n2026/3/31,1.22,2.33\r\n2026/4/1,1.23,2.35\r\n"
    frame = _fetch([history, current], "10Y", window=Window(date(2026, 3, 31), None))
    assert list(frame["date"].dt.day) == [31, 1]
    assert list(frame["value"]) == [2.33, 2.35]


def test_errors_are_typed() -> None:
    src = sources.get("mof")
    assert src.key_problem("10Y") == "" and "tenor" in src.key_problem("10y")
    spec = make_spec("mof", "10Y")
    request = src.build_query(spec.primary, spec, Window(), {})
    with pytest.raises(SourceSchemaError, match="HTML"):
        src.extract(Response(200, b"<html>moved</html>", request), spec.primary, spec)
    with pytest.raises(SourceRequestError, match="404"):
        src.extract(Response(404, b"", request), spec.primary, spec)
    with pytest.raises(SourceSchemaError, match="unreadable date"):
        src.extract(Response(200, b"Date,10Y\r\n26-03-27,2.3\r\n", request), spec.primary, spec)
    with pytest.raises(SourceSchemaError, match="no 2Y column"):
        src.extract(Response(200, b"Date,10Y\r\n2026/3/27,2.3\r\n", request), make_spec("mof", "2Y").primary, spec)
