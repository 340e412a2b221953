"""Where each source module registers itself by name (not `registry`: that name is `series.secrets.registry`
in the package). A leaf module: the source modules import `register` from
here and `series.sources` imports them, so the package and its sources never import each other in a circle."""

from __future__ import annotations

from series.sources.base import Source

REGISTRY: dict[str, Source] = {}


def register(source_cls: type[Source]) -> type[Source]:
    REGISTRY[source_cls.name] = source_cls()
    return source_cls
