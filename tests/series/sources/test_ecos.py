"""ecos: StatisticSearch JSON, paging in blocks of 1000, the RESULT codes (INFO-200 empty, ERROR-602 throttled
and retried, INFO-100 auth), and the key kept out of everything. Bodies: the REAL answers of
../shared/data/samples/wire/ecos (provenance in its PROVENANCE.md: the BOK base rate with its weekend rows, an
answer cut at the `sample` key's 10 rows, a real INFO-100); SYNTHETIC rows and error bodies in the documented
layout where no real body exists (paging over 1000 rows, ERROR-602 and the other codes)."""

from __future__ import annotations

import json
import re
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
from tests.series.sources.support import fetch_into, live, make_spec, store_dump, stored

WIRE = "data/samples/wire/ecos"
BASE_RATE = f"{WIRE}/ecos_StatisticSearch_722Y001_D_20260824_20260902_sample-key_en.json"  # REAL, 10 rows
CUT_AT_10 = (
    f"{WIRE}/ecos_StatisticSearch_722Y001_D_20260911_20260924_sample-key_en_truncated.json"  # REAL: 12 announced
)
BAD_KEY = f"{WIRE}/ecos_RESULT_INFO-100_observed-2026-09-07.json"  # REAL INFO-100
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


def test_parse_the_real_base_rate_answer_with_its_weekend_rows(shared: Path) -> None:
    body = (shared / BASE_RATE).read_bytes()
    src = sources.get("ecos")
    spec = make_spec("ecos", "722Y001/0101000", params={"cycle": "D"})
    request = src.build_query(spec.primary, spec, Window(date(2026, 8, 24), date(2026, 9, 2)), ENV)
    frame = src.parse([src.extract(Response(200, body, request), spec.primary, spec)], spec.primary, spec)
    assert frame["value"].dtype == np.float64
    rows = json.loads(body)["StatisticSearch"]["row"]  # read independently: TIME and DATA_VALUE as sent
    assert frame["date"].tolist() == [pd.Timestamp(r["TIME"]) for r in rows]
    assert frame["value"].tolist() == [float(r["DATA_VALUE"]) for r in rows]
    assert frame["value"].tolist() == [2.75] * 3 + [3.0] * 7  # 2.75 -> 3.00 on 2026-08-27
    assert pd.Timestamp("2026-08-29") in set(frame["date"])  # a Saturday: cycle D has every calendar day


def test_an_answer_cut_short_is_a_schema_error_and_stores_nothing(
    shared: Path, fault_server: FaultServer, tmp_path: Path
) -> None:
    """The public `sample` key caps answers at 10 rows while list_total_count says 12: never a short series."""
    fault_server.script(Reply(200, (shared / CUT_AT_10).read_bytes()))
    spec = make_spec("ecos", "722Y001/0101000", params={"cycle": "D"}, start=date(2026, 9, 11))
    outcome = fetch_into(
        tmp_path / "s.sqlite", spec, live(fault_server, "ecos", FakeClock()), ENV, as_of=date(2026, 9, 24)
    )
    assert outcome.error_kind == "schema" and "announced 12 rows but sent 10" in outcome.message, outcome
    assert stored(tmp_path / "s.sqlite").empty


def test_the_real_bad_key_answer_is_an_auth_error_asked_once(shared: Path, fault_server: FaultServer) -> None:
    fault_server.script(Reply(200, (shared / BAD_KEY).read_bytes()))
    src = sources.get("ecos")
    spec = make_spec("ecos", "722Y001/0101000", params={"cycle": "D"})
    request = src.build_query(spec.primary, spec, Window(date(2026, 8, 24), date(2026, 9, 2)), ENV)
    with pytest.raises(SourceAuthError, match=re.escape("INFO-100: 인증키가 유효하지 않습니다.")) as info:
        live(fault_server, "ecos", FakeClock(), retries=4).send(request, source="ecos", series="probe")
    assert len(fault_server.requests) == 1 and "ECOS_API_KEY" in str(info.value) and KEY not in str(info.value)


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


def test_error_602_is_retried_after_a_minute(fault_server: FaultServer, tmp_path: Path, shared: Path) -> None:
    fault_server.script(
        Reply(200, _result("ERROR-602", "과도한 OpenAPI 호출로 이용이 제한되었습니다. 잠시후 이용해주시기 바랍니다.")),
        Reply(200, (shared / BASE_RATE).read_bytes()),
    )
    clock = FakeClock()
    spec = make_spec("ecos", "722Y001/0101000", params={"cycle": "D"})
    outcome = fetch_into(tmp_path / "s.sqlite", spec, live(fault_server, "ecos", clock), ENV, as_of=date(2026, 9, 2))
    assert outcome.ok and outcome.added == 10
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
