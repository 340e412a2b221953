"""How failed fetches are said: grouped by host and reason, each once, and "no network" only when nothing
answered (a local CSV file is not the network; one host that answered, even with an error, is)."""

from __future__ import annotations

from series.failures import failure_lines, keys_line, no_network, no_network_line


def _failed(
    host: str, kind: str, reason: str, *, reached: bool = False, source: str = "fredgraph"
) -> dict[str, object]:
    return {
        "status": "failed",
        "source": source,
        "error_kind": kind,
        "host": host,
        "reason": reason,
        "reached": reached,
        "message": f"[{source}] x: {host} {reason}",
    }


OK_CSV = {"status": "ok", "source": "csv", "error_kind": "", "host": "", "reason": "", "reached": True}
OK_NET = {**OK_CSV, "source": "fredgraph"}
SKIPPED = {"status": "skipped", "source": "", "error_kind": "missing_key", "message": "needs ECOS_API_KEY"}


def test_failures_are_grouped_by_host_and_reason_each_once() -> None:
    fetch = {
        "a": _failed("fred.stlouisfed.org", "unreachable", "unreachable (DNS)"),
        "b": _failed("fred.stlouisfed.org", "unreachable", "unreachable (DNS)"),
        "c": _failed("stats.bis.org", "unavailable", "HTTP 503", reached=True),
        "d": _failed("ecos.bok.or.kr", "schema", "schema", reached=True, source="ecos"),
        "e": OK_CSV,
        "f": SKIPPED,
    }
    assert failure_lines(fetch) == [
        "fred.stlouisfed.org unreachable (DNS): 2 series not fetched (a, b)",
        "stats.bis.org HTTP 503: 1 series not fetched (c)",
        "d: failed: [ecos] x: ecos.bok.or.kr schema",  # about the series' data, not the host: its own line
    ]


def test_no_network_only_when_nothing_answered() -> None:
    down = {"a": _failed("fred.stlouisfed.org", "unreachable", "unreachable (DNS)"), "e": OK_CSV, "f": SKIPPED}
    assert no_network(down)
    assert no_network_line(down) == (
        "no network: 1 host unreachable (DNS): fred.stlouisfed.org; 1 series not fetched, stored data used"
    )
    assert not no_network({**down, "g": OK_NET})  # a host answered
    assert not no_network({**down, "g": _failed("stats.bis.org", "unavailable", "HTTP 503", reached=True)})
    assert not no_network({"e": OK_CSV, "f": SKIPPED})  # nothing was tried on the network


def test_what_a_key_would_add_is_one_line() -> None:
    fetch = {
        "exports_total": SKIPPED,
        "foreign_net_kospi": SKIPPED,
        "exports_semis": {**SKIPPED, "message": "needs DATA_GO_KR_KEY"},
        "e": OK_CSV,
    }
    assert keys_line(fetch) == (
        "Not fetched without a key: exports_semis (needs DATA_GO_KR_KEY); "
        "exports_total, foreign_net_kospi (needs ECOS_API_KEY)"
    )
    assert keys_line({"e": OK_CSV}) == ""
