"""`yahoo`: Yahoo Finance daily bars through yfinance, keyless and unofficial. Key = symbol (`^KS11`, `KRW=X`);
`params.field` = Close (default), Open, High, Low or Volume. `KRW=X` is KRW per USD.

yfinance sits behind ONE thin wrapper, `download()`, the library boundary tests patch. It asks
`Ticker(symbol).history(start, end, auto_adjust=True, actions=False)` with yfinance's exceptions switched on
(`yf.config.debug.hide_exceptions = False`; `yf.download` would swallow them and print "1 Failed download"),
then shapes the frame exactly as `yf.download` does for one ticker (tz-naive session dates, columns
MultiIndex (Price, Ticker) in sorted order), so the recording is `download(...).to_csv()`'s layout, the 3-line
header of `yahoo/^KS11.csv`: `Price,Close,...` / `Ticker,^KS11,...` / `Date,,...`.
yfinance's timezone cache goes to `$XDG_CACHE_HOME/kr-macro-monitor/yfinance` (default ~/.cache/...), set once.

Failure modes: YFRateLimitError (HTTP 429 behind curl_cffi) -> SourceThrottled (retried with backoff);
YFPricesMissingError / YFTzMissingError ("possibly delisted", often a block in disguise) -> EmptySeries;
other yfinance errors ("Yahoo is currently down") and network errors -> SourceUnavailable (retried), but a
host that does not resolve or refuses connections -> SourceUnreachable (not retried).
An empty frame, or one whose field is all NaN, is EmptySeries: never "no news". The last bar of a currency is
intraday (its timestamp is the last trade): the next fetch revises it, and the store keeps that as a new vintage.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from series.errors import (
    EmptySeries,
    SourceError,
    SourceSchemaError,
    SourceThrottled,
    SourceUnavailable,
    SourceUnreachable,
    connection_failure,
)
from series.sources.base import CallContext, Request, Response, Source, Window, exact_floats, replay_name
from series.sources.registration import register
from series.spec import SeriesSpec, SourceRef

if TYPE_CHECKING:
    import pandas as pd
else:
    from series.lazy import pandas as pd

HOST = "query2.finance.yahoo.com"
CHART_URL = "https://query2.finance.yahoo.com/v8/finance/chart/"
_tz_cache_set = False


class YahooParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: Literal["Close", "Open", "High", "Low", "Volume"] = "Close"


def download(symbol: str, start: date | None, end: date | None, timeout: float) -> pd.DataFrame:
    """THE yfinance boundary: daily bars of `symbol` from `start` to `end` (inclusive), in `yf.download`'s layout.
    Raises yfinance's own exceptions (YFRateLimitError, YFPricesMissingError, ...)."""
    import yfinance as yf

    _set_tz_cache(yf)
    previous = yf.config.debug.hide_exceptions
    yf.config.debug.hide_exceptions = False
    try:
        history = yf.Ticker(symbol).history(
            start=start.isoformat() if start else None,
            end=(end + timedelta(days=1)).isoformat() if end else None,  # yfinance's end is exclusive
            interval="1d",
            auto_adjust=True,
            actions=False,
            timeout=timeout,
        )
    finally:
        yf.config.debug.hide_exceptions = previous
    return as_download_frame(history, symbol)


def as_download_frame(history: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """`Ticker.history` output shaped as `yf.download(symbol)` returns it (ignore_tz, multi_level_index)."""
    frame = history.copy()
    if isinstance(frame.index, pd.DatetimeIndex) and frame.index.tz is not None:
        frame.index = frame.index.tz_localize(None)
    frame = pd.concat({symbol.upper(): frame}, axis=1, names=["Ticker", "Price"])
    frame.columns = frame.columns.swaplevel(0, 1)
    frame = frame.sort_index(level=0, axis=1)
    frame.index.name = "Date"
    return frame


def _set_tz_cache(yf: Any) -> None:
    global _tz_cache_set
    if _tz_cache_set:
        return
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "kr-macro-monitor" / "yfinance"
    folder.mkdir(parents=True, exist_ok=True)
    yf.set_tz_cache_location(str(folder))
    _tz_cache_set = True


def yahoo_error(error: Exception, symbol: str) -> SourceError:
    """yfinance's exceptions as typed errors (matched by class name: yfinance is imported only when used)."""
    names = {cls.__name__ for cls in type(error).__mro__}
    text = f"{type(error).__name__}: {error}"
    if "YFRateLimitError" in names:
        return SourceThrottled(f"Yahoo rate-limited us ({text})")
    if names & {"YFTickerMissingError", "YFInvalidPeriodError"}:
        return EmptySeries(f"Yahoo has no prices for {symbol} ({text}); delisted, a wrong symbol, or a block")
    network = isinstance(error, OSError) or type(error).__module__.startswith("curl_cffi")
    why, unreachable = connection_failure(error) if network else ("", False)
    if unreachable:  # no retry, and the transport marks the host down for the rest of the run
        return SourceUnreachable(f"{HOST} unreachable ({why})", host=HOST, reason=f"unreachable ({why})")
    if "YFException" in names or network:
        return SourceUnavailable(text)
    return SourceUnavailable(text, retryable=False)


@register
class YahooSource(Source):
    name = "yahoo"
    description = "Yahoo Finance daily bars via yfinance (unofficial, keyless); key symbol, params.field"
    revision_days = 7
    params_model = YahooParams
    redirectable = False

    def key_problem(self, key: str) -> str:
        return "" if re.fullmatch(r"\S+", key) else "is not a Yahoo symbol (e.g. ^KS11, KRW=X)"

    def build_query(self, ref: SourceRef, spec: SeriesSpec, window: Window, env: Mapping[str, str]) -> Request:
        symbol = ref.key

        def call(ctx: CallContext) -> bytes:
            ctx.pace(HOST)
            try:
                frame = download(symbol, window.start, window.end, ctx.timeout)
            except Exception as e:
                raise yahoo_error(e, symbol) from None
            return frame.to_csv().encode("utf-8")

        span = f"?start={window.start}&end={window.end}" if window.start or window.end else ""
        return Request(
            url=f"{CHART_URL}{symbol}{span}",
            replay_name=replay_name(self.name, symbol, "csv"),
            call=call,
            host=HOST,
            check=lambda response: self._values(response.body, ref),
        )

    def extract(self, response: Response, ref: SourceRef, spec: SeriesSpec) -> Any:
        return self._values(response.body, ref)

    def _values(self, body: bytes, ref: SourceRef) -> pd.DataFrame:
        out = read_download_csv(body, ref.key, YahooParams(**ref.params).field)
        if out["value"].notna().sum() == 0:
            raise EmptySeries(f"Yahoo returned no {YahooParams(**ref.params).field} values for {ref.key}")
        return out

    def parse(self, raws: list[Any], ref: SourceRef, spec: SeriesSpec) -> pd.DataFrame:
        return pd.concat(raws, ignore_index=True)


def read_download_csv(body: bytes, symbol: str, field: str = "Close") -> pd.DataFrame:
    """date and value of one field from `yf.download(...).to_csv()` output (3 header lines, a UTF-8 BOM or not)."""
    if len([line for line in body.splitlines() if line.strip()]) <= 3:  # at most the header: no rows at all
        return pd.DataFrame({"date": pd.Series([], dtype="datetime64[ns]"), "value": pd.Series([], dtype=float)})
    try:
        # Exact floats on every pandas version: the digits yfinance wrote read back to the same value.
        frame = pd.read_csv(
            io.BytesIO(body),
            header=[0, 1],
            index_col=0,
            skiprows=[2],
            encoding="utf-8-sig",
            **exact_floats(),
        )
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, IndexError) as e:
        raise SourceSchemaError(f"not yfinance download CSV: {e}") from None
    if not isinstance(frame.columns, pd.MultiIndex) or frame.columns.nlevels != 2:
        raise SourceSchemaError("not yfinance download CSV (expected the Price/Ticker header lines)")
    tickers = {str(t).upper(): t for t in frame.columns.get_level_values(1)}
    column = (field, tickers.get(symbol.upper()))
    if column not in frame.columns:
        raise SourceSchemaError(
            f"no {field} column for {symbol} (columns: {', '.join('/'.join(map(str, c)) for c in frame.columns)})"
        )
    text_dates = pd.Series(frame.index.astype(str), dtype=str).str.strip().str[:10]
    dates = pd.to_datetime(text_dates, format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        raise SourceSchemaError(f"unreadable date {text_dates[dates.isna()].iloc[0]!r}")
    values = pd.to_numeric(frame[column], errors="coerce").astype("float64").to_numpy()
    out = pd.DataFrame({"date": dates.dt.normalize().to_numpy(), "value": values})
    return out.sort_values("date", kind="stable").reset_index(drop=True)
