"""Logging for the scheduled run: human lines on a terminal, one JSON object per line for log collectors, and
never a secret (every record is redacted against the secret values in the environment before it is written)."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

LOGGER = "monitor"


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        # Longest first, so that a secret containing another one is replaced whole.
        self.secrets = sorted((s for s in secrets if s), key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for secret in self.secrets:
            message = message.replace(secret, "***")
        record.msg, record.args = message, None
        for key, value in list(vars(record).items()):
            if key.startswith("ctx_") and isinstance(value, str):
                for secret in self.secrets:
                    value = value.replace(secret, "***")
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", record.name),
            "message": record.getMessage(),
        }
        entry.update({k[4:]: v for k, v in vars(record).items() if k.startswith("ctx_")})
        return json.dumps(entry, default=str, ensure_ascii=False)


class HumanFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        level = "" if record.levelno == logging.INFO else f"{record.levelname.lower()}: "
        return f"{datetime.now().strftime('%H:%M:%S')} {level}{record.getMessage()}"


def setup(fmt: str, secrets: Sequence[str], stream: object | None = None) -> logging.Logger:
    """Configure the `monitor` logger: fmt is "human" or "json" ("auto": human on a terminal, else json)."""
    out = stream if stream is not None else sys.stderr
    if fmt == "auto":
        fmt = "human" if getattr(out, "isatty", lambda: False)() else "json"
    logger = logging.getLogger(LOGGER)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(out)  # type: ignore[arg-type]
    handler.setFormatter(JsonFormatter() if fmt == "json" else HumanFormatter())
    handler.addFilter(RedactingFilter(secrets))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def event(logger: logging.Logger, name: str, message: str, *, level: int = logging.INFO, **context: object) -> None:
    """Log one event with structured context (fields of the JSON line)."""
    logger.log(level, message, extra={"event": name, **{f"ctx_{k}": v for k, v in context.items()}})
