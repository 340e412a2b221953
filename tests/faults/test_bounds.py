"""Bounded resources under the real `monitor run`, against the fault server on 127.0.0.1: a gzip bomb (1.5 MB that
inflates to 1.5 GB) ends its fetch with a schema error and the process stays small; a server that trickles one byte
a second is given up after `timeout_seconds`; a 20 MB error body reaches no log line, run.json, report, e-mail or
store row whole; an answer nested too deeply to parse fails its series and the run goes on.
The figures (peak RSS, seconds to give up) are printed: `pytest -s tests/faults/test_bounds.py`."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fault_server import FakeClock, FaultServer, Reply
from tests.faults.conftest import Smtp
from tests.faults.support import REPO, Probe, command, mails, run_in_process, write_config
from tests.faults.test_sources import PROBES

FRED_KEY = "fedcba9876543210fedcba9876543210"


def _bomb(megabytes: int = 1500) -> bytes:
    """`megabytes` MB of zeros as a gzip body of about 1 KB per MB: one compressed 1 MB member, repeated."""
    return gzip.compress(bytes(1_000_000), compresslevel=9) * megabytes


def _run_child(config: Path, as_of: str) -> tuple[int, str, float]:
    """`monitor run` as a child process: its exit code, its log, and its peak RSS in MB (from wait4's rusage)."""
    proc = subprocess.Popen(
        command(config, as_of),
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak_mb = usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / 2**20  # Linux: KiB
    return proc.returncode, err, peak_mb


def _failure(err: str) -> dict[str, object]:
    return next(
        e for line in err.splitlines() if line.startswith("{") and (e := json.loads(line)).get("series") == "probe"
    )


@pytest.mark.slow
def test_a_gzip_bomb_ends_its_fetch_and_the_process_stays_small(tmp_path: Path, http: FaultServer, smtp: Smtp) -> None:
    probe = PROBES["fredgraph"]
    day = probe.days[0]
    # The same run with the probe failing at once: the process's own size.
    (tmp_path / "base").mkdir()
    config = write_config(tmp_path / "base", probe, smtp_port=smtp.port, endpoint=http.url, retries=0)
    http.script(Reply(404, b"no such series"))
    code, err, baseline_mb = _run_child(config, day)
    assert code == 1, err
    # The bomb: 1.5 MB on the wire, 1.5 GB inflated (the process reached 7.8 GB before the limit).
    (tmp_path / "bomb").mkdir()
    config = write_config(tmp_path / "bomb", probe, smtp_port=smtp.port, endpoint=http.url, retries=0)
    bomb = _bomb()
    http.reset()
    http.script(Reply(200, bomb, {"Content-Encoding": "gzip", "Content-Type": "text/csv"}))
    code, err, bomb_mb = _run_child(config, day)
    wire = len(bomb) / 1e6
    print(f"\ngzip bomb {wire:.1f} MB -> 1500 MB: peak RSS {bomb_mb:.0f} MB (the run without it: {baseline_mb:.0f} MB)")
    assert code == 1, err
    summary = json.loads((tmp_path / "bomb" / "exports" / day / "run.json").read_text())
    fetched = summary["fetch"]["probe"]
    assert fetched["error_kind"] == "schema" and "larger than 50 MB decompressed" in fetched["message"], fetched
    assert summary["fetch"]["won"]["status"] == "ok"  # the run went on
    # At most the 50 MB limit (and the buffer's growth) above the same run without the bomb.
    assert bomb_mb - baseline_mb < 120, (bomb_mb, baseline_mb)


def test_a_server_trickling_a_byte_a_second_is_given_up_after_timeout_seconds(
    tmp_path: Path, http: FaultServer, smtp: Smtp, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    probe = PROBES["fredgraph"]
    config = write_config(tmp_path, probe, smtp_port=smtp.port, endpoint=http.url, timeout=3.0, retries=1)
    http.script(Reply(200, b"observation_date,DEXKOUS\n" * 10, trickle=1.0))
    ran = run_in_process(config, probe.days[0], capsys)
    assert ran.code == 1, ran.err
    fetched = ran.summary["fetch"]["probe"]
    assert fetched["error_kind"] == "unavailable" and "no answer within 3 s (timeout)" in fetched["message"]
    # The retry came the moment the first attempt gave up (the policy's waits do not sleep here).
    first, second = http.requests[:2]
    took = second.at - first.at
    print(f"\nslow server (1 byte/s), timeout_seconds = 3: given up after {took:.2f} s")
    # The deadline holds the request for about 3 s (it was 3 s per byte: 250 bytes, minutes). The bounds are wide
    # on purpose: the server stamps the request a moment after the client's timer starts (so a little under 3 s),
    # and a loaded CI machine may be seconds late; neither comes near the old behaviour.
    assert 2.5 <= took < 13.0


def test_a_20_mb_error_body_is_cut_wherever_it_is_stored_or_shown(
    tmp_path: Path,
    http: FaultServer,
    smtp: Smtp,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    probe = PROBES["fred"]
    monkeypatch.setenv("FRED_API_KEY", FRED_KEY)
    config = write_config(tmp_path, probe, smtp_port=smtp.port, endpoint=http.url)
    message = "Bad Request. " + "y" * 20_000_000  # FRED's error message, echoed into ours
    http.script(Reply(400, f'<?xml version="1.0"?><error code="400" message="{message}"/>'.encode()))
    ran = run_in_process(config, probe.days[0], capsys)
    assert ran.code == 1, ran.err
    assert "FRED: HTTP 400: Bad Request. yyyy" in ran.summary["fetch"]["probe"]["message"]
    store = (tmp_path / "store.sqlite").read_bytes()
    outputs = {
        "log": ran.err.encode(),
        "run.json": (tmp_path / "exports" / probe.days[0] / "run.json").read_bytes(),
        "report": ran.report.encode(),
        "store": store,
        **{f"mail {i}": m for i, m in enumerate(smtp.messages)},
    }
    assert len(mails(smtp.messages)) == 1
    for name, data in outputs.items():
        assert b"y" * 1001 not in data, f"the error body reached the {name} whole ({len(data)} bytes)"
        assert len(data) < 5_000_000, f"{name}: {len(data)} bytes"


@pytest.mark.parametrize("source", ["ecos", "boj"])
def test_deeply_nested_json_fails_its_series_and_the_run_goes_on(
    source: str,
    tmp_path: Path,
    http: FaultServer,
    smtp: Smtp,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    probe: Probe = PROBES[source]
    monkeypatch.setenv("ECOS_API_KEY", "ECOSKEY0123456789XYZ")
    config = write_config(tmp_path, probe, smtp_port=smtp.port, endpoint=http.url)
    http.script(Reply(200, b'{"a": ' * 100_000 + b"1" + b"}" * 100_000))
    ran = run_in_process(config, probe.days[0], capsys)
    assert ran.code == 1, ran.err  # not "unexpected RecursionError, please report it"
    fetched = ran.summary["fetch"]
    assert fetched["probe"]["error_kind"] == "schema"
    assert "nested too deeply" in fetched["probe"]["message"]
    assert fetched["won"]["status"] == "ok" and "What failed" in ran.report
    assert len(mails(smtp.messages)) == 1  # the run went on to alerts and e-mail
