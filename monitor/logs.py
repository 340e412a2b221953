"""Logging for the scheduled run: human lines on a terminal, one JSON object per line for log collectors, and
never a secret (every record is redacted against the secret values in the environment before it is written).

The handler sits on the root logger, so that what the data layer (`series.*`: retries, library notes), the
libraries (yfinance, urllib3 ...) and Python warnings say comes out in the same format and redacted, instead of
as a bare line from Python's last-resort handler in the middle of a JSON log."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

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


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the given stream, or else to whatever `sys.stderr` is when a record comes (a handler set up once
    keeps working when stderr is replaced, as test harnesses do)."""

    def __init__(self, stream: object | None = None) -> None:
        super().__init__()
        self._fixed = stream

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return self._fixed if self._fixed is not None else sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        self._fixed = value


def setup(fmt: str, secrets: Sequence[str], stream: object | None = None) -> logging.Logger:
    """Configure logging for a command: fmt is "human" or "json" ("auto": human on a terminal, else json).
    Returns the `monitor` logger; records of `monitor.*` and `series.*` from INFO, of anything else from WARNING."""
    if fmt == "auto":
        fmt = "human" if getattr(stream if stream is not None else sys.stderr, "isatty", lambda: False)() else "json"
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)  # a second command in the same process replaces the first one's setup
    handler = _Handler(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else HumanFormatter())
    handler.addFilter(RedactingFilter(secrets))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.captureWarnings(True)  # Python warnings (pandas, matplotlib ...) as records of `py.warnings`
    for name in (LOGGER, "series"):
        logging.getLogger(name).setLevel(logging.INFO)
    return logging.getLogger(LOGGER)


def event(logger: logging.Logger, name: str, message: str, *, level: int = logging.INFO, **context: object) -> None:
    """Log one event with structured context (fields of the JSON line)."""
    logger.log(level, message, extra={"event": name, **{f"ctx_{k}": v for k, v in context.items()}})
