"""fred (fredapi): observations parsed by fredapi from XML DERIVED from the real JSON sample; ALFRED vintages in
realtime windows under the 2000-vintage cap; FRED's error bodies; fredapi's urlopen routed through the policy."""

from __future__ import annotations

import itertools
import json
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import fredapi.fred
import numpy as np
import pandas as pd
import pytest

from series import sources
from series.errors import SourceAuthError, SourceRequestError, SourceSchemaError, SourceThrottled
from series.sources.base import Response, Window
from series.sources.fred import VINTAGES_PER_WINDOW, fred_error, merge_releases, realtime_windows
from tests.fault_server import FakeClock, FaultServer, Reply, Seen
from tests.series.sources.support import fetch_into, fred_xml_from_json, live, make_spec, store_dump, stored

SAMPLE = "data/samples/fred_api_series_observations_DFF_20230101_20230606.json"
KEY = "0123456789abcdef0123456789abcdef"
ENV = {"FRED_API_KEY": KEY}


def test_fredapi_parses_xml_derived_from_the_real_json(shared: Path) -> None:
    """The XML is DERIVED (attribute-preserving rewrite of the real JSON): fredapi only reads XML."""
    path = shared / SAMPLE
    src = sources.get("fred")
    spec = make_spec("fred", "DFF")
    request = src.build_query(spec.primary, spec, Window(date(2023, 1, 1), date(2023, 6, 6)), ENV)
    raw = src.extract(Response(200, fred_xml_from_json(path), request), spec.primary, spec)
    frame = src.parse([raw], spec.primary, spec)
    expected = json.loads(path.read_bytes())["observations"]
    assert len(frame) == 157 == len(expected)
    assert frame["value"].dtype == np.float64
    assert [d.strftime("%Y-%m-%d") for d in frame["date"]] == [o["date"] for o in expected]
    assert frame["value"].tolist() == [float(o["value"]) for o in expected]
    by_date = frame.set_index("date")["value"]
    assert by_date[pd.Timestamp("2023-01-01")] == 4.33
    assert by_date[pd.Timestamp("2023-06-06")] == 5.08
    assert "realtime_start" not in frame  # latest values only: point in time comes from release_lag_days


def test_live_fetch_goes_through_fredapi_and_the_policy(
    shared: Path, fault_server: FaultServer, tmp_path: Path
) -> None:
    fault_server.route("/fred/series/observations", Reply(200, fred_xml_from_json(shared / SAMPLE)))
    clock = FakeClock()
    spec = make_spec("fred", "DFF", start=date(2023, 1, 1))
    outcome = fetch_into(tmp_path / "s.sqlite", spec, live(fault_server, "fred", clock), ENV, as_of=date(2023, 6, 6))
    assert outcome.ok and outcome.added == 157, outcome
    (seen,) = fault_server.requests
    assert seen.query["series_id"] == ["DFF"] and seen.query["api_key"] == [KEY]
    assert seen.query["observation_start"] == ["2023-01-01"] and seen.query["observation_end"] == ["2023-06-06"]
    assert stored(tmp_path / "s.sqlite")[pd.Timestamp("2023-03-23")] == 4.83
    assert KEY not in store_dump(tmp_path / "s.sqlite")
    assert fredapi.fred.urlopen.__module__ == "urllib.request"  # restored after the call


# -- ALFRED vintages --------------------------------------------------------------------------------------------
def test_realtime_windows_stay_under_the_cap() -> None:
    vintages = [date(2008, 1, 1) + timedelta(days=i) for i in range(4500)]
    windows = realtime_windows(vintages, date(2008, 1, 1), None)
    assert len(windows) == 3
    for (_, end), (next_start, _) in itertools.pairwise(windows):
        assert date.fromisoformat(end) + timedelta(days=1) == date.fromisoformat(next_start)
    for start, end in windows:
        inside = [v for v in vintages if start <= v.isoformat() <= end]
        assert 0 < len(inside) <= VINTAGES_PER_WINDOW < 2000
    assert windows[-1][1] == "9999-12-31"
    assert realtime_windows(vintages, date(2020, 1, 1), date(2020, 12, 31)) == [("2020-01-01", "2020-12-31")]
    assert realtime_windows(vintages, date(2030, 1, 1), None) == []


class AlfredStub:
    """SYNTHETIC ALFRED: monthly observations 2010-2022, each first released 5 days after its date; 2011-03-01 is
    revised on 2020-06-15. Vintage dates every calendar day (4,748 of them: more than two windows' worth).
    Answers like FRED: rows overlapping the realtime window, realtime_start clipped to the window's start."""

    first_vintage, last_vintage = date(2010, 1, 1), date(2022, 12, 31)

    def __init__(self) -> None:
        self.versions: dict[date, list[tuple[date, date, float]]] = {}
        for i in range(156):
            day = date(2010 + i // 12, i % 12 + 1, 1)
            value = round(1 + i / 100, 2)
            known = day + timedelta(days=5)
            if day == date(2011, 3, 1):
                self.versions[day] = [(known, date(2020, 6, 14), value), (date(2020, 6, 15), date(9999, 12, 31), 2.5)]
            else:
                self.versions[day] = [(known, date(9999, 12, 31), value)]

    def vintagedates(self, seen: Seen) -> Reply:
        days = (self.last_vintage - self.first_vintage).days + 1
        root = ET.Element("vintage_dates", {"count": str(days), "offset": "0", "limit": "10000"})
        for i in range(days):
            ET.SubElement(root, "vintage_date").text = (self.first_vintage + timedelta(days=i)).isoformat()
        return Reply(200, ET.tostring(root))

    def observations(self, seen: Seen) -> Reply:
        q = {k: v[0] for k, v in seen.query.items()}
        rs, re = date.fromisoformat(q["realtime_start"]), date.fromisoformat(q["realtime_end"])
        lo, hi = date.fromisoformat(q["observation_start"]), date.fromisoformat(q["observation_end"])
        root = ET.Element("observations", {"realtime_start": q["realtime_start"], "realtime_end": q["realtime_end"]})
        rows = 0
        for day, versions in sorted(self.versions.items()):
            if not lo <= day <= hi:
                continue
            for start, end, value in versions:
                if start <= re and end >= rs:
                    attrs = {"realtime_start": max(start, rs).isoformat(), "realtime_end": min(end, re).isoformat()}
                    ET.SubElement(root, "observation", {**attrs, "date": day.isoformat(), "value": f"{value:g}"})
                    rows += 1
        root.set("count", str(rows))
        return Reply(200, ET.tostring(root))


def test_vintages_are_fetched_in_windows_and_merged_to_first_releases(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    stub = AlfredStub()
    fault_server.route("/fred/series/vintagedates", stub.vintagedates)
    fault_server.route("/fred/series/observations", stub.observations)
    clock = FakeClock()
    spec = make_spec("fred", "TEST", freq="M", params={"vintages": True}, start=date(2010, 1, 1))
    store = tmp_path / "s.sqlite"
    outcome = fetch_into(store, spec, live(fault_server, "fred", clock), ENV, as_of=date(2022, 12, 31))
    assert outcome.ok, outcome
    windows = [r.query for r in fault_server.requests if r.path.endswith("/observations")]
    assert len(windows) == 3  # 4,748 vintages in windows of at most 1,990
    for q in windows:
        span = date.fromisoformat(q["realtime_end"][0]) - date.fromisoformat(q["realtime_start"][0])
        assert span.days + 1 <= VINTAGES_PER_WINDOW  # one vintage a day here: days = vintages
        assert q["observation_start"] == ["2010-01-01"]  # added by our opener to fredapi's URL
    assert clock.sleeps.count(1.0) == 3  # FRED: at most one request per second
    assert outcome.added == 156 and outcome.revised == 1
    from series.store import Store

    with Store.open(store) as s:
        vintages = s.vintages("probe")
    revised = vintages[vintages["date"] == pd.Timestamp("2011-03-01")].sort_values("realtime_start")
    assert revised["value"].tolist() == [1.14, 2.5]
    assert [d.date() for d in pd.to_datetime(revised["realtime_start"])] == [date(2011, 3, 6), date(2020, 6, 15)]
    other = vintages[vintages["date"] == pd.Timestamp("2019-07-01")]
    assert len(other) == 1 and pd.Timestamp(other["realtime_start"].iloc[0]).date() == date(2019, 7, 6)


def test_merge_keeps_first_release_of_each_value_across_windows() -> None:
    window1 = pd.DataFrame(
        {"realtime_start": ["2020-01-02", "2020-01-03"], "date": ["2020-01-01", "2020-01-02"], "value": [1.0, 2.0]},
        dtype=object,
    )
    window2 = pd.DataFrame(  # the same values again, clipped to the second window's start; one revision
        {
            "realtime_start": ["2021-01-01", "2021-01-01", "2021-02-01"],
            "date": ["2020-01-01", "2020-01-02", "2020-01-02"],
            "value": [1.0, 2.0, 2.2],
        },
        dtype=object,
    )
    out = merge_releases([window1, window2])
    assert out.to_dict("list") == {
        "date": [pd.Timestamp("2020-01-01"), pd.Timestamp("2020-01-02"), pd.Timestamp("2020-01-02")],
        "value": [1.0, 2.0, 2.2],
        "realtime_start": [pd.Timestamp("2020-01-02"), pd.Timestamp("2020-01-03"), pd.Timestamp("2021-02-01")],
    }


# -- errors -----------------------------------------------------------------------------------------------------
# SYNTHETIC error bodies in FRED's documented layouts (SOURCES.md section 1a).
NOT_REGISTERED = (
    b'<?xml version="1.0" encoding="utf-8" ?>\n<error code="400" message="Bad Request.  The value for variable '
    b'api_key is not registered.  Read https://fred.stlouisfed.org/docs/api/api_key.html for more information."/>'
)
NO_SERIES = (
    b'<?xml version="1.0" encoding="utf-8" ?>\n<error code="400" message="Bad Request.  The series does not exist."/>'
)
TOO_MANY_VINTAGES = (
    b'<error code="400" message="Bad Request. There are 2004 vintage dates in the specified real-time period, '
    b'which exceeds the maximum number of vintage dates allowed (2000)."/>'
)


def test_fred_error_bodies_map_to_typed_errors() -> None:
    assert isinstance(fred_error(400, NOT_REGISTERED), SourceAuthError)
    assert isinstance(fred_error(400, NO_SERIES), SourceRequestError)
    assert isinstance(fred_error(400, TOO_MANY_VINTAGES), SourceRequestError)
    assert isinstance(fred_error(429, b'{"error_code": 429, "error_message": "Too Many Requests."}'), SourceThrottled)
    assert "check the key" in str(fred_error(400, NO_SERIES))


def test_an_error_body_with_status_200_is_still_an_error() -> None:
    src = sources.get("fred")
    spec = make_spec("fred", "NOPE")
    request = src.build_query(spec.primary, spec, Window(), ENV)
    with pytest.raises(SourceRequestError, match="does not exist"):
        src.extract(Response(200, NO_SERIES, request), spec.primary, spec)
    with pytest.raises(SourceSchemaError, match="not FRED XML"):
        src.extract(Response(200, b"{not xml", request), spec.primary, spec)


def test_a_truncated_answer_is_refused(shared: Path) -> None:
    body = fred_xml_from_json(shared / SAMPLE).replace(b'count="157"', b'count="100157"')
    src = sources.get("fred")
    spec = make_spec("fred", "DFF")
    request = src.build_query(spec.primary, spec, Window(), ENV)
    with pytest.raises(SourceSchemaError, match="truncated"):
        src.extract(Response(200, body, request), spec.primary, spec)


def test_urlopen_is_restored_after_a_failing_call(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.script(Reply(400, NOT_REGISTERED))
    spec = make_spec("fred", "DFF")
    outcome = fetch_into(tmp_path / "s.sqlite", spec, live(fault_server, "fred", FakeClock()), ENV)
    assert outcome.error_kind == "auth" and "FRED_API_KEY" in outcome.message
    assert fredapi.fred.urlopen.__module__ == "urllib.request"
