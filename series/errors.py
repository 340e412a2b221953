"""Typed errors of the data layer. Messages name the thing and how to fix it; they never carry a secret."""

from __future__ import annotations


class SeriesError(Exception):
    """Base of every data-layer error the CLI reports as one line."""

    exit_code = 2


class StoreError(SeriesError):
    """The store cannot be opened or written (bad path, not a monitor store, newer schema ...)."""


class StoreLocked(StoreError):
    """Another writer holds the store's single-writer lock."""

    exit_code = 3


class SourceError(SeriesError):
    """A source failed for one series. Carries source, series and the (redacted) URL."""

    exit_code = 1
    kind = "error"

    def __init__(self, message: str, *, source: str = "", series: str = "", url: str = "") -> None:
        self.source, self.series, self.url = source, series, url
        where = " ".join(p for p in (f"[{source}]" if source else "", series) if p)
        tail = f" ({url})" if url else ""
        super().__init__(f"{where}: {message}{tail}" if where else f"{message}{tail}")


class SourceUnavailable(SourceError):
    """Network trouble, timeouts, 5xx after retries, or a missing replay file."""

    kind = "unavailable"


class SourceThrottled(SourceError):
    """The source rate-limited us (HTTP 429, ECOS ERROR-602, YFRateLimitError) after retries."""

    kind = "throttled"


class SourceAuthError(SourceError):
    """Missing, invalid or unregistered key or login; never retried."""

    kind = "auth"


class SourceSchemaError(SourceError):
    """The answer does not have the documented layout (changed API, garbage body)."""

    kind = "schema"


class EmptySeries(SourceError):
    """The source answered, but with no observations: an error, never 'no news'."""

    kind = "empty"
