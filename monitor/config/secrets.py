"""The secrets of a run, so that logs, messages and the store can redact them."""

from __future__ import annotations

import os

from monitor.config.root import Config


def secret_values(config: Config, env: dict[str, str] | None = None) -> tuple[str, ...]:
    """Every form of every secret of a run, so logs, messages and the store can redact them: the one registry of
    `series.sources.secret_values`, with the secrets each receiver declares (monitor.notify.registry)."""
    from monitor.notify.registry import secret_values as with_receivers

    return with_receivers(config.receivers, dict(os.environ) if env is None else env)
