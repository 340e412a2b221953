"""Fault injection for every HTTP source against a real server on 127.0.0.1 (the source's [fetch].endpoints
override points at it): timeout, 429 with Retry-After, 500 then success, a malformed body, an empty answer and a
bad key. Each runs through `fetch_series` into a temporary store and checks the documented retry behaviour, the
typed error, that nothing wrong is stored or recorded, and that no secret shows up in any message, log line,
recording or store row. (yfinance and pykrx hide their HTTP: their faults are in test_yahoo.py / test_krx.py.)
Bodies made here are SYNTHETIC unless they come from ../shared."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from series.http import RecordingTransport
from tests.fault_server import FakeClock, FaultServer, Reply
from tests.series.sources.support import DATA, fetch_into, fred_xml_from_json, live, make_spec, store_dump, stored
from tests.series.sources.test_boj import _answer as boj_answer
from tests.series.sources.test_boj import _error as boj_error_body
from tests.series.sources.test_customs import _gateway
from tests.series.sources.test_fred import NOT_REGISTERED

FRED_KEY = "fedcba9876543210fedcba9876543210"
ECOS_KEY = "ECOSKEY0123456789XYZ"
DATA_GO_KR = "Zx+9/Yw==Qv8" * 4


@dataclass
class Case:
    source: str
    key: str
    good: Callable[[Path], bytes]  # from ../shared (given its path) or tests/data
    first: tuple[str, float]  # a date and its value in the good body
    as_of: date
    start: date | None = None
    freq: str = "D"
    env: dict[str, str] = field(default_factory=dict)
    malformed: bytes = b"\x00\x01 this is not what the API serves \xff"
    empty: Reply = field(default_factory=Reply)
    bad_key: Reply = field(default_factory=Reply)
    bad_key_kind: str = "auth"

    @property
    def secrets(self) -> list[str]:
        return list(self.env.values())


CASES = [
    Case(
        "fred",
        "DFF",
        lambda shared: fred_xml_from_json(
            shared / "data/samples/fred_api_series_observations_DFF_20230101_20230606.json"
        ),
        ("2023-01-03", 4.33),
        date(2023, 6, 6),
        start=date(2023, 1, 1),
        env={"FRED_API_KEY": FRED_KEY},
        malformed=b'<?xml version="1.0"?><observations count="3"><observation date="2023-01-01" value=',
        empty=Reply(200, b'<observations realtime_start="2024-06-27" count="0" offset="0" limit="100000"/>'),
        bad_key=Reply(400, NOT_REGISTERED),
    ),
    Case(
        "fredgraph",
        "DEXKOUS",
        lambda shared: (
            shared / "data/samples/fredgraph_DEXKOUS_legacy_DATE_header_2016-12-19_to_2022-01-28.csv"
        ).read_bytes(),
        ("2016-12-19", 1187.71),
        date(2022, 1, 31),
        freq="B",
        malformed=b"<!DOCTYPE html><html><title>Just a moment...</title></html>",
        empty=Reply(200, b"observation_date,DEXKOUS\n"),
        bad_key=Reply(404, b"<html>Series not found</html>"),
        bad_key_kind="request",
    ),
    Case(
        "bis",
        "D.JP",
        lambda shared: (DATA / "bis_WS_CBPOL_D.JP_sdmx-csv-1.0_SYNTHETIC.csv").read_bytes(),
        ("2016-09-21", -0.1),
        date(2022, 4, 1),
        start=date(2016, 1, 1),
        malformed=b"DATAFLOW;FREQ;REF_AREA\n\x00\x00",
        empty=Reply(404, b"NoResultsFound"),
        bad_key=Reply(400, b"Invalid key D..JP"),
        bad_key_kind="request",
    ),
    Case(
        "ecos",
        "722Y001/0101000",
        lambda shared: (DATA / "ecos_StatisticSearch_722Y001_0101000_D_SYNTHETIC.json").read_bytes(),
        ("2023-01-13", 3.5),
        date(2023, 1, 16),
        env={"ECOS_API_KEY": ECOS_KEY},
        malformed=b'{"StatisticSearch": {"list_total_count": "many", "row": 7}}',
        empty=Reply(
            200, json.dumps({"RESULT": {"CODE": "INFO-200", "MESSAGE": "해당하는 데이터가 없습니다."}}).encode()
        ),
        # ECOS echoes nothing of the key, but make it try: the message must still come out clean.
        bad_key=Reply(
            200,
            json.dumps(
                {"RESULT": {"CODE": "INFO-100", "MESSAGE": f"인증키가 유효하지 않습니다. ({ECOS_KEY})"}}
            ).encode(),
        ),
    ),
    Case(
        "boj",
        "FM01/STRDCLUCON",
        lambda shared: (DATA / "boj_getDataCode_FM01_STRDCLUCON_SYNTHETIC.json").read_bytes(),
        ("2024-03-21", 0.077),
        date(2024, 3, 31),
        freq="B",
        malformed=b'{"STATUS": 200, "RESULTSET": [{"SERIES_CODE": "STRDCLUCON", "VALUES": "none"}]}',
        empty=Reply(200, boj_answer([], [])),
        bad_key=Reply(400, boj_error_body(400, "M181005E", "Invalid code: STRDCLUCONX")),
        bad_key_kind="request",
    ),
    Case(
        "customs",
        "8542",
        lambda shared: (DATA / "customs_Itemtrade_8542_SYNTHETIC.xml").read_bytes(),
        ("2025-01-01", 13_600_000_000.0),
        date(2025, 2, 28),
        start=date(2025, 1, 1),
        freq="M",
        env={"DATA_GO_KR_KEY": DATA_GO_KR},
        malformed=b"<response><header><resultCode>00</resultCode></header><body><items><item><year>2025.01",
        empty=Reply(
            200, b"<response><header><resultCode>03</resultCode><resultMsg>NODATA_ERROR</resultMsg></header></response>"
        ),
        bad_key=Reply(200, _gateway("30", "SERVICE_KEY_IS_NOT_REGISTERED_ERROR")),
    ),
]
IDS = [c.source for c in CASES]


def _run(
    case: Case, server: FaultServer, tmp_path: Path, *, retries: int = 2, timeout: float = 2.0
) -> tuple[Any, FakeClock]:
    clock = FakeClock()
    spec = make_spec(case.source, case.key, freq=case.freq, start=case.start)
    transport = RecordingTransport(live(server, case.source, clock, retries=retries, timeout=timeout), tmp_path / "rec")
    outcome = fetch_into(tmp_path / "s.sqlite", spec, transport, case.env, case.as_of)
    return outcome, clock


def _assert_clean(case: Case, tmp_path: Path, outcome: Any, caplog: pytest.LogCaptureFixture) -> None:
    texts = [outcome.message, caplog.text, store_dump(tmp_path / "s.sqlite")]
    texts += [p.read_text(errors="replace") for p in (tmp_path / "rec").rglob("*") if p.is_file()]
    for secret in case.secrets:
        assert all(secret not in t for t in texts), f"{case.source}: a secret leaked"
    assert "\n" not in outcome.message


def _assert_failed(case: Case, tmp_path: Path, outcome: Any, kind: str) -> None:
    assert outcome.status == "failed" and outcome.error_kind == kind, outcome
    assert outcome.message.startswith(f"[{case.source}] probe: ")
    assert stored(tmp_path / "s.sqlite").empty
    assert not list((tmp_path / "rec").rglob("*.*"))  # nothing recorded for a failed answer


def _assert_stored(case: Case, tmp_path: Path, outcome: Any) -> None:
    assert outcome.ok, outcome
    day, value = case.first
    assert stored(tmp_path / "s.sqlite")[pd.Timestamp(day)] == pytest.approx(value)


@pytest.fixture(autouse=True)
def _log_everything(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_timeout_is_retried_then_unavailable(
    case: Case, shared: Path, fault_server: FaultServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fault_server.script(Reply(200, case.good(shared), delay=0.5))
    outcome, _ = _run(case, fault_server, tmp_path, retries=1, timeout=0.15)
    _assert_failed(case, tmp_path, outcome, "unavailable")
    assert "timeout" in outcome.message and "gave up after 2 attempts" in outcome.message
    assert len(fault_server.requests) == 2
    _assert_clean(case, tmp_path, outcome, caplog)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_429_waits_as_told_then_succeeds(
    case: Case, shared: Path, fault_server: FaultServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fault_server.script(Reply(429, b"Too Many Requests", {"Retry-After": "3"}), Reply(200, case.good(shared)))
    outcome, clock = _run(case, fault_server, tmp_path)
    if case.source == "customs":  # data.go.kr's 429 is the spent daily quota: asking again today cannot help
        _assert_failed(case, tmp_path, outcome, "throttled")
        assert len(fault_server.requests) == 1 and 3.0 not in clock.sleeps
        return
    _assert_stored(case, tmp_path, outcome)
    assert 3.0 in clock.sleeps and len(fault_server.requests) == 2
    assert list((tmp_path / "rec" / case.source).iterdir())  # the good answer was recorded
    _assert_clean(case, tmp_path, outcome, caplog)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_429_forever_is_throttled(
    case: Case, shared: Path, fault_server: FaultServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fault_server.script(Reply(429, b"Too Many Requests", {"Retry-After": "1"}))
    outcome, _ = _run(case, fault_server, tmp_path, retries=2)
    _assert_failed(case, tmp_path, outcome, "throttled")
    assert len(fault_server.requests) == (1 if case.source == "customs" else 3)  # customs: the daily quota
    _assert_clean(case, tmp_path, outcome, caplog)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_500_then_success(
    case: Case, shared: Path, fault_server: FaultServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fault_server.script(Reply(500, b"Internal Server Error"), Reply(200, case.good(shared)))
    outcome, clock = _run(case, fault_server, tmp_path)
    _assert_stored(case, tmp_path, outcome)
    assert len(fault_server.requests) == 2 and any(s >= 0.25 for s in clock.sleeps)
    _assert_clean(case, tmp_path, outcome, caplog)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_malformed_body_is_a_schema_error_without_retry(
    case: Case, fault_server: FaultServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fault_server.script(Reply(200, case.malformed))
    outcome, _ = _run(case, fault_server, tmp_path)
    _assert_failed(case, tmp_path, outcome, "schema")
    assert len(fault_server.requests) == 1
    _assert_clean(case, tmp_path, outcome, caplog)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_empty_answer_is_an_error_not_no_news(
    case: Case, fault_server: FaultServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fault_server.script(case.empty)
    outcome, _ = _run(case, fault_server, tmp_path)
    _assert_failed(case, tmp_path, outcome, "empty")
    assert len(fault_server.requests) == 1
    _assert_clean(case, tmp_path, outcome, caplog)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_bad_key_is_never_retried(
    case: Case, fault_server: FaultServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fault_server.script(case.bad_key)
    outcome, _ = _run(case, fault_server, tmp_path)
    _assert_failed(case, tmp_path, outcome, case.bad_key_kind)
    assert len(fault_server.requests) == 1
    _assert_clean(case, tmp_path, outcome, caplog)


def test_a_later_failure_keeps_what_was_stored(shared: Path, fault_server: FaultServer, tmp_path: Path) -> None:
    """A failing fetch changes nothing already in the store (the all-or-nothing transaction)."""
    case = CASES[3]  # ecos
    fault_server.script(Reply(200, case.good(shared)))
    first, _ = _run(case, fault_server, tmp_path)
    before = stored(tmp_path / "s.sqlite")
    fault_server.script(Reply(200, case.malformed))
    second, _ = _run(case, fault_server, tmp_path)
    assert first.ok and second.error_kind == "schema"
    pd.testing.assert_series_equal(stored(tmp_path / "s.sqlite"), before)
