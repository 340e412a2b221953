"""`monitor run` with the network down: every source host either does not resolve (DNS, `nonexistent.invalid`,
failed at the resolver, the socket boundary) or refuses connections (a closed port on 127.0.0.1). Each host is
tried once and then marked down; the run says "no network" in one line, its log has no library repr, and the
report's headline says the network is unreachable and groups the failures by host, each once."""

from __future__ import annotations

import socket
import textwrap
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.fault_server import FakeClock
from tests.faults.support import run_in_process
from tests.monitor.notify.conftest import free_port

UNRESOLVABLE = "nonexistent.invalid"  # RFC 6761: never resolves
AS_OF = "2026-03-27"
REPRS = ("HTTPConnectionPool", "HTTPSConnectionPool", "Caused by", "NewConnectionError", "NameResolutionError", "<")


@pytest.fixture
def dns_fails(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The resolver fails for UNRESOLVABLE as it does offline (EAI_NONAME); returns the names asked for."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        asked.append(str(host))
        if host == UNRESOLVABLE:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every TCP connection attempted (the addresses), through the loopback-only guard of tests/conftest.py."""
    seen: list[object] = []
    guarded = socket.socket.connect

    def connect(self: socket.socket, address: object) -> object:
        seen.append(address)
        return guarded(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


def _config(folder: Path, refused_port: int) -> Path:
    """Three fredgraph series on a refused port, one BIS series on a name that does not resolve, a local CSV
    series, and FRED's keyed API as the Fed series' primary (no key: the run says what the key would add)."""
    first = date.fromisoformat(AS_OF) - timedelta(days=20)
    csv = folder / "won_SYNTHETIC.csv"
    csv.write_text("date,value\n" + "".join(f"{first + timedelta(days=i)},1500\n" for i in range(21)))
    fred = "\n".join(
        textwrap.dedent(f"""
            [[series]]
            id = "{sid}"
            label = "{sid}"
            source = "fred"
            key = "{key}"
            fallback = [{{ source = "fredgraph", key = "{key}" }}]
            freq = "D"
            units = "%"
            start = "2026-01-01"
            """)
        for sid, key in (("fed_upper", "DFEDTARU"), ("fed_lower", "DFEDTARL"), ("us_10y", "DGS10"))
    )
    text = (
        textwrap.dedent(f"""\
        [paths]
        store = "{folder / "store.sqlite"}"
        exports = "{folder / "exports"}"

        [fetch]
        timeout_seconds = 5
        retries = 4
        endpoints = {{ fredgraph = "http://127.0.0.1:{refused_port}", bis = "http://{UNRESOLVABLE}" }}

        [[series]]
        id = "won"
        label = "KRW per USD (SYNTHETIC)"
        source = "csv"
        key = "{csv.name}"
        freq = "D"
        units = "KRW per USD"

        [[series]]
        id = "boj_rate"
        label = "BOJ policy rate"
        source = "bis"
        key = "D.JP"
        freq = "D"
        units = "%"
        start = "2026-01-01"

        [[rules]]
        name = "inputs"
        kind = "data_health"
        series = ["*"]

        [[receivers]]
        name = "files"
        kind = "file"
        directory = "{folder / "mail"}"
        """)
        + fred
    )
    path = folder / "config.toml"
    path.write_text(text)
    return path


def test_offline_run_tries_each_host_once_says_no_network_once_and_groups_failures_by_host(
    tmp_path: Path,
    clock: FakeClock,
    dns_fails: list[str],
    connects: list[object],
    capsys: pytest.CaptureFixture[str],
) -> None:
    refused = free_port()  # nothing listens there
    ran = run_in_process(_config(tmp_path, refused), AS_OF, capsys)

    assert ran.code == 1, ran.err
    # Once per host, however many series it serves and whatever `retries` says; no retry waits.
    assert [a for a in connects if isinstance(a, tuple) and a[1] == refused] == [("127.0.0.1", refused)]
    assert dns_fails.count(UNRESOLVABLE) == 1
    assert clock.sleeps == []
    fetched = ran.summary["fetch"]
    down = {sid: (f["error_kind"], f["host"], f["reason"]) for sid, f in fetched.items() if f["status"] == "failed"}
    local = f"127.0.0.1:{refused}"
    assert down == {
        "fed_upper": ("unreachable", local, "unreachable (connection refused)"),
        "fed_lower": ("unreachable", local, "unreachable (connection refused)"),
        "us_10y": ("unreachable", local, "unreachable (connection refused)"),
        "boj_rate": ("unreachable", UNRESOLVABLE, "unreachable (DNS)"),
    }
    assert "down" in fetched["fed_lower"]["message"] and "not requested" in fetched["fed_lower"]["message"]

    # The log: what a key would add first, "no network" once, short lines, no library repr.
    lines = ran.err.splitlines()
    messages = [e["message"] for e in ran.events]
    assert messages[0].startswith("keyless run;") and "FRED_API_KEY: fed_upper, fed_lower, us_10y" in messages[0]
    assert [m for m in messages if "no network" in m] == [
        f"no network: 2 hosts unreachable (DNS, connection refused): {local}, {UNRESOLVABLE}; "
        "4 series not fetched, stored data used"
    ]
    assert len(lines) <= 20, "\n".join(lines)
    for m in messages:
        assert not any(r in m for r in REPRS), m
    assert not any(m.startswith(("fed_lower:", "us_10y:")) for m in messages)  # said in the one line

    # The report: the headline says it, and each failure is listed once, by host.
    report = ran.report
    headline = report.split('id="headline"')[1].split("</strong>")[0]
    assert "Network unreachable" in headline
    grouped = f"{local} unreachable (connection refused): 3 series not fetched (fed_upper, fed_lower, us_10y)"
    assert report.count(grouped) == 1
    assert report.count(f"{UNRESOLVABLE} unreachable (DNS): 1 series not fetched (boj_rate)") == 1
    assert "HTTPConnectionPool" not in report and "Caused by" not in report
