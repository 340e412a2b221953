"""One HTTP policy for every source, and the live / recording / replaying transports.

The policy (`HttpPolicy`) is the same for plain HTTP sources and for the library-backed ones:
- a TOTAL deadline on every request, connect, headers and body together (`_Deadline`: a server trickling one
  byte a second is given up after `timeout` seconds, not after `timeout` per byte; fredapi has no timeout of its
  own: its `urlopen` is routed through `Session.open`);
- a maximum decompressed answer size (`max_response_bytes`): the body is streamed and counted, a larger answer (a
  gzip bomb, a runaway endpoint) ends the fetch with a schema error and is never held in memory whole;
- a per-host rate limiter (`Limit`): FRED <= 1 request/s, BOJ >= 1 s between calls, ECOS <= 300 calls per
  180 s, and a polite 1 s spacing for the other hosts. Buckets are the sources' canonical hosts, so a
  `[fetch].endpoints` override (a mirror, a local test server) keeps the limit of the source it stands for;
- retries with exponential backoff and jitter on timeouts, connection errors, HTTP 429 and 5xx, and on the
  errors sources flag as retryable (ECOS ERROR-602 in a 200 body, yfinance's YFRateLimitError). A server's
  Retry-After is honoured up to `retry_after_cap`; a longer demand ends the retries with a throttled error
  instead of hammering or hanging. Authentication errors (401/403, bad keys) are never retried;
- a host that cannot be reached at all (its name does not resolve, it refuses connections, no route) is tried
  once and then marked down for the rest of the run: later requests to it fail at once, without a request, so an
  offline run takes seconds, not minutes of retry waits on every series;
- error messages are short (what failed, host, HTTP status or error class, attempts), never a library's repr;
- `[fetch].endpoints` rewrites scheme://host:port (and an optional path prefix) of a source's requests, fredapi's
  included (yfinance and pykrx make their own requests: they cannot be redirected);
- sleeping goes through an injectable `Clock`, so tests of backoff and rate limits do not sleep.

Transports: `LiveTransport` (the network), `RecordingTransport` (live, and saves each raw body as served under
`DIR/<replay_name>`, secrets redacted) and `ReplayTransport` (serves those files instead of the network, status
200). A fetch is recorded only once its source has parsed every page (`Transport.finish`), so a recording never
holds an error answer or garbage, and a failed fetch never overwrites a good recording. Secrets are also
redacted from urllib3's request log lines.
"""

from __future__ import annotations

import contextlib
import email.utils
import io
import logging
import random
import socket
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from series.errors import (
    SourceAuthError,
    SourceError,
    SourceSchemaError,
    SourceThrottled,
    SourceUnavailable,
    SourceUnreachable,
    connection_failure,
)
from series.sources.facts import POLITE, Limit
from series.wire import Request, Response, Transport, bounded, cut, redact, typed

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)


class _SecretFilter(logging.Filter):
    """Redacts the secrets of requests we made from third-party log records: urllib3 logs every request line,
    with the ECOS key in its path and the FRED key in its query, at DEBUG level."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            clean = redact(message, tuple(self.secrets))
            if clean != message:
                record.msg, record.args = clean, ()
        return True


_SECRET_FILTER = _SecretFilter()
for _name in ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.response"):
    logging.getLogger(_name).addFilter(_SECRET_FILTER)


# -- time ----------------------------------------------------------------------------------------------------
class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


# -- rate limits ---------------------------------------------------------------------------------------------
class RateLimiter:
    """Per-bucket spacing and windowed caps. Thread-safe; waits through the clock."""

    def __init__(self, limits: Mapping[str, Limit], clock: Clock, default: Limit = POLITE) -> None:
        self.limits, self.clock, self.default = dict(limits), clock, default
        self._last: dict[str, float] = {}
        self._recent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, bucket: str) -> float:
        """Block until a call to `bucket` is allowed, record it, and return the seconds waited."""
        limit = self.limits.get(bucket, self.default)
        with self._lock:
            now = self.clock.monotonic()
            ready = now
            if bucket in self._last:
                ready = max(ready, self._last[bucket] + limit.min_interval)
            recent = self._recent.setdefault(bucket, deque())
            if limit.max_calls:
                while recent and recent[0] <= now - limit.per_seconds:
                    recent.popleft()
                if len(recent) >= limit.max_calls:
                    ready = max(ready, recent[-limit.max_calls] + limit.per_seconds)
            waited = max(0.0, ready - now)
            if waited:
                self.clock.sleep(waited)
            stamp = self.clock.monotonic() if waited else now
            self._last[bucket] = stamp
            if limit.max_calls:
                recent.append(stamp)
                while len(recent) > limit.max_calls:
                    recent.popleft()
            return waited


# -- the policy ----------------------------------------------------------------------------------------------
@dataclass
class HttpPolicy:
    timeout: float = 30.0  # seconds per request, connect and read together ([fetch].timeout_seconds)
    retries: int = 4  # extra attempts after the first ([fetch].retries)
    backoff_base: float = 1.0  # first retry waits about this long, doubling each time
    backoff_max: float = 60.0
    retry_after_cap: float = 120.0  # the longest Retry-After we wait for; longer = give up for this run
    max_response_bytes: int = 50_000_000  # decompressed; a larger answer is an error ([fetch].max_response_mb)
    endpoints: Mapping[str, str] = field(default_factory=dict)  # source -> base URL ([fetch].endpoints)
    # host -> limit: each source's own (series.sources.limits(), declared in its module); any other host is POLITE.
    limits: Mapping[str, Limit] = field(default_factory=dict)
    clock: Clock = field(default_factory=SystemClock)
    rng: random.Random = field(default_factory=random.Random)

    def retry_delay(self, error: SourceError, attempt: int) -> float | None:
        """Seconds to wait before retry number `attempt + 1`, or None to give up now."""
        if not error.retryable or attempt >= self.retries:
            return None
        if error.retry_after is not None:
            return None if error.retry_after > self.retry_after_cap else max(0.0, error.retry_after)
        ceiling = min(self.backoff_max, self.backoff_base * 2**attempt)
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)  # "equal jitter": never zero, never in lockstep

    def endpoint(self, source: str, url: str) -> str:
        """`url` with scheme://host:port (and a path prefix, if the override has one) of `source`'s override."""
        base = self.endpoints.get(source)
        if not base:
            return url
        b, u = urlsplit(base), urlsplit(url)
        return urlunsplit((b.scheme, b.netloc, b.path.rstrip("/") + u.path, u.query, u.fragment))


def host_of(url: str) -> str:
    """The host a URL goes to, as messages name it: `fred.stlouisfed.org`, or `127.0.0.1:8080` with a port (two
    servers on one machine are two hosts: one can be down while the other answers)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.hostname or ''}{f':{port}' if port else ''}"


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """HTTP Retry-After: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True)
class _Where:
    source: str
    series: str
    url: str

    @property
    def host(self) -> str:
        return host_of(self.url)

    def error(
        self,
        kind: type[SourceError],
        message: str,
        retry_after: float | None = None,
        reason: str = "",
        answered: bool | None = None,
        host: str = "",
    ) -> SourceError:
        return kind(
            message,
            source=self.source,
            series=self.series,
            url=self.url,
            retry_after=retry_after,
            host=host or self.host,
            reason=reason,
            answered=answered,
        )


class Session:
    """The policy bound to one request's source and series: what `Request.call` receives (a CallContext)."""

    def __init__(self, transport: LiveTransport, request: Request, source: str, series: str) -> None:
        self._t, self._request, self.source, self.series = transport, request, source, series
        self.timeout = transport.policy.timeout

    def pace(self, bucket: str) -> None:
        self._t.limiter.wait(bucket or self._request.bucket)

    def open(
        self,
        url: str,
        *,
        method: str = "GET",
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        bucket: str = "",
    ) -> Response:
        import requests

        secrets = self._request.secrets
        _SECRET_FILTER.secrets.update(s for s in secrets if s)
        target = self._t.policy.endpoint(self.source, url)
        where = _Where(self.source, self.series, redact(target, secrets))
        self._t.refuse_if_down(where.host)
        self.pace(bucket or self._request.bucket)
        timed_out = where.error(
            SourceUnavailable, f"no answer within {self.timeout:g} s (timeout)", reason="timeout", answered=False
        )
        deadline = _Deadline(self.timeout)
        try:
            r = self._t.http.request(
                method,
                target,
                data=dict(data) if data is not None else None,
                headers=dict(headers or {}),
                timeout=self.timeout,
                stream=True,
            )
            body = _read_body(r, self._t.policy.max_response_bytes, where)
        except requests.Timeout:
            raise timed_out from None
        except requests.RequestException as e:
            if deadline.expired:  # the deadline shut the socket down under a slow answer
                raise timed_out from None
            why, unreachable = connection_failure(e)
            if unreachable:
                # The host that could not be reached: a redirect's target, not the server that answered with it
                # (marking that one down would refuse every other series it serves).
                failed = getattr(getattr(e, "request", None), "url", None)
                host = host_of(failed) if failed else where.host
                raise where.error(
                    SourceUnreachable, f"{host} unreachable ({why})", reason=f"unreachable ({why})", host=host
                ) from None
            raise where.error(SourceUnavailable, why, reason=why, answered=False) from None
        finally:
            deadline.stop()
        if deadline.expired:  # a shut-down socket can look like the end of an answer sent without a length
            raise timed_out
        headers_out = {k.lower(): v for k, v in r.headers.items()}
        if r.status_code >= 400 and self._request.error_body is not None:
            own = self._request.error_body(Response(r.status_code, body, self._request, headers_out))
            if own is not None:  # the body says what went wrong, whatever the status: its code decides
                raise own
        if r.status_code in (401, 403):
            raise where.error(
                SourceAuthError,
                f"HTTP {r.status_code}: access refused (check the key or login, or that the API is approved for it)",
                reason=f"HTTP {r.status_code}",
            )
        if r.status_code == 429:
            wait = retry_after_seconds(headers_out.get("retry-after"))
            hint = f"; the server asks to wait {wait:g} s" if wait is not None else ""
            raise where.error(SourceThrottled, f"HTTP 429 Too Many Requests{hint}", retry_after=wait, reason="HTTP 429")
        if r.status_code >= 500:
            raise where.error(SourceUnavailable, f"HTTP {r.status_code} (server error)", reason=f"HTTP {r.status_code}")
        return Response(r.status_code, body, self._request, headers_out, served_by=where.url)


_CHUNK = 64 * 1024  # decompressed bytes per read (urllib3 >= 2.6 inflates no more than asked for per read)


def _read_body(r: requests.Response, limit: int, where: _Where) -> bytes:
    """The decompressed body, streamed and counted: never more than `limit` bytes (and one chunk) in memory."""
    body = io.BytesIO()  # getvalue() hands over its buffer without a copy
    try:
        for chunk in r.iter_content(_CHUNK):
            if body.tell() + len(chunk) > limit:
                raise where.error(
                    SourceSchemaError,
                    f"the answer is larger than {limit / 1e6:g} MB decompressed (a broken or hostile server; "
                    "[fetch] max_response_mb raises the limit)",
                )
            body.write(chunk)
    finally:
        r.close()
    return body.getvalue()


# -- the total deadline of a request ---------------------------------------------------------------------------
_CURRENT = threading.local()  # the deadline of the request this thread is making


class _Deadline:
    """At most `seconds` for one request: connect, headers and body together. requests' timeout bounds each
    socket read only, so a server trickling one byte a second would never trip it; at the deadline a timer shuts
    down the sockets of the connections the request used (see `_watched_session`), which ends any read blocked
    on them at once."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._connections: list[object] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        _CURRENT.deadline = self
        self._timer.start()

    def watch(self, connection: object) -> None:
        with self._lock:
            self._connections.append(connection)
            if self.expired:
                _shut(connection)

    def stop(self) -> None:
        with self._lock:  # a connection back in the pool is no longer ours to shut
            self._timer.cancel()
            self._connections.clear()
        _CURRENT.deadline = None

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for connection in self._connections:
                _shut(connection)


def _shut(connection: object) -> None:
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed: nothing is waiting on it
            socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain socket's: also under TLS, no TLS goodbye


def _watched_session() -> requests.Session:
    """A requests session whose connections report to the deadline of the request using them (urllib3 calls a
    connection's `request` for every request it carries, new or kept alive)."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.poolmanager import ProxyManager

    def watched(cls: type[HTTPConnection]) -> type[HTTPConnection]:
        class Watched(cls):  # type: ignore[valid-type,misc]
            def request(self, *args: Any, **kwargs: Any) -> None:
                deadline = getattr(_CURRENT, "deadline", None)
                if deadline is not None:
                    deadline.watch(self)
                super().request(*args, **kwargs)

        return Watched

    class Pool(HTTPConnectionPool):
        ConnectionCls = watched(HTTPConnection)

    class TlsPool(HTTPSConnectionPool):
        ConnectionCls = watched(HTTPSConnection)  # type: ignore[assignment]

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TlsPool}

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **kwargs)
            if isinstance(manager, ProxyManager):  # an HTTP(S) proxy from the environment (SOCKS has its own pools)
                manager.pool_classes_by_scheme = {"http": Pool, "https": TlsPool}
            return manager

    session = requests.Session()
    session.mount("http://", Adapter())
    session.mount("https://", Adapter())
    return session


# -- transports ----------------------------------------------------------------------------------------------
class LiveTransport:
    """The network path: the policy's rate limits, timeouts and retries around every request or library call."""

    def __init__(self, policy: HttpPolicy | None = None) -> None:
        self.policy = policy or HttpPolicy()
        self.limiter = RateLimiter(self.policy.limits, self.policy.clock)
        self.http = _watched_session()
        self.down: dict[str, SourceError] = {}  # host -> why it was unreachable, for the rest of the run

    def refuse_if_down(self, host: str) -> None:
        """Fail at once, without a request, when `host` was found unreachable earlier in this run."""
        first = self.down.get(host)
        if first is not None:
            raise SourceUnreachable(
                f"{host} down ({first.reason} earlier in this run); not requested", host=host, reason=first.reason
            )

    def send(self, request: Request, *, source: str, series: str) -> Response:
        served_by = self.policy.endpoint(source, request.redacted_url)
        attempt = 0
        while True:
            try:
                self.refuse_if_down(host_of(self.policy.endpoint(source, request.url)))
                response = self._attempt(request, source, series)
                if request.check is not None:
                    request.check(response)
                return response
            except (SourceError, RecursionError) as e:
                error = bounded(typed(e).with_context(source=source, series=series, url=served_by), request.secrets)
                if not error.host:
                    error.host = host_of(served_by)
                delay = self.policy.retry_delay(error, attempt)
                if delay is None:
                    tries = f"{attempt + 1} attempt{'s' if attempt else ''}"
                    if isinstance(error, SourceUnreachable) and error.host not in self.down:
                        error = _reworded(error, f"{error.detail} after {tries}; not tried again in this run")
                        self.down[error.host] = error
                    elif error.retryable and attempt:
                        error = _reworded(error, f"{error.detail} (gave up after {tries})")
                    raise error from None
                attempt += 1
                log.warning("%s; retry %d of %d in %.1f s", error, attempt, self.policy.retries, delay)
                self.policy.clock.sleep(delay)

    def finish(self, responses: Sequence[Response]) -> None:
        pass

    def _attempt(self, request: Request, source: str, series: str) -> Response:
        session = Session(self, request, source, series)
        if request.call is None:
            return session.open(
                request.url, method=request.method, data=request.data, headers=request.headers, bucket=request.host
            )
        try:
            body = request.call(session)
        except SourceError:
            raise
        except Exception as e:  # a library failed in a way its wrapper does not know: report it, do not crash
            why, unreachable = connection_failure(e)
            if unreachable:
                host = host_of(self.policy.endpoint(source, request.url))
                raise SourceUnreachable(
                    f"{host} unreachable ({why})", host=host, reason=f"unreachable ({why})"
                ) from None
            said = cut(redact(f"{type(e).__name__}: {e}", request.secrets))
            raise SourceUnavailable(said, retryable=False) from None
        return Response(200, body, request, served_by=self.policy.endpoint(source, request.redacted_url))


def _reworded(error: SourceError, detail: str) -> SourceError:
    """The same error with another message, not retried any more."""
    return type(error)(
        detail,
        source=error.source,
        series=error.series,
        url=error.url,
        retryable=False,
        host=error.host,
        reason=error.reason,
        answered=error.answered,
    )


class RecordingTransport:
    """Passes calls through and, once the source has parsed the whole fetch, saves each raw body as served
    (secrets redacted) under `directory`: a recording never holds an answer the parser refused."""

    def __init__(self, inner: Transport, directory: Path) -> None:
        self.inner, self.directory = inner, Path(directory)

    def send(self, request: Request, *, source: str, series: str) -> Response:
        return self.inner.send(request, source=source, series=series)

    def finish(self, responses: Sequence[Response]) -> None:
        self.inner.finish(responses)
        for response in responses:
            if 200 <= response.status < 300:  # a replay serves 200: it could not reproduce another status
                self._save(response)

    def _save(self, response: Response) -> None:
        request = response.request
        path = self.directory / request.replay_name
        path.parent.mkdir(parents=True, exist_ok=True)
        body = response.body
        for secret in sorted(request.secrets, key=len, reverse=True):
            if secret:
                body = body.replace(secret.encode(), b"***")
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(body)
        tmp.replace(path)  # never leave a half-written recording behind


class ReplayTransport:
    """Serves recorded bodies from `directory` instead of the network (status 200, no retries, no waiting)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def has(self, replay_name: str) -> bool:
        return (self.directory / replay_name).is_file()

    def finish(self, responses: Sequence[Response]) -> None:
        pass

    def send(self, request: Request, *, source: str, series: str) -> Response:
        path = self.directory / request.replay_name
        if not path.is_file():
            raise SourceUnavailable(
                f"replay file {request.replay_name} is missing in {self.directory}",
                source=source,
                series=series,
                retryable=False,
            )
        return Response(200, path.read_bytes(), request)


def build_transport(
    *,
    timeout: float,
    retries: int,
    endpoints: Mapping[str, str],
    limits: Mapping[str, Limit],
    max_response_mb: float = HttpPolicy.max_response_bytes / 1e6,
    record: Path | None = None,
    replay: Path | None = None,
) -> Transport:
    """The transport a command asked for: replaying DIR, recording into DIR, or plain live calls. `limits`: the
    sources' declared rate limits by host (series.sources.limits())."""
    if replay is not None:
        return ReplayTransport(replay)
    limit = int(max_response_mb * 1e6)
    policy = HttpPolicy(
        timeout=timeout, retries=retries, endpoints=dict(endpoints), limits=dict(limits), max_response_bytes=limit
    )
    live = LiveTransport(policy)
    return RecordingTransport(live, record) if record is not None else live
