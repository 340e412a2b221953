"""`fred`: the official FRED API through fredapi (needs FRED_API_KEY). Key = the FRED series id.

- Latest values: `Fred.get_series(id, observation_start, observation_end)`, one request.
- `params.vintages = true`: ALFRED history through `Fred.get_series_all_releases` in realtime windows. FRED refuses
  a request spanning more than 2000 vintage dates (mortada/fredapi#28, #48), so the first request asks for the
  series' vintage dates (`get_series_vintage_dates`) and the next ones cover at most 1990 of them each (a margin
  for vintages published while we page); the last window is open to the window's end. Every row then carries
  `realtime_start`: rows of a value that spans several windows are merged back to its first release.
  fredapi's `get_series_all_releases` takes no observation dates, so our opener adds `observation_start` /
  `observation_end` to the URL fredapi builds (otherwise every window would carry the whole history).

HTTP: fredapi calls `fredapi.fred.urlopen(url)` with no timeout. For the duration of our call that name points to
an opener that sends the request through the HTTP policy (`CallContext.open`: endpoint override, the 1 request/s
FRED limit, the timeout, typed errors for 401/403/429/5xx) and maps FRED's XML error bodies to typed errors before
fredapi would turn them into a bare ValueError (losing the status). The patch is module-global, so it is held
under a lock: safe for our serial use and for threads that fetch FRED one at a time.

Record/replay: fredapi does not hide the body from us, so we record the XML exactly as FRED served it
(`fred/<ID>.xml`, further pages `fred/<ID>.p2.xml`, ...). The live call stops fredapi once the body is in hand,
and `extract` parses the body with fredapi itself (its urlopen pointed at the bytes): live, record and replay
use the same parser, and each answer is parsed once.
"""

from __future__ import annotations

import io
import json
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

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
from series.sources.base import CallContext, Request, Response, Source, Window, replay_name, secret_forms
from series.sources.facts import Limit
from series.sources.registration import register
from series.spec import SeriesSpec, SourceRef

if TYPE_CHECKING:
    import pandas as pd
else:
    from series.lazy import pandas as pd

ROOT = "https://api.stlouisfed.org/fred"
HOST = "api.stlouisfed.org"
KEY_ENV = "FRED_API_KEY"
VINTAGES_PER_WINDOW = 1990  # FRED's cap is 2000 vintage dates per request
OPEN_END = "9999-12-31"

_urlopen_lock = threading.Lock()


class FredParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vintages: bool = False  # ALFRED: every vintage with its realtime_start (point-in-time history)


@register
class FredSource(Source):
    name = "fred"
    description = "FRED API via fredapi (latest values, or ALFRED vintages with params.vintages)"
    env_keys = (KEY_ENV,)
    revision_days = 30
    params_model = FredParams
    host = HOST
    limit = Limit(min_interval=1.0)  # FRED: 120/min published, ~2/s enforced since 2026
    gives_vintages = True

    def key_problem(self, key: str) -> str:
        return "" if re.fullmatch(r"[A-Za-z0-9_]+", key) else "is not a FRED series id (e.g. DEXKOUS)"

    # -- stage 1 ------------------------------------------------------------------------------------------
    def build_query(self, ref: SourceRef, spec: SeriesSpec, window: Window, env: Mapping[str, str]) -> Request:
        api_key = read_secret(env, KEY_ENV)
        params = FredParams(**ref.params)
        bounds = {"start": window.start, "end": window.end}
        if not params.vintages:
            return self._observations(ref.key, api_key, bounds, None, page=1)
        url = f"{ROOT}/series/vintagedates?{urlencode({'series_id': ref.key, 'api_key': api_key})}"
        return Request(
            url=url,
            replay_name=replay_name(self.name, ref.key, "xml"),
            secrets=secret_forms(api_key),
            host=HOST,
            call=_fredapi_call(api_key, {}, lambda fred: fred.get_series_vintage_dates(ref.key)),
            check=_check,
            cursor={"kind": "vintagedates", "page": 1, **bounds, "api_key": api_key, "series_id": ref.key},
        )

    def _observations(
        self,
        series_id: str,
        api_key: str,
        bounds: Mapping[str, date | None],
        realtime: tuple[str, str] | None,
        page: int,
    ) -> Request:
        start, end = bounds.get("start"), bounds.get("end")
        window = {
            k: v.isoformat() for k, v in (("observation_start", start), ("observation_end", end)) if v is not None
        }
        query = {"series_id": series_id}
        if realtime is None:
            call = _fredapi_call(api_key, {}, lambda fred: fred.get_series(series_id, **window))
            query.update(window)
        else:
            # get_series_all_releases has no observation dates: the opener appends them to fredapi's URL.
            rt_start, rt_end = realtime
            call = _fredapi_call(api_key, window, lambda fred: fred.get_series_all_releases(series_id, *realtime))
            query.update({"realtime_start": rt_start, "realtime_end": rt_end, **window})
        query["api_key"] = api_key
        return Request(
            url=f"{ROOT}/series/observations?{urlencode(query)}",
            replay_name=replay_name(self.name, series_id, "xml", page),
            secrets=secret_forms(api_key),
            host=HOST,
            call=call,
            check=_check,
            cursor={
                "kind": "releases" if realtime else "observations",
                "page": page,
                **bounds,
                "api_key": api_key,
                "series_id": series_id,
            },
        )

    def next_request(self, previous: Request, response: Response, raw: Any) -> Request | None:
        cursor = previous.cursor
        if cursor["kind"] == "observations":
            return None
        if cursor["kind"] == "vintagedates":
            windows = realtime_windows(raw, cursor["start"], cursor["end"])
        else:
            windows = cursor["windows"]
        index = cursor.get("index", -1) + 1
        if index >= len(windows):
            return None
        bounds = {"start": cursor["start"], "end": cursor["end"]}
        request = self._observations(cursor["series_id"], cursor["api_key"], bounds, windows[index], cursor["page"] + 1)
        return replace(request, cursor={**request.cursor, "windows": windows, "index": index})

    # -- metadata: `fred/series`, for last_updated and observation_end -----------------------------------
    def info_query(self, ref: SourceRef, env: Mapping[str, str]) -> Request | None:
        api_key = read_secret(env, KEY_ENV)
        return Request(
            url=f"{ROOT}/series?{urlencode({'series_id': ref.key, 'api_key': api_key})}",
            replay_name=replay_name(self.name, f"{ref.key}.info", "xml"),
            secrets=secret_forms(api_key),
            host=HOST,
            call=_fredapi_call(api_key, {}, lambda fred: fred.get_series_info(ref.key)),
            check=_check,
            cursor={"kind": "info"},
        )

    def parse_info(self, response: Response, ref: SourceRef) -> dict[str, str]:
        _check(response)
        info = _parse_with_fredapi(response.body, lambda fred: fred.get_series_info(ref.key))
        return {str(k): str(v) for k, v in info.items() if k not in ("realtime_start", "realtime_end")}

    # -- stage 2 ------------------------------------------------------------------------------------------
    def extract(self, response: Response, ref: SourceRef, spec: SeriesSpec) -> Any:
        _check(response)
        kind = response.request.cursor.get("kind", "observations")
        body = response.body
        if kind == "vintagedates":
            return [d.date() for d in _parse_with_fredapi(body, lambda fred: fred.get_series_vintage_dates(ref.key))]
        if kind == "releases":
            return _parse_with_fredapi(body, lambda fred: fred.get_series_all_releases(ref.key))
        return _parse_with_fredapi(body, lambda fred: fred.get_series(ref.key))

    # -- stage 3 ------------------------------------------------------------------------------------------
    def parse(self, raws: list[Any], ref: SourceRef, spec: SeriesSpec) -> pd.DataFrame:
        if FredParams(**ref.params).vintages:
            frames = [r for r in raws if isinstance(r, pd.DataFrame)]
            out = merge_releases(frames)
        else:
            series = pd.concat([r for r in raws if isinstance(r, pd.Series)])
            out = pd.DataFrame(
                {
                    "date": pd.to_datetime(pd.Index(series.index)).normalize(),
                    "value": pd.to_numeric(series, errors="coerce").astype("float64").to_numpy(),
                }
            )
        if out.empty or out["value"].notna().sum() == 0:
            raise EmptySeries(f"no observations of {ref.key} in the window (check the key or the window)")
        return out


# -- fredapi boundary ------------------------------------------------------------------------------------------
@contextmanager
def _fredapi_urlopen(opener: Callable[[str], Any]) -> Iterator[Any]:
    import fredapi.fred

    with _urlopen_lock:
        original = fredapi.fred.urlopen
        fredapi.fred.urlopen = opener
        try:
            yield fredapi.fred
        finally:
            fredapi.fred.urlopen = original


class _Answered(Exception):
    """Stops fredapi once FRED's answer is in hand: `extract` parses it (once) the way a replay does."""

    def __init__(self, body: bytes) -> None:
        self.body = body


def _fredapi_call(api_key: str, extra_query: Mapping[str, str], method: Callable[[Any], Any]) -> Callable[..., bytes]:
    """A Request.call running `method(Fred)`: fredapi builds and sends the request, through the HTTP policy."""

    def call(ctx: CallContext) -> bytes:
        def opener(url: str) -> Any:
            full = f"{url}&{urlencode(extra_query)}" if extra_query else url
            response = ctx.open(full, bucket=HOST)
            if response.status >= 400:
                raise fred_error(response.status, response.body)
            raise _Answered(response.body)

        with _fredapi_urlopen(opener) as module:
            try:
                method(module.Fred(api_key=api_key))
            except _Answered as answer:
                return answer.body
            except SourceError:
                raise
            except (ValueError, TypeError, KeyError) as e:
                raise SourceUnavailable(f"fredapi failed before sending: {type(e).__name__}: {e}") from None
        raise SourceSchemaError("fredapi returned without asking FRED")

    return call


def _parse_with_fredapi(body: bytes, method: Callable[[Any], Any]) -> Any:
    """fredapi's own parse of a recorded body (its urlopen answers with these bytes, never the network)."""
    with _fredapi_urlopen(lambda url: io.BytesIO(body)) as module:
        try:
            return method(module.Fred(api_key="recorded"))
        except (ET.ParseError, ValueError, TypeError, KeyError, AttributeError) as e:
            raise SourceSchemaError(f"fredapi cannot read the answer: {type(e).__name__}: {e}") from None


def _check(response: Response) -> None:
    """Typed errors for FRED error answers, and for bodies that are not the documented XML."""
    if response.status >= 400:
        raise fred_error(response.status, response.body)
    try:
        root = ET.fromstring(response.body)
    except ET.ParseError as e:
        raise SourceSchemaError(f"not FRED XML ({e})") from None
    if root.tag == "error":
        raise fred_error(int(root.get("code") or 400), response.body)
    kind = response.request.cursor.get("kind", "observations")
    expected = {"vintagedates": "vintage_dates", "info": "seriess"}.get(kind, "observations")
    if root.tag != expected:
        raise SourceSchemaError(f"expected <{expected}>, got <{root.tag}>")
    count = root.get("count")
    if count is not None and count.isdigit() and int(count) > len(root):
        raise SourceSchemaError(
            f"FRED truncated the answer ({len(root)} of {count} rows); narrow the window or realtime period"
        )


def fred_error(status: int, body: bytes) -> SourceError:
    """FRED's XML `<error code= message=/>` or JSON `{"error_code", "error_message"}` as a typed error."""
    message = ""
    try:
        root = ET.fromstring(body)
        message = root.get("message") or ""
    except ET.ParseError:
        try:
            data = json.loads(body)
            message = str(data.get("error_message") or data.get("message") or "")
        except (ValueError, AttributeError):
            message = ""
    message = " ".join(message.split()) or f"HTTP {status}"
    low = message.lower()
    if "api_key" in low or "api key" in low:
        return SourceAuthError(f"FRED refused the key: {message} (set {KEY_ENV} to a registered 32-character key)")
    if status == 429 or "too many requests" in low:
        return SourceThrottled(f"FRED: {message}")
    if status >= 500 or status == 423:
        return SourceUnavailable(f"FRED: HTTP {status}: {message}")
    if "does not exist" in low:
        return SourceRequestError(f"FRED: {message} (check the key in config.toml)")
    return SourceRequestError(f"FRED: HTTP {status}: {message}")


# -- ALFRED windows and merging ------------------------------------------------------------------------------
def realtime_windows(vintage_dates: list[date], start: date | None, end: date | None) -> list[tuple[str, str]]:
    """Realtime periods covering the vintages from `start` to `end`, each spanning at most
    VINTAGES_PER_WINDOW vintage dates; the last one runs to `end` (or to FRED's open end)."""
    dates = sorted(d for d in vintage_dates if (start is None or d >= start) and (end is None or d <= end))
    chunks = [dates[i : i + VINTAGES_PER_WINDOW] for i in range(0, len(dates), VINTAGES_PER_WINDOW)]
    windows = []
    for i, chunk in enumerate(chunks):
        if i + 1 < len(chunks):
            last = (chunks[i + 1][0] - timedelta(days=1)).isoformat()
        else:
            last = end.isoformat() if end is not None else OPEN_END
        windows.append((chunk[0].isoformat(), last))
    return windows


def merge_releases(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """fredapi's all-releases frames (object columns realtime_start, date, value) of consecutive realtime windows
    -> one row per (date, first release of each distinct value). A value that spans several windows appears in
    each, with realtime_start clipped to the window's start: only its first appearance is its release."""
    usable = [f for f in frames if not f.empty and {"date", "realtime_start", "value"} <= set(f.columns)]
    if not usable:
        return pd.DataFrame({"date": [], "value": [], "realtime_start": []}).astype(
            {"date": "datetime64[ns]", "value": "float64", "realtime_start": "datetime64[ns]"}
        )
    rows = pd.concat(usable, ignore_index=True)
    out = pd.DataFrame(
        {
            "date": pd.to_datetime(rows["date"]).dt.normalize(),
            "realtime_start": pd.to_datetime(rows["realtime_start"]).dt.normalize(),
            "value": pd.to_numeric(rows["value"], errors="coerce").astype("float64"),
        }
    )
    out = out.sort_values(["date", "realtime_start"], kind="stable").drop_duplicates(["date", "realtime_start"])
    same_date = out["date"].eq(out["date"].shift())
    prev = out["value"].shift()
    unchanged = same_date & ((out["value"] == prev) | (out["value"].isna() & prev.isna()))
    return out[~unchanged].reset_index(drop=True)[["date", "value", "realtime_start"]]
