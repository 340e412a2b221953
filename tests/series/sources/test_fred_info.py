"""FRED series metadata (`fred/series`): last_updated and observation_end, through fredapi and the same
record/replay path as the observations. The XML is DERIVED from the real JSON sample
(../shared/data/samples/fred_api_series_DFF.json) by keeping the same attributes, since fredapi reads XML."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from xml.sax.saxutils import quoteattr

from monitor.cli import run

SAMPLE = "data/samples/fred_api_series_DFF.json"


def derived_xml(shared: Path) -> bytes:
    data = json.loads((shared / SAMPLE).read_text())
    series = data["seriess"][0]
    attrs = " ".join(f"{k}={quoteattr(str(v))}" for k, v in series.items())
    head = f'realtime_start="{data["realtime_start"]}" realtime_end="{data["realtime_end"]}"'
    return f'<?xml version="1.0" encoding="utf-8" ?>\n<seriess {head}>\n  <series {attrs}/>\n</seriess>\n'.encode()


def config(tmp: Path) -> Path:
    path = tmp / "config.toml"
    path.write_text(
        textwrap.dedent("""\
        [[series]]
        id = "fed_effective"
        label = "Fed funds effective rate"
        source = "fred"
        key = "DFF"
        fallback = [{ source = "fredgraph", key = "DFF" }]
        freq = "D"
        units = "%"

        [[series]]
        id = "kospi"
        label = "KOSPI"
        source = "yahoo"
        key = "^KS11"
        freq = "B"
        units = "points"
        """)
    )
    return path


def test_series_info_reads_last_updated_from_a_replayed_answer(shared, tmp_path, capsys):
    replay = tmp_path / "replay" / "fred"
    replay.mkdir(parents=True)
    (replay / "DFF.info.xml").write_bytes(derived_xml(shared))
    assert (
        run(
            ["series", "info", "fed_effective", "--config", str(config(tmp_path)), "--replay", str(tmp_path / "replay")]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "fed_effective at fred (DFF):" in out
    assert "title: Federal Funds Effective Rate" in out
    assert "observation_end: 2024-06-25" in out and "last_updated: 2024-06-26 15:17:50-05" in out
    assert "frequency: Daily, 7-Day" in out and "units: Percent" in out
    assert "may be discontinued or lagging" in out  # the sample is from 2024


def test_an_error_answer_and_a_source_without_metadata_are_one_line(tmp_path, capsys):
    replay = tmp_path / "replay" / "fred"
    replay.mkdir(parents=True)
    (replay / "DFF.info.xml").write_bytes(b'<error code="400" message="Bad Request.  The series does not exist."/>')
    cfg = str(config(tmp_path))
    assert run(["series", "info", "fed_effective", "--config", cfg, "--replay", str(tmp_path / "replay")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "The series does not exist" in err[0] and "Traceback" not in err[0]
    assert run(["series", "info", "kospi", "--config", cfg]) == 2
    assert "none of the sources of kospi (yahoo) publishes series metadata" in capsys.readouterr().err


def test_without_a_key_it_says_which_one(tmp_path, capsys):
    assert run(["series", "info", "fed_effective", "--config", str(config(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert "fed_effective: fred needs FRED_API_KEY for its metadata" in err
