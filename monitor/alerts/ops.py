"""The comparisons and input transforms rule configs name: plain names, no pandas (config loads without it)."""

from __future__ import annotations

from typing import Literal

Op = Literal[">=", "<=", ">", "<"]
NEGATED = {">=": "<", "<=": ">", ">": "<=", "<": ">="}
Transform = Literal["level", "diff", "pct_change", "log_diff", "yoy", "rolling_sum", "rolling_mean"]
