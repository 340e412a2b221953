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

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import unquote

from pydantic import BaseModel

from series import secrets as _secrets
from series.errors import SourceError, SourceRequestError, SourceSchemaError
from series.sources.facts import Limit
from series.spec import SeriesSpec, SourceRef

# The wire types and the answer rules live in `series.wire` (the transports use them too); a source imports
# everything it needs from here.
from series.wire import (
    MAX_MESSAGE,
    CallContext,
    Request,
    Response,
    Transport,
    bounded,
    cut,
    redact,
    secret_forms,
    snippet,
    typed,
)

if TYPE_CHECKING:
    import pandas as pd
else:
    from series.lazy import pandas as pd

__all__ = [
    "MAX_MESSAGE",
    "MAX_PAGES",
    "CallContext",
    "Request",
    "Response",
    "Source",
    "Transport",
    "Window",
    "bounded",
    "cut",
    "exact_floats",
    "file_key",
    "key_from_file",
    "redact",
    "replay_name",
    "secret_forms",
    "snippet",
    "typed",
]

MAX_PAGES = 500  # a source that keeps paging beyond this is broken (or we are): stop with a schema error


@dataclass(frozen=True)
class Window:
    """The observation dates asked for (inclusive); None = from the source's first / up to the latest."""

    start: date | None = None
    end: date | None = None


# pandas < 3 reads CSV floats with a fast parser that can miss the written value by an ulp; pandas 3 reads them
# exactly by default (and deprecates the option). Pass **exact_floats() to pd.read_csv for exact values on both.
def exact_floats() -> dict[str, str]:
    return {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


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
