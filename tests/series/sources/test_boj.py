"""boj: getDataCode JSON (SYNTHETIC fixtures in the documented layout), NEXTPOSITION paging, >= 1 s between calls,
errors both as HTTP status and as STATUS in the body."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pytest

from series import sources
from series.errors import EmptySeries, SourceRequestError, SourceSchemaError
from series.sources.base import Response, Window
from series.sources.boj import boj_date, boj_period
from tests.fault_server import FakeClock, FaultServer, Reply, Seen
from tests.series.sources.support import DATA, fetch_into, live, make_spec, stored

FIXTURE = DATA / "boj_getDataCode_FM01_STRDCLUCON_SYNTHETIC.json"


def _answer(dates: list[int], values: list[float | None], next_position: int | None = None, status: int = 200) -> bytes:
    """A SYNTHETIC getDataCode answer in the documented layout."""
    return json.dumps(
        {
            "STATUS": status,
            "MESSAGEID": "M181000I",
            "MESSAGE": "Successfully completed",
            "DATE": "2026-01-05T09:00:00.000+09:00",
            "PARAMETER": {"FORMAT": "JSON", "LANG": "EN", "DB": "FM01", "STARTDATE": "202401", "ENDDATE": "202401"},
            "NEXTPOSITION": next_position,
            "RESULTSET": [
                {
                    "SERIES_CODE": "STRDCLUCON",
                    "NAME_OF_TIME_SERIES": "Call Rate, Uncollateralized Overnight/Average",
                    "UNIT": "percent per annum",
                    "FREQUENCY": "DAILY",
                    "CATEGORY": "Call Rates",
                    "LAST_UPDATE": 20260105,
                    "VALUES": {"SURVEY_DATES": dates, "VALUES": values},
                }
            ],
        }
    ).encode()


def _error(status: int, message_id: str, message: str) -> bytes:  # SYNTHETIC error body
    return json.dumps({"STATUS": status, "MESSAGEID": message_id, "MESSAGE": message, "DATE": "2026-01-05"}).encode()


def test_parse_synthetic_fixture() -> None:
    src = sources.get("boj")
    spec = make_spec("boj", "FM01/STRDCLUCON", freq="B")
    request = src.build_query(spec.primary, spec, Window(date(2024, 3, 1), date(2024, 3, 31)), {})
    frame = src.parse(
        [src.extract(Response(200, FIXTURE.read_bytes(), request), spec.primary, spec)], spec.primary, spec
    )
    assert frame["value"].dtype == np.float64 and len(frame) == 6
    by_date = frame.set_index("date")["value"]
    assert by_date[pd.Timestamp("2024-03-15")] == -0.007
    assert np.isnan(by_date[pd.Timestamp("2024-03-20")])  # null: a holiday
    assert by_date[pd.Timestamp("2024-03-21")] == 0.077
    query = parse_qs(urlsplit(request.url).query)
    assert query == {
        "format": ["json"],
        "lang": ["en"],
        "db": ["FM01"],
        "code": ["STRDCLUCON"],  # without the DB prefix
        "startDate": ["202403"],
        "endDate": ["202403"],
    }
    assert request.replay_name == "boj/FM01_STRDCLUCON.json"


def test_nextposition_paging_and_one_second_spacing(fault_server: FaultServer, tmp_path: Path) -> None:
    def answer(seen: Seen) -> Reply:
        if "startPosition" not in seen.query:
            return Reply(200, _answer([20240104, 20240105], [-0.01, -0.012], next_position=3))
        assert seen.query["startPosition"] == ["3"]
        return Reply(200, _answer([20240109, 20240110], [-0.011, None]))

    fault_server.route("/api/v1/getDataCode", answer)
    clock = FakeClock()
    spec = make_spec("boj", "FM01/STRDCLUCON", freq="B", start=date(2024, 1, 1))
    outcome = fetch_into(tmp_path / "s.sqlite", spec, live(fault_server, "boj", clock), {}, as_of=date(2024, 1, 10))
    assert outcome.ok and outcome.added == 3, outcome
    assert len(fault_server.requests) == 2
    assert clock.sleeps == [1.0]  # BOJ: at least one second between calls
    assert stored(tmp_path / "s.sqlite").tolist() == [-0.01, -0.012, -0.011]


def test_status_500_in_the_body_is_retried(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.script(Reply(200, _error(500, "M181090S", "Internal error")), Reply(200, FIXTURE.read_bytes()))
    spec = make_spec("boj", "FM01/STRDCLUCON", freq="B")
    outcome = fetch_into(
        tmp_path / "s.sqlite", spec, live(fault_server, "boj", FakeClock()), {}, as_of=date(2024, 3, 31)
    )
    assert outcome.ok and outcome.added == 5 and len(fault_server.requests) == 2


@pytest.mark.parametrize(
    ("status", "body", "error", "match"),
    [
        (200, _error(400, "M181005E", "Invalid DB name"), SourceRequestError, "DB/CODE"),
        (400, _error(400, "M181005E", "Invalid DB name"), SourceRequestError, "Invalid DB"),
        (404, b"<html>Not Found</html>", SourceRequestError, "404"),
        (200, b"{broken", SourceSchemaError, "not JSON"),
        (200, b'{"RESULTSET": []}', SourceSchemaError, "STATUS"),
        (200, _answer([], []), EmptySeries, "only missing"),
        (200, _answer([20240104], [None]), EmptySeries, "only missing"),
        (200, _answer([20240104, 20240105], [1.0]), SourceSchemaError, "SURVEY_DATES"),
    ],
)
def test_error_answers(status: int, body: bytes, error: type[Exception], match: str) -> None:
    src = sources.get("boj")
    spec = make_spec("boj", "FM01/STRDCLUCON", freq="B")
    request = src.build_query(spec.primary, spec, Window(), {})
    with pytest.raises(error, match=match):
        src.parse([src.extract(Response(status, body, request), spec.primary, spec)], spec.primary, spec)


def test_empty_resultset_is_empty() -> None:
    src = sources.get("boj")
    spec = make_spec("boj", "FM01/STRDCLUCON", freq="B")
    request = src.build_query(spec.primary, spec, Window(), {})
    body = json.loads(FIXTURE.read_bytes())
    body["RESULTSET"] = []
    with pytest.raises(EmptySeries, match="no series"):
        src.parse(
            [src.extract(Response(200, json.dumps(body).encode(), request), spec.primary, spec)], spec.primary, spec
        )


def test_survey_date_shapes() -> None:
    assert boj_date(20240315, "DAILY") == pd.Timestamp("2024-03-15")
    assert boj_date(202403, "MONTHLY") == pd.Timestamp("2024-03-01")
    assert boj_date(202502, "QUARTERLY") == pd.Timestamp("2025-04-01")
    assert boj_date(2025, "ANNUAL") == pd.Timestamp("2025-01-01")
    with pytest.raises(SourceSchemaError):
        boj_date(202505, "QUARTERLY")
    assert boj_period(date(2025, 8, 9), "Q") == "202503" and boj_period(date(2025, 8, 9), "B") == "202508"
