"""The daily run end to end: the acceptance replay of the real history as of 2026-03-27, idempotent re-runs,
dry runs, the writer lock, catch-up with one digest, backfill, holidays, and the scheduling helpers."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from datetime import date
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest

from monitor.cli import run
from monitor.config import load_config
from monitor.models.results import load_results
from series.store import Store
from tests.monitor.notify.conftest import Recorder, free_port, smtp_server

REPO = Path(__file__).resolve().parents[3]
AS_OF = "2026-03-27"
# The series of the shipped config with no real data in any form (tests/replay.py): the Seoul close (ECOS
# 731Y001), FRED's S&P 500 and broad dollar index. Their fetches fail; everything else is served.
NO_DATA = {"krw_usd_seoul", "sp500", "usd_broad"}


def shipped_config(tmp: Path, receiver: str) -> Path:
    """config.toml with its paths moved under `tmp` and its receivers replaced by `receiver`."""
    text = (REPO / "config.toml").read_text()
    text = text.replace('store = "data/monitor.sqlite"', f'store = "{tmp / "data" / "monitor.sqlite"}"')
    text = text.replace('exports = "exports"', f'exports = "{tmp / "exports"}"')
    text = re.sub(r"\[\[receivers\]\]\nname = \"outbox_files\"\n(?:[^\n]+\n)+", receiver, text)
    path = tmp / "config.toml"
    path.write_text(text)
    return path


def email_receiver(port: int) -> str:
    return textwrap.dedent(f"""\
        [[receivers]]
        name = "risk_desk"
        kind = "email"
        to = ["risk-desk@example.com"]
        from = "kr-monitor@example.com"
        host = "127.0.0.1"
        port = {port}
        security = "none"
        severities = ["warning", "critical"]
        """)


@pytest.fixture
def replay(replay_dir) -> Path:
    return replay_dir


@pytest.mark.slow
def test_acceptance_replay_as_of_2026_03_27_then_a_rerun_changes_nothing(replay, tmp_path, capsys):
    recorder, port = Recorder(), free_port()
    config = shipped_config(tmp_path, email_receiver(port))
    args = ["run", "--config", str(config), "--as-of", AS_OF, "--replay", str(replay), "--log-format", "json"]
    with smtp_server(port, recorder):
        first = run(args)
        log = capsys.readouterr().err
        summary = json.loads((tmp_path / "exports" / AS_OF / "run.json").read_text())
        with Store.open(tmp_path / "data" / "monitor.sqlite") as store:
            rows, outbox = store.count(), store.connection.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
            krw, kospi = store.latest("krw_usd"), store.latest("kospi")
            results = load_results(store, date(2026, 3, 27))
            states = {r["rule"]: r["state"] for r in store.connection.execute("SELECT rule, state FROM alert_state")}

        # Done with errors: exactly the series with no data in any form failed, nothing else.
        assert first == 1
        assert {p.split(":")[0] for p in summary["failed"]} == NO_DATA
        # The store filled with the real history, only what was known on the as-of date.
        assert krw.index[0] == krw.index.min() and str(krw.index[0].date()) == "1981-04-13"
        assert str(krw.index[-1].date()) == "2026-03-23"  # H.10 publishes with a lag: 03-24..27 not known yet
        assert str(kospi.index[0].date()) == "1990-01-03" and len(kospi) > 9000
        # Both default models estimated on the data available; stale inputs (the BOK base rate ends in 2025-12)
        # flagged and left out, not fatal.
        assert set(results) == {"macro_monthly", "market_daily", "gap_flows", "foreign_flows_at_risk"}
        assert all(not r.error for r in results.values())
        # The flows' response to the US-Japan gap, stored with the run and in run.json.
        assert summary["models"]["gap_flows"]["latest"]["date"] == "2026-03-27"
        daily = results["market_daily"]
        assert daily.rolling is not None and daily.rolling.index[-1] == daily.rolling.index.max()
        assert any(d.startswith("bok_rate: stale") for d in results["macro_monthly"].dropped)
        assert {"krw_usd", "kospi", "foreign_net_kospi"} <= set(daily.series)
        # The rules fire where the data says: KRW/USD was above 1,500 that week.
        assert states["krw_usd_critical"] == "firing" and states["krw_usd_warning"] == "firing"
        assert any(a["alert"] == "krw_usd_critical" and a["state"] == "firing" for a in summary["alerts"])
        # One e-mail reached the SMTP server, saying what fired.
        assert len(recorder.messages) == 1
        mail = message_from_bytes(recorder.messages[0].content, policy=default_policy)
        assert mail["Subject"].startswith("[KR monitor]") and "firing" in mail["Subject"]
        assert "KRW/USD" in mail["Subject"] and mail["To"] == "risk-desk@example.com"
        # The exports hold the report and the charts.
        out = tmp_path / "exports" / AS_OF
        assert (out / "report.html").stat().st_size > 100_000
        for name in ("policy_rates", "krw_usd", "kospi_flows", "spillover_tci", "alert_timeline"):
            assert (out / "charts" / f"{name}.png").is_file() and (out / "charts" / f"{name}.pdf").is_file()
        # JSON log lines, one object each.
        events = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
        assert {"fetch", "model", "alert", "export", "run.done"} <= {e["event"] for e in events}

        # The re-run shares its charts with a second drawing process (the first drew them all in this one).
        written = {p.name: p.read_bytes() for p in [*(out / "charts").iterdir(), out / "report.html"]}
        config.write_text(config.read_text().replace("[run]\n", "[run]\nchart_workers = 2\n", 1))
        again = run(args)
        capsys.readouterr()
        with Store.open(tmp_path / "data" / "monitor.sqlite") as store:
            assert store.count() == rows  # no rows added
            assert store.connection.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == outbox
            assert [r["status"] for r in store.runs(2)] == ["errors", "errors"]
        assert again == first
        assert len(recorder.messages) == 1  # nothing sent again
        # The same files, byte for byte, whichever process drew each chart.
        assert {p.name: p.read_bytes() for p in [*(out / "charts").iterdir(), out / "report.html"]} == written


@pytest.mark.slow
def test_dry_run_writes_the_mail_as_files_and_stores_nothing(replay, tmp_path, capsys):
    recorder, port = Recorder(), free_port()
    config = shipped_config(tmp_path, email_receiver(port))
    with smtp_server(port, recorder):
        code = run(
            [
                "run",
                "--config",
                str(config),
                "--as-of",
                AS_OF,
                "--replay",
                str(replay),
                "--dry-run",
                "--format",
                "png",
                "--log-format",
                "json",
            ]
        )
    assert code == 1 and recorder.messages == []
    emls = list((tmp_path / "exports" / AS_OF / "dry-run" / "mail").glob("*.eml"))
    assert len(emls) == 1 and b"Subject: [KR monitor]" in emls[0].read_bytes()
    assert not (tmp_path / "data" / "monitor.sqlite").exists()  # the scratch copy is gone
    assert (tmp_path / "exports" / AS_OF / "dry-run" / "report.html").is_file()
    assert not (tmp_path / "exports" / AS_OF / "report.html").exists()  # the run's own name is the run's
    assert "dry run on a scratch copy" in capsys.readouterr().err


def test_a_first_run_with_every_source_failing_reports_it_and_exits_1(tmp_path, capsys):
    """A new machine that cannot reach any source (here: a replay directory with no files): nothing is stored,
    no model can be estimated, one data-health alert per series says why, and the run is "done with errors"."""
    (tmp_path / "replay").mkdir()
    config = shipped_config(tmp_path, f'[[receivers]]\nname = "desk"\nkind = "file"\ndirectory = "{tmp_path}/mail"\n')
    code = run(["run", "--config", str(config), "--as-of", AS_OF, "--replay", str(tmp_path / "replay")])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and "unexpected" not in err
    summary = json.loads((tmp_path / "exports" / AS_OF / "run.json").read_text())
    with Store.open(tmp_path / "data" / "monitor.sqlite") as store:
        assert store.count() == 0
    failed = {p.split(":")[0] for p in summary["failed"]}
    ids = {s["id"] for s in load_config(config).model_dump()["series"]}
    # Every series says why, each model is reported as not estimated, the rule on model results as not evaluated.
    assert failed == ids | {
        "model macro_monthly",
        "model market_daily",
        "model gap_flows",
        "model foreign_flows_at_risk",
        "rule tci_high",
    }
    firing = {a["alert"] for a in summary["alerts"] if a["state"] == "firing"}
    assert firing == {f"inputs_stale{{series={sid}}}" for sid in ids}  # one data-health alert each, nothing else
    (mail,) = (tmp_path / "mail").glob("*.eml")
    subject = message_from_bytes(mail.read_bytes(), policy=default_policy)["Subject"]
    assert subject.startswith(f"[KR monitor] 0 firing, {len(firing)} inputs stale or down:") and len(subject) <= 120


def test_a_second_run_while_one_holds_the_lock_exits_3(tmp_path, capsys):
    config = small_config(tmp_path)
    store = Store.open(tmp_path / "store.sqlite", writer="monitor run --as-of 2026-03-20")
    try:
        assert run(["run", "--config", str(config), "--as-of", "2026-03-20"]) == 3
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "in use by monitor run --as-of 2026-03-20" in err[0]
    finally:
        store.close()


# -- a small SYNTHETIC setup for the timing behaviour --------------------------------------------------------
KRW = {  # SYNTHETIC KRW per USD on KRX sessions of March 2026
    "2026-03-09": 1420,
    "2026-03-10": 1430,
    "2026-03-11": 1440,
    "2026-03-12": 1445,
    "2026-03-13": 1448,
    "2026-03-16": 1460,
    "2026-03-17": 1470,
    "2026-03-18": 1465,
    "2026-03-19": 1440,
    "2026-03-20": 1430,
}


def small_config(tmp: Path) -> Path:
    (tmp / "krw.csv").write_text("date,value\n" + "".join(f"{d},{v}\n" for d, v in KRW.items()))
    config = tmp / "config.toml"
    config.write_text(
        textwrap.dedent(f"""\
        [paths]
        store = "{tmp / "store.sqlite"}"
        exports = "{tmp / "exports"}"

        [[series]]
        id = "krw_usd"
        label = "KRW per USD"
        source = "csv"
        key = "krw.csv"
        freq = "B"
        calendar = "XKRX"
        units = "KRW per USD"

        [[rules]]
        name = "krw_usd_warning"
        kind = "level"
        series = "krw_usd"
        op = ">="
        threshold = 1450
        label = "KRW/USD"

        [[receivers]]
        name = "desk"
        kind = "file"
        directory = "{tmp / "mail"}"
        """)
    )
    return config


def test_catch_up_evaluates_each_missed_session_and_sends_one_digest(tmp_path, capsys):
    config = small_config(tmp_path)
    assert run(["run", "--config", str(config), "--as-of", "2026-03-13", "--format", "png"]) == 0
    assert list((tmp_path / "mail").glob("*.eml")) == []  # nothing firing yet
    assert run(["run", "--config", str(config), "--as-of", "2026-03-20", "--format", "png"]) == 0
    summary = json.loads((tmp_path / "exports" / "2026-03-20" / "run.json").read_text())
    assert summary["days_evaluated"] == ["2026-03-16", "2026-03-17", "2026-03-18", "2026-03-19", "2026-03-20"]
    with Store.open(tmp_path / "store.sqlite") as store:
        moves = [
            (r["obs_date"], r["to_state"], r["as_of"])
            for r in store.connection.execute("SELECT obs_date, to_state, as_of FROM alert_events ORDER BY id")
        ]
    # The episode fired and resolved inside the missed days, each step known on its own day ...
    assert moves == [("2026-03-16", "firing", "2026-03-16"), ("2026-03-19", "resolved", "2026-03-19")]
    # ... and one digest message went out for the whole catch-up, with both notices of that episode.
    [eml] = list((tmp_path / "mail").glob("*.eml"))
    mail = message_from_bytes(eml.read_bytes(), policy=default_policy)
    assert mail["Subject"].startswith("[KR monitor] 1 firing, 1 resolved")
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "[FIRING]" in text and "[RESOLVED]" in text
    # Re-running the last day sends nothing more.
    assert run(["run", "--config", str(config), "--as-of", "2026-03-20", "--format", "png"]) == 0
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
    capsys.readouterr()


@pytest.mark.slow
def test_backfill_runs_each_session_and_sends_nothing(tmp_path, capsys):
    config = small_config(tmp_path)
    assert run(["backfill", "--config", str(config), "--from", "2026-03-14", "--to", "2026-03-20"]) == 0
    with Store.open(tmp_path / "store.sqlite") as store:
        runs = store.runs(10)
    assert sorted(r["as_of"] for r in runs) == ["2026-03-16", "2026-03-17", "2026-03-18", "2026-03-19", "2026-03-20"]
    assert {r["kind"] for r in runs} == {"backfill"}
    assert not (tmp_path / "mail").exists()
    assert run(["backfill", "--config", str(config), "--from", "2026-03-20", "--to", "2026-03-14"]) == 2
    assert "is after --to" in capsys.readouterr().err


def test_a_krx_holiday_is_a_quiet_success(tmp_path, monkeypatch, capsys):
    import monitor.cli.run_cmd as run_cmd

    config = small_config(tmp_path)
    monkeypatch.setattr(run_cmd, "today", lambda tz="Asia/Seoul": date(2026, 3, 2))  # substitute holiday
    assert run(["run", "--config", str(config), "--log-format", "human"]) == 0
    assert "2026-03-02 is not a XKRX session: nothing to do" in capsys.readouterr().err
    assert not (tmp_path / "store.sqlite").exists()


def test_bad_arguments_exit_2_with_one_line(tmp_path, capsys):
    config = small_config(tmp_path)
    for args, text in (
        (["run", "--config", str(config), "--format", "gif"], "--format: 'gif' is not one of png, svg, pdf"),
        (["run", "--config", str(config), "--log-format", "xml"], "--log-format: 'xml' is not one of"),
        (["run", "--config", str(config), "--replay", str(tmp_path / "nope")], "is not a directory"),
        (["schedule", "--config", str(config)], "choose one of --cron or --systemd"),
    ):
        assert run(args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and text in err[0], err


def test_schedule_cron_line_in_seoul_and_in_utc_and_its_command_runs(tmp_path, monkeypatch, capsys):
    config = small_config(tmp_path)
    monkeypatch.setenv("TZ", "Asia/Seoul")
    assert run(["schedule", "--cron", "--config", str(config)]) == 0
    seoul = capsys.readouterr().out
    assert "\n30 7 * * MON,TUE,WED,THU,FRI cd " in seoul
    monkeypatch.setenv("TZ", "UTC")
    assert run(["schedule", "--cron", "--config", str(config)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if not x.startswith("#"))
    assert line.startswith("30 22 * * SUN,MON,TUE,WED,THU cd ")
    # The line's command works as written (here for a past date, without touching a real crontab).
    command = line.split(" ", 5)[5].split(" >> ")[0] + " --as-of 2026-03-20 --format png"
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "exports" / "2026-03-20" / "report.html").is_file()


def test_schedule_systemd_units(tmp_path, capsys):
    config = small_config(tmp_path)
    assert run(["schedule", "--systemd", "--config", str(config)]) == 0
    text = capsys.readouterr().out
    assert "OnCalendar=Mon..Fri *-*-* 07:30:00 Asia/Seoul" in text and "Persistent=true" in text
    assert f"ExecStart={Path(sys.executable).with_name('monitor')} run --config {config}" in text
    analyze = shutil.which("systemd-analyze")
    if analyze:
        done = subprocess.run([analyze, "calendar", "Mon..Fri *-*-* 07:30:00 Asia/Seoul"], capture_output=True)
        assert done.returncode == 0


def test_model_groups_and_bands_run_in_the_daily_job_on_a_process_pool(tmp_path, capsys):
    """Two markets of one group, with bootstrap bands, on the `[compute]` process pool: stored, exported, charted."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(3)
    days = pd.bdate_range("2025-01-01", "2026-03-20")
    for sid in ("ust", "kr_fx", "kr_eq", "tw_fx", "tw_eq"):  # SYNTHETIC random walks
        values = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(days))))
        pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "value": values}).to_csv(tmp_path / f"{sid}.csv", index=False)
    series = "".join(
        textwrap.dedent(f"""
        [[series]]
        id = "{sid}"
        label = "{sid}"
        source = "csv"
        key = "{sid}.csv"
        freq = "B"
        units = "index"
        """)
        for sid in ("ust", "kr_fx", "kr_eq", "tw_fx", "tw_eq")
    )
    config = tmp_path / "config.toml"
    config.write_text(
        textwrap.dedent(f"""\
        [paths]
        store = "{tmp_path / "store.sqlite"}"
        exports = "{tmp_path / "exports"}"

        [compute]
        scheduler = "processes"
        workers = 2
        """)
        + series
        + textwrap.dedent("""
        [[model_groups]]
        name = "grp"
        freq = "D"
        lags = 1
        horizon = 5
        window = 120
        bands = { level = 0.9, draws = 20 }
        variables = [{ series = "ust", transform = "log_diff", name = "ust" }]
        markets = [
            { name = "KR", variables = [
                { series = "kr_fx", transform = "log_diff", name = "fx" },
                { series = "kr_eq", transform = "log_diff", name = "equity" } ] },
            { name = "TW", variables = [
                { series = "tw_fx", transform = "log_diff", name = "fx" },
                { series = "tw_eq", transform = "log_diff", name = "equity" } ] },
        ]
        """)
    )
    assert run(["run", "--config", str(config), "--as-of", "2026-03-20", "--format", "png"]) == 0
    with Store.open(tmp_path / "store.sqlite") as store:
        results = load_results(store, date(2026, 3, 20))
    assert set(results) == {"grp.KR", "grp.TW"} and not any(r.error for r in results.values())
    for r in results.values():
        assert r.rolling is not None and {"TCI_lo", "TCI_hi"} <= set(r.rolling.columns)
        banded = r.rolling.dropna(subset=["TCI_lo", "TCI_hi"])
        assert len(banded) > 100 and (banded["TCI_lo"] <= banded["TCI_hi"]).all()
    out = tmp_path / "exports" / "2026-03-20"
    summary = pd.read_csv(out / "model_groups_summary.csv")
    # Per market: its TCI and the NET of each variable, sorted by how unusual today is.
    assert sorted(set(summary["market"])) == ["KR", "TW"] and set(summary["measure"]) == {"TCI", "NET"}
    assert (out / "charts" / "spillover_groups.png").is_file()
    capsys.readouterr()
