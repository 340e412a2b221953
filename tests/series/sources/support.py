"""Helpers shared by the source tests: specs, transports against the fault server, a temp store, dumps."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from series.fetch import FetchOutcome, fetch_series
from series.http import HttpPolicy, LiveTransport, Transport
from series.spec import SeriesSpec, SourceRef
from series.store import Store
from tests.fault_server import FakeClock, FaultServer

DATA = Path(__file__).resolve().parents[2] / "data"
AS_OF = date(2026, 3, 31)


def make_spec(
    source: str,
    key: str,
    *,
    freq: str = "D",
    params: Mapping[str, Any] | None = None,
    series_id: str = "probe",
    start: date | None = None,
    scale: float = 1.0,
    **limits: Any,
) -> SeriesSpec:
    ref = SourceRef(source, key, MappingProxyType(dict(params or {})), scale)
    return SeriesSpec(series_id, f"{source} {key}", freq, "units", ref, start=start, **limits)


def live(
    server: FaultServer, source: str, clock: FakeClock, *, retries: int = 2, timeout: float = 2.0
) -> LiveTransport:
    return LiveTransport(
        HttpPolicy(timeout=timeout, retries=retries, endpoints={source: server.url}, clock=clock, backoff_base=0.5)
    )


def fetch_into(
    store_path: Path, spec: SeriesSpec, transport: Transport, env: Mapping[str, str], as_of: date = AS_OF
) -> FetchOutcome:
    with Store.open(store_path, writer="test") as store:
        return fetch_series(spec, store=store, transport=transport, env=env, as_of=as_of)


def stored(store_path: Path, series_id: str = "probe") -> pd.Series:
    with Store.open(store_path) as store:
        return store.latest(series_id)


def store_dump(store_path: Path) -> str:
    """Every text cell and every (decompressed) archived payload of the store, to look for leaked secrets."""
    parts: list[str] = []
    con = sqlite3.connect(store_path)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in con.execute(f"SELECT * FROM {table}"):
                for cell in row:
                    if isinstance(cell, bytes):
                        with contextlib.suppress(zlib.error):
                            cell = zlib.decompress(cell)
                        parts.append(cell.decode("utf-8", "replace"))
                    else:
                        parts.append(str(cell))
    finally:
        con.close()
    return "\n".join(parts)


def fred_xml_from_json(path: Path) -> bytes:
    """DERIVED, not a real FRED XML answer: the real JSON observations sample rewritten as the XML fredapi reads,
    keeping every attribute (`<observations {top-level fields}><observation {fields}/>...`)."""
    data = json.loads(path.read_bytes())
    root = ET.Element("observations", {k: str(v) for k, v in data.items() if k != "observations"})
    for obs in data["observations"]:
        ET.SubElement(root, "observation", {k: str(v) for k, v in obs.items()})
    return b'<?xml version="1.0" encoding="utf-8" ?>\n' + ET.tostring(root)
