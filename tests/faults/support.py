"""Helpers of the fault-injection suite: a tiny config, the run (in-process or as a subprocess), and what a run
left behind (stored observations, fetch rows, outbox, run.json, report.html, the mail at the SMTP server).

The config has two series: `probe`, served by the source under test (through its `[fetch].endpoints` override, or
the library wrapper a test patches), and `won`, a SYNTHETIC in-house CSV that never fails; a level rule on
each (both fire on every value, so the first run mails and later runs have nothing new to say unless the data's
health changes), a data_health rule over every series, and one e-mail receiver at the local SMTP server."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import run

REPO = Path(__file__).resolve().parents[2]
Row = tuple[str, str, float, str]  # series_id, date, value, realtime_start


@dataclass(frozen=True)
class Probe:
    """The faulted series: its source, key and frequency, and the three as-of dates of a test (a healthy day, the
    day of the fault, the day after, when the source is back)."""

    source: str
    key: str
    freq: str
    days: tuple[str, str, str]
    start: str
    calendar: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    scale: float = 1.0

    @property
    def first_day(self) -> date:
        return date.fromisoformat(self.days[0])

    @property
    def last_day(self) -> date:
        return date.fromisoformat(self.days[-1])


def write_config(
    folder: Path,
    probe: Probe | None,
    *,
    smtp_port: int,
    endpoint: str = "",
    timeout: float = 5.0,
    retries: int = 1,
    smtp_timeout: float = 5.0,
    fx_days: tuple[date, date] | None = None,
) -> Path:
    """config.toml in `folder` (store and exports inside it). `endpoint` is the base URL the probe's source is
    redirected to. The CSV series covers `fx_days` (default: from 20 days before the probe's days to the last)
    with 1,500 KRW per USD every day."""
    if fx_days is None:
        assert probe is not None, "without a probe, say which days the CSV series covers"
        fx_days = (probe.first_day - timedelta(days=20), probe.last_day)
    first, last = fx_days
    csv = folder / "won_SYNTHETIC.csv"
    if not csv.exists():
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        csv.write_text("date,value\n" + "".join(f"{d.isoformat()},1500\n" for d in days))
    endpoints = f"endpoints = {{ {probe.source} = {json.dumps(endpoint)} }}" if probe and endpoint else ""
    text = textwrap.dedent(f"""\
        [paths]
        store = "{folder / "store.sqlite"}"
        exports = "{folder / "exports"}"

        [run]
        catch_up_days = 2

        [fetch]
        timeout_seconds = {timeout}
        retries = {retries}
        {endpoints}

        [[series]]
        id = "won"
        label = "KRW per USD (SYNTHETIC)"
        source = "csv"
        key = "{csv.name}"
        freq = "D"
        units = "KRW per USD"
        start = "{first.isoformat()}"

        [[rules]]
        name = "won_high"
        kind = "level"
        label = "KRW/USD"
        series = "won"
        op = ">="
        threshold = 1450

        [[rules]]
        name = "inputs"
        kind = "data_health"
        series = ["*"]

        [[receivers]]
        name = "desk"
        kind = "email"
        to = ["risk-desk@example.com"]
        from = "kr-monitor@example.com"
        host = "127.0.0.1"
        port = {smtp_port}
        security = "none"
        timeout_seconds = {smtp_timeout}
        """)
    if probe is not None:
        params = ", ".join(f"{k} = {json.dumps(v)}" for k, v in probe.params.items())
        text += textwrap.dedent(f"""
            [[series]]
            id = "probe"
            label = "probe ({probe.source} {probe.key})"
            source = "{probe.source}"
            key = "{probe.key}"
            params = {{ {params} }}
            scale = {probe.scale}
            freq = "{probe.freq}"
            units = "units"
            start = "{probe.start}"
            stale_after_days = 60
            {f'calendar = "{probe.calendar}"' if probe.calendar else ""}

            [[rules]]
            name = "probe_level"
            kind = "level"
            label = "probe"
            series = "probe"
            op = ">="
            threshold = -1e12
            """)
    path = folder / "config.toml"
    path.write_text(text)
    return path


# -- running -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ran:
    code: int
    err: str  # stderr: the JSON log lines, and the one-line error if any
    folder: Path
    as_of: str

    @property
    def summary(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.folder / "exports" / self.as_of / "run.json").read_text())
        return data

    @property
    def report(self) -> str:
        return (self.folder / "exports" / self.as_of / "report.html").read_text()

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.err.splitlines() if line.startswith("{")]

    def assert_json_log(self) -> None:
        """`--log-format json`: every line on stderr is one JSON object (a one-line error aside)."""
        for line in self.err.splitlines():
            if line.startswith("error: "):
                continue
            assert line.startswith("{") and isinstance(json.loads(line), dict), f"not a JSON log line: {line!r}"


def run_args(config: Path, as_of: str) -> list[str]:
    return ["run", "--config", str(config), "--as-of", as_of, "--format", "png", "--log-format", "json"]


def run_in_process(config: Path, as_of: str, capsys: pytest.CaptureFixture[str]) -> Ran:
    capsys.readouterr()
    code = run(run_args(config, as_of))
    return Ran(code, capsys.readouterr().err, config.parent, as_of)


# `python -m monitor ...` whose files cannot grow past N bytes (RLIMIT_FSIZE, as `ulimit -f` does): to the
# process, a disk that is full. SIGXFSZ is ignored, so a write past the limit fails with EFBIG instead of
# killing the process. Works the same for root, which file permissions would not stop.
LIMITED = (
    "import resource, runpy, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); n = int(sys.argv.pop(1)); "
    "resource.setrlimit(resource.RLIMIT_FSIZE, (n, n)); sys.argv[0] = 'monitor'; "
    "runpy.run_module('monitor', run_name='__main__')"
)


def command(config: Path, as_of: str, file_size_limit: int | None = None) -> list[str]:
    if file_size_limit is not None:
        return [sys.executable, "-c", LIMITED, str(file_size_limit), *run_args(config, as_of)]
    return [sys.executable, "-m", "monitor", *run_args(config, as_of)]


class Child:
    """`monitor run` as a child process; its stderr (the JSON log) is read as it comes, so a test can act at a
    known point of the run."""

    def __init__(self, config: Path, as_of: str, *, file_size_limit: int | None = None) -> None:
        self.config, self.as_of = config, as_of
        self.proc = subprocess.Popen(
            command(config, as_of, file_size_limit),
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._new = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._new:
                self.lines.append(line.rstrip("\n"))
                self._new.notify_all()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_for_event(self, event: str, timeout: float = 60, **fields: Any) -> dict[str, Any]:
        """The first JSON log line of `event` whose fields match, waiting for it to be written."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._new:
            while True:
                for line in self.lines[seen:]:
                    entry = json.loads(line) if line.startswith("{") else {}
                    if entry.get("event") == event and all(entry.get(k) == v for k, v in fields.items()):
                        return entry
                seen = len(self.lines)
                left = deadline - time.monotonic()
                assert left > 0 and self.proc.poll() is None, f"no {event} {fields} in: {self.lines}"
                self._new.wait(min(left, 0.1))

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.finish()

    def finish(self, timeout: float = 120) -> Ran:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return Ran(code, "\n".join(self.lines), self.config.parent, self.as_of)


def wait_until(condition: Callable[[], bool], timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
        time.sleep(0.02)


# -- what a run left behind ---------------------------------------------------------------------------------
def observations(store: Path) -> list[Row]:
    """Every stored observation row (series, date, value, first known), in a canonical order."""
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT series_id, date, value, realtime_start FROM observations ORDER BY series_id, date, realtime_start"
        ).fetchall()
    finally:
        con.close()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def assert_store_sound(store: Path) -> None:
    """Readable, no duplicated row, no partial fetch (a fetch row's counts match its observations, and every
    observation belongs to a recorded fetch)."""
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        dups = con.execute(
            "SELECT series_id, date, realtime_start, COUNT(*) FROM observations "
            "GROUP BY series_id, date, realtime_start HAVING COUNT(*) > 1"
        ).fetchall()
        assert dups == [], f"duplicated observations: {dups[:5]}"
        for fetch_id, added, revised in con.execute("SELECT id, n_added, n_revised FROM fetches"):
            n = con.execute("SELECT COUNT(*) FROM observations WHERE fetch_id=?", (fetch_id,)).fetchone()[0]
            assert n == added + revised, f"fetch {fetch_id} is partial: {n} rows for {added} + {revised}"
        orphans = con.execute(
            "SELECT COUNT(*) FROM observations WHERE fetch_id IS NULL OR fetch_id NOT IN (SELECT id FROM fetches)"
        ).fetchone()[0]
        assert orphans == 0
    finally:
        con.close()


def outbox(store: Path) -> list[tuple[int, str, str]]:
    """(id, status, key) of every outbox row."""
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        return [tuple(r) for r in con.execute("SELECT id, status, key FROM outbox ORDER BY id")]  # type: ignore[misc]
    finally:
        con.close()


def runs(store: Path) -> list[tuple[int, str]]:
    """(id, status) of every recorded run."""
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        return [tuple(r) for r in con.execute("SELECT id, status FROM runs ORDER BY id")]  # type: ignore[misc]
    finally:
        con.close()


def run_error(store: Path, run_id: int) -> str:
    """The error a failed run recorded."""
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        return str(json.loads(con.execute("SELECT summary FROM runs WHERE id=?", (run_id,)).fetchone()[0])["error"])
    finally:
        con.close()


def mails(raw: Sequence[bytes]) -> list[EmailMessage]:
    return [message_from_bytes(m, policy=default_policy) for m in raw]  # type: ignore[misc]


def assert_delivered_once(store: Path, received: Sequence[bytes], *, since_id: int = 0) -> None:
    """Every outbox message (after `since_id`) is sent, and reached the SMTP server exactly once."""
    rows = [r for r in outbox(store) if r[0] > since_id]
    assert [status for _, status, _ in rows] == ["sent"] * len(rows), rows
    keys = sorted(str(m["X-KR-Monitor-Key"]).strip() for m in mails(received))
    assert keys == sorted(key for _, _, key in rows), "the SMTP server got a message twice, or one was lost"
