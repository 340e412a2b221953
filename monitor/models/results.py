"""Model results as they are stored with a run and read back by alerts and reports.

One `ModelResult` per configured model (or market of a model group) and as-of date: the full-sample spillover table
with its bootstrap bands, the rolling (or TVP) per-date measures with theirs, the VAR's impulse responses with
bands and its diagnostics, and the notes that explain what was dropped or could not be estimated. Stored as
compressed JSON in the store's `model_results` table, keyed by (model, as_of), so re-running a date replaces its
result and never duplicates it.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from monitor.models.spillover import SpilloverTable
from series.dates import DateLike, as_date
from series.store import Store, utcnow


@dataclass(frozen=True, eq=False)
class ModelResult:
    name: str
    label: str
    freq: str
    as_of: date
    variables: tuple[str, ...] = ()  # model column names, in order
    series: tuple[str, ...] = ()  # the series id behind each variable
    transforms: tuple[str, ...] = ()
    lags: int = 0
    horizon: int = 0
    window: int | None = None
    method: str = "VAR"  # VAR | rolling VAR | TVP-VAR
    sample_start: date | None = None
    sample_end: date | None = None
    nobs: int = 0
    table: SpilloverTable | None = None  # full sample
    latest_table: SpilloverTable | None = None  # rolling: the last window's table; TVP: the last date's
    # per-date TCI, cTCI, TO_*, FROM_*, NET_*, NPT_*, NPDC_*; with bands also <measure>_lo, <measure>_hi
    rolling: pd.DataFrame | None = None
    # rolling VAR: the model frame it was estimated on, so the next run finds the rows revised since
    inputs: pd.DataFrame | None = None
    bands: pd.DataFrame | None = None  # full-sample bands: measure (TCI, cTCI, TO_* ...) x (estimate, lo, hi)
    bootstrap: dict[str, Any] = field(default_factory=dict)  # the bands' settings (level, draws, ...); {} = none
    irf: np.ndarray | None = None  # (H + 1, N, N) [step, response, shock], orthogonalised
    irf_lower: np.ndarray | None = None
    irf_upper: np.ndarray | None = None
    granger: pd.DataFrame | None = None
    stationarity: pd.DataFrame | None = None
    max_root: float | None = None
    notes: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()  # inputs left out (stale, missing), each "series: why"
    error: str = ""  # why the model could not be estimated at all ("" = estimated)
    group: str = ""  # the model group and market this model belongs to ("" = a [[models]] model)
    market: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def current_table(self) -> SpilloverTable | None:
        """The table that describes now: the latest window's (rolling, TVP) or the full sample's."""
        return self.latest_table if self.latest_table is not None else self.table

    # -- JSON ----------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "freq": self.freq,
            "as_of": self.as_of.isoformat(),
            "variables": list(self.variables),
            "series": list(self.series),
            "transforms": list(self.transforms),
            "lags": self.lags,
            "horizon": self.horizon,
            "window": self.window,
            "method": self.method,
            "sample_start": _iso(self.sample_start),
            "sample_end": _iso(self.sample_end),
            "nobs": self.nobs,
            "table": self.table.to_dict() if self.table is not None else None,
            "latest_table": self.latest_table.to_dict() if self.latest_table is not None else None,
            "rolling": _frame_to_dict(self.rolling),
            "inputs": _frame_to_dict(self.inputs),
            "bands": _frame_to_dict(self.bands),
            "bootstrap": self.bootstrap,
            "irf": _array(self.irf),
            "irf_lower": _array(self.irf_lower),
            "irf_upper": _array(self.irf_upper),
            "granger": _frame_to_dict(self.granger),
            "stationarity": _frame_to_dict(self.stationarity),
            "max_root": self.max_root,
            "notes": list(self.notes),
            "dropped": list(self.dropped),
            "error": self.error,
            "group": self.group,
            "market": self.market,
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelResult:
        return cls(
            name=d["name"],
            label=d.get("label", ""),
            freq=d["freq"],
            as_of=date.fromisoformat(d["as_of"]),
            variables=tuple(d.get("variables", ())),
            series=tuple(d.get("series", ())),
            transforms=tuple(d.get("transforms", ())),
            lags=int(d.get("lags", 0)),
            horizon=int(d.get("horizon", 0)),
            window=d.get("window"),
            method=d.get("method", "VAR"),
            sample_start=_date(d.get("sample_start")),
            sample_end=_date(d.get("sample_end")),
            nobs=int(d.get("nobs", 0)),
            table=SpilloverTable.from_dict(d["table"]) if d.get("table") else None,
            latest_table=SpilloverTable.from_dict(d["latest_table"]) if d.get("latest_table") else None,
            rolling=_frame_from_dict(d.get("rolling"), dates=True),
            inputs=_frame_from_dict(d.get("inputs"), dates=True),
            bands=_frame_from_dict(d.get("bands")),
            bootstrap=dict(d.get("bootstrap") or {}),
            irf=_from_array(d.get("irf")),
            irf_lower=_from_array(d.get("irf_lower")),
            irf_upper=_from_array(d.get("irf_upper")),
            granger=_frame_from_dict(d.get("granger")),
            stationarity=_frame_from_dict(d.get("stationarity")),
            max_root=d.get("max_root"),
            notes=tuple(d.get("notes", ())),
            dropped=tuple(d.get("dropped", ())),
            error=d.get("error", ""),
            group=d.get("group", ""),
            market=d.get("market", ""),
            extra=dict(d.get("extra") or {}),
        )


# -- storage ------------------------------------------------------------------------------------------------
def save_result(store: Store, result: ModelResult, run_id: int | None = None) -> None:
    body = zlib.compress(json.dumps(result.to_dict(), allow_nan=True).encode(), 6)
    with store.transaction() as c:
        c.execute(
            "INSERT OR REPLACE INTO model_results(model, as_of, run_id, created_at, body) VALUES (?, ?, ?, ?, ?)",
            (result.name, result.as_of.isoformat(), run_id, utcnow(), body),
        )


def load_result(store: Store, model: str, as_of: DateLike | None = None) -> ModelResult | None:
    """The result for `as_of` (a date, datetime, Timestamp or ISO string), or the latest one on or before it
    (None if the model never ran)."""
    sql = "SELECT body FROM model_results WHERE model=?"
    args: list[Any] = [model]
    if as_of is not None:
        sql, args = sql + " AND as_of <= ?", [*args, as_date(as_of, "as_of").isoformat()]
    row = store.connection.execute(sql + " ORDER BY as_of DESC LIMIT 1", args).fetchone()
    return ModelResult.from_dict(json.loads(zlib.decompress(row[0]))) if row else None


def load_results(store: Store, as_of: DateLike | None = None) -> dict[str, ModelResult]:
    names = [r[0] for r in store.connection.execute("SELECT DISTINCT model FROM model_results ORDER BY model")]
    out = {}
    for name in names:
        result = load_result(store, name, as_of)
        if result is not None:
            out[name] = result
    return out


# -- helpers -----------------------------------------------------------------------------------------------
def _iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


def _date(s: str | None) -> date | None:
    return date.fromisoformat(s) if s else None


def _array(a: np.ndarray | None) -> list[Any] | None:
    return None if a is None else np.asarray(a, dtype=float).tolist()


def _from_array(a: list[Any] | None) -> np.ndarray | None:
    return None if a is None else np.asarray(a, dtype=float)


def _frame_to_dict(frame: pd.DataFrame | None) -> dict[str, Any] | None:
    if frame is None:
        return None
    index = [i.strftime("%Y-%m-%d") if hasattr(i, "strftime") else i for i in frame.index]
    return {
        "index": index,
        "index_name": frame.index.name,
        "columns": [str(c) for c in frame.columns],
        "data": frame.astype(object).where(frame.notna(), None).to_numpy().tolist(),
    }


def _frame_from_dict(d: dict[str, Any] | None, *, dates: bool = False) -> pd.DataFrame | None:
    if d is None:
        return None
    # In nanoseconds, as the store's series and the calendars are: pandas 3 parses date strings to microseconds,
    # and a frame read back must equal the one stored.
    index = pd.DatetimeIndex(pd.to_datetime(d["index"])).as_unit("ns") if dates else pd.Index(d["index"])
    frame = pd.DataFrame(d["data"], index=index, columns=d["columns"])
    frame.index.name = d.get("index_name")
    return frame.infer_objects()
