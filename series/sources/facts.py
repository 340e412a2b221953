"""What a source declares about itself for the HTTP policy: its rate limit. A leaf module (series.http reads it,
it imports nothing from series), so each source states its limit in its own module and `series.sources.limits()`
collects them; the env keys, key rules and redirectability are the Source class attributes beside it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    """At least `min_interval` seconds between calls, and at most `max_calls` per `per_seconds` (0 = no cap)."""

    min_interval: float = 0.0
    max_calls: int = 0
    per_seconds: float = 0.0


POLITE = Limit(min_interval=1.0)  # a host whose source declares no limit
