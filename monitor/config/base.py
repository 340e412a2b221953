"""What every config block shares: unknown keys are errors, values are frozen, names follow one pattern."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

from series.spec import FREQUENCIES

ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
SLUG = r"^[a-z][a-z0-9_]*$"
MARKET = r"^[A-Za-z][A-Za-z0-9_]*$"  # market names in model groups (KR, JP, kospi_it ...)


class Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


Freq = Literal["D", "B", "W", "M", "Q"]
assert set(Freq.__args__) == set(FREQUENCIES)  # type: ignore[attr-defined]
