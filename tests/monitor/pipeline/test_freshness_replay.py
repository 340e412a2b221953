"""On the replay of the real history as of 2026-03-27: the run, `monitor report` and `alerts backtest` agree on
freshness. No episode of bok_fed_differential runs on a leg older than its stale limit, the report counts what the
run counts as firing, and the KRW cards show Yahoo KRW=X's 2026-03-27 close (FRED's NY noon rate is known only to
2026-03-23) and name the source."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from monitor.cli import run
from series.store import Store
from tests.replayed import AS_OF, copy_run


def _headline_firing(html: str) -> int:
    headline = html.split('id="headline"')[1].split("</strong>")[0]
    match = re.search(r"(\d+) firing", headline)  # engine.tally: "3 firing, 1 resolved, 10 inputs stale or down"
    assert match, "the report has no headline count"
    return int(match.group(1))


@pytest.mark.shared
@pytest.mark.slow
def test_run_report_and_backtest_agree_on_what_is_fresh(replay_dir, replayed_run, tmp_path, capsys) -> None:
    assert (replay_dir / "yahoo" / "KRW=X.csv").is_file()  # tests/replay.py serves Yahoo KRW=X
    # The session's run of the replay (tests/replayed.py), copied: `monitor report` below writes into it.
    config = copy_run(replayed_run, tmp_path / "run")
    out = tmp_path / "run" / "exports" / AS_OF
    summary = json.loads((out / "run.json").read_text())
    firing = _risk_firing(summary)
    html = (out / "report.html").read_text()
    assert _headline_firing(html) == firing
    # The KRW cards: the freshest value the replay holds, its observation date and its source.
    critical = next(a for a in summary["alerts"] if a["alert"] == "krw_usd_critical")
    assert critical["state"] == "firing" and critical["summary"] == "KRW/USD 1,508 on 2026-03-27 >= 1,500"
    assert "krw_usd_spot from yahoo: observation 2026-03-27" in html
    run_report = {p: p.stat().st_mtime_ns for p in out.rglob("report.html")}

    assert run(["report", "--config", str(config), "--as-of", AS_OF, "--format", "png"]) == 0
    capsys.readouterr()
    # The report written by `monitor report` (wherever it goes: its own name, or over the run's).
    written = [p for p in out.rglob("report.html") if run_report.get(p) != p.stat().st_mtime_ns]
    assert written, "monitor report wrote no report.html"
    assert _headline_firing(written[0].read_text()) == firing  # before: 4, bok_fed_differential on a stale Fed

    assert run(["alerts", "backtest", "--config", str(config), "--rule", "bok_fed_differential", "--json"]) == 0
    [report] = json.loads(capsys.readouterr().out)
    assert report["signals"], "the 2023-2025 episodes are in the backtest"
    # No episode runs on a stale leg: each ends by the day after its legs' last observations pass their limits
    # (the replay's BOK base rate is a month-end value under a 14-day limit, so an episode that lasts a month
    # breaks on the 15th and starts again with the next value; the Fed range is daily, with a 7-day limit).
    with Store.open(tmp_path / "run" / "data" / "monitor.sqlite") as store:
        legs = {sid: store.latest(sid).index for sid in ("bok_rate", "fed_upper")}
    limits = {"bok_rate": 14, "fed_upper": 7}
    for signal in report["signals"]:
        assert signal["end"] is not None, signal
        end = pd.Timestamp(signal["end"])
        for sid, dates in legs.items():
            last = dates[dates < end].max()
            assert end <= last + pd.Timedelta(days=limits[sid] + 1), (signal, sid, last)
    assert any(pd.Timestamp(s["end"]).day == 15 for s in report["signals"])  # a month-long one broke on the 15th


def _risk_firing(summary: dict) -> int:
    """Risk alerts firing and not muted, as the run's report headline counts them (data health apart)."""
    return sum(
        a["state"] == "firing" and not a["suppressed"] and not a["alert"].startswith("inputs_stale")
        for a in summary["alerts"]
    )
