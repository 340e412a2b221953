"""Bounds on the model settings, shared by config.toml's validation and the command line's options: the largest
settings that still describe a sensible model, and keep its memory and time bounded (a horizon of 10^8 MA
terms once grew a process to 5.7 GB)."""

from __future__ import annotations

MAX_LAGS = 60  # a VAR order or the largest order an information criterion searches
MAX_HORIZON = 500  # H, the MA terms of the forecast-error variance decomposition
MIN_WINDOW = 10  # rows of a rolling window
MAX_DRAWS = 100_000  # bootstrap draws per window
