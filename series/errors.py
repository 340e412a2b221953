"""Typed errors of the data layer. Messages name the thing and how to fix it; they never carry a secret."""

from __future__ import annotations


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
    """

    exit_code = 1
    kind = "error"
    retryable_by_default = False

    def __init__(
        self,
        message: str,
        *,
        source: str = "",
        series: str = "",
        url: str = "",
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.detail, self.source, self.series, self.url = message, source, series, url
        self.retryable = self.retryable_by_default if retryable is None else retryable
        self.retry_after = retry_after
        where = " ".join(p for p in (f"[{source}]" if source else "", series) if p)
        tail = f" ({url})" if url else ""
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
