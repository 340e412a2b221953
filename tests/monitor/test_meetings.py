"""The central-bank calendar: its rows against the compiled decision lists, every verified decision against the
published policy-rate data in ../shared, the next meetings as of the acceptance dates, and that a bank whose last
listed meeting is in the past is said out loud (check-config warns; the report and e-mail say so)."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from monitor.meetings import CalendarError, decisions, meetings, next_meetings, parse

INCOMING = Path("data/real/incoming")
COMPILED = {
    "Fed": ("compiled_fomc_decisions_2024-01_2026-12_schedule_2027.csv", "target_lower", "target_upper"),
    "BOJ": ("compiled_boj_mpm_decisions_2024-01_2026-12.csv", "policy_rate_lower", "policy_rate_upper"),
    "BOK": ("compiled_bok_mpb_rate_decisions_2024-01_2026-11.csv", "base_rate_after", "base_rate_after"),
}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_every_bank_is_listed_through_the_day_the_file_was_compiled() -> None:
    """The file as compiled on 2026-11-26: each bank has a meeting on or after that day, the Fed through 2027 (its
    2027 schedule was published; the BOJ's and BOK's were not found, ../shared INCOMING.md section 4)."""
    compiled = date(2026, 11, 26)
    last = {b: max(m.date for m in meetings() if m.bank == b) for b in ("Fed", "BOJ", "BOK")}
    assert min(last.values()) >= compiled, last
    assert last["Fed"].year == 2027


def test_check_config_warns_when_a_bank_has_no_meeting_ahead(monkeypatch, capsys) -> None:
    """Keeping the file current is the user's signal, not a CI failure on a calendar date: `check-config` warns
    (exit 0) from the day after a bank's last listed meeting, in the sentence the report and e-mail use, and is
    silent while every bank has one ahead. The clock is the only thing replaced."""
    from datetime import datetime

    import monitor.cli.config_cmd as config_cmd
    from monitor.cli import run
    from monitor.meetings import CALENDAR_FILE, calendar_gap

    last_bok = max(m.date for m in meetings() if m.bank == "BOK")
    config = Path(__file__).resolve().parents[2] / "config.toml"  # the shipped config

    def on(day: date) -> str:
        class Clock(datetime):
            @classmethod
            def now(cls, tz=None):  # type: ignore[override]
                return datetime(day.year, day.month, day.day, 7, 30, tzinfo=tz)

        monkeypatch.setattr(config_cmd, "datetime", Clock)
        assert run(["check-config", "--config", str(config)]) == 0
        return capsys.readouterr().err

    assert on(last_bok) == ""
    after = last_bok + timedelta(days=1)
    err = on(after)
    assert err.strip() == f"warning: {calendar_gap(after)}"
    assert "BOK" in err and CALENDAR_FILE in err


@pytest.mark.parametrize("bank", ["Fed", "BOJ", "BOK"])
def test_rows_match_the_compiled_decision_lists(shared: Path, bank: str) -> None:
    name, lower, upper = COMPILED[bank]
    compiled = _rows(shared / INCOMING / name)
    ours = [m for m in meetings() if m.bank == bank]
    assert [m.date.isoformat() for m in ours] == [r["decision_date"] for r in compiled]
    for m, r in zip(ours, compiled, strict=True):
        assert m.decision == r["decision"]
        assert m.change_bp == (int(r["change_bp"]) if r["change_bp"] else None)
        assert m.rate_lower == (float(r[lower]) if r[lower] else None)
        assert m.rate_upper == (float(r[upper]) if r[upper] else None)
        # Verified only where data confirms it (evidence "data..."), never on press or repo notes alone.
        assert m.verified == r["evidence"].startswith("data"), m
        assert m.source.startswith(
            ("https://www.federalreserve.gov/", "https://www.boj.or.jp/", "https://www.bok.or.kr/")
        )


def test_verified_fed_decisions_match_the_target_range_the_day_after(shared: Path) -> None:
    cache = json.loads((shared / INCOMING / "fredapi_cache_33series_2021-05_2026-08.json").read_text())["series"]
    upper, lower = dict(cache["DFEDTARU"]), dict(cache["DFEDTARL"])
    checked = 0
    for m in decisions("Fed"):
        if not m.verified:
            continue
        day = (m.date + timedelta(days=1)).isoformat()  # the range takes effect the day after the decision
        assert (lower[day], upper[day]) == (m.rate_lower, m.rate_upper), m
        checked += 1
    assert checked == 21  # 2024-01 .. 2026-07


def test_verified_boj_decisions_match_the_bis_policy_rate(shared: Path) -> None:
    rates = {
        r["DATE"]: float(r["CLOSE"])
        for r in _rows(shared / INCOMING / "bis_cbpol_JP_boj_policy_rate_daily_2021-08_2026-08.csv")
    }
    checked = 0
    for m in decisions("BOJ"):
        if not m.verified:
            continue
        assert m.rate_lower is not None and m.rate_upper is not None
        # The first BIS day more than a day after the decision (a change takes effect 1-3 days later); BIS stores
        # the 0-0.1% range of 2024 as its midpoint.
        after = min(d for d in rates if d > (m.date + timedelta(days=3)).strftime("%Y%m%d"))
        assert rates[after] == pytest.approx((m.rate_lower + m.rate_upper) / 2, abs=1e-12), m
        checked += 1
    assert checked == 21


def test_verified_bok_decisions_match_the_ecos_month_end_base_rate(shared: Path) -> None:
    wide = _rows(shared / INCOMING / "ecos_722Y001_bok_base_rate_monthly_2019-01_2025-12_wide.csv")[0]
    checked = 0
    for m in decisions("BOK"):
        if not m.verified:
            continue
        assert float(wide[f"{m.date:%Y/%m}"]) == m.rate_upper, m  # one MPB meeting a month at most
        checked += 1
    assert checked == 16  # 2024-2025; no 2026 BOK data exists, so 2026's rows are unverified


def test_next_meetings_as_of_2026_03_27() -> None:
    got = {n.bank: n for n in next_meetings(date(2026, 3, 27))}
    assert list(got) == ["Fed", "BOJ", "BOK"]
    fed, boj, bok = got["Fed"], got["BOJ"], got["BOK"]
    assert (fed.date, fed.days_to_go, fed.rate, fed.verified) == (date(2026, 4, 29), 33, 3.75, True)
    assert fed.last_decision == "held at 3.50-3.75% on 2026-03-18"
    assert (boj.date, boj.days_to_go, boj.rate) == (date(2026, 4, 28), 32, 0.75)
    assert boj.last_decision == "held at 0.75% on 2026-03-19"
    assert (bok.date, bok.days_to_go, bok.rate, bok.verified) == (date(2026, 4, 10), 14, 2.5, False)
    assert bok.last_decision == "held at 2.50% on 2026-02-26 (unverified)"


def test_next_meetings_later_in_2026() -> None:
    got = {n.bank: n for n in next_meetings(date(2026, 8, 21))}
    assert got["BOJ"].last_decision == "held at 1.00% on 2026-07-31"
    assert got["BOK"].last_decision == "hike 25 bp to 2.75% on 2026-07-16 (unverified)"
    assert got["Fed"].date == date(2026, 9, 16) and got["Fed"].days_to_go == 26
    # After a meeting whose decision was not found, the current rate is not known.
    late = {n.bank: n for n in next_meetings(date(2026, 11, 20))}
    assert late["Fed"].rate is None and late["Fed"].last_decision == "decision of 2026-10-28 not known"
    assert late["BOK"].date == date(2026, 11, 26) and late["BOK"].days_to_go == 6
    # A meeting on the as-of date is the next one (its decision may not be out yet).
    assert {n.bank: n.days_to_go for n in next_meetings(date(2026, 11, 26))}["BOK"] == 0
    # A bank with no meeting ahead in the file is left out, not invented.
    assert [n.bank for n in next_meetings(date(2026, 12, 1))] == ["Fed", "BOJ"]


def test_a_malformed_file_is_one_clear_error() -> None:
    head = "bank,meeting_start,decision_date,decision,change_bp,rate_lower,rate_upper,verified,source,evidence\n"
    with pytest.raises(CalendarError, match="line 2"):
        parse(head + "Fed,2026-01-27,2026-13-28,hold,0,3.5,3.75,true,x,data\n")
    with pytest.raises(CalendarError, match="needs the rate"):
        parse(head + "BOK,2026-01-15,2026-01-15,cut,-25,,,false,x,press\n")


def test_the_report_says_which_bank_has_no_meeting_listed_ahead() -> None:
    from monitor.meetings import CALENDAR_FILE, calendar_gap

    last = {b: max(m.date for m in meetings() if m.bank == b) for b in ("Fed", "BOJ", "BOK")}
    assert calendar_gap(min(last.values())) == ""  # every bank has a meeting that day or later
    bank = min(last, key=last.__getitem__)
    after = last[bank] + timedelta(days=1)
    note = calendar_gap(after)
    assert note.startswith(f"No {bank} ") and str(after) in note and CALENDAR_FILE in note
    assert (Path(__file__).resolve().parents[2] / CALENDAR_FILE).is_file()  # the path the sentence names exists
