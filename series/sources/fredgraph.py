"""`fredgraph`: FRED's keyless CSV download, `fred.stlouisfed.org/graph/fredgraph.csv?id=<ID>&cosd=..&coed=..`.

Both header layouts FRED has served are read: the current `observation_date,<ID>` (since about Dec 2024,
missing values are empty fields) and the legacy `DATE,<ID>` (missing values are a literal `.`). No published
quota, but the host is bot-walled from some networks: an HTML page instead of CSV is a schema error naming that.
Recorded as the CSV body: `fredgraph/<ID>.csv`.
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

URL = "https://fred.stlouisfed.org/graph/fredgraph.csv"
HOST = "fred.stlouisfed.org"
DATE_HEADERS = ("observation_date", "DATE")


class FredgraphParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


@register
class FredgraphSource(Source):
    name = "fredgraph"
    description = "FRED keyless CSV (fredgraph.csv), same series ids as the FRED API"
    revision_days = 30
    params_model = FredgraphParams

    def key_problem(self, key: str) -> str:
        return "" if re.fullmatch(r"[A-Za-z0-9_]+", key) else "is not a FRED series id (e.g. DEXKOUS)"

    def build_query(self, ref: SourceRef, spec: SeriesSpec, window: Window, env: Mapping[str, str]) -> Request:
        query = {"id": ref.key}
        if window.start is not None:
            query["cosd"] = window.start.isoformat()
        if window.end is not None:
            query["coed"] = window.end.isoformat()
        return Request(
            url=f"{URL}?{urlencode(query)}",
            replay_name=replay_name(self.name, ref.key, "csv"),
            headers={"Accept": "text/csv"},
            host=HOST,
            check=lambda response: self._check(response, ref.key),
        )

    def _check(self, response: Response, key: str) -> None:
        if response.status == 404:
            raise SourceRequestError(f"FRED has no series {key!r} (HTTP 404; check the key)")
        if response.status >= 400:
            raise SourceRequestError(f"HTTP {response.status}: {snippet(response)}")
        head = response.body.lstrip()[:200].lower()
        if head.startswith((b"<!doctype", b"<html")) or b"<html" in head:
            raise SourceSchemaError("fredgraph answered an HTML page, not CSV (blocked or bot-walled network?)")

    def extract(self, response: Response, ref: SourceRef, spec: SeriesSpec) -> Any:
        self._check(response, ref.key)
        return read_fredgraph_csv(response.body, ref.key)

    def parse(self, raws: list[Any], ref: SourceRef, spec: SeriesSpec) -> pd.DataFrame:
        frame = pd.concat(raws, ignore_index=True)
        if frame["value"].notna().sum() == 0:
            raise EmptySeries(f"no observations of {ref.key} in the answer")
        return frame


def read_fredgraph_csv(body: bytes, key: str) -> pd.DataFrame:
    """date (datetime64) and value (float64, NaN for `.` and empty) from a fredgraph CSV body, either layout."""
    try:
        raw = pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise SourceSchemaError(f"not a readable fredgraph CSV: {e}") from None
    columns = [str(c).strip() for c in raw.columns]
    if len(columns) != 2 or columns[0] not in DATE_HEADERS:
        raise SourceSchemaError(
            f"unexpected fredgraph header {','.join(columns)!r} (expected observation_date,{key} or DATE,{key})"
        )
    if columns[1].upper() != key.upper():
        raise SourceSchemaError(f"the CSV holds {columns[1]!r}, not {key!r}")
    text_dates = raw.iloc[:, 0].str.strip()
    dates = pd.to_datetime(text_dates, format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        raise SourceSchemaError(f"unreadable date {text_dates[dates.isna()].iloc[0]!r} in the fredgraph CSV")
    text = raw.iloc[:, 1].str.strip()
    missing = text.isin(["", "."])
    values = pd.to_numeric(text.where(~missing), errors="coerce")
    bad = text[values.isna() & ~missing]
    if len(bad):
        raise SourceSchemaError(f"non-numeric value {bad.iloc[0]!r} in the fredgraph CSV")
    return pd.DataFrame({"date": dates.dt.normalize(), "value": values.astype("float64")})
