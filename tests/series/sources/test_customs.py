"""customs (data.go.kr Itemtrade): the SYNTHETIC XML fixture in the documented layout (total row, annual row,
10-digit subcodes; no real Itemtrade success body exists), 12-month request spans, the key in both data.go.kr
forms, and the error answers: the REAL bodies of ../shared/data/samples/wire/customs (provenance in its
PROVENANCE.md: the no-data answer, resultCode 99, the gateway envelope of an unregistered key) where they exist,
SYNTHETIC envelopes in the same layout for the other gateway codes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from series import sources
from series.errors import (
    EmptySeries,
    SourceAuthError,
    SourceError,
    SourceRequestError,
    SourceSchemaError,
    SourceThrottled,
)
from series.sources.base import Response, Window
from series.sources.customs import customs_error, month_spans
from tests.fault_server import FakeClock, FaultServer, Reply, Seen
from tests.series.sources.support import DATA, fetch_into, live, make_spec, store_dump, stored

FIXTURE = DATA / "customs_Itemtrade_8542_SYNTHETIC.xml"
DECODED = "AbC+dEf/GhI0123456789==" * 2  # data.go.kr "Decoding" form (+ / =)
ENCODED = DECODED.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")  # the "Encoding" form
WIRE = "data/samples/wire/customs"
NO_DATA = f"{WIRE}/customs_envelope_empty_items_resultCode00_documented.xml"  # REAL: 00 with <items/>
REJECTED = (  # REAL: a period over a year, resultCode 99 with the reason in resultMsg, with and without <body/>
    f"{WIRE}/customs_envelope_resultCode99_period_over_1y_nobody_documented.xml",
    f"{WIRE}/customs_envelope_resultCode99_period_over_1y_emptybody_quoted.xml",
)
NOT_REGISTERED = f"{WIRE}/customs_gateway_30_SERVICE_KEY_IS_NOT_REGISTERED_http403_documented.xml"  # REAL, HTTP 403
PERIOD_REASON = "시작과 종료의 조회기간은 1년이내 기간만 가능합니다."


def _gateway(code: str, auth_msg: str) -> bytes:  # SYNTHETIC data.go.kr gateway error, the REAL one's layout
    return (
        "<OpenAPI_ServiceResponse><cmmMsgHeader><errMsg>SERVICE ERROR</errMsg>"
        f"<returnAuthMsg>{auth_msg}</returnAuthMsg><returnReasonCode>{code}</returnReasonCode>"
        "</cmmMsgHeader></OpenAPI_ServiceResponse>"
    ).encode()


def _independent_sums(field: str) -> dict[str, float]:
    sums: dict[str, float] = {}
    for item in ET.parse(FIXTURE).getroot().iter("item"):
        code, year = item.findtext("hsCode") or "", item.findtext("year") or ""
        if len(code) == 10 and code.isdigit() and len(year) == 7:
            sums[year] = sums.get(year, 0.0) + float(item.findtext(field) or 0)
    return sums


@pytest.mark.parametrize(("flow", "field"), [("export", "expDlr"), ("import", "impDlr"), ("balance", "balPayments")])
def test_monthly_sums_drop_total_and_annual_rows(flow: str, field: str) -> None:
    src = sources.get("customs")
    spec = make_spec("customs", "8542", freq="M", params={"flow": flow})
    request = src.build_query(
        spec.primary, spec, Window(date(2025, 1, 1), date(2025, 2, 28)), {"DATA_GO_KR_KEY": DECODED}
    )
    frame = src.parse(
        [src.extract(Response(200, FIXTURE.read_bytes(), request), spec.primary, spec)], spec.primary, spec
    )
    assert frame["value"].dtype == np.float64
    assert frame["date"].tolist() == [pd.Timestamp("2025-01-01"), pd.Timestamp("2025-02-01")]
    expected = _independent_sums(field)
    assert frame["value"].tolist() == [expected["2025.01"], expected["2025.02"]]
    if flow == "export":
        assert frame["value"].tolist() == [13_600_000_000, 13_240_000_000]
        total = float(ET.parse(FIXTURE).getroot().find(".//item/expDlr").text)  # type: ignore[union-attr,arg-type]
        assert sum(frame["value"]) == total  # the "-" row is the total of the months: summing it would double


def test_spans_of_at_most_twelve_months() -> None:
    spans = month_spans(date(2015, 1, 20), date(2026, 3, 5))
    assert spans[0] == ("201501", "201512") and spans[-1] == ("202601", "202603") and len(spans) == 12
    assert month_spans(date(2025, 11, 1), date(2026, 2, 1)) == [("202511", "202602")]


def test_fetch_over_two_spans_with_the_encoded_key(fault_server: FaultServer, tmp_path: Path, shared: Path) -> None:
    empty = (shared / NO_DATA).read_bytes()

    def answer(seen: Seen) -> Reply:
        assert seen.query["serviceKey"] == [DECODED]  # sent once-encoded, whatever form the user set
        return Reply(200, FIXTURE.read_bytes() if seen.query["strtYymm"] == ["202501"] else empty)

    fault_server.route("/1220000/Itemtrade/getItemtradeList", answer)
    spec = make_spec("customs", "8542", freq="M", start=date(2024, 1, 1))
    store = tmp_path / "s.sqlite"
    outcome = fetch_into(
        store, spec, live(fault_server, "customs", FakeClock()), {"DATA_GO_KR_KEY": ENCODED}, date(2025, 2, 28)
    )
    assert outcome.ok and outcome.added == 2, outcome
    assert [r.query["strtYymm"][0] + "-" + r.query["endYymm"][0] for r in fault_server.requests] == [
        "202401-202412",
        "202501-202502",
    ]
    assert stored(store).tolist() == [13_600_000_000, 13_240_000_000]
    dump = store_dump(store)
    assert DECODED not in dump and ENCODED not in dump
    assert "customs/8542.p2.xml" in dump


def _parse(body: bytes, status: int = 200) -> None:
    src = sources.get("customs")
    spec = make_spec("customs", "8542", freq="M")
    request = src.build_query(
        spec.primary, spec, Window(date(2025, 1, 1), date(2025, 2, 1)), {"DATA_GO_KR_KEY": DECODED}
    )
    src.parse([src.extract(Response(status, body, request), spec.primary, spec)], spec.primary, spec)


@pytest.mark.parametrize(
    ("body", "error", "match"),
    [
        (_gateway("22", "LIMITED_NUMBER_OF_SERVICE_REQUESTS_EXCEEDS_ERROR"), SourceThrottled, "quota"),
        (_gateway("12", "NO_OPENAPI_SERVICE_ERROR"), SourceRequestError, "HS code"),
        (  # SYNTHETIC: NODATA_ERROR of data.go.kr's common codes
            b"<response><header><resultCode>03</resultCode><resultMsg>NODATA_ERROR</resultMsg></header></response>",
            EmptySeries,
            "no data",
        ),
        (b"<html>maintenance</html>", SourceSchemaError, "expected <response>"),
        (b"not xml at all", SourceSchemaError, "not XML"),
    ],
)
def test_error_answers(body: bytes, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        _parse(body)


def test_the_real_no_data_answer_is_empty_not_an_error_code(shared: Path) -> None:
    with pytest.raises(EmptySeries, match="no monthly rows"):
        _parse((shared / NO_DATA).read_bytes())


@pytest.mark.parametrize("fixture", REJECTED)
def test_result_code_99_is_the_services_refusal_with_its_reason_and_is_not_retried(
    fixture: str, shared: Path, fault_server: FaultServer, tmp_path: Path
) -> None:
    """Every service-side rejection is resultCode 99 (PROVENANCE.md): a request error saying why, asked once."""
    body = (shared / fixture).read_bytes()
    with pytest.raises(SourceRequestError, match=PERIOD_REASON) as info:
        _parse(body)
    assert not info.value.retryable and "code 99" in str(info.value)
    fault_server.script(Reply(200, body))
    spec = make_spec("customs", "8542", freq="M", start=date(2025, 1, 1))
    clock = FakeClock()
    transport = live(fault_server, "customs", clock, retries=4)
    outcome = fetch_into(tmp_path / "s.sqlite", spec, transport, {"DATA_GO_KR_KEY": DECODED}, date(2025, 2, 28))
    assert outcome.error_kind == "request" and PERIOD_REASON in outcome.message, outcome
    assert len(fault_server.requests) == 1 and [s for s in clock.sleeps if s >= 0.5] == []


def _live_error(fault_server: FaultServer, reply: Reply) -> tuple[SourceError, int]:
    """The error of one customs request answered with `reply` (retries = 4), and how many requests it took."""
    fault_server.reset()
    fault_server.script(reply)
    spec = make_spec("customs", "8542", freq="M")
    request = sources.get("customs").build_query(
        spec.primary, spec, Window(date(2025, 1, 1), date(2025, 2, 1)), {"DATA_GO_KR_KEY": DECODED}
    )
    with pytest.raises(SourceError) as info:
        live(fault_server, "customs", FakeClock(), retries=4).send(request, source="customs", series="probe")
    return info.value, len(fault_server.requests)


def test_the_gateway_envelope_keeps_its_code_whatever_the_http_status(shared: Path, fault_server: FaultServer) -> None:
    """The gateway sends its envelope with HTTP 400/401/403: the envelope's code decides, not the status."""
    error, calls = _live_error(fault_server, Reply(403, (shared / NOT_REGISTERED).read_bytes()))  # REAL, as sent
    assert isinstance(error, SourceAuthError) and calls == 1
    assert "code 30" in str(error) and "SERVICE_KEY_IS_NOT_REGISTERED_ERROR" in str(error)
    # A blocked IP (32) and a bad parameter (11) arrive with HTTP 400.
    error, calls = _live_error(fault_server, Reply(400, _gateway("32", "UNREGISTERED_IP_ERROR")))
    assert isinstance(error, SourceAuthError) and "code 32" in str(error) and calls == 1
    error, calls = _live_error(fault_server, Reply(400, _gateway("11", "NO_MANDATORY_REQUEST_PARAMETERS_ERROR")))
    assert isinstance(error, SourceRequestError) and "code 11" in str(error) and calls == 1


@pytest.mark.parametrize(
    "reply",
    [
        Reply(429, b"Too Many Requests", {"Retry-After": "1"}),  # SYNTHETIC: the quota as a bare 429
        Reply(429, _gateway("22", "LIMITED_NUMBER_OF_SERVICE_REQUESTS_EXCEEDS_ERROR")),
    ],
    ids=["bare-429", "envelope-22"],
)
def test_the_spent_daily_quota_is_not_retried_and_says_until_when(reply: Reply, fault_server: FaultServer) -> None:
    error, calls = _live_error(fault_server, reply)
    assert isinstance(error, SourceThrottled) and not error.retryable and calls == 1
    assert "spent until tomorrow" in str(error)


def test_only_transient_service_codes_are_retried() -> None:
    assert not customs_error("22", "x").retryable and not customs_error("99", "x").retryable
    assert all(customs_error(code, "x").retryable for code in ("01", "02", "04", "05"))
