"""What the HTTP notifier kinds (webhook, slack, teams) share: the URL from the environment, one JSON POST with the
outbox's retry rules, and charts published as files for chat services that only take images by URL.

A POST's outcome:
- 2xx: delivered.
- 408, 429, 5xx, a timeout, a refused or reset connection, a name that does not resolve: `DeliveryError` (the
  message stays pending; the next run tries again).
- any other 4xx, and 3xx (redirects are not followed: a webhook that moved is a URL to fix): refused for good.

The URL is a secret (Slack and Teams keep their tokens in its path and query) and HTTP libraries print it, or
its path, in their exception texts. So no exception text is ever used: errors name the receiver, the environment
variable that holds the URL and the host, and say what happened in words of their own; a server's reply
snippet is kept, and redacted by the outbox like every error.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from monitor.notify.message import Notification, finite
from monitor.notify.receiver import DeliveryError, ReceiverBase, Refusal, Resolve, env_name, url_parts
from series import secrets

RETRIED = frozenset({408, 429})  # 4xx that mean "later", like every 5xx
REPLY_SNIPPET = 200  # characters of a refusing server's answer kept in the error


class HttpReceiver(ReceiverBase):
    """The keys every HTTP notifier has: the NAME of the variable that holds the URL, and a timeout."""

    url_env: str = Field(min_length=1)
    timeout_seconds: float = Field(10.0, gt=0)

    @field_validator("url_env")
    @classmethod
    def _url_env(cls, v: str) -> str:
        return env_name(v, "MONITOR_WEBHOOK_URL")

    def secret_envs(self) -> list[str]:
        return [self.url_env]

    def secret_parts(self, env: Mapping[str, str]) -> list[str]:
        url = secrets.read(env, self.url_env)
        return url_parts(url) if url else []

    def addresses(self) -> list[str]:
        return [self.url_env]  # the endpoint, named by its variable: the URL itself is a secret

    def refused_line(self, address: str) -> str:
        return f"{self.kind} receiver {self.name}: the URL in {address} refused the message for good"

    def endpoint(self, env: Mapping[str, str]) -> Endpoint:
        return Endpoint(self.name, self.url_env, self.timeout_seconds, env)


class ChartLinks(HttpReceiver):
    """Chat services whose incoming webhooks take images only by public URL (no upload): charts are written to
    `chart_dir`, which the user publishes at `chart_base_url`; without both, messages carry no chart."""

    chart_dir: str = ""
    chart_base_url: str = Field("", pattern=r"^(https?://\S+)?$")

    @model_validator(mode="after")
    def _both(self) -> ChartLinks:
        if bool(self.chart_dir) != bool(self.chart_base_url):
            raise ValueError("chart_dir and chart_base_url go together (the folder, and where it is published)")
        return self

    def charts(self) -> tuple[str, str]:
        return self.chart_dir, self.chart_base_url.rstrip("/")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


@dataclass(frozen=True)
class Endpoint:
    receiver: str
    url_env: str
    timeout: float
    env: Mapping[str, str]

    def _url(self) -> str:
        url = secrets.read(self.env, self.url_env)
        if not url:
            raise DeliveryError(
                f"receiver {self.receiver}: the environment variable {self.url_env} (its URL) is not set"
            )
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise DeliveryError(f"receiver {self.receiver}: {self.url_env} does not hold an http(s) URL")
        if not url.isascii() or any(c.isspace() for c in url):
            raise DeliveryError(
                f"receiver {self.receiver}: the URL in {self.url_env} has spaces or non-ASCII characters "
                "(percent-encode them)"
            )
        return url

    def post(self, body: bytes, headers: Mapping[str, str] | None = None) -> Refusal | None:
        """POST `body` (JSON); None when delivered, a Refusal when refused for good; DeliveryError for later."""
        url = self._url()
        where = f"receiver {self.receiver}: the URL in {self.url_env} ({urlsplit(url).hostname})"
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "kr-monitor", **(headers or {})},
        )
        try:
            with urllib.request.build_opener(_NoRedirects).open(request, timeout=self.timeout) as response:
                response.read()
            return None
        except urllib.error.HTTPError as e:
            reply = f"{e.reason}{_snippet(e)}"
            if e.code in RETRIED or e.code >= 500:
                raise DeliveryError(f"{where} answered {e.code} {reply} (tried again on the next run)") from None
            return Refusal(e.code, reply, permanent=True)
        except urllib.error.URLError as e:
            if isinstance(e.reason, TimeoutError):
                raise DeliveryError(f"{where} did not answer within {self.timeout:g} s") from None
            why = e.reason.strerror if isinstance(e.reason, OSError) and e.reason.strerror else type(e.reason).__name__
            raise DeliveryError(f"{where} cannot be reached: {why}") from None
        except TimeoutError:  # the answer stopped coming after the connection was made
            raise DeliveryError(f"{where} did not answer within {self.timeout:g} s") from None
        except (OSError, http.client.HTTPException) as e:
            raise DeliveryError(f"{where}: the exchange failed ({type(e).__name__})") from None


@dataclass(frozen=True)
class Said:
    """What a chat message says of one alert: a title line, its headline, and its numbers."""

    title: str  # FIRING · warning · krw_usd_warning
    state: str
    severity: str
    headline: str
    facts: tuple[tuple[str, str], ...]  # (value, 1,468), (threshold, 1,450), (date, 2026-03-10)
    chart: str  # cid of its chart, or ""


def said(n: Notification) -> list[Said]:
    out = []
    for i in n.items:
        facts = [(k, _number(v)) for k, v in (("value", i.value), ("threshold", i.threshold)) if finite(v) is not None]
        facts += [("date", i.obs_date)] if i.obs_date else []
        title = " · ".join(x for x in (i.state.upper(), i.severity, i.rule) if x)
        out.append(Said(title, i.state, i.severity, i.headline, tuple(facts), i.chart))
    return out


def footer(n: Notification) -> str:
    return f"KR monitor · as of {n.as_of.isoformat()} · receiver {n.receiver}"


def _number(x: float | None) -> str:
    return f"{x:,.6g}"


def mime_refused(to: Sequence[str]) -> dict[str, Refusal]:
    """A row an older monitor stored as e-mail (only e-mail and file receivers existed) whose receiver is now an
    HTTP kind: it can never be posted, so it is refused for good and named, never retried."""
    why = "stored as an e-mail by an older monitor; only an email or file receiver can send it"
    return {address: Refusal(0, why, permanent=True) for address in to}


def _snippet(e: urllib.error.HTTPError) -> str:
    try:
        text = e.read(4 * REPLY_SNIPPET).decode("utf-8", "replace")
    except (TimeoutError, OSError, http.client.HTTPException):
        return ""
    text = " ".join(text.split())[:REPLY_SNIPPET]
    return f": {text}" if text else ""


def publish_charts(n: Notification, receiver: ChartLinks, resolve: Resolve) -> dict[str, str]:
    """cid -> public URL of each chart of `n`, written to the receiver's chart_dir (atomically); {} when the
    receiver publishes no charts."""
    folder, base = receiver.charts()
    if not folder:
        return {}
    directory = resolve(folder)
    out: dict[str, str] = {}
    for i, img in enumerate(n.images):
        name = f"{n.as_of.isoformat()}_{n.receiver}_{n.key[:12]}_{i}.{img.subtype}"
        path = directory / name
        try:
            directory.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(img.data)
            tmp.replace(path)
        except OSError as e:
            raise DeliveryError(f"receiver {n.receiver}: cannot write the chart {path}: {e.strerror}") from None
        out[img.cid] = f"{base}/{name}"
    return out
