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


# SYNTHETIC bodies in fredgraph's current layout (`observation_date,<ID>`, an empty field on a US holiday), made
# here: ../shared has no S&P 500 or broad-dollar download, and the real VIXCLS and DGS2 histories reach the replay
# through tests/replay.py. What is checked is the configured route: each series' id in the request, its values.
NEW_KEYLESS = {"vix": "VIXCLS", "us_2y": "DGS2", "sp500": "SP500", "usd_broad": "DTWEXBGS"}


@pytest.mark.parametrize(("sid", "key"), sorted(NEW_KEYLESS.items()))
def test_the_keyless_fred_series_of_the_config_go_through_fredgraph(sid: str, key: str) -> None:
    from monitor.config import load_config

    repo = Path(__file__).resolve().parents[3]
    spec = next(s for s in load_config(repo / "config.toml").series_specs() if s.id == sid)
    assert (spec.primary.source, spec.primary.key) == ("fredgraph", key)
    body = f"observation_date,{key}\n2026-07-02,101.25\n2026-07-03,\n2026-07-06,99.5\n".encode()
    src = sources.get("fredgraph")
    request = src.build_query(spec.primary, spec, Window(), {})
    assert parse_qs(urlsplit(request.url).query)["id"] == [key]
    frame = src.parse([src.extract(Response(200, body, request), spec.primary, spec)], spec.primary, spec)
    assert [d.strftime("%Y-%m-%d") for d in frame["date"]] == ["2026-07-02", "2026-07-03", "2026-07-06"]
    values = frame["value"].tolist()
    assert values[0] == 101.25 and np.isnan(values[1]) and values[2] == 99.5
