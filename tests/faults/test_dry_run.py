"""Dry runs that are dry: `monitor run --dry-run` and `monitor report` write under their own names
(`exports/<as_of>/dry-run/`, `exports/<as_of>/report/`) and never replace the run's own run.json and
report.html; a dry run with nothing to send says so. The small config of the fault suite (a SYNTHETIC CSV
series whose level rule fires on the first run), with the mail going to a real SMTP server on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.cli import run
from tests.faults.conftest import Smtp
from tests.faults.support import run_args, run_in_process, write_config

DAY = "2026-03-05"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (folder / "run.json", folder / "report.html")}


def _dry(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, object]]]:
    capsys.readouterr()
    code = run([*run_args(config, DAY), "--dry-run"])
    err = capsys.readouterr().err
    return code, [json.loads(line) for line in err.splitlines() if line.startswith("{")]


def test_a_dry_run_and_a_report_never_replace_the_runs_files(
    smtp: Smtp, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import date

    config = write_config(tmp_path, None, smtp_port=smtp.port, fx_days=(date(2026, 2, 16), date(2026, 3, 6)))
    day = tmp_path / "exports" / DAY

    # Before any run: the dry run writes its own report and the e-mail it would send, and sends nothing.
    code, events = _dry(config, capsys)
    assert code == 0 and smtp.messages == []
    dry = day / "dry-run"
    assert json.loads((dry / "run.json").read_text())["dry_run"] is True and (dry / "report.html").is_file()
    (eml,) = (dry / "mail").glob("*.eml")
    assert b"Subject: [KR monitor] 1 firing" in eml.read_bytes()
    assert not (day / "run.json").exists() and not (day / "report.html").exists()
    assert [e["message"] for e in events if e["event"] == "dry_run"][-1] == (
        f"dry run: 1 e-mail(s) written to {dry / 'mail'}"
    )

    # The run itself, then a dry run and `monitor report` for the same day: the run's files stay as they were.
    ran = run_in_process(config, DAY, capsys)
    assert ran.code == 0 and len(smtp.messages) == 1
    real = _files(day)
    assert json.loads(real["run.json"])["dry_run"] is False

    code, events = _dry(config, capsys)
    assert code == 0 and len(smtp.messages) == 1
    # Nothing new since the run's mail: the dry run says so (and writes no e-mail).
    assert [e["message"] for e in events if e["event"] == "dry_run"][-1] == (
        "dry run: nothing to send: no receiver has news it was not sent"
    )
    assert [p.name for p in (dry / "mail").glob("*.eml")] == [eml.name]  # only the first dry run's
    assert _files(day) == real

    capsys.readouterr()
    assert run(["report", "--config", str(config), "--as-of", DAY, "--format", "png"]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"wrote {day / 'report' / 'report.html'} and ")
    assert (day / "report" / "run.json").is_file()
    assert _files(day) == real
