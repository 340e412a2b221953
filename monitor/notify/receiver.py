"""The notifier seam: what every notifier kind declares, and how the outbox talks to it.

A kind is one module under monitor/notify/ (email, file, webhook, slack, teams) with one `@register`ed class: its
`[[receivers]]` block (a pydantic model whose `kind` is a one-value Literal). The block says

- `secret_envs()`: the environment variables that hold its secrets (redacted from every output, see
  monitor.notify.registry.secret_values);
- `addresses()`: who is owed each message (the outbox counts delivery per address: e-mail recipients, or the one
  endpoint of a webhook, named by the environment variable that holds its URL, never by the URL);
- `notifier(env, resolve)`: the `Notifier` that renders and delivers one stored message.

A `Notifier.send` returns the addresses refused (for now or for good, `Refusal.permanent`) and raises
`DeliveryError` when nobody could be given the message now: the row stays pending and the next run tries again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, TypeVar, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from monitor.errors import MonitorError
from monitor.notify.message import Notification

ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
SLUG = r"^[a-z][a-z0-9_]*$"

# What the outbox hands a notifier: a Notification, or the MIME bytes of a row stored before notifications were
# (schema v5 and older: only e-mail and file receivers existed then, and they send those bytes as they are).
Stored = Notification | bytes


class DeliveryError(MonitorError):
    """A message could not be delivered now; it stays in the outbox and is tried again on the next run."""

    exit_code = 1


@dataclass(frozen=True)
class Refusal:
    """One address's answer when it did not take the message: for now (tried again) or for good (never again)."""

    code: int
    reply: str
    permanent: bool

    def __str__(self) -> str:
        return f"{self.code} {self.reply}"


class Notifier(Protocol):
    def send(self, message: Stored, to: Sequence[str]) -> dict[str, Refusal]:
        """Deliver `message` to the addresses `to` (a retry names only those still owed it); return the ones
        that refused it. Raises DeliveryError when nobody could be given the message now."""
        ...


Resolve = Callable[[str], Path]  # a path from the config, relative to the config file's folder


class ReceiverBase(BaseModel):
    """What every `[[receivers]]` block has: a name, the severities it gets and how often it is reminded."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str = Field(pattern=SLUG)
    kind: str
    severities: list[Literal["info", "warning", "critical"]] = ["warning", "critical"]
    repeat_interval_days: int = Field(7, ge=0)  # re-send a still-firing alert after this many days; 0 = never

    def secret_envs(self) -> list[str]:
        return []

    def logins(self) -> list[tuple[str, str]]:
        """(username, name of the password's variable) of a login whose exchange encodes the password."""
        return []

    def secret_parts(self, env: Mapping[str, str]) -> list[str]:
        """Parts of its secrets that can show on their own (a secret URL's path), besides the whole values."""
        return []

    def addresses(self) -> list[str]:
        return [self.name]

    def refused_line(self, address: str) -> str:
        """How a refusal for good of `address` starts in a run's problem list."""
        return f"{self.kind} receiver {self.name} ({address}) refused for good"

    def notifier(self, env: Mapping[str, str], resolve: Resolve) -> Notifier:
        raise NotImplementedError


def env_name(value: str, what: str) -> str:
    """A config value that must NAME an environment variable: one that looks like the secret itself is refused
    without being echoed."""
    if value and not ENV_NAME.match(value):
        raise ValueError(f"must be the NAME of an environment variable (e.g. {what}), never the secret itself")
    return value


def url_parts(url: str) -> list[str]:
    """What an HTTP library may print of a secret URL without the rest: its path and query, and every long
    segment of them (the tokens). The host is not a secret and stays readable in errors."""
    split = urlsplit(url.strip())
    path_query = split.path + (f"?{split.query}" if split.query else "")
    pieces = [path_query, split.path, split.query]
    pieces += [p for p in re.split(r"[/?&=]", path_query) if len(p) >= TOKEN_MIN_LENGTH]
    return [p for p in pieces if len(p) > 1]


TOKEN_MIN_LENGTH = 16  # shorter path segments are words ("services", "workflows"), not tokens

KINDS: dict[str, type[ReceiverBase]] = {}


R = TypeVar("R", bound=ReceiverBase)


def register(cls: type[R]) -> type[R]:
    """The one registration of a notifier kind: its block class, under the value of its `kind` Literal."""
    (kind,) = get_args(cls.model_fields["kind"].annotation)  # kind: Literal["webhook"]
    assert isinstance(kind, str) and kind not in KINDS, f"notifier kind {kind!r} registered twice"
    KINDS[kind] = cls
    return cls
