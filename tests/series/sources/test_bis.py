"""bis: SDMX-CSV 1.0 and v2 labelled answers (SYNTHETIC fixtures in the documented layouts), the JP gap, and
value checks against the real BIS bulk file (monthly, old csv_col layout)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pytest

from series import sources
from series.errors import EmptySeries, SourceRequestError, SourceSchemaError
from series.sources.base import Response, Window
from tests.fault_server import FakeClock, FaultServer, Reply
from tests.series.sources.support import DATA, fetch_into, live, make_spec, stored

JP_SYNTHETIC = DATA / "bis_WS_CBPOL_D.JP_sdmx-csv-1.0_SYNTHETIC.csv"
KR_US_SYNTHETIC = DATA / "bis_WS_CBPOL_D.KR+US_sdmx-csv-v2-labelled_SYNTHETIC.csv"
BULK = "data/samples/bis_bulk_WS_CBPOL_M_csv_col_2022-05.csv"


def _parse(body: bytes, key: str) -> pd.DataFrame:
    src = sources.get("bis")
    spec = make_spec("bis", key)
    request = src.build_query(spec.primary, spec, Window(), {})
    return src.parse([src.extract(Response(200, body, request), spec.primary, spec)], spec.primary, spec)


def test_sdmx_csv_1_0_with_the_jp_gap() -> None:
    frame = _parse(JP_SYNTHETIC.read_bytes(), "D.JP")
    assert frame["value"].dtype == np.float64 and len(frame) == 11
    by_date = frame.set_index("date")["value"]
    gap = by_date[pd.Timestamp("2016-09-17") : pd.Timestamp("2016-09-20")]
    assert len(gap) == 4 and gap.isna().all()  # blank OBS_VALUE = missing, never zero
    assert by_date[pd.Timestamp("2016-09-21")] == -0.1


@pytest.mark.parametrize(("key", "rows", "first", "last"), [("D.KR", 9, 0.75, 1.25), ("D.US", 7, 0.125, 0.375)])
def test_v2_labelled_cells_and_filtering_by_key(key: str, rows: int, first: float, last: float) -> None:
    frame = _parse(KR_US_SYNTHETIC.read_bytes(), key)
    assert len(frame) == rows
    assert frame["value"].iloc[0] == first and frame["value"].iloc[-1] == last
    assert frame["date"].is_monotonic_increasing


def _bulk_monthly(shared: Path, area: str) -> pd.Series:
    bulk = pd.read_csv(shared / BULK)
    row = bulk[bulk["Reference area"].str.startswith(f"{area}:")].iloc[0]
    months = [c for c in bulk.columns if c[:4].isdigit()]
    return pd.Series(pd.to_numeric(row[months]).to_numpy(), index=pd.PeriodIndex(months, freq="M"))


@pytest.mark.parametrize(
    ("key", "fixture"), [("D.JP", JP_SYNTHETIC), ("D.KR", KR_US_SYNTHETIC), ("D.US", KR_US_SYNTHETIC)]
)
def test_month_end_values_match_the_real_bis_bulk_file(shared: Path, key: str, fixture: Path) -> None:
    """The bulk file's monthly figure is the end-of-month daily value: our parsed daily series must agree."""
    monthly = _bulk_monthly(shared, key.split(".")[1])
    daily = _parse(fixture.read_bytes(), key).dropna().set_index("date")["value"]
    month_end = daily.groupby(daily.index.to_period("M")).last()
    checked = month_end[month_end.index >= pd.Period("2021-11", "M")]
    assert len(checked) == 5
    for period, value in checked.items():
        assert value == pytest.approx(monthly[period]), period
    assert monthly[pd.Period("2022-03", "M")] == pytest.approx(checked.iloc[-1])


def test_fetch_stores_the_jp_series_without_the_gap(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.script(Reply(200, JP_SYNTHETIC.read_bytes(), {"Content-Type": "text/csv"}))
    spec = make_spec("bis", "D.JP", start=date(2016, 1, 1), valid_min=-1, valid_max=10)
    outcome = fetch_into(
        tmp_path / "s.sqlite", spec, live(fault_server, "bis", FakeClock()), {}, as_of=date(2022, 4, 1)
    )
    assert outcome.ok and outcome.added == 7, outcome
    values = stored(tmp_path / "s.sqlite")
    assert pd.Timestamp("2016-09-20") not in values.index and values.iloc[0] == -0.1
    (seen,) = fault_server.requests
    assert seen.path == "/api/v1/data/WS_CBPOL/D.JP"
    assert seen.query["format"] == ["csv"] and seen.query["startPeriod"] == ["2016-01-01"]


def test_query_layout() -> None:
    src = sources.get("bis")
    spec = make_spec("bis", "D.KR")
    request = src.build_query(spec.primary, spec, Window(date(2020, 1, 1), date(2020, 2, 1)), {})
    parts = urlsplit(request.url)
    assert (parts.hostname, parts.path) == ("stats.bis.org", "/api/v1/data/WS_CBPOL/D.KR")
    assert parse_qs(parts.query) == {"startPeriod": ["2020-01-01"], "endPeriod": ["2020-02-01"], "format": ["csv"]}
    assert request.replay_name == "bis/D.KR.csv"


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (404, b"NoResultsFound", EmptySeries),
        (400, b"Syntax error in key", SourceRequestError),
        (200, b"<?xml version='1.0'?><message:GenericData/>", SourceSchemaError),
        (200, b"", EmptySeries),
        (
            200,
            b"DATAFLOW,FREQ,REF_AREA,TIME_PERIOD,OBS_VALUE\nBIS:WS_CBPOL(1.0),D,JP,2020-01-01,x\n",
            SourceSchemaError,
        ),
        (
            200,
            b"DATAFLOW,FREQ,REF_AREA,TIME_PERIOD,OBS_VALUE\nBIS:WS_CBPOL(1.0),D,KR,2020-01-01,1\n",
            SourceSchemaError,
        ),
        (200, b"A,B\n1,2\n", SourceSchemaError),
    ],
)
def test_error_answers(status: int, body: bytes, error: type[Exception]) -> None:
    src = sources.get("bis")
    spec = make_spec("bis", "D.JP")
    request = src.build_query(spec.primary, spec, Window(), {})
    with pytest.raises(error):
        src.parse([src.extract(Response(status, body, request), spec.primary, spec)], spec.primary, spec)
