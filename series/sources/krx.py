"""`krx`: KRX investor net purchases by day through pykrx (the optional `krx` extra; KRX_ID / KRX_PW).
Key = market (`KOSPI`, `KOSDAQ`, `KONEX`, `ALL`); `params.investor` = foreign (default), institution,
individual, other_corporation or total. Values are KRW (scale them in config, e.g. 1e-8 for 100 million KRW).

pykrx calls `stock.get_market_trading_value_by_date(from, to, market)` (KRX bld MDCSTAT02202, net purchase
value), fetching in 730-day chunks with 1 s pauses. Since 2025-12-27 KRX wants a member login: pykrx logs in
from KRX_ID / KRX_PW **when it is imported**, so it is imported only inside the call, never at module import
(tests never import it), and the call puts the two variables into the process environment first.
pykrx pins pandas < 3, so it is not in the main install: without it the call fails in one line saying to
install the extra; without credentials the route is skipped with the variables to set (`env_keys`).
pykrx answers failures (the `LOGOUT` body, HTTP 400) with an empty frame, which is EmptySeries here.

Record/replay: pykrx hides the HTTP body, so the recording is its answer in pandas' own save format,
`DataFrame.to_csv()` (`krx/KOSPI.csv`: columns 날짜,기관합계,기타법인,개인,외국인합계,전체; KRW). `extract` also reads
KRX's own JSON body as served (`{"output": [{"TRD_DD": "2021/01/22", "TRDVAL1": "-1,364,772,011,847", ...}]}`,
rows newest first; TRDVAL1 institutions, 2 other corporations, 3 individuals, 4 foreigners, TOT total), so a
body captured from data.krx.co.kr replays as well.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import logging
import os
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from series.errors import EmptySeries, SourceSchemaError, SourceUnavailable
from series.secrets import read as read_secret
from series.sources.base import CallContext, Request, Response, Source, Window, replay_name, secret_forms
from series.sources.registration import register
from series.spec import SeriesSpec, SourceRef

if TYPE_CHECKING:
    import pandas as pd
else:
    from series.lazy import pandas as pd

HOST = "data.krx.co.kr"
URL = "https://data.krx.co.kr/comm/bldAttendant/getJsonData.cmd"
EARLIEST = date(1999, 1, 1)
INSTALL_HINT = "pykrx is not installed: install the krx extra (pip install 'kr-macro-monitor[krx]')"
LOGIN_HINT = "since Dec 2025 KRX answers only logged-in members: check KRX_ID / KRX_PW (and the dates)"
# investor -> (pykrx column, KRX JSON field)
COLUMNS = {
    "institution": ("기관합계", "TRDVAL1"),
    "other_corporation": ("기타법인", "TRDVAL2"),
    "individual": ("개인", "TRDVAL3"),
    "foreign": ("외국인합계", "TRDVAL4"),
    "total": ("전체", "TRDVAL_TOT"),
}
MARKETS = ("KOSPI", "KOSDAQ", "KONEX", "ALL")

log = logging.getLogger(__name__)


class KrxParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    investor: Literal["foreign", "institution", "individual", "other_corporation", "total"] = "foreign"


def trading_value(start: date, end: date, market: str, env: Mapping[str, str]) -> pd.DataFrame:
    """THE pykrx boundary: net purchase value (KRW) by investor type and day, as pykrx returns it."""
    for name in ("KRX_ID", "KRX_PW"):
        value = read_secret(env, name)
        if value and os.environ.get(name) != value:
            os.environ[name] = value  # pykrx reads them from the environment when it is imported (normalised)
    try:
        with contextlib.redirect_stdout(io.StringIO()) as said:  # pykrx prints its login status on import
            from pykrx import stock
    except ImportError:
        raise SourceUnavailable(INSTALL_HINT, retryable=False) from None
    if said.getvalue().strip():
        log.info("pykrx: %s", " ".join(said.getvalue().split()))
    frame: pd.DataFrame = stock.get_market_trading_value_by_date(
        start.strftime("%Y%m%d"), end.strftime("%Y%m%d"), market
    )
    return frame


@register
class KrxSource(Source):
    name = "krx"
    description = "KRX investor net purchases by day via pykrx (krx extra; KRX login); key market, params.investor"
    env_keys = ("KRX_ID", "KRX_PW")
    revision_days = 7
    params_model = KrxParams
    redirectable = False

    def status_note(self) -> str:
        return "" if importlib.util.find_spec("pykrx") is not None else INSTALL_HINT

    def key_problem(self, key: str) -> str:
        return "" if key.upper() in MARKETS else f"is not a KRX market; use one of {', '.join(MARKETS)}"

    def build_query(self, ref: SourceRef, spec: SeriesSpec, window: Window, env: Mapping[str, str]) -> Request:
        market = ref.key.upper()
        start, end = window.start or EARLIEST, window.end or date.today()

        def call(ctx: CallContext) -> bytes:
            if market not in MARKETS:
                raise SourceSchemaError(f"unknown KRX market {ref.key!r}; use one of {', '.join(MARKETS)}")
            ctx.pace(HOST)
            try:
                frame = trading_value(start, end, market, env)
            except OSError as e:  # requests' errors are OSErrors: the network, worth another try
                raise SourceUnavailable(f"{type(e).__name__}: {e}") from None
            return frame.to_csv().encode("utf-8")

        return Request(
            url=f"{URL}?bld=dbms/MDC/STAT/standard/MDCSTAT02202&mktId={market}&strtDd={start:%Y%m%d}&endDd={end:%Y%m%d}",
            replay_name=replay_name(self.name, market, "csv"),
            secrets=secret_forms(read_secret(env, "KRX_PW")),
            call=call,
            host=HOST,
            check=lambda response: self.extract(response, ref, spec),
        )

    def extract(self, response: Response, ref: SourceRef, spec: SeriesSpec) -> Any:
        investor = KrxParams(**ref.params).investor
        body = response.body.strip()
        if body.upper() in (b"LOGOUT", b'"LOGOUT"'):
            raise EmptySeries(f"KRX answered LOGOUT: {LOGIN_HINT}")
        frame = read_krx_json(body, investor) if body.startswith(b"{") else read_pykrx_csv(body, investor)
        if frame["value"].notna().sum() == 0:
            raise EmptySeries(f"KRX returned no rows for {ref.key}: {LOGIN_HINT}")
        return frame

    def parse(self, raws: list[Any], ref: SourceRef, spec: SeriesSpec) -> pd.DataFrame:
        return pd.concat(raws, ignore_index=True).sort_values("date", kind="stable").reset_index(drop=True)


def _numbers(text: pd.Series) -> pd.Series:
    clean = text.astype(str).str.strip().str.replace(",", "", regex=False)
    blank = clean.isin(["", "-", "nan"])
    values = pd.to_numeric(clean.where(~blank), errors="coerce")
    bad = clean[values.isna() & ~blank]
    if len(bad):
        raise SourceSchemaError(f"non-numeric value {bad.iloc[0]!r}")
    return values.astype("float64")


def read_krx_json(body: bytes, investor: str) -> pd.DataFrame:
    """KRX's MDCSTAT02202 JSON body -> date, value (KRW) of one investor type, oldest first."""
    try:
        data = json.loads(body)
        rows = data["output"]
    except (ValueError, KeyError, TypeError):
        raise SourceSchemaError("not a KRX JSON answer (no 'output' list)") from None
    field = COLUMNS[investor][1]
    if not isinstance(rows, list):
        raise SourceSchemaError("KRX 'output' is not a list")
    if rows and field not in rows[0]:
        raise SourceSchemaError(f"KRX rows have no {field} ({', '.join(rows[0])})")
    frame = pd.DataFrame(rows, columns=["TRD_DD", field]) if rows else pd.DataFrame(columns=["TRD_DD", field])
    dates = pd.to_datetime(frame["TRD_DD"].astype(str).str.strip(), format="%Y/%m/%d", errors="coerce")
    if dates.isna().any():
        raise SourceSchemaError(f"unreadable TRD_DD {frame['TRD_DD'][dates.isna()].iloc[0]!r}")
    out = pd.DataFrame({"date": dates.dt.normalize(), "value": _numbers(frame[field])})
    return out.sort_values("date", kind="stable").reset_index(drop=True)


def read_pykrx_csv(body: bytes, investor: str) -> pd.DataFrame:
    """pykrx's frame saved with to_csv (index 날짜) -> date, value (KRW) of one investor type."""
    if len([line for line in body.splitlines() if line.strip()]) <= 1:  # pykrx's empty frame: no rows at all
        return pd.DataFrame({"date": pd.Series([], dtype="datetime64[ns]"), "value": pd.Series([], dtype=float)})
    try:
        frame = pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise SourceSchemaError(f"not a pykrx CSV: {e}") from None
    column = COLUMNS[investor][0]
    if column not in frame.columns:
        raise SourceSchemaError(f"no {column} column (columns: {', '.join(map(str, frame.columns))})")
    dates = pd.to_datetime(frame.iloc[:, 0].str.strip().str[:10], format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        raise SourceSchemaError(f"unreadable date {frame.iloc[:, 0][dates.isna()].iloc[0]!r}")
    out = pd.DataFrame({"date": dates.dt.normalize(), "value": _numbers(frame[column])})
    return out.sort_values("date", kind="stable").reset_index(drop=True)
