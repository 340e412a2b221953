"""`ecos`: Bank of Korea ECOS Open API, StatisticSearch (needs ECOS_API_KEY). Key = "STAT_CODE/ITEM1[/ITEM2...]",
e.g. `722Y001/0101000`; `params.cycle` = D | M | Q | A (default: from the series' frequency).

Request: `GET https://ecos.bok.or.kr/api/StatisticSearch/<KEY>/json/kr/<first>/<last>/<STAT>/<CYCLE>/<START>/<END>/<ITEM1>/...`
with START/END in the cycle's format (YYYYMMDD, YYYYMM, YYYYQn, YYYY). The API key sits in the URL path: it is
redacted from every message, log, recording and stored URL.

Paging: rows come oldest first in blocks of 1000 (rows 1-1000, 1001-2000, ...) until `list_total_count`; a
result with fewer rows than announced is a schema error, never a silently short series. Pages after the first are
recorded as `ecos/<STAT>_<ITEM>.p2.json`, `.p3.json`, ...

Errors come as HTTP 200 with `{"RESULT": {"CODE": ..., "MESSAGE": ...}}`:
INFO-200 (no data; also a wrong code) -> EmptySeries; INFO-100 (bad key) -> SourceAuthError; ERROR-602 (too many
calls) -> SourceThrottled, retried after 60 s; ERROR-500 / ERROR-600 (server, DB) -> retried; ERROR-100/101/200/
300/301 (missing value, date format vs cycle, file type, row numbers) and ERROR-400 (range too wide) ->
SourceRequestError; anything else -> SourceSchemaError naming the code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

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
from series.sources.facts import Limit
from series.sources.registration import register
from series.spec import SeriesSpec, SourceRef

if TYPE_CHECKING:
    import pandas as pd
else:
    from series.lazy import pandas as pd

ROOT = "https://ecos.bok.or.kr/api/StatisticSearch"
HOST = "ecos.bok.or.kr"
KEY_ENV = "ECOS_API_KEY"
PAGE_ROWS = 1000
EARLIEST = date(1950, 1, 1)
THROTTLE_WAIT = 60.0  # ECOS counts 300 calls per 180 s: a minute per retry outlasts the window within the retries
_CYCLE_OF_FREQ = {"D": "D", "B": "D", "M": "M", "Q": "Q"}
_TIME_FORMATS = {"D": "%Y%m%d", "M": "%Y%m", "A": "%Y"}


class EcosParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cycle: Literal["D", "M", "Q", "A"] | None = None  # None: from the series' frequency (D/B -> D, M, Q)


@register
class EcosSource(Source):
    name = "ecos"
    description = "Bank of Korea ECOS StatisticSearch (JSON); key STAT_CODE/ITEM1[/ITEM2..], params.cycle"
    env_keys = (KEY_ENV,)
    revision_days = 31
    params_model = EcosParams
    host = HOST
    limit = Limit(max_calls=300, per_seconds=180.0)  # ECOS: 300 calls per 180 s

    def key_problem(self, key: str) -> str:
        ok = re.fullmatch(r"[0-9A-Z]+(/[0-9A-Za-z?]+)+", key)
        return "" if ok else "must be STAT_CODE/ITEM1[/ITEM2...], e.g. 722Y001/0101000"

    def build_query(self, ref: SourceRef, spec: SeriesSpec, window: Window, env: Mapping[str, str]) -> Request:
        cycle = EcosParams(**ref.params).cycle or _CYCLE_OF_FREQ.get(spec.freq)
        if cycle is None:
            raise SourceRequestError(f"ECOS has no cycle for frequency {spec.freq}; set params.cycle (D, M, Q or A)")
        stat, *items = ref.key.strip("/").split("/")
        start = ecos_period(window.start or EARLIEST, cycle)
        end = ecos_period(window.end or date.today(), cycle)
        api_key = read_secret(env, KEY_ENV)
        cursor = {"api_key": api_key, "path": "/".join([stat, cycle, start, end, *items]), "key": ref.key}
        return self._page(cursor, 1)

    def _page(self, cursor: Mapping[str, Any], page: int) -> Request:
        first, last = (page - 1) * PAGE_ROWS + 1, page * PAGE_ROWS
        api_key = cursor["api_key"]
        return Request(
            url=f"{ROOT}/{api_key}/json/kr/{first}/{last}/{cursor['path']}",
            replay_name=replay_name(self.name, cursor["key"], "json", page),
            secrets=secret_forms(api_key),
            host=HOST,
            check=_check,
            cursor={**cursor, "page": page},
        )

    def next_request(self, previous: Request, response: Response, raw: Any) -> Request | None:
        page = previous.cursor["page"]
        if page * PAGE_ROWS >= raw["total"] or not raw["rows"]:
            return None
        return self._page(previous.cursor, page + 1)

    def extract(self, response: Response, ref: SourceRef, spec: SeriesSpec) -> Any:
        data = _check(response)
        block = data["StatisticSearch"]
        rows = block.get("row") or []
        try:
            total = int(block.get("list_total_count", len(rows)))
        except (TypeError, ValueError):
            raise SourceSchemaError(f"list_total_count is {block.get('list_total_count')!r}") from None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise SourceSchemaError("StatisticSearch.row is not a list of records")
        return {"total": total, "rows": rows}

    def parse(self, raws: list[Any], ref: SourceRef, spec: SeriesSpec) -> pd.DataFrame:
        rows = [row for raw in raws for row in raw["rows"]]
        total = raws[0]["total"] if raws else 0
        if len(rows) != total:
            raise SourceSchemaError(f"ECOS announced {total} rows but sent {len(rows)}; retry later")
        if not rows:
            raise EmptySeries(f"ECOS returned no rows for {ref.key}")
        cycle = EcosParams(**ref.params).cycle or _CYCLE_OF_FREQ.get(spec.freq, "D")
        missing = [k for k in ("TIME", "DATA_VALUE") if k not in rows[0]]
        if missing:
            raise SourceSchemaError(f"ECOS rows without {', '.join(missing)}")
        times = pd.Series([str(r.get("TIME") or "") for r in rows])
        dates = ecos_dates(times, cycle)
        text = pd.Series([str(r.get("DATA_VALUE") if r.get("DATA_VALUE") is not None else "") for r in rows])
        text = text.str.strip().str.replace(",", "", regex=False)
        blank = text.isin(["", "-", "null"])
        values = pd.to_numeric(text.where(~blank), errors="coerce")
        bad = text[values.isna() & ~blank]
        if len(bad):
            raise SourceSchemaError(f"non-numeric DATA_VALUE {bad.iloc[0]!r}")
        return pd.DataFrame({"date": dates, "value": values.astype("float64")})


def ecos_period(day: date, cycle: str) -> str:
    """A date in the format ECOS wants for `cycle` (a mismatch is ECOS's ERROR-101)."""
    if cycle == "Q":
        return f"{day.year}Q{(day.month - 1) // 3 + 1}"
    return day.strftime(_TIME_FORMATS[cycle])


def ecos_dates(times: pd.Series, cycle: str) -> pd.Series:
    """ECOS TIME strings -> dates; periods are dated on their first day (2023Q2 -> 2023-04-01)."""
    if cycle == "Q":
        parts = times.str.extract(r"^(\d{4})Q([1-4])$")
        text = parts[0] + "-" + ((parts[1].astype(float) - 1) * 3 + 1).map(lambda m: f"{m:02.0f}") + "-01"
        dates = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    else:
        dates = pd.to_datetime(times, format=_TIME_FORMATS[cycle], errors="coerce")
    if dates.isna().any():
        raise SourceSchemaError(f"TIME {times[dates.isna()].iloc[0]!r} does not match cycle {cycle}")
    return dates.dt.normalize()


def _check(response: Response) -> dict[str, Any]:
    """The decoded answer, or the typed error its RESULT code stands for."""
    if response.status >= 400:
        raise SourceRequestError(f"HTTP {response.status}: {snippet(response)}")
    try:
        data = json.loads(response.body)
    except (ValueError, UnicodeDecodeError):
        raise SourceSchemaError(f"not JSON: {snippet(response)}") from None
    if not isinstance(data, dict):
        raise SourceSchemaError("the answer is not a JSON object")
    result = data.get("RESULT")
    if result is None and isinstance(data.get("StatisticSearch"), dict):
        result = data["StatisticSearch"].get("RESULT")
    if isinstance(result, dict) and result.get("CODE"):
        raise ecos_error(str(result.get("CODE")), str(result.get("MESSAGE") or ""))
    if not isinstance(data.get("StatisticSearch"), dict):
        raise SourceSchemaError(f"no StatisticSearch block: {snippet(response)}")
    return data


def ecos_error(code: str, message: str) -> SourceError:
    said = f"ECOS {code}: {message}".strip().rstrip(":")
    if code == "INFO-200":
        return EmptySeries(f"{said} (no data in the window, or a wrong STAT_CODE/ITEM code)")
    if code == "INFO-100":
        return SourceAuthError(f"{said} (set {KEY_ENV} to a valid key from ecos.bok.or.kr/api)")
    if code == "ERROR-602":
        return SourceThrottled(said, retry_after=THROTTLE_WAIT)
    if code in ("ERROR-500", "ERROR-600"):
        return SourceUnavailable(said)
    if code == "ERROR-601":
        return SourceUnavailable(said, retryable=False)
    if code == "ERROR-400":
        return SourceRequestError(f"{said} (the range is too wide: fetch a shorter window)")
    if code in ("ERROR-100", "ERROR-101", "ERROR-200", "ERROR-300", "ERROR-301"):
        return SourceRequestError(f"{said} (check the key and params.cycle in config.toml)")
    return SourceSchemaError(f"unknown ECOS result {said}")
