"""How failed fetches are said, from run.json's "fetch" entries (series id -> `FetchOutcome.as_dict()`): each
once, those of a host grouped by host and reason, and "no network" when no host answered at all. The run's log and
the report say it the same way (this module imports nothing that fetches, so reports may use it)."""

from __future__ import annotations

from collections.abc import Mapping

LOCAL_SOURCES = ("csv",)  # read from files: their failures say nothing about the network
# Failures that are about the host, not the series: said once per host and reason, with the series they cost.
HOST_KINDS = ("unreachable", "unavailable", "throttled", "auth")


def no_network(fetch: Mapping[str, Mapping[str, object]]) -> bool:
    """Nothing answered: some series failed for an unreachable host, and no route of any series got an answer
    (`fetch` is run.json's "fetch": series id -> FetchOutcome.as_dict())."""
    unreachable = any(f.get("error_kind") == "unreachable" for f in fetch.values())
    answered = any(
        f.get("reached", True) if f.get("status") == "failed" else f.get("source") not in ("", *LOCAL_SOURCES)
        for f in fetch.values()
        if f.get("status") != "skipped"
    )
    return unreachable and not answered


def no_network_line(fetch: Mapping[str, Mapping[str, object]]) -> str:
    """'no network: 4 hosts unreachable (DNS): fred.stlouisfed.org, ...; 11 series not fetched, stored data used'."""
    failed = [f for f in fetch.values() if f.get("status") == "failed"]
    down = [f for f in failed if f.get("error_kind") == "unreachable"]
    hosts = sorted({str(f.get("host")) for f in down if f.get("host")})
    reasons = sorted({str(f.get("reason", "")).removeprefix("unreachable ").strip("()") for f in down})
    return (
        f"no network: {len(hosts)} host{'s' if len(hosts) != 1 else ''} unreachable ({', '.join(reasons)}): "
        f"{', '.join(hosts)}; {len(failed)} series not fetched, stored data used"
    )


def failure_lines(fetch: Mapping[str, Mapping[str, object]]) -> list[str]:
    """The failed fetches, each said once: those of a host grouped by host and reason ("fred.stlouisfed.org
    unreachable (DNS): 6 series not fetched (fed_upper, ...)"), the others one line per series."""
    groups: dict[tuple[str, str], list[str]] = {}
    lines = []
    for sid, f in fetch.items():
        if f.get("status") not in ("failed", "quarantined"):
            continue
        if f.get("error_kind") in HOST_KINDS and f.get("host"):
            groups.setdefault((str(f["host"]), str(f.get("reason") or f["error_kind"])), []).append(sid)
        else:
            lines.append(f"{sid}: {f.get('status')}: {f.get('message')}")
    grouped = [
        f"{host} {reason}: {len(ids)} series not fetched ({', '.join(ids)})" for (host, reason), ids in groups.items()
    ]
    return grouped + lines


def keys_line(fetch: Mapping[str, Mapping[str, object]]) -> str:
    """One line naming the series skipped for want of a key, per key ('' when none was)."""
    by_need: dict[str, list[str]] = {}
    for sid, f in fetch.items():
        if f.get("status") == "skipped" and f.get("error_kind") == "missing_key":
            by_need.setdefault(str(f.get("message", "")).removeprefix("needs "), []).append(sid)
    parts = [f"{', '.join(ids)} (needs {need})" for need, ids in sorted(by_need.items())]
    return "Not fetched without a key: " + "; ".join(parts) if parts else ""
