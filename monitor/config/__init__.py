"""Load and validate config.toml, collecting every problem with its key path before anything runs.

Unknown keys are errors everywhere (a typo must never be silently ignored). `load_config` raises one
`ConfigError` that lists every problem as `<key path>: <what is wrong>`, e.g.
`series[3].freq: 'Monthly' is not one of D, B, W, M, Q`.

The package: the blocks (settings, series, models, receivers, silences; the rules are the alert kinds' own models),
`Config` (root.py), loading (loading.py), the problems' wording (errors.py) and the cross-block checks (checks.py,
each registered with `@check`). Loading and validating a file imports no pandas.
"""

from __future__ import annotations

from monitor.config.base import ENV_NAME, MARKET, SLUG, Block, Freq
from monitor.config.checks import CHECKS, check, cross_checks
from monitor.config.errors import ConfigError, describe_error
from monitor.config.loading import DEFAULT_CONFIG, load_config, non_finite, validate_config
from monitor.config.models import BandsBlock, MarketBlock, ModelBlock, ModelGroupBlock, VariableBlock
from monitor.config.receivers import Receiver, validate_receivers
from monitor.config.root import Config
from monitor.config.rules import rule_references, validate_rules
from monitor.config.secrets import secret_values
from monitor.config.series import PreferredBlock, SeriesBlock, SourceRefBlock
from monitor.config.settings import ComputeBlock, FetchBlock, PathsBlock, RunBlock
from monitor.config.silences import SilenceBlock

__all__ = [
    "CHECKS",
    "DEFAULT_CONFIG",
    "ENV_NAME",
    "MARKET",
    "SLUG",
    "BandsBlock",
    "Block",
    "ComputeBlock",
    "Config",
    "ConfigError",
    "FetchBlock",
    "Freq",
    "MarketBlock",
    "ModelBlock",
    "ModelGroupBlock",
    "PathsBlock",
    "PreferredBlock",
    "Receiver",
    "RunBlock",
    "SeriesBlock",
    "SilenceBlock",
    "SourceRefBlock",
    "VariableBlock",
    "check",
    "cross_checks",
    "describe_error",
    "load_config",
    "non_finite",
    "rule_references",
    "secret_values",
    "validate_config",
    "validate_receivers",
    "validate_rules",
]
