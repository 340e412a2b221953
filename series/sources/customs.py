"""`customs`: Korea Customs Service trade by HS item via data.go.kr (Itemtrade, needs DATA_GO_KR_KEY).
Key = HS code prefix (`8542`, integrated circuits); `params.flow` = export (default, expDlr), import (impDlr)
or balance (balPayments). Values in USD, monthly, dated on the 1st of the month.

Request: `GET https://apis.data.go.kr/1220000/Itemtrade/getItemtradeList?serviceKey=..&strtYymm=YYYYMM
&endYymm=YYYYMM&hsSgn=8542`, XML only. The window is asked in spans of at most 12 months (the service's period
limit as third-party clients report it); spans after the first are recorded as `customs/8542.p2.xml`, ...
The key comes in data.go.kr's "Decoding" form (with + / =) or its percent-encoded "Encoding" form; both work
(the encoded one is decoded once, so it is not encoded twice), and both forms are redacted everywhere.

Parsing, per the pitfalls users report: the row with hsCode "-" is the total (summing it would double the
value) and rows whose `year` is a year alone ("2026") are annual sums: both are dropped; the 10-digit subcodes
under the prefix are summed per month (`year` = "2026.05"). HS 8542 is not MOTIE's headline "semiconductors".
Preliminary data are revised around the 15th of each month: the revision window re-asks about 3 months.

Errors, as the real bodies show them (../shared/data/samples/wire/customs, PROVENANCE.md there): no data is
resultCode 00 with an empty `<items/>` (EmptySeries); every service-side rejection (period over a year, bad
YYYYMM, missing parameter, bad code) is resultCode 99 with the reason only in `resultMsg` -> SourceRequestError
with that reason, not retried (the same request is refused again); 03 (NODATA in data.go.kr's common codes) ->
EmptySeries; 1/2/4/5 (application, database, HTTP, timeout at the service) -> retried. data.go.kr's gateway
answers `<OpenAPI_ServiceResponse>` with HTTP 400/401/403 (or 429), and its returnReasonCode decides whatever the
status: 20/30/31/32/33 (access denied, key not registered, expired, IP not registered, unsigned) ->
SourceAuthError; 22 (daily quota used up) and a bare HTTP 429 (the quota, about 4,900 calls a day) ->
SourceThrottled, not retried: the quota is spent until the next day; 10/11/12 (bad or missing parameter, no
such service) -> SourceRequestError.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlencode

from pydantic import BaseModel, ConfigDict

from series.errors import (
    EmptySeries,
    SourceAuthError,
    SourceError,
    SourceRequestError,
    SourceSchemaError,
    SourceThrottled,
    SourceUnavailable,
)
from series.secrets import read as read_secret
from series.sources.base import Request, Response, Source, Window, replay_name, secret_forms, snippet
from series.sources.registration import register
from series.spec import SeriesSpec, SourceRef

if TYPE_CHECKING:
    import pandas as pd
else:
    from series.lazy import pandas as pd

URL = "https://apis.data.go.kr/1220000/Itemtrade/getItemtradeList"
HOST = "apis.data.go.kr"
KEY_ENV = "DATA_GO_KR_KEY"
EARLIEST = date(2000, 1, 1)
SPAN_MONTHS = 12
FIELDS = {"export": "expDlr", "import": "impDlr", "balance": "balPayments"}
QUOTA_SPENT = "the daily call quota is spent until tomorrow; not retried, the next day's run fetches it"


class CustomsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    flow: Literal["export", "import", "balance"] = "export"


@register
class CustomsSource(Source):
    name = "customs"
    description = "Korea Customs Service trade by HS code (data.go.kr Itemtrade, XML); key HS code, params.flow"
    env_keys = (KEY_ENV,)
    revision_days = 100
    params_model = CustomsParams

    def key_problem(self, key: str) -> str:
        return "" if re.fullmatch(r"\d{2,10}", key) else "must be an HS code of 2 to 10 digits, e.g. 8542"

    def build_query(self, ref: SourceRef, spec: SeriesSpec, window: Window, env: Mapping[str, str]) -> Request:
        spans = month_spans(window.start or EARLIEST, window.end or date.today())
        raw_key = read_secret(env, KEY_ENV)
        cursor = {"spans": spans, "raw_key": raw_key, "hs": ref.key}
        return self._page(cursor, 0)

    def _page(self, cursor: Mapping[str, Any], index: int) -> Request:
        raw_key = cursor["raw_key"]
        service_key = unquote(raw_key) if "%" in raw_key else raw_key
        first, last = cursor["spans"][index]
        query = {"serviceKey": service_key, "strtYymm": first, "endYymm": last, "hsSgn": cursor["hs"]}
        return Request(
            url=f"{URL}?{urlencode(query)}",
            replay_name=replay_name(self.name, cursor["hs"], "xml", index + 1),
            secrets=secret_forms(raw_key, service_key),
            host=HOST,
            check=_check,
            error_body=error_answer,
            cursor={**cursor, "index": index},
        )

    def next_request(self, previous: Request, response: Response, raw: Any) -> Request | None:
        index = previous.cursor["index"] + 1
        return self._page(previous.cursor, index) if index < len(previous.cursor["spans"]) else None

    def extract(self, response: Response, ref: SourceRef, spec: SeriesSpec) -> Any:
        return items(_check(response))

    def parse(self, raws: list[Any], ref: SourceRef, spec: SeriesSpec) -> pd.DataFrame:
        rows = [row for raw in raws for row in raw]
        out = monthly_sum(rows, ref.key, FIELDS[CustomsParams(**ref.params).flow])
        if out.empty:
            raise EmptySeries(f"no monthly rows for HS {ref.key} in the window (not yet published, or a wrong code)")
        return out


def month_spans(start: date, end: date) -> list[tuple[str, str]]:
    """(YYYYMM, YYYYMM) spans of at most SPAN_MONTHS months covering start..end."""
    spans = []
    index, last = start.year * 12 + start.month - 1, end.year * 12 + end.month - 1
    while index <= last:
        stop = min(index + SPAN_MONTHS - 1, last)
        spans.append((f"{index // 12}{index % 12 + 1:02d}", f"{stop // 12}{stop % 12 + 1:02d}"))
        index = stop + 1
    return spans


def error_answer(response: Response) -> SourceError | None:
    """An HTTP error answer read by its body: the gateway envelope's code, whatever the status (a blocked IP or
    a bad parameter comes with HTTP 400); a bare 429 is the daily quota. None: the status says it all."""
    envelope = _envelope(response.body)
    if envelope is not None:
        return envelope
    if response.status == 429:
        return SourceThrottled(f"HTTP 429: {QUOTA_SPENT}", retryable=False, reason="HTTP 429")
    return None


def _envelope(body: bytes) -> SourceError | None:
    """The error of a data.go.kr gateway envelope (`<OpenAPI_ServiceResponse>`), None for any other body."""
    try:
        return _envelope_error(ET.fromstring(body))
    except ET.ParseError:
        return None


def _envelope_error(root: ET.Element) -> SourceError | None:
    if root.tag != "OpenAPI_ServiceResponse":
        return None
    code = (root.findtext(".//returnReasonCode") or "").strip()
    said = " ".join(
        t.strip() for t in (root.findtext(".//errMsg"), root.findtext(".//returnAuthMsg")) if t and t.strip()
    )
    return customs_error(code, said)


def _check(response: Response) -> ET.Element:
    try:
        root = ET.fromstring(response.body)
    except ET.ParseError as e:
        if response.status >= 400:
            raise SourceRequestError(f"HTTP {response.status}: {snippet(response)}") from None
        raise SourceSchemaError(f"not XML ({e}): {snippet(response)}") from None
    envelope = _envelope_error(root)
    if envelope is not None:
        raise envelope
    if response.status >= 400:
        raise SourceRequestError(f"HTTP {response.status}: {snippet(response)}")
    if root.tag != "response":
        raise SourceSchemaError(f"expected <response>, got <{root.tag}>")
    code = (root.findtext("header/resultCode") or "").strip()
    if code not in ("00", "0", "000"):
        raise customs_error(code, (root.findtext("header/resultMsg") or "").strip())
    return root


def customs_error(code: str, message: str) -> SourceError:
    said = f"data.go.kr code {code or '?'}: {message or 'no message'}"
    number = int(code) if code.isdigit() else -1
    if number == 3:
        return EmptySeries(f"{said} (no data for the window)")
    if number in (20, 30, 31, 32, 33):
        return SourceAuthError(f"{said} (check {KEY_ENV} and that Itemtrade is approved for it)")
    if number == 22:
        return SourceThrottled(f"{said} ({QUOTA_SPENT})", retryable=False)
    if number in (10, 11, 12):
        return SourceRequestError(f"{said} (check the HS code in config.toml)")
    if number == 99:  # the service refused the request itself: asking again gets the same answer
        return SourceRequestError(f"{said} (the service refused the request; check the HS code and the period)")
    if number in (1, 2, 4, 5):
        return SourceUnavailable(said)
    return SourceSchemaError(f"unknown answer {said}")


def items(root: ET.Element) -> list[dict[str, str]]:
    return [{child.tag: (child.text or "").strip() for child in item} for item in root.iterfind("body/items/item")]


def monthly_sum(rows: list[dict[str, str]], hs: str, field: str) -> pd.DataFrame:
    """Sum `field` over the 10-digit subcodes of `hs` per month; the total row (hsCode "-") and annual rows go."""
    frame = (
        pd.DataFrame(rows, columns=["year", "hsCode", field])
        if rows
        else pd.DataFrame(columns=["year", "hsCode", field])
    )
    if rows and field not in rows[0]:
        raise SourceSchemaError(f"items have no {field} ({', '.join(rows[0])})")
    code = frame["hsCode"].fillna("").astype(str).str.strip()
    month = frame["year"].fillna("").astype(str).str.strip().str.fullmatch(r"\d{4}\.\d{2}")
    keep = frame[code.str.fullmatch(r"\d{10}") & code.str.startswith(hs) & month]
    if keep.empty:
        return pd.DataFrame({"date": pd.Series([], dtype="datetime64[ns]"), "value": pd.Series([], dtype=float)})
    text = keep[field].fillna("").astype(str).str.replace(",", "", regex=False).str.strip()
    values = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = text[values.isna() & (text != "")]
    if len(bad):
        raise SourceSchemaError(f"non-numeric {field} {bad.iloc[0]!r}")
    dates = pd.to_datetime(keep["year"].str.strip().str.replace(".", "-", regex=False) + "-01", format="%Y-%m-%d")
    summed = (
        pd.DataFrame({"date": dates.to_numpy(), "value": values.to_numpy()})
        .groupby("date", as_index=False)
        .sum(min_count=1)
    )
    summed["value"] = summed["value"].astype("float64")
    return summed.sort_values("date").reset_index(drop=True)
