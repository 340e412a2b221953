"""On the replay of the real history as of 2026-03-27: the run, `monitor report` and `alerts backtest` agree on
freshness. The Fed range's data end on 2024-01-31 (stale after 7 days), so no episode of bok_fed_differential
continues past 2024-02-08, and the report counts what the run counts as firing. With Yahoo KRW=X in the replay,
the KRW cards show its 2026-03-27 close (FRED's NY noon rate is known only to 2026-03-23) and name the source."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pandas as pd
import pytest

from monitor.cli import run
from tests.pipeline.test_run import AS_OF, shipped_config
from tests.replay import build_replay_dir

KRWX = "data/real/incoming/yfinance_KRWX_daily_2003-12_2026-08.csv"  # real yfinance download (Date, Close, ...)
FILE_RECEIVER = '[[receivers]]\nname = "files"\nkind = "file"\ndirectory = "{dir}"\n'


def _headline_firing(html: str) -> int:
    match = re.search(r"(\d+) firing, \d+ resolved", html)
    assert match, "the report has no headline count"
    return int(match.group(1))


@pytest.mark.shared
def test_run_report_and_backtest_agree_on_what_is_fresh(shared, tmp_path, capsys) -> None:
    replay = build_replay_dir(shared, tmp_path / "replay")
    spot = replay / "yahoo" / "KRW=X.csv"
    if not spot.exists():  # served here in yf.download(...).to_csv()'s layout until tests/replay.py serves it
        if not (shared / KRWX).is_file():
            pytest.skip(f"{shared / KRWX} is absent")
        raw = pd.read_csv(shared / KRWX)
        head = ["Price,Close,High,Low,Open,Volume", "Ticker" + ",KRW=X" * 5, "Date,,,,,"]
        rows = [f"{r.Date},{r.Close},{r.High},{r.Low},{r.Open},{r.Volume}" for r in raw.itertuples()]
        spot.write_text("\n".join(head + rows) + "\n")
    config = shipped_config(tmp_path, FILE_RECEIVER.format(dir=tmp_path / "mail"))
    run(["run", "--config", str(config), "--as-of", AS_OF, "--replay", str(replay), "--log-format", "json"])
    capsys.readouterr()
    out = tmp_path / "exports" / AS_OF
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
    stale_from = date(2024, 1, 31) + timedelta(days=8)  # DFEDTARU's last date + its 7-day limit + 1
    assert report["signals"], "the 2023 episodes are in the backtest"
    for signal in report["signals"]:
        assert signal["end"] is not None and date.fromisoformat(signal["end"]) <= stale_from, signal
    assert max(date.fromisoformat(s["end"]) for s in report["signals"]) == stale_from


def _risk_firing(summary: dict) -> int:
    """Risk alerts firing and not muted, as the run's report headline counts them (data health apart)."""
    return sum(
        a["state"] == "firing" and not a["suppressed"] and not a["alert"].startswith("inputs_stale")
        for a in summary["alerts"]
    )
