"""`bis`: BIS central bank policy rates (WS_CBPOL) through the SDMX REST API, keyless. Key = "FREQ.REF_AREA"
(`D.JP`, `D.KR`, `D.US`).

Request: `GET https://stats.bis.org/api/v1/data/WS_CBPOL/<key>?startPeriod=..&endPeriod=..&format=csv`.
The answer is SDMX-CSV; both layouts are read: SDMX-CSV 1.0 (`DATAFLOW,FREQ,REF_AREA,TIME_PERIOD,OBS_VALUE,...`
with plain codes) and the v2 labelled form (`STRUCTURE,STRUCTURE_ID,ACTION,FREQ:Frequency,...` with cells such as
`D: Daily`; headers and cells are split on the first ':' / ': ' and the code kept).
Blank or NaN OBS_VALUEs are missing values, never zeros: JP has no policy rate from 4 Apr 2013 to 20 Sep 2016
(monetary base targeting), so a JP history has a gap there, which validation reports as a warning only.
Errors: 404 = no results (EmptySeries), 400 = bad key syntax, 406 = format refused; 5xx are retried.
US values are the mid-point of the Fed's target range. Recorded as the CSV body: `bis/D.JP.csv`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict

from series.errors import EmptySeries, SourceRequestError, SourceSchemaError
from series.sources.base import Request, Response, Source, Window, replay_name, snippet
from series.sources.registration import register
from series.spec import SeriesSpec, SourceRef

if TYPE_CHECKING:
    import pandas as pd
else:
    from series.lazy import pandas as pd

ROOT = "https://stats.bis.org/api/v1/data/WS_CBPOL"
HOST = "stats.bis.org"


class BisParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


@register
class BisSource(Source):
    name = "bis"
    description = "BIS policy rates WS_CBPOL (SDMX REST, CSV), keyless; key FREQ.REF_AREA, e.g. D.JP"
    revision_days = 14
    params_model = BisParams

    def key_problem(self, key: str) -> str:
        ok = re.fullmatch(r"[DM]\.[A-Z0-9]{2}", key)
        return "" if ok else "must be FREQ.REF_AREA with FREQ D or M and an ISO-2 area, e.g. D.JP"

    def build_query(self, ref: SourceRef, spec: SeriesSpec, window: Window, env: Mapping[str, str]) -> Request:
        query = {}
        if window.start is not None:
            query["startPeriod"] = window.start.isoformat()
        if window.end is not None:
            query["endPeriod"] = window.end.isoformat()
        query["format"] = "csv"
        return Request(
            url=f"{ROOT}/{ref.key}?{urlencode(query)}",
            replay_name=replay_name(self.name, ref.key, "csv"),
            headers={"Accept": "application/vnd.sdmx.data+csv;version=1.0.0, text/csv"},
            host=HOST,
            check=lambda response: _check(response, ref.key),
        )

    def extract(self, response: Response, ref: SourceRef, spec: SeriesSpec) -> Any:
        _check(response, ref.key)
        return read_sdmx_csv(response.body, ref.key)

    def parse(self, raws: list[Any], ref: SourceRef, spec: SeriesSpec) -> pd.DataFrame:
        frame = pd.concat(raws, ignore_index=True)
        if frame["value"].notna().sum() == 0:
            raise EmptySeries(f"no observations of WS_CBPOL {ref.key} in the window")
        return frame


def _check(response: Response, key: str) -> None:
    if response.status == 404:
        raise EmptySeries(f"BIS has no observations for WS_CBPOL {key} in the window (HTTP 404)")
    if response.status == 400:
        raise SourceRequestError(f"BIS rejected the query (HTTP 400: {snippet(response)}); key is FREQ.REF_AREA")
    if response.status >= 400:
        raise SourceSchemaError(f"HTTP {response.status}: {snippet(response)}")
    head = response.body.lstrip()[:100]
    if head.startswith(b"<"):
        raise SourceSchemaError("BIS answered XML/HTML, not SDMX-CSV (was format=csv dropped?)")


def _code(cell: str) -> str:
    """`D: Daily` -> `D`; a plain code stays as it is."""
    return cell.split(": ", 1)[0].strip()


def read_sdmx_csv(body: bytes, key: str) -> pd.DataFrame:
    """date and value of the series `key` from an SDMX-CSV body (1.0 or the v2 labelled form)."""
    if not body.strip():
        raise EmptySeries(f"BIS answered an empty body for WS_CBPOL {key}")
    try:
        raw = pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise SourceSchemaError(f"not a readable SDMX-CSV body: {e}") from None
    raw.columns = [str(c).split(":", 1)[0].strip() for c in raw.columns]
    missing = [c for c in ("FREQ", "REF_AREA", "TIME_PERIOD", "OBS_VALUE") if c not in raw.columns]
    if missing:
        raise SourceSchemaError(f"SDMX-CSV without {', '.join(missing)} (columns: {', '.join(raw.columns)})")
    freq, _, area = key.partition(".")
    rows = raw[(raw["FREQ"].map(_code) == freq) & (raw["REF_AREA"].map(_code) == area)]
    if raw.shape[0] and rows.empty:
        found = sorted(set(raw["FREQ"].map(_code) + "." + raw["REF_AREA"].map(_code)))
        raise SourceSchemaError(f"the answer holds {', '.join(found)}, not {key}")
    periods = rows["TIME_PERIOD"].map(_code)
    fmt = "%Y-%m-%d" if freq == "D" else "%Y-%m"
    dates = pd.to_datetime(periods, format=fmt, errors="coerce")
    if dates.isna().any():
        raise SourceSchemaError(f"unreadable TIME_PERIOD {periods[dates.isna()].iloc[0]!r}")
    text = rows["OBS_VALUE"].str.strip()
    missing_value = text.isin(["", "NaN", "nan", "NA"])
    values = pd.to_numeric(text.where(~missing_value), errors="coerce")
    bad = text[values.isna() & ~missing_value]
    if len(bad):
        raise SourceSchemaError(f"non-numeric OBS_VALUE {bad.iloc[0]!r}")
    out = pd.DataFrame({"date": dates.dt.normalize(), "value": values.astype("float64")})
    return out.sort_values("date").reset_index(drop=True)
