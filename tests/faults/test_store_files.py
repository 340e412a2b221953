"""The store's file is not what a run needs: a folder this user cannot write, a damaged file, another program's
SQLite file, and a data file with an infinite value. Each time: one line naming the file and what to do, the
documented exit code, no traceback, nothing read from a bad file and nothing written into a foreign one.

The read-only folder runs `monitor run` as a child process without the capabilities that let root write anywhere
(CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH dropped from its bounding set before exec), so the test means the same
for root, as on CI, and for any other user."""

from __future__ import annotations

import ctypes
import os
import shutil
import sqlite3
import subprocess
from datetime import date
from pathlib import Path

import pytest

from tests.faults.conftest import Smtp
from tests.faults.support import REPO, command, observations, run_in_process, runs, write_config

DAY = "2026-03-05"
FX_DAYS = (date(2026, 2, 16), date(2026, 3, 6))
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


def _as_a_plain_user() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and os.geteuid() == 0:
            raise OSError(ctypes.get_errno(), "cannot drop a capability")


def _errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if not line.startswith("{")]


@pytest.mark.parametrize("stored", [False, True], ids=["new-store", "existing-store"])
def test_a_read_only_store_folder_is_one_line_and_exit_2(
    stored: bool, smtp: Smtp, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, None, smtp_port=smtp.port, fx_days=FX_DAYS)
    store = tmp_path / "store.sqlite"
    if stored:
        assert run_in_process(config, DAY, capsys).code == 0
    before = store.read_bytes() if stored else None
    tmp_path.chmod(0o555)
    try:
        done = subprocess.run(
            command(config, DAY),
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            preexec_fn=_as_a_plain_user,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        tmp_path.chmod(0o755)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "unexpected" not in done.stderr
    (line,) = _errors(done.stderr)
    assert line.startswith("error: cannot ") and str(store) in line, line
    assert line.endswith("writable for this user, or set [paths].store in config.toml"), line
    assert (store.read_bytes() if stored else None) == before


def _damage(store: Path) -> None:
    """Junk over the first bytes of the last leaf page of the observations table (a failing disk, a stray write)."""
    con = sqlite3.connect(store)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
        (page,) = con.execute("SELECT MAX(pageno) FROM dbstat WHERE name='observations' AND pagetype='leaf'").fetchone()
    finally:
        con.close()
    with open(store, "r+b") as f:
        f.seek((page - 1) * page_size)
        f.write(b"\xff" * 64)


def test_a_damaged_store_is_refused_by_run_and_show(smtp: Smtp, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from monitor.cli import run

    config = write_config(tmp_path, None, smtp_port=smtp.port, fx_days=FX_DAYS)
    assert run_in_process(config, DAY, capsys).code == 0
    store = tmp_path / "store.sqlite"
    _damage(store)
    before = store.read_bytes()
    ran = run_in_process(config, DAY, capsys)
    assert ran.code == 2, ran.err
    (line,) = _errors(ran.err)
    assert line.startswith(f"error: {store} is damaged (") and "nothing was read from it" in line, line

    capsys.readouterr()
    code = run(["series", "show", "won", "--config", str(config), "--as-of", DAY])
    shown = capsys.readouterr()
    assert code == 2 and shown.out == "", shown.out  # no value printed from a damaged file
    (line,) = shown.err.splitlines()
    assert line.startswith(f"error: {store} is damaged ("), line
    assert store.read_bytes() == before


def test_another_programs_sqlite_file_is_refused_not_adopted(
    smtp: Smtp, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, None, smtp_port=smtp.port, fx_days=FX_DAYS)
    store = tmp_path / "store.sqlite"
    con = sqlite3.connect(store)
    con.execute("CREATE TABLE moz_places(id INTEGER PRIMARY KEY, url TEXT)")  # e.g. a browser's history
    con.execute("PRAGMA user_version=1")
    con.commit()
    con.close()
    before = store.read_bytes()
    ran = run_in_process(config, DAY, capsys)
    assert ran.code == 2, ran.err
    (line,) = _errors(ran.err)
    assert line == (
        f"error: {store} is an SQLite file of another program, not a monitor store (it holds moz_places): "
        "it was left as it is; set [paths].store to a new file"
    )
    assert store.read_bytes() == before
    assert not (tmp_path / "exports").exists()


def test_an_infinite_value_is_a_validation_issue_never_stored(
    smtp: Smtp, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, None, smtp_port=smtp.port, fx_days=FX_DAYS)
    csv = tmp_path / "won_SYNTHETIC.csv"
    csv.write_text(csv.read_text().replace("2026-03-04,1500", "2026-03-04,inf"))
    ran = run_in_process(config, DAY, capsys)
    assert ran.code == 1, ran.err
    fetch = ran.summary["fetch"]["won"]
    assert fetch["status"] == "quarantined"
    assert "infinite: 1 infinite values, first inf on 2026-03-04" in fetch["message"]
    assert observations(tmp_path / "store.sqlite") == []
    assert runs(tmp_path / "store.sqlite") == [(1, "errors")]
    shutil.rmtree(tmp_path / "exports")
