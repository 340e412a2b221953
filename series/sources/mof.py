"""`mof`: Japan Ministry of Finance JGB constant-maturity yields (国債金利情報), keyless CSV files. Key = a tenor
as the files head their columns: 1Y .. 10Y, 15Y, 20Y, 25Y, 30Y, 40Y (percent).

MOF serves two files per language: the history up to the end of last month and the current month's days. Both
are fetched (two pages) and the current month wins on a date both hold:
- English (`lang = "en"`, the default): `.../english/policy/jgbs/reference/interest_rate/historical/jgbcme_all.csv`
  and `.../interest_rate/jgbcme.csv`. ASCII, CRLF; row 1 `Interest Rate,,...,(Unit : %)`, row 2
  `Date,1Y,2Y,...,40Y`; dates `YYYY/M/D` without zero padding.
- Japanese (`lang = "jp"`): `.../jgbs/reference/interest_rate/data/jgbcm_all.csv` and `.../interest_rate/jgbcm.csv`.
  Shift-JIS; row 2 `基準日,1年,...,40年`; dates in the Japanese era calendar, e.g. `R8.3.27` (Reiwa 8 = 2026),
  `H31.4.26`, `S49.9.24`.
A missing value is `-` (the 10Y starts in 1986, the 40Y in 2007) and is stored as missing. Both files are shared by
every tenor, so the recordings are named by file: `mof/jgbcme_all.csv` and `mof/jgbcme.csv` (`jgbcm_*` for jp).
MOF answers no query parameters: the window is applied here.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from series.errors import EmptySeries, SourceRequestError, SourceSchemaError
from series.sources.base import Request, Response, Source, Window, snippet
from series.sources.registration import register
from series.spec import SeriesSpec, SourceRef

if TYPE_CHECKING:
    import pandas as pd
else:
    from series.lazy import pandas as pd

HOST = "www.mof.go.jp"
FILES = {
    "en": (
        ("jgbcme_all", "https://www.mof.go.jp/english/policy/jgbs/reference/interest_rate/historical/jgbcme_all.csv"),
        ("jgbcme", "https://www.mof.go.jp/english/policy/jgbs/reference/interest_rate/jgbcme.csv"),
    ),
    "jp": (
        ("jgbcm_all", "https://www.mof.go.jp/jgbs/reference/interest_rate/data/jgbcm_all.csv"),
        ("jgbcm", "https://www.mof.go.jp/jgbs/reference/interest_rate/jgbcm.csv"),
    ),
}
TENORS = ("1Y", "2Y", "3Y", "4Y", "5Y", "6Y", "7Y", "8Y", "9Y", "10Y", "15Y", "20Y", "25Y", "30Y", "40Y")
DATE_HEADERS = ("Date", "基準日")
# Year 1 of each era in the Gregorian calendar minus one: era year n is BASE + n.
ERAS = {"M": 1867, "T": 1911, "S": 1925, "H": 1988, "R": 2018}
ERA_DATE = re.compile(r"([MTSHR])(\d{1,2}|元)\.(\d{1,2})\.(\d{1,2})")
WESTERN_DATE = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})")


class MofParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lang: Literal["en", "jp"] = "en"


@register
class MofSource(Source):
    name = "mof"
    description = "Japan MOF JGB constant-maturity yields (jgbcme_all.csv + jgbcme.csv), keyless; key = tenor"
    revision_days = 7
    params_model = MofParams

    def key_problem(self, key: str) -> str:
        return "" if key in TENORS else f"is not a JGB tenor MOF publishes ({', '.join(TENORS)})"

    def build_query(self, ref: SourceRef, spec: SeriesSpec, window: Window, env: Mapping[str, str]) -> Request:
        if ref.key not in TENORS:
            raise SourceRequestError(f"MOF key {ref.key!r} is not a tenor; use one of {', '.join(TENORS)}")
        return self._page(MofParams(**ref.params).lang, 0, window)

    def _page(self, lang: str, page: int, window: Window) -> Request:
        stem, url = FILES[lang][page]
        return Request(
            url=url,
            replay_name=f"{self.name}/{stem}.csv",
            headers={"Accept": "text/csv"},
            host=HOST,
            check=_check,
            cursor={"lang": lang, "page": page, "window": window},
        )

    def next_request(self, previous: Request, response: Response, raw: Any) -> Request | None:
        page = previous.cursor["page"] + 1
        return self._page(previous.cursor["lang"], page, previous.cursor["window"]) if page < 2 else None

    def extract(self, response: Response, ref: SourceRef, spec: SeriesSpec) -> Any:
        _check(response)
        frame = read_jgb_csv(response.body, ref.key)
        window: Window = response.request.cursor.get("window", Window())
        if window.start is not None:
            frame = frame[frame["date"] >= pd.Timestamp(window.start)]
        if window.end is not None:
            frame = frame[frame["date"] <= pd.Timestamp(window.end)]
        return frame

    def parse(self, raws: list[Any], ref: SourceRef, spec: SeriesSpec) -> pd.DataFrame:
        frame = pd.concat(raws, ignore_index=True)
        # The current month's file is the later page: on a date both hold, it is the one MOF serves now.
        frame = frame.drop_duplicates("date", keep="last").sort_values("date", kind="stable").reset_index(drop=True)
        if frame["value"].notna().sum() == 0:
            raise EmptySeries(f"no {ref.key} JGB yield in the MOF files for the window")
        return frame


def _check(response: Response) -> None:
    if response.status == 404:
        raise SourceRequestError("MOF has no such file (HTTP 404): the URL moved; see series/sources/mof.py")
    if response.status >= 400:
        raise SourceRequestError(f"HTTP {response.status}: {snippet(response)}")
    head = response.body.lstrip()[:200].lower()
    if head.startswith((b"<!doctype", b"<html")) or b"<html" in head:
        raise SourceSchemaError("MOF answered an HTML page, not the CSV (moved or blocked?)")


def decode(body: bytes) -> str:
    """The text of a MOF file: the English files are ASCII, the Japanese ones Shift-JIS (cp932, its Windows
    superset, which MOF's files are written in)."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("cp932")
    except UnicodeDecodeError:
        raise SourceSchemaError("the MOF file is neither UTF-8 nor Shift-JIS text") from None


def jgb_date(text: str) -> datetime:
    """`2026/3/27` or the era form `R8.3.27` (Reiwa 8) -> datetime; anything else is a schema error."""
    text = text.strip()
    if m := WESTERN_DATE.fullmatch(text):
        year, month, day = (int(g) for g in m.groups())
    elif m := ERA_DATE.fullmatch(text):
        era, y, mo, d = m.groups()
        year, month, day = ERAS[era] + (1 if y == "元" else int(y)), int(mo), int(d)
    else:
        raise SourceSchemaError(f"unreadable date {text[:20]!r} in the MOF file (expected 2026/3/27 or R8.3.27)")
    try:
        return datetime(year, month, day)  # a plain datetime: a Timestamp per row was half of reading the file
    except ValueError:
        raise SourceSchemaError(f"impossible date {text!r} in the MOF file") from None


def read_jgb_csv(body: bytes, tenor: str) -> pd.DataFrame:
    """date (datetime64) and value (float64, NaN for `-`) of one tenor from a MOF JGB CSV, either language."""
    rows = list(csv.reader(io.StringIO(decode(body))))
    header_at = next((i for i, r in enumerate(rows[:5]) if r and r[0].strip() in DATE_HEADERS), None)
    if header_at is None:
        raise SourceSchemaError("no `Date,1Y,...` (or `基準日,1年,...`) header in the first rows of the MOF file")
    columns = [c.strip().replace("年", "Y") for c in rows[header_at]]
    if tenor not in columns:
        raise SourceSchemaError(f"the MOF file has no {tenor} column (columns: {','.join(columns[1:])})")
    col = columns.index(tenor)
    dates, values = [], []
    for r in rows[header_at + 1 :]:
        if not any(c.strip() for c in r):
            continue
        if len(r) != len(columns):
            raise SourceSchemaError(f"a MOF row has {len(r)} cells, the header {len(columns)}: {','.join(r)[:60]!r}")
        cell = r[col].strip()
        dates.append(jgb_date(r[0]))
        if cell in ("-", ""):
            values.append(float("nan"))
            continue
        try:
            values.append(float(cell))
        except ValueError:
            raise SourceSchemaError(f"non-numeric {tenor} yield {cell[:20]!r} in the MOF file") from None
    return pd.DataFrame({"date": pd.DatetimeIndex(dates, dtype="datetime64[ns]"), "value": values}).astype(
        {"value": "float64"}
    )
