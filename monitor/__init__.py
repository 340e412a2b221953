"""THINKING: configuration, alignment, models, alerts, notifications, the daily pipeline and the CLI.

`import monitor` also gives the Python API (`monitor.api`: open a store, read a series as known on a date, model
panels, connectedness, stored results, rules), loaded on first use so that `import monitor` and the command line
stay quick (no pandas, numpy or statsmodels until a function is called).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.api import (
        connectedness,
        evaluate_rule,
        model_result,
        model_results,
        open_store,
        panel,
        rolling_connectedness,
        series_as_of,
        tvp_connectedness,
    )

__all__ = [
    "connectedness",
    "evaluate_rule",
    "model_result",
    "model_results",
    "open_store",
    "panel",
    "rolling_connectedness",
    "series_as_of",
    "tvp_connectedness",
]


def __getattr__(name: str) -> Any:
    # Only the API's names: any other (a submodule such as monitor.cli) must raise so that the import system
    # goes on to import it.
    if name in __all__:
        from monitor import api

        return getattr(api, name)
    raise AttributeError(f"module 'monitor' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
