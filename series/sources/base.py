"""The contract every source follows: build-query -> extract-raw -> parse, over a pluggable transport.

A source never talks to the network itself: it builds `Request`s and hands them to a `Transport` (live, recording
or replaying, see `series.http`). Library-backed sources (fredapi, yfinance, pykrx) put the library call in
`Request.call`, which returns the library's answer serialised in its own save format; that is what gets recorded
and replayed, so live, record and replay runs all go through the same `extract` and `parse`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd
from pydantic import BaseModel

from series.spec import SeriesSpec, SourceRef

if TYPE_CHECKING:
    from series.http import Transport


@dataclass(frozen=True)
class Request:
    url: str  # full URL for the live call; `redacted_url` is what messages and the archive show
    replay_name: str  # path of the recorded body inside a record/replay directory: "<source>/<key>.<ext>"
    method: str = "GET"
    params: Mapping[str, str] = field(default_factory=dict)
    data: Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()  # values that must never appear in a message, log or recording
    call: Callable[[], bytes] | None = None  # library-backed sources: performs the call, returns raw bytes
    host: str = ""  # rate-limit bucket; defaults to the URL's host

    @property
    def redacted_url(self) -> str:
        return redact(self.url, self.secrets)


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    request: Request
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Window:
    """The observation dates asked for (inclusive); None = from the source's first / up to the latest."""

    start: date | None = None
    end: date | None = None


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class Source:
    """Base class of every source. Subclasses set the class attributes and implement the three stages."""

    name: ClassVar[str]
    description: ClassVar[str]
    env_keys: ClassVar[tuple[str, ...]] = ()  # environment variables the source needs (all of them)
    revision_days: ClassVar[int] = 0  # later fetches re-ask this many days before the last stored date
    params_model: ClassVar[type[BaseModel] | None] = None  # validates SourceRef.params (unknown keys = errors)
    gives_vintages: ClassVar[bool] = False  # parse() fills realtime_start itself (ALFRED)
    key_is_path: ClassVar[bool] = False  # the key is a file path, resolved against config.toml's folder

    def missing_keys(self, env: Mapping[str, str]) -> tuple[str, ...]:
        return tuple(k for k in self.env_keys if not env.get(k))

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

    def fetch(
        self, ref: SourceRef, spec: SeriesSpec, window: Window, transport: Transport, env: Mapping[str, str]
    ) -> tuple[pd.DataFrame, list[Response]]:
        request: Request | None = self.build_query(ref, spec, window, env)
        responses: list[Response] = []
        raws: list[Any] = []
        while request is not None:
            response = transport.send(request, source=self.name, series=spec.id)
            responses.append(response)
            raw = self.extract(response, ref, spec)
            raws.append(raw)
            request = self.next_request(request, response, raw)
        return self.parse(raws, ref, spec), responses
