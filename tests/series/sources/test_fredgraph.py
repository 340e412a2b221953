"""fredgraph: both real CSV layouts (current `observation_date` with empty fields, legacy `DATE` with `.`)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pytest

from series import sources
from series.errors import EmptySeries, SourceRequestError, SourceSchemaError
from series.sources.base import Request, Response, Window
from tests.series.sources.support import make_spec

CURRENT = "data/samples/fredgraph_DEXKOUS_observation_date_header_to_2026-03-27.csv"
LEGACY = "data/samples/fredgraph_DEXKOUS_legacy_DATE_header_2016-12-19_to_2022-01-28.csv"


def _independent(path: Path) -> list[tuple[str, float | None]]:
    with path.open(newline="") as f:
        rows = list(csv.reader(f))[1:]
    return [(d, None if v.strip() in ("", ".") else float(v)) for d, v in rows]


def _fetch_body(body: bytes, key: str = "DEXKOUS") -> pd.DataFrame:
    src = sources.get("fredgraph")
    spec = make_spec("fredgraph", key)
    request = src.build_query(spec.primary, spec, Window(), {})
    raw = src.extract(Response(200, body, request), spec.primary, spec)
    return src.parse([raw], spec.primary, spec)


@pytest.mark.parametrize(("name", "rows", "missing"), [(CURRENT, 11730, 494), (LEGACY, 1335, 61)])
def test_real_fredgraph_files_in_both_layouts(shared: Path, name: str, rows: int, missing: int) -> None:
    path = shared / name
    frame = _fetch_body(path.read_bytes())
    expected = _independent(path)
    assert len(frame) == rows == len(expected)
    assert frame["value"].dtype == np.float64 and frame["value"].isna().sum() == missing
    assert [d.strftime("%Y-%m-%d") for d in frame["date"]] == [d for d, _ in expected]
    for (_, want), got in zip(expected, frame["value"], strict=True):
        assert (want is None and np.isnan(got)) or want == got


def test_specific_values(shared: Path) -> None:
    current = _fetch_body((shared / CURRENT).read_bytes()).set_index("date")["value"]
    assert current[pd.Timestamp("1981-04-13")] == 675.40
    assert np.isnan(current[pd.Timestamp("1981-05-25")])  # a US holiday: empty field
    legacy = _fetch_body((shared / LEGACY).read_bytes()).set_index("date")["value"]
    assert legacy[pd.Timestamp("2016-12-19")] == 1187.71
    assert np.isnan(legacy[pd.Timestamp("2016-12-26")])  # "." in the legacy layout
    # The two downloads agree where they overlap (the legacy file has 4-decimal strings such as 1187.7100).
    common = current.index.intersection(legacy.index)
    assert len(common) > 1000
    both = pd.DataFrame({"a": current[common], "b": legacy[common]}).dropna()
    assert (both["a"] == both["b"]).all()  # the same decimal parses to the same float, trailing zeros or not


def test_query_window_and_replay_name() -> None:
    src = sources.get("fredgraph")
    spec = make_spec("fredgraph", "DEXKOUS")
    request = src.build_query(spec.primary, spec, Window(date(2020, 1, 1), date(2020, 12, 31)), {})
    query = parse_qs(urlsplit(request.url).query)
    assert query == {"id": ["DEXKOUS"], "cosd": ["2020-01-01"], "coed": ["2020-12-31"]}
    assert request.replay_name == "fredgraph/DEXKOUS.csv"
    assert urlsplit(request.url).hostname == "fred.stlouisfed.org"


@pytest.mark.parametrize(
    ("body", "error", "match"),
    [
        (b"<!DOCTYPE html><html><body>Are you a robot?</body></html>", SourceSchemaError, "HTML"),
        (b"date,price\n2020-01-01,1\n", SourceSchemaError, "unexpected fredgraph header"),
        (b"observation_date,DEXJPUS\n2020-01-01,1\n", SourceSchemaError, "holds 'DEXJPUS'"),
        (b"observation_date,DEXKOUS\n2020-01-01,abc\n", SourceSchemaError, "non-numeric"),
        (b"observation_date,DEXKOUS\n", EmptySeries, "no observations"),
        (b"observation_date,DEXKOUS\n2020-01-01,\n2020-01-02,.\n", EmptySeries, "no observations"),
    ],
)
def test_bad_bodies_give_typed_errors(body: bytes, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        _fetch_body(body)


def test_unknown_series_is_a_request_error() -> None:
    src = sources.get("fredgraph")
    spec = make_spec("fredgraph", "NOPE")
    request: Request = src.build_query(spec.primary, spec, Window(), {})
    with pytest.raises(SourceRequestError, match="no series 'NOPE'"):
        src.extract(Response(404, b"Not Found", request), spec.primary, spec)
