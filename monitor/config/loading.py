"""Read config.toml and validate it whole: every problem with its key path, at once, before anything runs."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from monitor.config.checks import cross_checks
from monitor.config.errors import ConfigError, describe_error
from monitor.config.receivers import validate_receivers
from monitor.config.root import Config
from monitor.config.rules import validate_rules

DEFAULT_CONFIG = Path("config.toml")


def load_config(path: str | Path = DEFAULT_CONFIG) -> Config:
    """Read and validate a config file; raise ConfigError listing every problem at once."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            path, ["file not found: pass --config PATH or run from the folder with config.toml"]
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(path, [f"cannot read the file: {e}"]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(path, [f"not valid TOML: {e}"]) from None
    return validate_config(raw, path)


def validate_config(raw: dict[str, Any], path: Path | str = "config.toml") -> Config:
    path = Path(path)
    problems: list[str] = []
    config: Config | None = None
    rules, rule_problems = validate_rules(raw.get("rules", []))
    receivers, receiver_problems = validate_receivers(raw.get("receivers", []))
    try:
        # Rules and receivers are validated by kind above (one message per problem, with the kind's own keys).
        config = Config.model_validate(
            {**raw, "rules": rules, "receivers": receivers, "base_dir": path.resolve().parent}
        )
    except ValidationError as e:
        problems += [describe_error(err, Config) for err in e.errors()]
    problems += rule_problems + receiver_problems
    problems += non_finite(raw)
    # Cross-block checks read the raw tables, so they are reported even when a block failed validation above.
    problems += cross_checks(raw)
    if problems:
        raise ConfigError(path, problems)
    assert config is not None
    return config


def non_finite(value: Any, where: str = "") -> list[str]:
    """Every nan or inf anywhere in the file (TOML allows both): no threshold, limit or setting means them, and a
    nan threshold would silently never fire."""
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{where}: {value} is not a finite number"]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in non_finite(v, f"{where}.{k}" if where else str(k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in non_finite(v, f"{where}[{i}]")]
    return []
