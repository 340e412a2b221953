"""pandas, imported on first use: reading config.toml checks every series' source (its key, its params), and that
must not cost a pandas import (`monitor check-config` starts in well under a second). A source module writes

    if TYPE_CHECKING:
        import pandas as pd
    else:
        from series.lazy import pandas as pd

and uses `pd` as usual; the first attribute read imports pandas.
"""

from __future__ import annotations

import importlib
from typing import Any


class _Lazy:
    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


pandas = _Lazy("pandas")
