"""Containment: one series, model, rule, chart or notifier failing, for any reason (a bug included), costs that
thing only. It is recorded with a one-line reason naming the step, and the run still evaluates the alerts, writes
the report and sends the e-mail, then exits 1. Each case below used to abort the whole run ("unexpected ...,
please report it", no alerts, no report, no mail)."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from monitor.cli import run
from reports import charts
from series.sources.csvfile import CsvSource
from tests.faults.conftest import Smtp
from tests.faults.support import Probe, Ran, mails, outbox, run_in_process, write_config
from tests.monitor.pipeline.test_run import shipped_config

# A daily csv series beside the always-healthy `won` series of the fault suite's config.
PROBE = Probe("csv", "probe_SYNTHETIC.csv", "D", ("2024-03-04", "2024-03-05", "2024-03-06"), start="2024-01-01")
AS_OF = "2024-03-05"


def probe_run(tmp_path: Path, smtp: Smtp, capsys: pytest.CaptureFixture[str], body: str) -> Ran:
    (tmp_path / PROBE.key).write_text(body)
    config = write_config(tmp_path, PROBE, smtp_port=smtp.port)
    return run_in_process(config, AS_OF, capsys)


def assert_went_on(ran: Ran, smtp: Smtp, failed: str) -> None:
    """Exit 1 with exactly `failed` as the run's problem; the healthy series' alert evaluated, reported, mailed."""
    assert ran.code == 1, ran.err
    assert "unexpected" not in ran.err.split("\n")[-1], "the run was aborted"
    summary = ran.summary
    assert summary["status"] == "errors" and summary["exit_code"] == 1
    assert len(summary["failed"]) == 1 and re.fullmatch(failed, summary["failed"][0]), summary["failed"]
    assert "\n" not in summary["failed"][0]
    assert any(a["alert"] == "won_high" and a["state"] == "firing" for a in summary["alerts"])
    assert summary["failed"][0].split(":")[0] in ran.report and "KRW per USD (SYNTHETIC)" in ran.report
    assert [status for _, status, _ in outbox(ran.folder / "store.sqlite")] == ["sent"]
    assert len(smtp.messages) == 1
    body = mails(smtp.messages)[0].get_body(("plain",))
    assert body is not None and "KRW/USD 1,500 >= 1,450" in body.get_content()


def test_a_header_only_csv_fails_that_series_only(tmp_path, smtp, capsys):
    ran = probe_run(tmp_path, smtp, capsys, "date,value\n")
    assert_went_on(ran, smtp, r"probe: quarantined: empty: the source returned no observations.*")


def test_a_bug_in_one_series_fetch_fails_that_series_only(tmp_path, smtp, capsys, monkeypatch):
    real = CsvSource.parse

    def parse(self, raws, ref, spec):  # type: ignore[no-untyped-def]
        if spec.id == "probe":
            raise KeyError("a bug\nover two lines")
        return real(self, raws, ref, spec)

    monkeypatch.setattr(CsvSource, "parse", parse)
    ran = probe_run(tmp_path, smtp, capsys, "date,value\n2024-03-04,1\n")
    assert_went_on(ran, smtp, r"probe: failed: fetch: unexpected KeyError: 'a bug\\nover two lines'")


def test_a_failing_chart_costs_that_chart_only(tmp_path, smtp, capsys, monkeypatch):
    def boom(ctx: object) -> object:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setitem(charts.REGISTRY, "boom", charts.Chart("boom", "Alerts", "Does it fail?", boom))
    ran = probe_run(tmp_path, smtp, capsys, "date,value\n2024-03-04,1\n2024-03-05,2\n")
    assert_went_on(ran, smtp, r"chart boom: draw: unexpected ZeroDivisionError: division by zero")
    assert (ran.folder / "exports" / AS_OF / "charts" / "alert_timeline.png").is_file()
    with pytest.raises(KeyError):
        monkeypatch.undo()  # the registry is back as it was
        charts.REGISTRY["boom"]


def test_a_dollar_in_labels_is_drawn_as_text_and_the_mail_goes_out(tmp_path, smtp, capsys):
    """Matplotlib read `US$_$` as mathtext and failed on it; on a rule label every later run failed too."""
    config = write_config(tmp_path, None, smtp_port=smtp.port, fx_days=(date(2024, 2, 1), date(2024, 3, 6)))
    text = config.read_text().replace('label = "KRW/USD"', 'label = "KRW/US$_$ close"')
    config.write_text(text.replace('label = "KRW per USD (SYNTHETIC)"', 'label = "KRW per US$_$ (SYNTHETIC)"'))
    for day in ("2024-03-05", "2024-03-06"):
        ran = run_in_process(config, day, capsys)
        assert ran.code == 0, ran.err
    assert len(smtp.messages) == 1  # the first run's alert; the second has nothing new to say
    mail = mails(smtp.messages)[0]
    assert "KRW/US$_$ close" in str(mail["Subject"])
    assert any(part.get_content_type() == "image/png" for part in mail.walk())  # its chart was drawn
    assert "KRW per US$_$ (SYNTHETIC)" in ran.report


def test_report_as_of_a_date_before_a_rules_inputs_start(tmp_path, smtp, capsys):
    config = write_config(tmp_path, None, smtp_port=smtp.port, fx_days=(date(2024, 2, 1), date(2024, 3, 6)))
    assert run_in_process(config, AS_OF, capsys).code == 0  # the level rule is firing in the stored state
    assert run(["report", "--config", str(config), "--as-of", "2023-06-01", "--format", "png"]) == 0
    out = tmp_path / "exports" / "2023-06-01" / "report"  # monitor report writes under its own name
    assert "won_high" not in json.loads((out / "run.json").read_text()).get("alerts", [])
    assert (out / "report.html").is_file()


@pytest.mark.slow
def test_backfill_before_a_csv_series_first_row_on_our_replay(replay_dir, tmp_path, capsys):
    """`exports_total` starts in 2025-06 in the replay: on 2025-03-04 its fetch has no row (it was a TypeError
    that ended the backfill before any model, alert or report)."""
    replay = replay_dir
    config = shipped_config(tmp_path, "")
    # Without the models (and the rules on them): they take most of a minute here and play no part in the fault.
    blocks = config.read_text().split("\n[[")
    kept = [
        b
        for b in blocks[1:]
        if not b.startswith(("models]]", "flows_at_risk]]")) and not re.search(r"^model = ", b, re.M)
    ]
    config.write_text("\n[[".join([blocks[0], *kept]))
    days = ["--from", "2025-03-04", "--to", "2025-03-04"]
    code = run(["backfill", "--config", str(config), *days, "--replay", str(replay), "--log-format", "json"])
    assert code == 1, capsys.readouterr().err
    summary = json.loads((tmp_path / "exports" / "2025-03-04" / "run.json").read_text())
    failed = {p.split(":")[0]: p for p in summary["failed"]}
    # exports_total, empty that day, the series with no data in any form (tests/replay.py), and the flows' response
    # to the yield gap (always estimated when its series are configured): the replay's flows start in 2024-08, too
    # few sessions for its 250-session window by 2025-03.
    assert set(failed) == {"exports_total", "krw_usd_seoul", "sp500", "usd_broad", "model gap_flows"}
    assert "exports_total: quarantined: empty" in failed["exports_total"]
    assert "250 needed" in failed["model gap_flows"]
    assert summary["alerts"] and set(summary["models"]) == {"gap_flows"}
    assert (tmp_path / "exports" / "2025-03-04" / "report.html").stat().st_size > 10_000


def test_monitor_report_with_a_failing_chart_writes_the_rest_and_exits_1(tmp_path, smtp, capsys, monkeypatch):
    config = write_config(tmp_path, None, smtp_port=smtp.port, fx_days=(date(2024, 2, 1), date(2024, 3, 6)))
    assert run_in_process(config, AS_OF, capsys).code == 0

    def boom(ctx: object) -> object:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setitem(charts.REGISTRY, "boom", charts.Chart("boom", "Alerts", "Does it fail?", boom))
    assert run(["report", "--config", str(config), "--as-of", AS_OF, "--format", "png"]) == 1
    err = capsys.readouterr().err
    assert err == "error: chart boom: draw: unexpected ZeroDivisionError: division by zero\n"
    out = tmp_path / "exports" / AS_OF / "report"  # monitor report writes under its own name
    assert "chart boom: draw: unexpected" in (out / "report.html").read_text()
    assert (out / "charts" / "alert_timeline.png").is_file()


def test_a_bug_in_a_rule_or_a_model_costs_that_rule_or_model_only(tmp_path, smtp, capsys, monkeypatch):
    from monitor import pipeline
    from monitor.alerts.rules import DataHealthRule

    def broken(*args: object, **kwargs: object) -> object:
        raise IndexError("list index out of range")

    monkeypatch.setattr(DataHealthRule, "evaluate", broken)
    monkeypatch.setattr(pipeline, "estimate", broken)
    (tmp_path / PROBE.key).write_text("date,value\n" + "".join(f"2024-02-{d:02},{d}\n" for d in range(1, 30)))
    config = write_config(tmp_path, PROBE, smtp_port=smtp.port)
    config.write_text(
        config.read_text()
        + '\n[[models]]\nname = "pair"\nfreq = "D"\nvariables = [{ series = "won" }, { series = "probe" }]\n'
    )
    ran = run_in_process(config, AS_OF, capsys)
    assert ran.code == 1, ran.err
    assert ran.summary["failed"] == [
        "model pair: estimate: unexpected IndexError: list index out of range",
        "rule inputs: evaluate: unexpected IndexError: list index out of range",
    ]
    assert {a["alert"] for a in ran.summary["alerts"]} == {"won_high", "probe_level"}
    assert len(smtp.messages) == 1 and "model pair: estimate: unexpected IndexError" in ran.report


def test_a_failing_notify_step_is_recorded_and_the_report_still_written(tmp_path, smtp, capsys, monkeypatch):
    from monitor import pipeline

    def renderer(*args: object) -> object:
        def render(receiver: str, alerts: object) -> object:
            raise RuntimeError("template exploded")

        return render

    monkeypatch.setattr(pipeline, "renderer", renderer)
    config = write_config(tmp_path, None, smtp_port=smtp.port, fx_days=(date(2024, 2, 1), date(2024, 3, 6)))
    ran = run_in_process(config, AS_OF, capsys)
    assert ran.code == 1, ran.err
    assert ran.summary["failed"] == ["notify: unexpected RuntimeError: template exploded"]
    assert "notify: unexpected RuntimeError: template exploded" in ran.report
    assert any(a["alert"] == "won_high" for a in ran.summary["alerts"]) and smtp.messages == []
