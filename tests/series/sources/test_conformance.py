"""The source contract, checked for every registered source: a params model that refuses unknown keys, declared
env_keys, a replay name under `<source>/`, secrets kept out of the URL shown, extract + parse giving float64
values on normalised dates, and only typed errors for garbage. A newly registered source without a fixture here
fails the test: add one. Inline bodies are SYNTHETIC, in each source's documented layout."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, ValidationError

from series import sources
from series.errors import SourceError
from series.sources.base import Request, Response, Window
from tests.series.sources.support import DATA, make_spec


@dataclass(frozen=True)
class Fixture:
    key: str
    body: bytes
    params: dict[str, object]
    freq: str = "D"


FIXTURES = {
    "fred": Fixture(
        "DFF",
        b'<observations realtime_start="2024-06-27" realtime_end="2024-06-27" count="2" offset="0" limit="100000">'
        b'<observation realtime_start="2024-06-27" realtime_end="2024-06-27" date="2023-01-01" value="4.33"/>'
        b'<observation realtime_start="2024-06-27" realtime_end="2024-06-27" date="2023-01-02" value="."/>'
        b"</observations>",
        {"vintages": False},
    ),
    "fredgraph": Fixture("DEXKOUS", b"observation_date,DEXKOUS\n2026-03-26,1501.20\n2026-03-27,\n", {}),
    "bis": Fixture("D.JP", (DATA / "bis_WS_CBPOL_D.JP_sdmx-csv-1.0_SYNTHETIC.csv").read_bytes(), {}),
    "ecos": Fixture(
        "722Y001/0101000", (DATA / "ecos_StatisticSearch_722Y001_0101000_D_SYNTHETIC.json").read_bytes(), {"cycle": "D"}
    ),
    "boj": Fixture("FM01/STRDCLUCON", (DATA / "boj_getDataCode_FM01_STRDCLUCON_SYNTHETIC.json").read_bytes(), {}, "B"),
    "yahoo": Fixture(
        "^KS11",
        b"Price,Close,High,Low,Open,Volume\nTicker,^KS11,^KS11,^KS11,^KS11,^KS11\nDate,,,,,\n"
        b"2026-03-05,5583.89990234375,5715.2998046875,5248.1298828125,5250.919921875,1660700\n",
        {"field": "Close"},
        "B",
    ),
    "krx": Fixture(
        "KOSPI",
        b'{"output":[{"TRD_DD":"2021/01/22","TRDVAL1":"-1,364","TRDVAL2":"24","TRDVAL3":"1,608","TRDVAL4":"-268",'
        b'"TRDVAL_TOT":"0"}],"CURRENT_DATETIME":"2026.01.25 PM 08:28:49"}',
        {"investor": "foreign"},
        "B",
    ),
    "customs": Fixture("8542", (DATA / "customs_Itemtrade_8542_SYNTHETIC.xml").read_bytes(), {"flow": "export"}, "M"),
    "mof": Fixture(
        "10Y",
        b"Interest Rate,,,(Unit : %)\r\nDate,2Y,10Y,40Y\r\n2020/3/26,1.25,2.31,-\r\n2020/3/27,1.26,-,3.6\r\n",
        {"lang": "en"},
        "B",
    ),
    "csv": Fixture("/srv/data/inhouse.csv", b"date,value\n2024-01-31,1.5\n2024-02-29,\n", {}),
}
# Keys check-config must refuse (None: the source takes any key, e.g. a file path).
BAD_KEYS: dict[str, str | None] = {
    "fred": "DEX KOUS",
    "fredgraph": "DEXKOUS&cosd=1",
    "bis": "JP",
    "ecos": "722Y001",
    "boj": "IR01/IR01'MADR1Z@D",
    "yahoo": "^KS 11",
    "krx": "NASDAQ",
    "customs": "85-42",
    "mof": "11Y",
    "csv": None,
}
GARBAGE = [b"", b"\x00\x01\xfe garbage", b"{}", b"<x/>", b"a,b\n1,2\n", b"<html><body>Service down</body></html>"]
PLACEHOLDER = "PLACEHOLDER+secret/VALUE=="


@pytest.fixture(params=sources.names())
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _setup(name: str) -> tuple[sources.Source, Fixture, Request]:
    if name not in FIXTURES:
        pytest.fail(f"source {name!r} is registered but has no conformance fixture: add one to FIXTURES")
    src, fx = sources.get(name), FIXTURES[name]
    spec = make_spec(name, fx.key, freq=fx.freq, params=fx.params)
    env = {k: PLACEHOLDER for k in src.env_keys}
    return src, fx, src.build_query(spec.primary, spec, Window(date(2020, 1, 1), date(2020, 12, 31)), env)


def test_declarations(name: str) -> None:
    src = sources.get(name)
    assert src.name == name and src.description.strip()
    assert isinstance(src.env_keys, tuple) and all(re.fullmatch(r"[A-Z][A-Z0-9_]*", k) for k in src.env_keys)
    assert isinstance(src.revision_days, int) and src.revision_days >= 0
    model = src.params_model
    assert model is not None and issubclass(model, BaseModel)
    with pytest.raises(ValidationError):
        model.model_validate({"no_such_param": 1})
    model.model_validate(FIXTURES[name].params if name in FIXTURES else {})
    assert isinstance(src.status_note(), str)


def test_keys_are_checked(name: str) -> None:
    src = sources.get(name)
    assert name in BAD_KEYS, f"add a bad key for {name!r} to BAD_KEYS"
    assert src.key_problem(FIXTURES[name].key) == ""
    bad = BAD_KEYS[name]
    if bad is not None:
        assert src.key_problem(bad), f"{name} accepts {bad!r}"


def test_query_names_a_replay_file_and_hides_secrets(name: str) -> None:
    src, _, request = _setup(name)
    assert request.replay_name.startswith(f"{name}/")
    assert re.fullmatch(rf"{name}/[^/]+\.(csv|json|xml)", request.replay_name), request.replay_name
    assert "/" not in request.replay_name.split("/", 1)[1]
    if src.env_keys:
        assert PLACEHOLDER not in request.redacted_url
        assert all(form not in request.redacted_url for form in request.secrets)


def test_extract_and_parse_give_float_values_on_normalised_dates(name: str) -> None:
    src, fx, request = _setup(name)
    spec = make_spec(name, fx.key, freq=fx.freq, params=fx.params)
    frame = src.parse([src.extract(Response(200, fx.body, request), spec.primary, spec)], spec.primary, spec)
    assert {"date", "value"} <= set(frame.columns) and len(frame) > 0
    assert frame["value"].dtype == np.float64
    assert pd.api.types.is_datetime64_dtype(frame["date"])
    assert (frame["date"] == frame["date"].dt.normalize()).all()
    assert frame["value"].notna().any()


@pytest.mark.parametrize("body", GARBAGE, ids=lambda b: repr(b[:12]))
def test_garbage_gives_only_typed_errors(name: str, body: bytes) -> None:
    src, fx, request = _setup(name)
    spec = make_spec(name, fx.key, freq=fx.freq, params=fx.params)
    try:
        src.parse([src.extract(Response(200, body, request), spec.primary, spec)], spec.primary, spec)
    except SourceError:
        pass  # typed: the fetch records it and moves on
    else:
        pytest.fail(f"{name} accepted {body!r} as data")
