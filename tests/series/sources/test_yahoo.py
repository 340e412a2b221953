"""yahoo (yfinance): the real `download().to_csv()` files, the real v8 chart JSON through yfinance's quote layout
into our download-shaped recording, and failures at the library boundary (our `download` wrapper)."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from series import sources
from series.errors import EmptySeries, SourceSchemaError
from series.http import HttpPolicy, LiveTransport
from series.sources import yahoo
from series.sources.base import Response, Window
from series.sources.yahoo import as_download_frame, read_download_csv
from tests.fault_server import FakeClock
from tests.series.sources.support import fetch_into, make_spec, store_dump, stored

KS11_SAMPLE = "data/samples/yfinance_download_to_csv_KS11_2025-09-08_to_2026-03-06.csv"
KS11_HISTORY = "data/real/yfinance_KS11_daily_1990_2025-01.csv"
CHART = "data/samples/yahoo_chart_v8_EURUSD_X_range1d_20241114.json"


def _independent_closes(path: Path) -> dict[str, float]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:2] == ["Price", "Close"] and rows[2][0] == "Date"
    return {r[0]: float(r[1]) for r in rows[3:]}


@pytest.mark.parametrize(("name", "rows"), [(KS11_SAMPLE, 118), (KS11_HISTORY, 8957)])
def test_real_download_csv_files(shared: Path, name: str, rows: int) -> None:
    src = sources.get("yahoo")
    spec = make_spec("yahoo", "^KS11", freq="B")
    request = src.build_query(spec.primary, spec, Window(), {})
    frame = src.parse(
        [src.extract(Response(200, (shared / name).read_bytes(), request), spec.primary, spec)], spec.primary, spec
    )
    expected = _independent_closes(shared / name)
    assert len(frame) == rows == len(expected)
    assert frame["value"].dtype == np.float64
    assert dict(zip(frame["date"].dt.strftime("%Y-%m-%d"), frame["value"], strict=True)) == expected
    assert request.replay_name == "yahoo/^KS11.csv"


def test_specific_values_and_other_fields(shared: Path) -> None:
    body = (shared / KS11_SAMPLE).read_bytes()
    close = read_download_csv(body, "^KS11").set_index("date")["value"]
    assert close[pd.Timestamp("2025-09-08")] == 3219.590087890625
    assert close[pd.Timestamp("2026-03-06")] == 5584.8701171875
    volume = read_download_csv(body, "^ks11", "Volume").set_index("date")["value"]
    assert volume[pd.Timestamp("2025-09-08")] == 372300
    first = read_download_csv((shared / KS11_HISTORY).read_bytes(), "^KS11")  # with a UTF-8 BOM
    assert first["date"].iloc[0] == pd.Timestamp("1990-01-03") and first["value"].iloc[0] == 908.59


def history_from_chart_json(chart: dict[str, Any]) -> pd.DataFrame:
    """What `Ticker.history(auto_adjust=True, actions=False)` returns for a v8 chart answer, mirroring yfinance's
    `utils.parse_quotes` (timestamp x quote[0]) plus its adjustment and exchange-timezone localisation."""
    result = chart["chart"]["result"][0]
    quote = result["indicators"]["quote"][0]
    index = pd.to_datetime(result["timestamp"], unit="s", utc=True).tz_convert(result["meta"]["exchangeTimezoneName"])
    frame = pd.DataFrame(
        {k.capitalize(): quote[k] for k in ("open", "high", "low", "close", "volume")}, index=index.normalize()
    )
    adj = result["indicators"]["adjclose"][0]["adjclose"]
    ratio = np.asarray(adj) / frame["Close"].to_numpy()
    for col in ("Open", "High", "Low", "Close"):
        frame[col] = frame[col] * ratio
    frame.index.name = "Date"
    return frame


def test_chart_json_through_the_download_layout(shared: Path) -> None:
    chart = json.loads((shared / CHART).read_bytes())
    assert chart["chart"]["error"] is None
    frame = as_download_frame(history_from_chart_json(chart), "EURUSD=X")
    text = frame.to_csv()
    header = text.splitlines()[:3]
    assert header == [
        "Price,Close,High,Low,Open,Volume",
        "Ticker,EURUSD=X,EURUSD=X,EURUSD=X,EURUSD=X,EURUSD=X",
        "Date,,,,,",
    ]
    real_header = (shared / KS11_SAMPLE).read_text().splitlines()[:3]
    assert [line.split(",")[0] for line in header] == [line.split(",")[0] for line in real_header]
    parsed = read_download_csv(text.encode(), "EURUSD=X")
    assert parsed["date"].tolist() == [pd.Timestamp("2024-11-14")]  # 1731556163 = 2024-11-14 03:49 London
    assert parsed["value"].iloc[0] == pytest.approx(1.05507493019104)


def test_download_wrapper_shapes_yfinance_and_switches_its_exceptions_on(
    shared: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import yfinance as yf

    chart = json.loads((shared / CHART).read_bytes())
    calls: list[dict[str, Any]] = []

    class FakeTicker:
        def __init__(self, symbol: str) -> None:
            self.symbol = symbol

        def history(self, **kwargs: Any) -> pd.DataFrame:
            calls.append({"symbol": self.symbol, "hide": yf.config.debug.hide_exceptions, **kwargs})
            return history_from_chart_json(chart)

    monkeypatch.setattr(yf, "Ticker", FakeTicker)
    monkeypatch.setattr(yf, "set_tz_cache_location", lambda path: calls.append({"tz_cache": path}))
    monkeypatch.setattr(yahoo, "_tz_cache_set", False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    before = yf.config.debug.hide_exceptions
    frame = yahoo.download("EURUSD=X", date(2024, 11, 1), date(2024, 11, 14), timeout=5.0)
    assert calls[0] == {"tz_cache": str(tmp_path / "kr-macro-monitor" / "yfinance")}
    call = calls[1]
    assert call["symbol"] == "EURUSD=X" and call["hide"] is False  # exceptions on during the call
    assert (call["start"], call["end"]) == ("2024-11-01", "2024-11-15")  # yfinance's end is exclusive
    assert call["auto_adjust"] is True and call["actions"] is False and call["timeout"] == 5.0
    assert yf.config.debug.hide_exceptions == before  # restored
    assert frame.columns.names == ["Price", "Ticker"] and frame.index.tz is None


# -- failures at the library boundary -----------------------------------------------------------------------------
def _frame(closes: list[float | None], symbol: str = "^KS11") -> pd.DataFrame:
    index = pd.DatetimeIndex(pd.date_range("2026-01-05", periods=len(closes), freq="B"), name="Date")
    history = pd.DataFrame({"Open": closes, "High": closes, "Low": closes, "Close": closes, "Volume": 1}, index=index)
    return as_download_frame(history, symbol)


def _transport(clock: FakeClock, retries: int = 2) -> LiveTransport:
    return LiveTransport(HttpPolicy(retries=retries, clock=clock, backoff_base=0.5))


def _yf_error(name: str) -> Exception:
    import yfinance.exceptions as yfe

    if name == "YFRateLimitError":
        return yfe.YFRateLimitError()
    if name == "YFPricesMissingError":
        return yfe.YFPricesMissingError("^KS11", "")
    return yfe.YFDataException("*** YAHOO! FINANCE IS CURRENTLY DOWN! ***")


@pytest.mark.parametrize(
    ("script", "kind", "calls", "added"),
    [
        (["YFRateLimitError", "ok"], "", 2, 3),  # 429: throttled, retried with backoff, then fine
        (["YFRateLimitError"] * 3, "throttled", 3, 0),
        (["down", "ok"], "", 2, 3),  # Yahoo "currently down" (its 5xx): retried
        ([TimeoutError("curl: (28) Operation timed out")] * 3, "unavailable", 3, 0),
        ([pd.DataFrame()], "empty", 1, 0),  # yfinance's empty answer is an error, never "no news"
        (["nan"], "empty", 1, 0),
        (["YFPricesMissingError"], "empty", 1, 0),  # "possibly delisted": a bad symbol
        (["malformed"], "schema", 1, 0),
    ],
)
def test_library_boundary_faults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, script: list[Any], kind: str, calls: int, added: int
) -> None:
    seen: list[tuple[str, date | None, date | None]] = []
    plan = list(script)

    def fake_download(symbol: str, start: date | None, end: date | None, timeout: float) -> pd.DataFrame:
        seen.append((symbol, start, end))
        step = plan.pop(0) if len(plan) > 1 else plan[0]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, pd.DataFrame):
            return step
        if step == "ok":
            return _frame([2500.0, 2510.5, 2490.25])
        if step == "nan":
            return _frame([None, None])
        if step == "malformed":
            return _frame([1.0]).drop(columns=("Close", "^KS11"))
        raise _yf_error(step if step.startswith("YF") else "down")

    monkeypatch.setattr(yahoo, "download", fake_download)
    clock = FakeClock()
    spec = make_spec("yahoo", "^KS11", freq="B", start=date(2026, 1, 1))
    outcome = fetch_into(tmp_path / "s.sqlite", spec, _transport(clock), {}, as_of=date(2026, 1, 7))
    assert len(seen) == calls and seen[0] == ("^KS11", date(2026, 1, 1), date(2026, 1, 7))
    assert outcome.error_kind == kind and outcome.added == added, outcome
    if added:
        assert stored(tmp_path / "s.sqlite").tolist() == [2500.0, 2510.5, 2490.25]
        assert [s for s in clock.sleeps if s >= 0.25]  # a backoff happened
    else:
        assert stored(tmp_path / "s.sqlite").empty
        assert "\n" not in outcome.message
    assert "Traceback" not in store_dump(tmp_path / "s.sqlite")


def test_an_empty_recording_replays_as_empty() -> None:
    src = sources.get("yahoo")
    spec = make_spec("yahoo", "KRW=X", freq="B")
    request = src.build_query(spec.primary, spec, Window(), {})
    empty = pd.DataFrame(columns=pd.MultiIndex.from_product([["Close"], ["KRW=X"]], names=["Price", "Ticker"]))
    for body in (b"", empty.to_csv().encode()):
        with pytest.raises(EmptySeries):
            src.extract(Response(200, body, request), spec.primary, spec)
    with pytest.raises(SourceSchemaError):
        flat = (
            b"Date,Close\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n2024-01-04,4\n"  # Ticker.history's, not download's
        )
        src.extract(Response(200, flat, request), spec.primary, spec)
    assert request.replay_name == "yahoo/KRW=X.csv"
