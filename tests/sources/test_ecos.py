"""ecos: StatisticSearch JSON (SYNTHETIC fixtures in the documented layout), paging in blocks of 1000, the RESULT
codes (INFO-200 empty, ERROR-602 throttled and retried, INFO-100 auth), and the key kept out of everything."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from series import sources
from series.errors import EmptySeries, SourceAuthError, SourceRequestError, SourceSchemaError, SourceThrottled
from series.sources.base import Response, Window
from series.sources.ecos import ecos_dates, ecos_error, ecos_period
from tests.fault_server import FakeClock, FaultServer, Reply, Seen
from tests.sources.support import DATA, fetch_into, live, make_spec, store_dump, stored

FIXTURE = DATA / "ecos_StatisticSearch_722Y001_0101000_D_SYNTHETIC.json"
KEY = "ABCDEFGHIJ0123456789"
ENV = {"ECOS_API_KEY": KEY}


def _result(code: str, message: str) -> bytes:  # SYNTHETIC error body in the documented layout
    return json.dumps({"RESULT": {"CODE": code, "MESSAGE": message}}, ensure_ascii=False).encode()


def _rows(n: int, start: date = date(2015, 1, 1)) -> list[dict[str, object]]:
    """SYNTHETIC StatisticSearch rows (daily, KRW per USD-like values)."""
    return [
        {
            "STAT_CODE": "731Y001",
            "STAT_NAME": "3.1.1.1. 주요국 통화의 대원화환율",
            "ITEM_CODE1": "0000001",
            "ITEM_NAME1": "원/미국달러(매매기준율)",
            "UNIT_NAME": "원",
            "WGT": None,
            "TIME": (start + timedelta(days=i)).strftime("%Y%m%d"),
            "DATA_VALUE": f"{1100 + i / 10:.1f}",
        }
        for i in range(n)
    ]


def test_parse_synthetic_fixture() -> None:
    src = sources.get("ecos")
    spec = make_spec("ecos", "722Y001/0101000", params={"cycle": "D"})
    request = src.build_query(spec.primary, spec, Window(date(2023, 1, 10), date(2023, 1, 16)), ENV)
    frame = src.parse(
        [src.extract(Response(200, FIXTURE.read_bytes(), request), spec.primary, spec)], spec.primary, spec
    )
    assert frame["value"].dtype == np.float64
    assert frame["value"].tolist() == [3.25, 3.25, 3.25, 3.5, 3.5, 3.5, 3.5]
    assert frame["date"].iloc[3] == pd.Timestamp("2023-01-13")


def test_url_layout_and_key_redaction() -> None:
    src = sources.get("ecos")
    spec = make_spec("ecos", "901Y118/T002", freq="M")  # cycle from the series' frequency
    request = src.build_query(spec.primary, spec, Window(date(2020, 1, 15), date(2020, 12, 31)), ENV)
    assert (
        request.url == f"https://ecos.bok.or.kr/api/StatisticSearch/{KEY}/json/kr/1/1000/901Y118/M/202001/202012/T002"
    )
    assert KEY not in request.redacted_url and "/***/json/" in request.redacted_url
    assert request.replay_name == "ecos/901Y118_T002.json"


def test_paging_in_blocks_of_1000(fault_server: FaultServer, tmp_path: Path) -> None:
    rows = _rows(2345)

    def page(seen: Seen) -> Reply:
        parts = seen.path.split("/")  # /api/StatisticSearch/KEY/json/kr/<first>/<last>/...
        first, last = int(parts[6]), int(parts[7])
        body = {"StatisticSearch": {"list_total_count": len(rows), "row": rows[first - 1 : last]}}
        return Reply(200, json.dumps(body, ensure_ascii=False).encode())

    fault_server.route(f"/api/StatisticSearch/{KEY}/json/kr/1/1000/731Y001/D/20150101/20211231/0000001", page)
    for first, last in ((1001, 2000), (2001, 3000)):
        fault_server.route(
            f"/api/StatisticSearch/{KEY}/json/kr/{first}/{last}/731Y001/D/20150101/20211231/0000001", page
        )
    spec = make_spec("ecos", "731Y001/0000001", params={"cycle": "D"}, start=date(2015, 1, 1))
    clock = FakeClock()
    outcome = fetch_into(tmp_path / "s.sqlite", spec, live(fault_server, "ecos", clock), ENV, as_of=date(2021, 12, 31))
    assert outcome.ok and outcome.added == 2345, outcome
    assert len(fault_server.requests) == 3
    values = stored(tmp_path / "s.sqlite")
    assert values.iloc[-1] == pytest.approx(1100 + 2344 / 10)
    assert KEY not in store_dump(tmp_path / "s.sqlite")
    with_names = store_dump(tmp_path / "s.sqlite")
    assert "ecos/731Y001_0000001.p3.json" in with_names  # later pages are archived under their own names


def test_short_paging_is_a_schema_error_and_stores_nothing(fault_server: FaultServer, tmp_path: Path) -> None:
    body = {"StatisticSearch": {"list_total_count": 1500, "row": _rows(1000)}}
    fault_server.script(
        Reply(200, json.dumps(body).encode()),
        Reply(200, json.dumps({"StatisticSearch": {"list_total_count": 1500, "row": _rows(10)}}).encode()),
    )
    spec = make_spec("ecos", "731Y001/0000001", params={"cycle": "D"})
    outcome = fetch_into(tmp_path / "s.sqlite", spec, live(fault_server, "ecos", FakeClock()), ENV)
    assert outcome.error_kind == "schema" and "1500" in outcome.message
    assert stored(tmp_path / "s.sqlite").empty


def test_error_602_is_retried_after_a_minute(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.script(
        Reply(200, _result("ERROR-602", "과도한 OpenAPI 호출로 이용이 제한되었습니다. 잠시후 이용해주시기 바랍니다.")),
        Reply(200, FIXTURE.read_bytes()),
    )
    clock = FakeClock()
    spec = make_spec("ecos", "722Y001/0101000", params={"cycle": "D"})
    outcome = fetch_into(tmp_path / "s.sqlite", spec, live(fault_server, "ecos", clock), ENV, as_of=date(2023, 1, 16))
    assert outcome.ok and outcome.added == 7
    assert 60.0 in clock.sleeps and len(fault_server.requests) == 2


@pytest.mark.parametrize(
    ("code", "error", "hint"),
    [
        ("INFO-200", EmptySeries, "wrong STAT_CODE"),
        ("INFO-100", SourceAuthError, "ECOS_API_KEY"),
        ("ERROR-602", SourceThrottled, ""),
        ("ERROR-101", SourceRequestError, "cycle"),
        ("ERROR-400", SourceRequestError, "shorter window"),
        ("ERROR-999", SourceSchemaError, "unknown"),
    ],
)
def test_result_codes(code: str, error: type[Exception], hint: str) -> None:
    e = ecos_error(code, "message")
    assert isinstance(e, error) and hint in str(e)
    assert e.retryable == (code == "ERROR-602")
    assert ecos_error("ERROR-500", "x").retryable and not ecos_error("ERROR-601", "x").retryable


def test_error_block_inside_statistic_search_is_read_too() -> None:
    src = sources.get("ecos")
    spec = make_spec("ecos", "722Y001/0101000")
    request = src.build_query(spec.primary, spec, Window(), ENV)
    body = json.dumps({"StatisticSearch": {"RESULT": {"CODE": "INFO-200", "MESSAGE": "해당하는 데이터가 없습니다."}}})
    with pytest.raises(EmptySeries, match="INFO-200"):
        src.extract(Response(200, body.encode(), request), spec.primary, spec)


@pytest.mark.parametrize(
    ("cycle", "day", "text", "times", "dates"),
    [
        ("D", date(2023, 1, 5), "20230105", ["20230105"], ["2023-01-05"]),
        ("M", date(2023, 1, 5), "202301", ["202301", "202312"], ["2023-01-01", "2023-12-01"]),
        ("Q", date(2023, 5, 5), "2023Q2", ["2023Q2", "2023Q4"], ["2023-04-01", "2023-10-01"]),
        ("A", date(2023, 5, 5), "2023", ["2023"], ["2023-01-01"]),
    ],
)
def test_periods_per_cycle(cycle: str, day: date, text: str, times: list[str], dates: list[str]) -> None:
    assert ecos_period(day, cycle) == text
    assert ecos_dates(pd.Series(times), cycle).tolist() == [pd.Timestamp(d) for d in dates]
    with pytest.raises(SourceSchemaError):
        ecos_dates(pd.Series(["2023-13"]), cycle)
