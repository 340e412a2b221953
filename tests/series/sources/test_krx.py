"""krx (pykrx, optional): the real KRX MDCSTAT02202 JSON, pykrx's frame saved with to_csv (the recording format),
and the boundary: pykrx missing, no credentials, empty answers, network errors. pykrx is never imported here:
a stand-in module is put in its place where the call has to succeed."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import requests

from series import sources
from series.errors import SourceSchemaError
from series.http import HttpPolicy, LiveTransport
from series.sources import krx
from series.sources.base import Response, Window
from tests.fault_server import FakeClock
from tests.series.sources.support import fetch_into, make_spec, store_dump, stored

SAMPLE = "data/samples/krx_mdcstat02202_kospi_investor_netbuy_value_20210115_20210122.json"
ENV = {"KRX_ID": "member01", "KRX_PW": "pa55-w0rd!"}


def _extract(body: bytes, investor: str = "foreign") -> pd.DataFrame:
    src = sources.get("krx")
    spec = make_spec("krx", "KOSPI", freq="B", params={"investor": investor})
    request = src.build_query(spec.primary, spec, Window(), ENV)
    return src.parse([src.extract(Response(200, body, request), spec.primary, spec)], spec.primary, spec)


@pytest.mark.parametrize(
    ("investor", "field"),
    [("foreign", "TRDVAL4"), ("institution", "TRDVAL1"), ("other_corporation", "TRDVAL2"), ("individual", "TRDVAL3")],
)
def test_real_krx_json(shared: Path, investor: str, field: str) -> None:
    body = (shared / SAMPLE).read_bytes()
    frame = _extract(body, investor)
    rows = json.loads(body)["output"]
    expected = {r["TRD_DD"].replace("/", "-"): float(int(r[field].replace(",", ""))) for r in rows}
    assert frame["value"].dtype == np.float64 and len(frame) == 6
    assert frame["date"].is_monotonic_increasing  # KRX sends newest first
    assert dict(zip(frame["date"].dt.strftime("%Y-%m-%d"), frame["value"], strict=True)) == expected


def test_specific_foreign_values(shared: Path) -> None:
    frame = _extract((shared / SAMPLE).read_bytes()).set_index("date")["value"]
    assert frame[pd.Timestamp("2021-01-22")] == -268_005_095_088
    assert frame[pd.Timestamp("2021-01-15")] == -753_622_445_831
    # The four investor groups net to zero each day (TRDVAL_TOT is "0"): an independent check of the columns.
    all_groups = sum(
        _extract((shared / SAMPLE).read_bytes(), i).set_index("date")["value"] for i in krx.COLUMNS if i != "total"
    )
    assert (all_groups == 0).all()


def _pykrx_frame(shared: Path) -> pd.DataFrame:
    """pykrx's answer for the same request (its documented layout: index 날짜, int64 columns), built from the
    real JSON rows: pykrx's docstring example shows exactly these values."""
    rows = json.loads((shared / SAMPLE).read_bytes())["output"]
    frame = pd.DataFrame(
        {
            name: [int(r[field].replace(",", "")) for r in rows]
            for name, field in [(c, f) for c, f in krx.COLUMNS.values()]
        },
        index=pd.DatetimeIndex([r["TRD_DD"].replace("/", "-") for r in rows], name="날짜"),
    )
    return frame.sort_index()[["기관합계", "기타법인", "개인", "외국인합계", "전체"]]


def test_the_recording_format_is_pykrx_to_csv_and_reads_the_same(shared: Path) -> None:
    text = _pykrx_frame(shared).to_csv().encode()
    assert text.decode().splitlines()[0] == "날짜,기관합계,기타법인,개인,외국인합계,전체"
    from_csv = _extract(text)
    from_json = _extract((shared / SAMPLE).read_bytes())
    pd.testing.assert_frame_equal(from_csv, from_json)


def _fake_pykrx(monkeypatch: pytest.MonkeyPatch, answer: Any, seen: list[Any]) -> None:
    """A stand-in for the pykrx package (never the real one in tests: it logs in at import)."""
    import os

    stock = types.SimpleNamespace()

    def get_market_trading_value_by_date(fromdate: str, todate: str, market: str) -> pd.DataFrame:
        seen.append((fromdate, todate, market, os.environ.get("KRX_ID"), os.environ.get("KRX_PW")))
        if isinstance(answer, Exception):
            raise answer
        return answer

    stock.get_market_trading_value_by_date = get_market_trading_value_by_date
    module = types.ModuleType("pykrx")
    module.stock = stock  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pykrx", module)
    for name in ENV:
        monkeypatch.setenv(name, "")  # restored (absent) after the test


def _transport(clock: FakeClock) -> LiveTransport:
    return LiveTransport(HttpPolicy(retries=2, clock=clock, backoff_base=0.5))


def test_fetch_through_pykrx_with_credentials(shared: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[Any] = []
    _fake_pykrx(monkeypatch, _pykrx_frame(shared), seen)
    spec = make_spec("krx", "KOSPI", freq="B", params={"investor": "foreign"}, scale=1e-8, start=date(2021, 1, 15))
    outcome = fetch_into(tmp_path / "s.sqlite", spec, _transport(FakeClock()), ENV, as_of=date(2021, 1, 22))
    assert outcome.ok and outcome.added == 6, outcome
    assert seen == [("20210115", "20210122", "KOSPI", ENV["KRX_ID"], ENV["KRX_PW"])]  # pykrx reads the environment
    values = stored(tmp_path / "s.sqlite")
    assert values[pd.Timestamp("2021-01-22")] == pytest.approx(-2680.05095088)  # 100 million KRW
    assert ENV["KRX_PW"] not in store_dump(tmp_path / "s.sqlite")


@pytest.mark.parametrize(
    ("answer", "kind", "calls", "match"),
    [
        (pd.DataFrame(), "empty", 1, "KRX_ID / KRX_PW"),  # pykrx's answer to LOGOUT / HTTP 400
        (requests.ConnectionError("connection reset"), "unavailable", 3, "ConnectionError"),
        (KeyError("output"), "unavailable", 1, "KeyError"),  # pykrx broke on a changed layout: reported, not hammered
    ],
)
def test_pykrx_boundary_faults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, answer: Any, kind: str, calls: int, match: str
) -> None:
    seen: list[Any] = []
    _fake_pykrx(monkeypatch, answer, seen)
    spec = make_spec("krx", "KOSPI", freq="B")
    outcome = fetch_into(tmp_path / "s.sqlite", spec, _transport(FakeClock()), ENV, as_of=date(2021, 1, 22))
    assert outcome.error_kind == kind and len(seen) == calls and match in outcome.message, outcome
    assert stored(tmp_path / "s.sqlite").empty
    assert ENV["KRX_PW"] not in outcome.message


def test_without_pykrx_the_message_says_to_install_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "pykrx", None)  # import fails, as in the main install
    spec = make_spec("krx", "KOSPI", freq="B")
    outcome = fetch_into(tmp_path / "s.sqlite", spec, _transport(FakeClock()), ENV)
    assert outcome.error_kind == "unavailable"
    assert "install the krx extra" in outcome.message and "\n" not in outcome.message


def test_without_credentials_the_route_is_skipped_naming_the_variables(tmp_path: Path) -> None:
    spec = make_spec("krx", "KOSPI", freq="B")
    outcome = fetch_into(tmp_path / "s.sqlite", spec, _transport(FakeClock()), {})
    assert outcome.status == "skipped" and outcome.missing_keys == ("KRX_ID", "KRX_PW")
    assert outcome.message == "needs KRX_ID, KRX_PW"


def test_status_note(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert "install the krx extra" in sources.get("krx").status_note()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    assert sources.get("krx").status_note() == ""


def test_layout_errors() -> None:
    with pytest.raises(SourceSchemaError, match="output"):
        _extract(b'{"error": "x"}')
    with pytest.raises(SourceSchemaError, match="TRDVAL4"):
        _extract(b'{"output": [{"TRD_DD": "2021/01/22", "TRDVAL1": "1"}]}')
    with pytest.raises(SourceSchemaError, match="외국인합계"):
        _extract("날짜,개인\n2021-01-22,1\n".encode())


def test_importing_the_sources_imports_neither_pykrx_nor_yfinance() -> None:
    code = (
        "import sys, series.sources as s; s.names(); "
        "print(sorted(m for m in ('pykrx', 'yfinance') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parents[3]
    )
    assert out.stdout.strip() == "[]"
