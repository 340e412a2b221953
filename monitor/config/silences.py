"""The [[silences]] block: alerts muted by their labels until a date."""

from __future__ import annotations

import re
from datetime import date

from pydantic import Field, field_validator

from monitor.config.base import Block


class SilenceBlock(Block):
    """Mute alerts whose labels match every matcher (a value starting with ~ is a regular expression) through
    `expires` (the last day it mutes)."""

    matchers: dict[str, str] = Field(min_length=1)
    expires: date
    comment: str = ""
    created_by: str = ""

    @field_validator("matchers")
    @classmethod
    def _regexes(cls, v: dict[str, str]) -> dict[str, str]:
        for key, value in v.items():
            if value.startswith("~"):
                try:
                    re.compile(value[1:])
                except re.error as e:
                    raise ValueError(f"matcher {key} = {value!r} is not a valid regular expression: {e}") from None
        return v
