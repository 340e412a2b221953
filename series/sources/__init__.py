"""Source registry: one module per source, registered by name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from series.secrets import registry
from series.sources.base import Request, Response, Source, Window
from series.sources.facts import Limit
from series.sources.registration import REGISTRY as _REGISTRY
from series.sources.registration import register


def get(name: str) -> Source:
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(names())}") from None


def names() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)


def limits() -> dict[str, Limit]:
    """Each source's declared rate limit, by the host its requests are limited as (for series.http's policy)."""
    _load_all()
    return {s.host: s.limit for s in _REGISTRY.values() if s.limit is not None}


def secret_values(
    env: Mapping[str, str], extra_names: Iterable[str] = (), logins: Iterable[tuple[str, str]] = ()
) -> tuple[str, ...]:
    """Every form of every value in `env` that must never appear in a message, log, recording, report or store:
    the ONE registry of secrets (`series.secrets.registry`), built from every source's declared `env_keys`, the
    caller's `extra_names` (receivers' password_env) and SMTP `logins` (username, password_env). Longest first."""
    _load_all()
    declared = {k for s in _REGISTRY.values() for k in s.env_keys} | set(extra_names)
    return registry(env, declared, logins)


def _load_all() -> None:
    # Importing the modules registers them; done lazily so `import series.sources` stays cheap.
    from series.sources import bis, boj, csvfile, customs, ecos, fred, fredgraph, krx, mof, yahoo  # noqa: F401


__all__ = ["Limit", "Request", "Response", "Source", "Window", "get", "limits", "names", "register"]
