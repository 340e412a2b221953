"""The secrets of a run, so that logs, messages and the store can redact them."""

from __future__ import annotations

import os

from monitor.config.root import Config


def secret_values(config: Config, env: dict[str, str] | None = None) -> tuple[str, ...]:
    """Every form of every secret of a run, so logs, messages and the store can redact them: the one registry of
    `series.sources.secret_values`, with each receiver's password_env (and its login, for SMTP AUTH's forms)."""
    from series import sources

    env = dict(os.environ) if env is None else env
    receivers = [r for r in config.receivers if r.password_env]
    return sources.secret_values(
        env, [r.password_env for r in receivers], [(r.username, r.password_env) for r in receivers]
    )
