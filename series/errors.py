"""Typed errors of the data layer. Messages name the thing and how to fix it; they never carry a secret."""

from __future__ import annotations

import errno
import socket


class SeriesError(Exception):
    """Base of every data-layer error the CLI reports as one line."""

    exit_code = 2


class StoreError(SeriesError):
    """The store cannot be opened or written (bad path, not a monitor store, newer schema ...)."""


class StoreWriteError(StoreError):
    """The store could not be written (disk full, I/O error, read-only file). Nothing partial was stored, but
    the command stopped: a failure of the machine, not of the config, so it exits 1 (rerun once it is fixed)."""

    exit_code = 1


class StoreLocked(StoreError):
    """Another writer holds the store's single-writer lock."""

    exit_code = 3


class SourceError(SeriesError):
    """A source failed for one series. Carries source, series and the (redacted) URL.

    `retryable` says whether the same request may succeed later (timeouts, 429, 5xx); the HTTP policy retries
    those with backoff and never retries the rest. `retry_after` is the server's own hint in seconds (HTTP
    Retry-After, or a documented back-off such as ECOS ERROR-602), honoured up to the policy's cap.
    `host` is the host that failed and `reason` the failure's class in a few words ("HTTP 503", "timeout",
    "unreachable (DNS)"): reports group failures by them. `answered` is False when no server answered at all
    (DNS, refused connection, timeout): a run where nothing answered is a run without network.
    """

    exit_code = 1
    kind = "error"
    retryable_by_default = False
    answered_by_default = True
    show_url = True

    def __init__(
        self,
        message: str,
        *,
        source: str = "",
        series: str = "",
        url: str = "",
        retryable: bool | None = None,
        retry_after: float | None = None,
        host: str = "",
        reason: str = "",
        answered: bool | None = None,
    ) -> None:
        self.detail, self.source, self.series, self.url = message, source, series, url
        self.retryable = self.retryable_by_default if retryable is None else retryable
        self.retry_after = retry_after
        self.host, self.reason = host, reason or self.kind
        self.answered = self.answered_by_default if answered is None else answered
        where = " ".join(p for p in (f"[{source}]" if source else "", series) if p)
        tail = f" ({url})" if url and self.show_url else ""
        super().__init__(f"{where}: {message}{tail}" if where else f"{message}{tail}")

    def with_context(
        self, *, source: str = "", series: str = "", url: str = "", secrets: tuple[str, ...] = ()
    ) -> SourceError:
        """The same error naming source, series and URL where it did not yet (raised deep inside a parser),
        with every secret in its text replaced by ***."""
        detail, own_url = _redact(self.detail, secrets), _redact(self.url, secrets)
        complete = (self.source or not source) and (self.series or not series) and (self.url or not url)
        if complete and detail == self.detail and own_url == self.url:
            return self
        return type(self)(
            detail,
            source=self.source or source,
            series=self.series or series,
            url=own_url or url,
            retryable=self.retryable,
            retry_after=self.retry_after,
            host=self.host,
            reason=self.reason,
            answered=self.answered,
        )


def _redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text


class SourceUnavailable(SourceError):
    """Network trouble, timeouts, 5xx after retries, or a missing replay file."""

    kind = "unavailable"
    retryable_by_default = True


class SourceUnreachable(SourceUnavailable):
    """The host could not be reached at all: its name does not resolve (DNS), it refuses connections, or there is
    no route to it. Not retried (a lookup that failed fails again a second later), and the live transport sends
    nothing more to that host in this run. The message names the host, so it does not repeat the URL."""

    kind = "unreachable"
    retryable_by_default = False
    answered_by_default = False
    show_url = False


def connection_failure(error: BaseException) -> tuple[str, bool]:
    """What went wrong below HTTP, in a few words, and whether the host is unreachable (DNS failure, refused
    connection, no route): ("DNS", True), ("connection reset", False) ... Reads the exception chain of requests /
    urllib3 and curl_cffi (yfinance) by class, errno and curl code, never their text (which is a repr)."""
    chain = _chain(error)
    names = {cls.__name__ for e in chain for cls in type(e).__mro__}
    curl_codes = {getattr(e, "code", None) for e in chain if type(e).__module__.startswith("curl_cffi")}
    errnos = {e.errno for e in chain if isinstance(e, OSError)}
    dns = names & {"NameResolutionError", "DNSError"} or 6 in curl_codes  # CURLE_COULDNT_RESOLVE_HOST
    if dns or any(isinstance(e, socket.gaierror) for e in chain):
        return "DNS", True
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return "connection refused", True
    if 7 in curl_codes:  # CURLE_COULDNT_CONNECT: refused or no route
        return "could not connect", True
    if errnos & {errno.ENETUNREACH, errno.EHOSTUNREACH}:
        return "no route to host", True
    if "SSLError" in names:
        return "TLS error", False
    if any(isinstance(e, ConnectionResetError) for e in chain):
        return "connection reset", False
    innermost = chain[-1]
    return f"connection failed ({type(innermost).__name__})", False


def _chain(error: BaseException) -> list[BaseException]:
    """The error and every exception it wraps (cause, context, urllib3's `reason`, exceptions in its args)."""
    out: list[BaseException] = []
    todo: list[object] = [error]
    while todo:
        e = todo.pop(0)
        if not isinstance(e, BaseException) or any(e is seen for seen in out):
            continue
        out.append(e)
        todo += [e.__cause__, e.__context__, getattr(e, "reason", None), *e.args]
    return out


class SourceThrottled(SourceError):
    """The source rate-limited us (HTTP 429, ECOS ERROR-602, YFRateLimitError) after retries."""

    kind = "throttled"
    retryable_by_default = True


class SourceAuthError(SourceError):
    """Missing, invalid or unregistered key or login; never retried."""

    kind = "auth"


class SourceRequestError(SourceError):
    """The source rejected what we asked for (unknown series code, bad parameter): fix the key or params."""

    kind = "request"


class SourceSchemaError(SourceError):
    """The answer does not have the documented layout (changed API, garbage body)."""

    kind = "schema"


class EmptySeries(SourceError):
    """The source answered, but with no observations: an error, never 'no news'."""

    kind = "empty"
