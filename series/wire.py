"""What travels between a source and a transport: the wire types both sides speak, and the rules for what of
an answer may leave the data layer.

A source (`series.sources.base`) builds `Request`s and reads `Response`s; a `Transport` (`series.http`: live,
recording or replaying) turns one into the other. Both sides import these types from here, so neither imports the
other. Error text that leaves the data layer is redacted of the request's secrets and then cut (`bounded`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from series import secrets as _secrets
from series.errors import SourceError, SourceSchemaError


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


class Transport(Protocol):
    def send(self, request: Request, *, source: str, series: str) -> Response: ...

    def finish(self, responses: Sequence[Response]) -> None:
        """Called once a source has parsed all pages of a fetch: the answers are good (recording keeps them)."""
        ...


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every secret form replaced by *** (longest first, so a form containing another goes whole)."""
    return _secrets.redact(text, secrets)


def secret_forms(*values: str) -> tuple[str, ...]:
    """Every form of the values a request carries (see `series.secrets.forms`): what `Request.secrets` holds."""
    return _secrets.forms(*values)


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
