"""`boj`: Bank of Japan Time-Series Data Search API (2025), `getDataCode`, keyless. Key = "DB/CODE",
e.g. `FM01/STRDCLUCON` (uncollateralized overnight call rate, daily average); the code goes without its DB prefix.

Request: `GET https://www.stat-search.boj.or.jp/api/v1/getDataCode?format=json&lang=en&db=FM01&code=STRDCLUCON
&startDate=YYYYMM&endDate=YYYYMM[&startPosition=N]`. Daily, weekly and monthly series take YYYYMM bounds,
quarterly YYYYQQ (01-04), annual YYYY. Calls are at least 1 s apart (the policy's limit for this host): frequent
access gets an IP blocked.

Paging: a non-null `NEXTPOSITION` (more than 60,000 points or 250 series) asks again with `startPosition`; pages
after the first are recorded as `boj/FM01_STRDCLUCON.p2.json`, ...

Errors arrive both ways: as an HTTP status (400 for a bad db, 404 for an unknown endpoint) and as `STATUS` /
`MESSAGE` in a JSON body with HTTP 200. STATUS 400 -> SourceRequestError (check the key); 500/503 -> retried;
an empty RESULTSET or only null VALUES -> EmptySeries.
`SURVEY_DATES` are integers: YYYYMMDD for daily, YYYYMM for monthly, YYYYQQ for quarterly, YYYY for annual data;
periods are dated on their first day. `VALUES` may hold nulls (holidays): missing values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict

from series.errors import EmptySeries, SourceError, SourceRequestError, SourceSchemaError, SourceUnavailable
from series.sources.base import Request, Response, Source, Window, replay_name, snippet
from series.sources.facts import Limit
from series.sources.registration import register
from series.spec import SeriesSpec, SourceRef

if TYPE_CHECKING:
    import pandas as pd
else:
    from series.lazy import pandas as pd

ROOT = "https://www.stat-search.boj.or.jp/api/v1/getDataCode"
HOST = "www.stat-search.boj.or.jp"
EARLIEST = date(1950, 1, 1)


class BojParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


@register
class BojSource(Source):
    name = "boj"
    description = "Bank of Japan Time-Series Data Search API (getDataCode, JSON), keyless; key DB/CODE"
    revision_days = 31
    params_model = BojParams
    host = HOST
    limit = Limit(min_interval=1.0)  # BOJ: ">= 1 s between calls" or be blocked

    def key_problem(self, key: str) -> str:
        ok = re.fullmatch(r"[A-Za-z0-9]+/[^/'\s]+", key)
        return "" if ok else "must be DB/CODE with the code as BOJ lists it without its DB prefix, e.g. FM01/STRDCLUCON"

    def build_query(self, ref: SourceRef, spec: SeriesSpec, window: Window, env: Mapping[str, str]) -> Request:
        db, _, code = ref.key.partition("/")
        if not db or not code:
            raise SourceRequestError(f"BOJ key {ref.key!r} must be DB/CODE, e.g. FM01/STRDCLUCON")
        query = {
            "format": "json",
            "lang": "en",
            "db": db,
            "code": code,
            "startDate": boj_period(window.start or EARLIEST, spec.freq),
            "endDate": boj_period(window.end or date.today(), spec.freq),
        }
        return self._page(query, ref.key, 1)

    def _page(self, query: Mapping[str, str], key: str, page: int) -> Request:
        return Request(
            url=f"{ROOT}?{urlencode(query)}",
            replay_name=replay_name(self.name, key, "json", page),
            headers={"Accept": "application/json", "Accept-Encoding": "gzip"},
            host=HOST,
            check=_check,
            cursor={"query": dict(query), "key": key, "page": page},
        )

    def next_request(self, previous: Request, response: Response, raw: Any) -> Request | None:
        position = raw["next"]
        if position in (None, "", 0):
            return None
        query = {**previous.cursor["query"], "startPosition": str(position)}
        return self._page(query, previous.cursor["key"], previous.cursor["page"] + 1)

    def extract(self, response: Response, ref: SourceRef, spec: SeriesSpec) -> Any:
        data = _check(response)
        code = ref.key.partition("/")[2].upper()
        results = data.get("RESULTSET") or []
        if not isinstance(results, list):
            raise SourceSchemaError("RESULTSET is not a list")
        mine = [r for r in results if isinstance(r, dict) and str(r.get("SERIES_CODE", "")).upper() == code]
        if results and not mine:
            found = ", ".join(str(r.get("SERIES_CODE")) for r in results if isinstance(r, dict))
            raise SourceSchemaError(f"the answer holds {found}, not {code}")
        return {"next": data.get("NEXTPOSITION"), "series": mine}

    def parse(self, raws: list[Any], ref: SourceRef, spec: SeriesSpec) -> pd.DataFrame:
        frames = [_series_frame(s) for raw in raws for s in raw["series"]]
        if not frames:
            raise EmptySeries(f"BOJ returned no series {ref.key} for the window (check DB/CODE and dates)")
        out = pd.concat(frames, ignore_index=True).sort_values("date", kind="stable").reset_index(drop=True)
        if out["value"].notna().sum() == 0:
            raise EmptySeries(f"BOJ returned only missing values for {ref.key}")
        return out


def boj_period(day: date, freq: str) -> str:
    if freq == "Q":
        return f"{day.year}{(day.month - 1) // 3 + 1:02d}"
    return day.strftime("%Y%m")


def _series_frame(series: Mapping[str, Any]) -> pd.DataFrame:
    block = series.get("VALUES")
    if not isinstance(block, dict):
        raise SourceSchemaError("a RESULTSET entry has no VALUES block")
    stamps, values = block.get("SURVEY_DATES") or [], block.get("VALUES") or []
    if len(stamps) != len(values):
        raise SourceSchemaError(f"{len(stamps)} SURVEY_DATES but {len(values)} VALUES")
    frequency = str(series.get("FREQUENCY", "")).upper()
    dates = [boj_date(s, frequency) for s in stamps]
    numbers = pd.to_numeric(pd.Series([None if v in (None, "") else v for v in values], dtype=object), errors="coerce")
    given = pd.Series([v not in (None, "") for v in values])
    if (numbers.isna() & given).any():
        raise SourceSchemaError(f"non-numeric value {values[int((numbers.isna() & given).idxmax())]!r}")
    return pd.DataFrame({"date": pd.DatetimeIndex(dates).normalize(), "value": numbers.astype("float64").to_numpy()})


def boj_date(stamp: Any, frequency: str) -> pd.Timestamp:
    text = str(stamp).strip()
    try:
        if len(text) == 8:
            return pd.Timestamp(f"{text[:4]}-{text[4:6]}-{text[6:]}")
        if len(text) == 6 and "QUARTER" in frequency:
            quarter = int(text[4:])
            if not 1 <= quarter <= 4:
                raise ValueError(text)
            return pd.Timestamp(int(text[:4]), 3 * (quarter - 1) + 1, 1)
        if len(text) == 6:
            return pd.Timestamp(int(text[:4]), int(text[4:]), 1)
        if len(text) == 4:
            return pd.Timestamp(int(text), 1, 1)
    except ValueError:
        pass
    raise SourceSchemaError(f"unreadable SURVEY_DATES entry {stamp!r} for a {frequency or 'series'} of unknown shape")


def _check(response: Response) -> dict[str, Any]:
    try:
        data = json.loads(response.body)
    except (ValueError, UnicodeDecodeError):
        if response.status >= 400:
            raise boj_error(response.status, snippet(response)) from None
        raise SourceSchemaError(f"not JSON: {snippet(response)}") from None
    if not isinstance(data, dict) or "STATUS" not in data:
        if response.status >= 400:
            raise boj_error(response.status, snippet(response))
        raise SourceSchemaError(f"no STATUS in the answer: {snippet(response)}")
    try:
        status = int(data["STATUS"])
    except (TypeError, ValueError):
        raise SourceSchemaError(f"STATUS is {data['STATUS']!r}") from None
    if status != 200 or response.status >= 400:
        message = f"{data.get('MESSAGEID', '')} {data.get('MESSAGE', '')}".strip()
        raise boj_error(status if status != 200 else response.status, message)
    return data


def boj_error(status: int, message: str) -> SourceError:
    said = f"BOJ STATUS {status}: {message}"
    if status >= 500:
        return SourceUnavailable(said)
    if status in (400, 404):
        return SourceRequestError(f"{said} (check DB/CODE in config.toml)")
    return SourceSchemaError(said)
