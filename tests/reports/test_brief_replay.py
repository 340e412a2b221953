"""The 07:30 brief on the real data: the daily run replayed as of 2026-03-27 opens its report and its e-mail with
the overnight paragraph and table, whose numbers match the raw replay files read independently with pandas."""

from __future__ import annotations

import email
import html
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from monitor.config import load_config
from reports.context import load_brief
from reports.overnight import WINDOW
from series.store import Store

AS_OF = date(2026, 3, 27)


@pytest.fixture
def replayed(replayed_run: Path) -> Path:
    return replayed_run  # the session's run of the shipped config on the replay (tests/replayed.py)


def us_10y_from_the_raw_file(replay: Path) -> tuple[pd.Timestamp, float, float, float]:
    raw = pd.read_csv(replay / "fredgraph" / "DGS10.csv", na_values=".", parse_dates=["DATE"], index_col="DATE")
    s = raw["DGS10"].dropna()
    s = s[s.index <= pd.Timestamp("2026-03-26")]  # FRED publishes a day's yield the next business day
    d = s.diff().dropna()
    before = d.iloc[-WINDOW - 1 : -1]
    return s.index[-1], float(s.iloc[-1]), float(d.iloc[-1]), float((d.iloc[-1] - before.mean()) / before.std())


def test_the_overnight_moves_match_the_raw_files(replayed, replay_dir):
    config = load_config(replayed / "config.toml")
    with Store.open(replayed / "data" / "monitor.sqlite") as store:
        brief = load_brief(store, config.series_specs(), AS_OF, preferred=config.preferred_specs())
    moves = {m.series_id: m for m in brief.moves}
    day, value, change, z = us_10y_from_the_raw_file(replay_dir)
    m = moves["us_10y"]
    assert (pd.Timestamp(m.date), m.value) == (day, value)
    assert m.change == pytest.approx(change, rel=1e-9) and m.z == pytest.approx(z, rel=1e-9)  # float noise only
    assert "stale" in moves["bok_rate"].stale  # the replay's BOK rate ends 2025-12-31
    assert moves["foreign_net_kospi"].usd.endswith("billion")


def test_the_report_and_the_email_open_with_the_paragraph(replayed):
    report = (replayed / "exports" / AS_OF.isoformat() / "report.html").read_text()
    found = re.search(r'<p id="narrative">(.*?)</p>', report, re.S)
    assert found, "no narrative paragraph in the report"
    text = html.unescape(found.group(1))
    config = load_config(replayed / "config.toml")
    with Store.open(replayed / "data" / "monitor.sqlite") as store:
        brief = load_brief(store, config.series_specs(), AS_OF, preferred=config.preferred_specs())
    # The paragraph leads with the largest move by |z| (each move's z is checked against the raw files above).
    top = max((m for m in brief.moves if m.z is not None and not m.stale), key=lambda m: abs(m.z))
    assert text.startswith(f"As of 2026-03-27, the largest moves were {brief.short[top.series_id]} ")
    assert text.count("(unverified)") <= 1
    assert "Alerts: 3 firing, 1 resolved" in text and "Stale, not overnight: BOK" in text
    assert report.index('id="narrative"') < report.index('id="overnight"') < report.index('id="freshness"')
    (eml,) = (replayed / "mail").glob("*.eml")
    body = email.message_from_bytes(eml.read_bytes())
    plain = next(p for p in body.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    moves = text[: text.index(" Alerts:")]  # the alerts sentence counts what this receiver is told
    assert " ".join(moves.split()) in " ".join(plain.split()) and "Overnight (last value" in plain
