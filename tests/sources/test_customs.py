"""customs (data.go.kr Itemtrade): the SYNTHETIC XML fixture in the documented layout (total row, annual row,
10-digit subcodes), 12-month request spans, the key in both data.go.kr forms, and the gateway's error codes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from series import sources
from series.errors import EmptySeries, SourceAuthError, SourceRequestError, SourceSchemaError, SourceThrottled
from series.sources.base import Response, Window
from series.sources.customs import customs_error, month_spans
from tests.fault_server import FakeClock, FaultServer, Reply, Seen
from tests.sources.support import DATA, fetch_into, live, make_spec, store_dump, stored

FIXTURE = DATA / "customs_Itemtrade_8542_SYNTHETIC.xml"
DECODED = "AbC+dEf/GhI0123456789==" * 2  # data.go.kr "Decoding" form (+ / =)
ENCODED = DECODED.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")  # the "Encoding" form
EMPTY_OK = (  # SYNTHETIC: a normal answer with no items
    "<response><header><resultCode>00</resultCode><resultMsg>정상서비스.</resultMsg></header>"
    "<body><items></items></body></response>"
).encode()


def _gateway(code: str, auth_msg: str) -> bytes:  # SYNTHETIC data.go.kr gateway error
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


def test_fetch_over_two_spans_with_the_encoded_key(fault_server: FaultServer, tmp_path: Path) -> None:
    def answer(seen: Seen) -> Reply:
        assert seen.query["serviceKey"] == [DECODED]  # sent once-encoded, whatever form the user set
        return Reply(200, FIXTURE.read_bytes() if seen.query["strtYymm"] == ["202501"] else EMPTY_OK)

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


@pytest.mark.parametrize(
    ("body", "error", "match"),
    [
        (_gateway("30", "SERVICE_KEY_IS_NOT_REGISTERED_ERROR"), SourceAuthError, "DATA_GO_KR_KEY"),
        (_gateway("22", "LIMITED_NUMBER_OF_SERVICE_REQUESTS_EXCEEDS_ERROR"), SourceThrottled, "quota"),
        (_gateway("12", "NO_OPENAPI_SERVICE_ERROR"), SourceRequestError, "HS code"),
        (
            b"<response><header><resultCode>03</resultCode><resultMsg>NODATA_ERROR</resultMsg></header></response>",
            EmptySeries,
            "no data",
        ),
        (EMPTY_OK, EmptySeries, "no monthly rows"),
        (b"<html>maintenance</html>", SourceSchemaError, "expected <response>"),
        (b"not xml at all", SourceSchemaError, "not XML"),
    ],
)
def test_error_answers(body: bytes, error: type[Exception], match: str) -> None:
    src = sources.get("customs")
    spec = make_spec("customs", "8542", freq="M")
    request = src.build_query(
        spec.primary, spec, Window(date(2025, 1, 1), date(2025, 2, 1)), {"DATA_GO_KR_KEY": DECODED}
    )
    with pytest.raises(error, match=match):
        src.parse([src.extract(Response(200, body, request), spec.primary, spec)], spec.primary, spec)


def test_quota_exhaustion_is_not_retried() -> None:
    assert not customs_error("22", "x").retryable and customs_error("99", "x").retryable
