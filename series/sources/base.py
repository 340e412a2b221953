"""The contract every source follows: build-query -> extract-raw -> parse, over a pluggable transport.

A source never talks to the network itself: it builds `Request`s and hands them to a `Transport` (live, recording
or replaying, see `series.http`). `next_request` pages; `extract` turns one answer into raw records and raises
typed errors (`series.errors`) for error answers; `parse` turns all pages' records into a frame of `date` and
`value` (float64, NaN = missing) and, for vintage sources, `realtime_start`.

Library-backed sources (fredapi, yfinance, pykrx) put the library call in `Request.call(ctx)`, where `ctx` is the
HTTP policy (`CallContext`: `open` for one policed request, `pace` for a library whose HTTP we cannot see). The call
returns the bytes that get recorded and replayed: the body as served where we can see it (fredapi, whose urlopen we
route), otherwise the library's answer in its own save format (yfinance's and pykrx's `to_csv`). So live, record
and replay runs all go through the same `extract` and `parse`.

Replay files: `<source>/<key>.<ext>` for the first page and `<source>/<key>.p<n>.<ext>` for page n > 1, with the
key made file-safe by `file_key` (reversible: '/' -> '_', other unsafe characters as %XX; `^KS11` and `KRW=X` stay).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from urllib.parse import unquote, urlsplit

import pandas as pd
from pydantic import BaseModel

from series import secrets as _secrets
from series.errors import SourceError, SourceRequestError, SourceSchemaError
from series.sources.facts import Limit
from series.spec import SeriesSpec, SourceRef

if TYPE_CHECKING:
    from series.http import Transport

MAX_PAGES = 500  # a source that keeps paging beyond this is broken (or we are): stop with a schema error


class CallContext(Protocol):
    """What a library-backed call gets from the HTTP policy (see `series.http.Session`)."""

    timeout: float

    def open(
        self,
        url: str,
        *,
        method: str = "GET",
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        bucket: str = "",
    ) -> Response:
        """One HTTP attempt under the policy (endpoint override, rate limit, timeout); typed errors for
        timeouts, 401/403, 429 and 5xx; any other status is returned for the caller to judge."""
        ...

    def pace(self, bucket: str) -> None:
        """Wait for the rate limit of `bucket` (for libraries whose HTTP we cannot see)."""
        ...


@dataclass(frozen=True)
class Request:
    url: str  # full URL for the live call; `redacted_url` is what messages and the archive show
    replay_name: str  # path of the recorded body inside a record/replay directory: "<source>/<key>.<ext>"
    method: str = "GET"
    data: Mapping[str, str] | None = None  # form body (POST)
    headers: Mapping[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()  # values that must never appear in a message, log or recording
    # Library-backed sources: performs the call through the policy's CallContext, returns the raw bytes.
    call: Callable[[CallContext], bytes] | None = None
    host: str = ""  # rate-limit bucket (the source's canonical host); defaults to the URL's host
    # Raises a typed error for an error answer. The live transport runs it inside its retry loop, so that
    # throttling announced in a 200 body (ECOS ERROR-602) is retried like an HTTP 429.
    check: Callable[[Response], object] | None = None
    # Sources whose error answers carry their own code (data.go.kr's gateway envelope): reads an HTTP 4xx/5xx
    # body before the status is judged, and returns the source's own error, or None to let the status speak.
    error_body: Callable[[Response], Exception | None] | None = None
    cursor: Mapping[str, Any] = field(default_factory=dict)  # the source's own paging state (never sent)

    @property
    def redacted_url(self) -> str:
        return redact(self.url, self.secrets)

    @property
    def bucket(self) -> str:
        return self.host or urlsplit(self.url).hostname or ""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    request: Request
    headers: Mapping[str, str] = field(default_factory=dict)
    served_by: str = ""  # the (redacted) URL that answered, when a `[fetch].endpoints` override sent it elsewhere

    @property
    def url(self) -> str:
        """Where the answer came from (redacted): what error messages and the payload archive show."""
        return self.served_by or self.request.redacted_url


@dataclass(frozen=True)
class Window:
    """The observation dates asked for (inclusive); None = from the source's first / up to the latest."""

    start: date | None = None
    end: date | None = None


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every secret form replaced by *** (longest first, so a form containing another goes whole)."""
    return _secrets.redact(text, secrets)


def secret_forms(*values: str) -> tuple[str, ...]:
    """Every form of the values a request carries (see `series.secrets.forms`): what `Request.secrets` holds."""
    return _secrets.forms(*values)


# pandas < 3 reads CSV floats with a fast parser that can miss the written value by an ulp; pandas 3 reads them
# exactly by default (and deprecates the option). Pass **EXACT_FLOATS to pd.read_csv for exact values on both.
EXACT_FLOATS: dict[str, str] = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


# Characters kept as they are in replay file names: ^KS11.csv and KRW=X.csv read like the symbols.
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.^=@+-")


def file_key(key: str) -> str:
    """A series key as a file name, reversibly: '/' -> '_', other unsafe characters (and '_') as %XX.
    `722Y001/0101000` -> `722Y001_0101000`, `^KS11` and `KRW=X` stay as they are."""
    out = []
    for ch in key:
        if ch == "/":
            out.append("_")
        elif ch in _SAFE:
            out.append(ch)
        else:
            out.append("".join(f"%{b:02X}" for b in ch.encode()))
    return "".join(out)


def key_from_file(name: str) -> str:
    """Inverse of `file_key`."""
    return unquote(name.replace("_", "/"))


def snippet(response: Response, limit: int = 160) -> str:
    """The start of a response body for an error message, on one line: the WHOLE body is redacted of the
    request's secrets first, then cut (a key straddling the cut would otherwise show all but its tail)."""
    text = redact(response.body.decode("utf-8", "replace"), response.request.secrets)  # then spaces collapsed
    return cut(" ".join(text.split()), limit)


MAX_MESSAGE = 1000  # characters of an error message that are stored or shown (a 20 MB error body is not)


def cut(text: str, limit: int = MAX_MESSAGE) -> str:
    """`text` cut to `limit` characters (with "..." when cut). Only ever applied to redacted text."""
    return text[:limit] + ("..." if len(text) > limit else "")


def typed(error: SourceError | RecursionError) -> SourceError:
    """A failure while reading an answer as the typed error it stands for. The JSON and XML parsers (and repr)
    recurse: an answer nested thousands deep raises RecursionError, a broken answer like any other."""
    if isinstance(error, SourceError):
        return error
    return SourceSchemaError("the answer is nested too deeply to read")


def bounded(error: SourceError, secrets: tuple[str, ...]) -> SourceError:
    """`error` redacted of `secrets` and then cut to `MAX_MESSAGE`: what leaves the data layer."""
    error = error.with_context(secrets=secrets)
    if len(error.detail) <= MAX_MESSAGE and len(error.url) <= MAX_MESSAGE:
        return error
    return type(error)(
        cut(error.detail),
        source=error.source,
        series=error.series,
        url=cut(error.url),
        retryable=error.retryable,
        retry_after=error.retry_after,
        host=error.host,
        reason=error.reason,
        answered=error.answered,
    )


def replay_name(source: str, key: str, ext: str, page: int = 1) -> str:
    """`<source>/<key>.<ext>` for the first page, `<source>/<key>.p<n>.<ext>` for page n > 1."""
    suffix = "" if page == 1 else f".p{page}"
    return f"{source}/{file_key(key)}{suffix}.{ext}"


class Source:
    """Base class of every source. Subclasses set the class attributes and implement the three stages."""

    name: ClassVar[str]
    description: ClassVar[str]
    # Environment variables the source needs (all of them). Their values are secrets: `series.secrets.registry`
    # redacts them from every output, and they are read normalised (`series.secrets.read`).
    env_keys: ClassVar[tuple[str, ...]] = ()
    revision_days: ClassVar[int] = 0  # later fetches re-ask this many days before the last stored date
    params_model: ClassVar[type[BaseModel] | None] = None  # validates SourceRef.params (unknown keys = errors)
    gives_vintages: ClassVar[bool] = False  # parse() fills realtime_start itself (ALFRED)
    key_is_path: ClassVar[bool] = False  # the key is a file path, resolved against config.toml's folder
    redirectable: ClassVar[bool] = True  # [fetch].endpoints can point it elsewhere (False: a library does its HTTP)
    # The host its requests are rate-limited as (`Request.host`) and the provider's published limit there; None:
    # the policy's POLITE default (>= 1 s apart). series.sources.limits() collects them for series.http.
    host: ClassVar[str] = ""
    limit: ClassVar[Limit | None] = None

    def missing_keys(self, env: Mapping[str, str]) -> tuple[str, ...]:
        return tuple(k for k in self.env_keys if not _secrets.read(env, k))

    # -- stage 1: build the query ------------------------------------------------------------------------
    def build_query(self, ref: SourceRef, spec: SeriesSpec, window: Window, env: Mapping[str, str]) -> Request:
        raise NotImplementedError

    def next_request(self, previous: Request, response: Response, raw: Any) -> Request | None:
        """The next page, or None. Most sources answer in one page."""
        return None

    # -- stage 2: extract the raw records from a response (raise typed errors for error bodies) -----------
    def extract(self, response: Response, ref: SourceRef, spec: SeriesSpec) -> Any:
        raise NotImplementedError

    # -- stage 3: parse raw records into observations ------------------------------------------------------
    def parse(self, raws: list[Any], ref: SourceRef, spec: SeriesSpec) -> pd.DataFrame:
        """Return columns `date` (datetime64, normalised) and `value` (float64, NaN = missing),
        plus `realtime_start` when the source knows when each value was first published."""
        raise NotImplementedError

    def key_problem(self, key: str) -> str:
        """What is wrong with `key` for this source ('' if it looks right), checked by `monitor check-config`."""
        return ""

    def status_note(self) -> str:
        """Why the source cannot run here even with its keys (e.g. an optional package is missing), or ''."""
        return ""

    # -- metadata (optional) ----------------------------------------------------------------------------------
    def info_query(self, ref: SourceRef, env: Mapping[str, str]) -> Request | None:
        """The request for the series' metadata at the source (title, units, last update), or None when the
        source publishes none."""
        return None

    def parse_info(self, response: Response, ref: SourceRef) -> dict[str, str]:
        raise NotImplementedError

    def describe(
        self, ref: SourceRef, spec: SeriesSpec, transport: Transport, env: Mapping[str, str]
    ) -> dict[str, str]:
        """What the source says about the series (title, units, observation_end, last_updated ...)."""
        request = self.info_query(ref, env)
        if request is None:
            raise SourceRequestError("publishes no series metadata", source=self.name, series=spec.id)
        response = transport.send(request, source=self.name, series=spec.id)
        try:
            info = self.parse_info(response, ref)
            transport.finish([response])
        except (SourceError, RecursionError) as e:
            where = typed(e).with_context(source=self.name, series=spec.id, url=response.url)
            raise bounded(where, request.secrets) from None
        return info

    def fetch(
        self, ref: SourceRef, spec: SeriesSpec, window: Window, transport: Transport, env: Mapping[str, str]
    ) -> tuple[pd.DataFrame, list[Response]]:
        request: Request | None = self.build_query(ref, spec, window, env)
        responses: list[Response] = []
        raws: list[Any] = []
        while request is not None:
            if len(responses) >= MAX_PAGES:
                raise SourceSchemaError(
                    f"still paging after {MAX_PAGES} pages", source=self.name, series=spec.id, url=request.redacted_url
                )
            response = transport.send(request, source=self.name, series=spec.id)
            responses.append(response)
            try:
                raw = self.extract(response, ref, spec)
                raws.append(raw)
                next_request = self.next_request(request, response, raw)
            except (SourceError, RecursionError) as e:
                where = typed(e).with_context(source=self.name, series=spec.id, url=response.url)
                raise bounded(where, request.secrets) from None
            request = next_request
        try:
            frame = self.parse(raws, ref, spec)
            transport.finish(responses)
        except (SourceError, RecursionError) as e:
            first = responses[0] if responses else None
            where = typed(e).with_context(source=self.name, series=spec.id, url=first.url if first else "")
            raise bounded(where, first.request.secrets if first else ()) from None
        return frame, responses
