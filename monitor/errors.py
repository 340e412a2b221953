"""Errors the user can act on. The CLI turns each into one line and its exit code; nothing else does."""

from __future__ import annotations


class MonitorError(Exception):
    """A problem with the user's input (config, data file, arguments): exit code 2 unless a subclass says."""

    exit_code = 2


class InputDataError(MonitorError):
    """A data file or panel cannot be used as given (missing values, too short, constant column ...)."""
