"""One HTTP policy for every source, and the record / replay transports.

`LiveTransport` is the real network path (what a user runs by default). `RecordingTransport` wraps it and saves
each raw body as served under `DIR/<source>/<key>.<ext>`; `ReplayTransport` serves those files instead of the
network, through the same `extract` and `parse` stages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from series.errors import SourceAuthError, SourceThrottled, SourceUnavailable
from series.sources.base import Request, Response, redact


class Transport(Protocol):
    def send(self, request: Request, *, source: str, series: str) -> Response: ...


class LiveTransport:
    """Real calls: timeouts and typed errors. (Rate limits and retries: see the fetchers work.)"""

    def __init__(self, timeout: float = 30.0) -> None:
        self.timeout = timeout

    def send(self, request: Request, *, source: str, series: str) -> Response:
        import requests

        where = {"source": source, "series": series, "url": request.redacted_url}
        if request.call is not None:
            return Response(200, request.call(), request)
        try:
            r = requests.request(
                request.method,
                request.url,
                params=dict(request.params),
                data=dict(request.data) if request.data is not None else None,
                headers=dict(request.headers),
                timeout=self.timeout,
            )
        except requests.RequestException as e:
            raise SourceUnavailable(redact(f"{type(e).__name__}: {e}", request.secrets), **where) from None
        if r.status_code in (401, 403):
            raise SourceAuthError(f"HTTP {r.status_code}: check the key or login", **where)
        if r.status_code == 429:
            raise SourceThrottled("HTTP 429 Too Many Requests", **where)
        if r.status_code >= 500:
            raise SourceUnavailable(f"HTTP {r.status_code}", **where)
        return Response(r.status_code, r.content, request, dict(r.headers))


class RecordingTransport:
    """Passes calls through and saves each raw body as served (secrets redacted) under `directory`."""

    def __init__(self, inner: Transport, directory: Path) -> None:
        self.inner, self.directory = inner, Path(directory)

    def send(self, request: Request, *, source: str, series: str) -> Response:
        response = self.inner.send(request, source=source, series=series)
        path = self.directory / request.replay_name
        path.parent.mkdir(parents=True, exist_ok=True)
        body = response.body
        for secret in request.secrets:
            if secret:
                body = body.replace(secret.encode(), b"***")
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(body)
        tmp.replace(path)  # never leave a half-written recording behind
        return response


class ReplayTransport:
    """Serves recorded bodies from `directory` instead of the network."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def has(self, replay_name: str) -> bool:
        return (self.directory / replay_name).is_file()

    def send(self, request: Request, *, source: str, series: str) -> Response:
        path = self.directory / request.replay_name
        if not path.is_file():
            raise SourceUnavailable(
                f"replay file {request.replay_name} is missing in {self.directory}", source=source, series=series
            )
        return Response(200, path.read_bytes(), request)
