"""Each source failing under the real `monitor run`: the HTTP sources served by a real misbehaving server on
127.0.0.1 (their `[fetch].endpoints` override), yfinance and pykrx faulted at our one wrapper function.

Every case runs three days: day 1 healthy (shared with the unfaulted reference run of the same source), day 2
with the fault, day 3 with the source back. Checked for each: the exit code; run.json and report.html (the
probe failed, its level rule inhibited by one data-health alert, the CSV series and its rule untouched); the
stored observations against the reference run's after each day (nothing lost, nothing duplicated, no partial
fetch); the number of requests and the waits the HTTP policy asked for; that every message reached the SMTP
server exactly once; and that no key shows up in any log line, report, message or store row.
Bodies: the same recorded answers as tests/series/sources/test_faults.py (../shared samples, SYNTHETIC tests/data)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests

from series.sources import krx, yahoo
from tests.fault_server import FakeClock, FaultServer, Reply
from tests.faults.conftest import Smtp
from tests.faults.support import (
    Probe,
    Ran,
    Row,
    assert_delivered_once,
    assert_store_sound,
    mails,
    observations,
    run_in_process,
    write_config,
)
from tests.series.sources.support import store_dump
from tests.series.sources.test_faults import CASES
from tests.series.sources.test_krx import ENV as KRX_ENV
from tests.series.sources.test_krx import _pykrx_frame

HTTP = {c.source: c for c in CASES}
PROBES = {
    "fred": Probe("fred", "DFF", "D", ("2023-06-01", "2023-06-02", "2023-06-05"), start="2023-05-01"),
    "fredgraph": Probe(
        "fredgraph", "DEXKOUS", "B", ("2022-01-26", "2022-01-27", "2022-01-28"), start="2021-12-01", calendar="XNYS"
    ),
    "bis": Probe("bis", "D.JP", "D", ("2022-03-29", "2022-03-30", "2022-03-31"), start="2021-01-01"),
    "ecos": Probe("ecos", "722Y001/0101000", "D", ("2023-01-12", "2023-01-13", "2023-01-16"), start="2023-01-01"),
    "boj": Probe(
        "boj", "FM01/STRDCLUCON", "B", ("2024-03-20", "2024-03-21", "2024-03-22"), start="2024-03-01", calendar="XTKS"
    ),
    "customs": Probe("customs", "8542", "M", ("2025-02-27", "2025-02-28", "2025-03-04"), start="2025-01-01"),
    "yahoo": Probe("yahoo", "^KS11", "B", ("2026-03-04", "2026-03-05", "2026-03-06"), start="2026-02-01"),
    "krx": Probe(
        "krx",
        "KOSPI",
        "B",
        ("2021-01-20", "2021-01-21", "2021-01-22"),
        start="2021-01-15",
        params={"investor": "foreign"},
        scale=1e-8,
    ),
}
KEYS = {
    "fred": HTTP["fred"].env,
    "ecos": HTTP["ecos"].env,
    "customs": HTTP["customs"].env,
    "krx": KRX_ENV,
}
KS11 = "data/samples/yfinance_download_to_csv_KS11_2025-09-08_to_2026-03-06.csv"


@dataclass(frozen=True)
class Fault:
    """What goes wrong on day 2, and how the run must take it."""

    name: str
    kind: str  # the probe fetch's error kind; "" = a retry got the data and the run is clean
    attempts: int  # requests (or library calls) the fetch makes with retries = 1
    timeout: float = 5.0  # [fetch].timeout_seconds of that run
    waits: tuple[float, ...] = ()  # waits the policy must ask for (Retry-After)
    message: str = ""  # in the failure message


HTTP_FAULTS = {
    "timeout": Fault("timeout", "unavailable", 2, timeout=0.25, message="timeout"),
    "429": Fault("429", "throttled", 2, waits=(2.0,), message="HTTP 429"),
    "500-then-ok": Fault("500-then-ok", "", 2),
    "500": Fault("500", "unavailable", 2, message="HTTP 500"),
    "garbage": Fault("garbage", "schema", 1),
    "empty": Fault("empty", "empty", 1),
}
LIBRARY_FAULTS = {
    "empty-frame": Fault("empty-frame", "empty", 1),
    "rate-limit": Fault("rate-limit", "throttled", 2, message="rate-limited"),  # yahoo; krx: see below
    "exception": Fault("exception", "unavailable", 1, message="KeyError"),
}
KRX_RATE_LIMIT = Fault("rate-limit", "unavailable", 2, message="429")  # pykrx lets requests' HTTPError through
CUSTOMS_QUOTA = Fault("429", "throttled", 1, message="spent until tomorrow")  # data.go.kr: the daily quota


def http_replies(source: str, fault: str, good: bytes) -> list[Reply]:
    case = HTTP[source]
    return {
        "timeout": [Reply(200, good, delay=1.0)],
        "429": [Reply(429, b"Too Many Requests", {"Retry-After": "2"})],
        "500-then-ok": [Reply(500, b"Internal Server Error"), Reply(200, good)],
        "500": [Reply(500, b"Internal Server Error")],
        "garbage": [Reply(200, case.malformed)],
        "empty": [case.empty],
    }[fault]


class Scripted:
    """Stands in for one library wrapper (`yahoo.download`, `krx.trading_value`): each call takes the next step
    of the script (the last one repeats): an exception to raise, or a function of the call's arguments."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.plan: list[Any] = []

    def script(self, *steps: Any) -> None:
        self.plan, self.calls = list(steps), []

    def __call__(self, *args: Any) -> pd.DataFrame:
        self.calls.append(args)
        step = self.plan.pop(0) if len(self.plan) > 1 else self.plan[0]
        if isinstance(step, BaseException):
            raise step
        frame: pd.DataFrame = step(*args)
        return frame


def ks11_frame(shared: Path) -> Callable[..., pd.DataFrame]:
    """yf.download's frame for ^KS11 (the real sample), cut to the asked dates as yfinance does."""
    frame = pd.read_csv(shared / KS11, header=[0, 1], index_col=0, skiprows=[2])
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.index), name="Date")
    frame.columns.names = ["Price", "Ticker"]

    def answer(symbol: str, start: date | None, end: date | None, timeout: float) -> pd.DataFrame:
        return frame.loc[pd.Timestamp(start) if start else None : pd.Timestamp(end) if end else None]

    return answer


def krx_frame(shared: Path) -> Callable[..., pd.DataFrame]:
    frame = _pykrx_frame(shared)

    def answer(start: date, end: date, market: str, env: Any) -> pd.DataFrame:
        return frame.loc[pd.Timestamp(start) : pd.Timestamp(end)]

    return answer


def library_steps(source: str, fault: str) -> list[Any]:
    import yfinance.exceptions as yfe

    if fault == "empty-frame":  # what both libraries answer when the service sends nothing usable
        return [lambda *args: pd.DataFrame()]
    if fault == "exception":
        return [KeyError("chart" if source == "yahoo" else "output")]  # the library broke on a changed layout
    if source == "yahoo":
        return [yfe.YFRateLimitError()]
    return [requests.HTTPError("429 Client Error: Too Many Requests for url: https://data.krx.co.kr/")]


# -- the faulted source, live ------------------------------------------------------------------------------
@dataclass
class Source:
    """The probe's source under test: how to make it answer well, and how to make it fail."""

    probe: Probe
    http: FaultServer
    good: bytes = b""
    library: Scripted = field(default_factory=Scripted)
    good_answer: Callable[..., pd.DataFrame] | None = None

    @property
    def endpoint(self) -> str:
        return self.http.url if self.probe.source in HTTP else ""

    def serve_good(self) -> None:
        if self.probe.source in HTTP:
            self.http.script(Reply(200, self.good))
        else:
            self.library.script(self.good_answer)

    def fail(self, fault: str) -> None:
        self.http.reset()
        if self.probe.source in HTTP:
            self.http.script(*http_replies(self.probe.source, fault, self.good))
        else:
            self.library.script(*library_steps(self.probe.source, fault))

    @property
    def attempts(self) -> int:
        return len(self.http.requests) if self.probe.source in HTTP else len(self.library.calls)


@pytest.fixture
def source(request: pytest.FixtureRequest, shared: Path, http: FaultServer, monkeypatch: pytest.MonkeyPatch) -> Source:
    name: str = request.param
    src = Source(PROBES[name], http)
    if name in HTTP:
        src.good = HTTP[name].good(shared)
    elif name == "yahoo":
        src.good_answer = ks11_frame(shared)
        monkeypatch.setattr(yahoo, "download", src.library)
    else:
        src.good_answer = krx_frame(shared)
        monkeypatch.setattr(krx, "trading_value", src.library)
    for key, value in KEYS.get(name, {}).items():
        monkeypatch.setenv(key, value)
    return src


# -- the unfaulted reference run, once per source -------------------------------------------------------------
@dataclass(frozen=True)
class Reference:
    after: list[list[Row]]  # the stored observations after each of the three days
    day1_store: Path  # the store after day 1: where every faulted case starts
    mail_subjects: list[str]


_REFERENCES: dict[str, Reference] = {}


def reference(src: Source, folder: Path, smtp: Smtp, capsys: pytest.CaptureFixture[str]) -> Reference:
    """Run the three days without a fault (once per source and session)."""
    name = src.probe.source
    if name in _REFERENCES:
        return _REFERENCES[name]
    folder.mkdir(parents=True)
    config = write_config(folder, src.probe, smtp_port=smtp.port, endpoint=src.endpoint)
    smtp.reset()
    after = []
    for i, day in enumerate(src.probe.days):
        src.serve_good()
        ran = run_in_process(config, day, capsys)
        assert ran.code == 0, ran.err
        after.append(observations(folder / "store.sqlite"))
        if i == 0:
            shutil.copy(folder / "store.sqlite", folder / "day1.sqlite")
    probe_rows = [r for r in after[-1] if r[0] == "probe"]
    assert len(probe_rows) >= 2 and {r[0] for r in after[0]} == {"probe", "won"}
    # Day 1 mails both firing rules in one message; the next days have nothing new to say.
    subjects = [str(m["Subject"]) for m in mails(smtp.messages)]
    assert len(subjects) == 1 and "2 firing" in subjects[0], subjects
    assert_delivered_once(folder / "store.sqlite", smtp.messages)
    _REFERENCES[name] = Reference(after, folder / "day1.sqlite", subjects)
    return _REFERENCES[name]


# -- the matrix ---------------------------------------------------------------------------------------------
def _cases() -> list[Any]:
    out = []
    for name in PROBES:
        faults = HTTP_FAULTS if name in HTTP else LIBRARY_FAULTS
        for fault in faults.values():
            if name == "krx" and fault.name == "rate-limit":
                fault = KRX_RATE_LIMIT
            if name == "customs" and fault.name == "429":
                fault = CUSTOMS_QUOTA
            out.append(pytest.param(name, fault, id=f"{name}-{fault.name}"))
    return out


def _probe_rule_notices(store: Path) -> list[tuple[str, str]]:
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        return con.execute(
            "SELECT s.rule, n.state FROM notifications_sent n JOIN alert_state s USING (fingerprint) "
            "WHERE s.rule IN ('probe_level', 'won_high') ORDER BY s.rule"
        ).fetchall()
    finally:
        con.close()


def _archived_urls(store: Path) -> list[str]:
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        return [
            url
            for (url,) in con.execute(
                "SELECT p.url FROM fetch_payloads p JOIN fetches f ON f.id = p.fetch_id WHERE f.series_id = 'probe'"
            )
        ]
    finally:
        con.close()


def _assert_no_secret(name: str, folder: Path, runs: list[Ran], received: list[bytes]) -> None:
    secrets = list(KEYS.get(name, {}).values())
    if name == "krx":
        secrets = [KRX_ENV["KRX_PW"]]
    texts = [r.err for r in runs] + [r.report + json.dumps(r.summary) for r in runs]
    texts += [m.decode("utf-8", "replace") for m in received] + [store_dump(folder / "store.sqlite")]
    for secret in secrets:
        assert all(secret not in t for t in texts), f"{name}: a secret leaked"


@pytest.mark.parametrize(("source", "fault"), _cases(), indirect=["source"])
def test_a_failing_source_is_reported_inhibits_its_rules_and_loses_nothing(
    source: Source,
    fault: Fault,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    smtp: Smtp,
    clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    name, probe = source.probe.source, source.probe
    ref = reference(source, tmp_path_factory.getbasetemp() / f"reference-{name}", smtp, capsys)
    smtp.reset()
    shutil.copy(ref.day1_store, tmp_path / "store.sqlite")
    store = tmp_path / "store.sqlite"
    first_outbox_id = 1  # day 1's message, sent in the reference run

    # Day 2: the fault.
    source.fail(fault.name)
    config = write_config(tmp_path, probe, smtp_port=smtp.port, endpoint=source.endpoint, timeout=fault.timeout)
    day2 = run_in_process(config, probe.days[1], capsys)
    day2.assert_json_log()
    summary, report = day2.summary, day2.report
    fetched = summary["fetch"]
    assert source.attempts == fault.attempts, f"{source.attempts} requests"
    for wait in fault.waits:
        assert wait in clock.sleeps, f"the policy did not wait {wait} s as the server asked: {clock.sleeps}"
    assert fetched["won"]["status"] == "ok"  # the other source is not held up
    alerts = {a["alert"]: a for a in summary["alerts"]}
    assert alerts["won_high"]["state"] == "firing" and not alerts["won_high"]["suppressed"]
    assert_store_sound(store)
    if not fault.kind:  # a retry got the answer: a clean run
        assert day2.code == 0 and summary["status"] == "ok", day2.err
        assert fetched["probe"]["status"] == "ok"
        assert observations(store) == ref.after[1]
        assert smtp.messages == []  # nothing new to say
        assert not alerts["probe_level"]["suppressed"]
    else:
        assert day2.code == 1, day2.err
        assert summary["status"] == "errors" and summary["exit_code"] == 1
        assert fetched["probe"]["status"] == "failed" and fetched["probe"]["error_kind"] == fault.kind, fetched
        assert fault.message in fetched["probe"]["message"]
        if source.endpoint:  # names the server that answered (the override), not the source's usual host
            assert f"({source.endpoint}/" in fetched["probe"]["message"], fetched["probe"]["message"]
        assert [p.split(":")[0] for p in summary["failed"]] == ["probe"]
        # Its rule is inhibited, by one data-health alert that names the failure.
        assert alerts["probe_level"]["suppressed"].startswith("inhibited: probe source down")
        health = [a for a in summary["alerts"] if a["alert"].startswith("inputs")]
        assert [(a["alert"], a["state"], a["suppressed"]) for a in health] == [("inputs{series=probe}", "firing", "")]
        # The report says so: the headline, the data-health list, what failed, the freshness table.
        assert "1 input stale or down" in report and "1 problem in this run" in report
        assert "<h3>What failed</h3>" in report and "<h3>Data health</h3>" in report
        assert f"probe ({name} {probe.key})" in report
        # The freshness table says it in a few words (host and error class); "What failed" says it once.
        assert f">failed: {fetched['probe']['host']} {fetched['probe']['reason']}<" in report
        # Nothing stored was lost or duplicated: the probe as after day 1, the CSV series as after day 2.
        expected = [r for r in ref.after[0] if r[0] == "probe"] + [r for r in ref.after[1] if r[0] == "won"]
        assert observations(store) == sorted(expected)
        # One message, about the data.
        subjects = [str(m["Subject"]) for m in mails(smtp.messages)]
        assert len(subjects) == 1 and "probe: source down" in subjects[0], subjects
    day2_mail = list(smtp.messages)

    # Day 3: the source is back.
    source.serve_good()
    config = write_config(tmp_path, probe, smtp_port=smtp.port, endpoint=source.endpoint)
    day3 = run_in_process(config, probe.days[2], capsys)
    assert day3.code == 0 and day3.summary["status"] == "ok", day3.err
    day3.assert_json_log()
    assert day3.summary["fetch"]["probe"]["status"] == "ok"
    assert observations(store) == ref.after[2]  # as if nothing had happened
    assert_store_sound(store)
    assert not any(a["suppressed"] for a in day3.summary["alerts"])
    if source.endpoint:  # the archive says where each raw answer came from
        assert all(url.startswith(source.endpoint + "/") for url in _archived_urls(store)), _archived_urls(store)
    # Every message of days 2 and 3 reached the server exactly once; the rules' own alerts were told once only
    # (on day 1), never again because of the outage.
    assert_delivered_once(store, smtp.messages, since_id=first_outbox_id)
    assert _probe_rule_notices(store) == [("probe_level", "firing"), ("won_high", "firing")]
    if fault.kind:
        resolved = [str(m["Subject"]) for m in mails(smtp.messages[len(day2_mail) :])]
        assert len(resolved) == 1 and "resolved" in resolved[0], resolved
    _assert_no_secret(name, tmp_path, [day2, day3], smtp.messages)
