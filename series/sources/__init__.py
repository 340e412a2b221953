"""Source registry: one module per source, registered by name."""

from __future__ import annotations

from collections.abc import Mapping

from series.sources.base import Request, Response, Source, Window, secret_forms

_REGISTRY: dict[str, Source] = {}


def register(source_cls: type[Source]) -> type[Source]:
    _REGISTRY[source_cls.name] = source_cls()
    return source_cls


def get(name: str) -> Source:
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(names())}") from None


def names() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)


# Environment variables whose values are secrets, besides every source's own env_keys.
_SECRET_SUFFIXES = ("_KEY", "_PW", "_PASSWORD", "_TOKEN", "_SECRET")


def secret_values(env: Mapping[str, str]) -> tuple[str, ...]:
    """Values in `env` that must never appear in a message, log, recording or report."""
    _load_all()
    names = {k for s in _REGISTRY.values() for k in s.env_keys}
    names |= {k for k in env if k.endswith(_SECRET_SUFFIXES)}
    # As written and as they appear in URLs and form bodies; longest first, so a secret that contains another is
    # redacted whole.
    return secret_forms(*sorted({env[k] for k in names if env.get(k)}))


def _load_all() -> None:
    # Importing the modules registers them; done lazily so `import series.sources` stays cheap.
    from series.sources import bis, boj, csvfile, customs, ecos, fred, fredgraph, krx, yahoo  # noqa: F401


__all__ = ["Request", "Response", "Source", "Window", "get", "names", "register"]
