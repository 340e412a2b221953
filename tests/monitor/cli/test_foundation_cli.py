"""The foundation's CLI: fetch from an in-house CSV, list / show / export, the writer lock, clear errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from monitor.cli import run

CONFIG = """
[paths]
store = "store/monitor.sqlite"

[[series]]
id = "flows"
label = "Foreign net purchases (in-house file)"
source = "csv"
key = "flows.csv"
params = {{ date_column = "day", value_column = "foreign", thousands = "," }}
freq = "B"
calendar = "XKRX"
units = "100 million KRW"
scale = {scale}
"""

# SYNTHETIC in-house file (made here): a date column, a value column with thousands separators.
FLOWS = 'day,foreign,other\n2026-03-23,"-1,200",1\n2026-03-24,350,2\n2026-03-25,.,3\n2026-03-26,"2,000",4\n'


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "flows.csv").write_text(FLOWS)
    (tmp_path / "config.toml").write_text(CONFIG.format(scale=1.0))
    return tmp_path


def cfg(workdir: Path) -> list[str]:
    return ["--config", str(workdir / "config.toml")]


def test_help_lists_every_command_with_a_description(capsys):
    assert run(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("check-config", "fetch", "sources", "series"):
        assert command in out


def test_version_is_the_installed_distributions(capsys):
    from importlib.metadata import version

    assert run(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"monitor {version('kr-macro-monitor')}"


def test_the_packages_ship_their_type_information_and_the_license():
    repo = Path(__file__).resolve().parents[3]
    for package in ("monitor", "series", "reports"):
        assert (repo / package / "py.typed").is_file(), package  # PEP 561: mypy users get our annotations
    assert "MIT License" in (repo / "LICENSE").read_text()


def test_fetch_csv_then_list_show_export(workdir, capsys):
    assert run(["fetch", *cfg(workdir), "--as-of", "2026-03-27"]) == 0
    out = capsys.readouterr().out
    assert "3 new observations" in out  # the '.' row is a missing value, not an observation
    assert run(["fetch", *cfg(workdir), "--as-of", "2026-03-27"]) == 0
    assert "0 new observations, 0 revisions" in capsys.readouterr().out

    assert run(["series", "list", *cfg(workdir), "--as-of", "2026-03-27"]) == 0
    out = capsys.readouterr().out
    assert "flows" in out and "2026-03-23" in out and "2026-03-26" in out and "2,000.00" in out
    assert "fresh" in out

    assert run(["series", "export", "flows", *cfg(workdir), "--format", "csv"]) == 0
    exported = capsys.readouterr().out
    assert exported.splitlines() == ["date,value", "2026-03-23,-1200.0", "2026-03-24,350.0", "2026-03-26,2000.0"]

    assert run(["series", "show", "flows", *cfg(workdir)]) == 0
    assert "-1200.0" in capsys.readouterr().out


def test_a_revision_becomes_a_new_vintage(workdir, capsys):
    assert run(["fetch", *cfg(workdir), "--as-of", "2026-03-27"]) == 0
    (workdir / "flows.csv").write_text(FLOWS.replace("350", "360"))
    assert run(["fetch", *cfg(workdir), "--as-of", "2026-03-30"]) == 0
    assert "1 revisions" in capsys.readouterr().out
    assert run(["series", "export", "flows", *cfg(workdir), "--vintages"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert [r.split(",")[:3] for r in rows if r.startswith("2026-03-24")] == [
        ["2026-03-24", "350.0", "2026-03-24"],
        ["2026-03-24", "360.0", "2026-03-30"],
    ]
    assert run(["series", "export", "flows", *cfg(workdir), "--as-of", "2026-03-27"]) == 0
    assert "2026-03-24,350.0" in capsys.readouterr().out


def test_a_value_column_typo_fails_that_series_with_one_line(workdir, capsys):
    (workdir / "config.toml").write_text(CONFIG.format(scale=1.0).replace('"foreign"', '"foreigners"'))
    assert run(["fetch", *cfg(workdir)]) == 1
    err = capsys.readouterr().err
    assert "column 'foreigners' not in the file; its columns are day, foreign, other" in err
    assert "Traceback" not in err


def test_bad_arguments_are_one_line_exit_2(workdir, capsys):
    assert run(["series", "show", "flow", *cfg(workdir)]) == 2
    assert "unknown series 'flow' (did you mean 'flows'?)" in capsys.readouterr().err
    assert run(["fetch", *cfg(workdir), "--as-of", "27/03/2026"]) == 2
    assert "--as-of: '27/03/2026' is not a date" in capsys.readouterr().err
    assert run(["series", "export", "flows", *cfg(workdir), "--format", "xlsx"]) == 2
    assert run(["series", "list", "--bogus"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "No such option" in err


def test_second_writer_exits_3_naming_the_first(workdir):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import time
            from series.store import Store
            s = Store.open({str(workdir / "store" / "monitor.sqlite")!r}, writer="monitor run --as-of 2026-03-27")
            print("locked", flush=True)
            time.sleep(60)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        second = subprocess.run(
            [sys.executable, "-m", "monitor", "fetch", *cfg(workdir)], capture_output=True, text=True, timeout=120
        )
        assert second.returncode == 3
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and "in use by monitor run --as-of 2026-03-27" in lines[0]
        assert f"pid {holder.pid}" in lines[0]
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    assert run(["fetch", *cfg(workdir)]) == 0  # the lock died with its holder


def test_scale_converts_units(workdir, capsys):
    (workdir / "config.toml").write_text(CONFIG.format(scale=0.01))
    assert run(["fetch", *cfg(workdir), "--as-of", "2026-03-27"]) == 0
    capsys.readouterr()
    assert run(["series", "export", "flows", *cfg(workdir), "--format", "json"]) == 0
    values = pd.read_json(__import__("io").StringIO(capsys.readouterr().out))["value"].tolist()
    assert values == [-12.0, 3.5, 20.0]
