"""Checks that span blocks (duplicate ids, references between blocks, source-specific parameters), each a small
function registered with `@check` that reads the raw tables and returns its problems: they are reported even when
a block failed validation. They run in the order they are registered (the rules' references, in
monitor.config.rules, come last)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from monitor.config.errors import describe_error, suggest

Check = Callable[[dict[str, Any]], list[str]]
CHECKS: list[Check] = []


def check(fn: Check) -> Check:
    CHECKS.append(fn)
    return fn


def cross_checks(raw: dict[str, Any]) -> list[str]:
    return [problem for fn in CHECKS for problem in fn(raw)]


def items(raw: dict[str, Any], section: str) -> list[tuple[int, dict[str, Any]]]:
    """The tables of an array-of-tables section, with their index (anything else is the blocks' problem)."""
    found = raw.get(section)
    return [(i, x) for i, x in enumerate(found) if isinstance(x, dict)] if isinstance(found, list) else []


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _series_ids(raw: dict[str, Any]) -> dict[str, int]:
    """Each [[series]] id and the index of its first block."""
    seen: dict[str, int] = {}
    for i, s in items(raw, "series"):
        if isinstance(s.get("id"), str):
            seen.setdefault(s["id"], i)
    return seen


@check
def series_blocks(raw: dict[str, Any]) -> list[str]:
    """Each [[series]] id once; each route (the source and its fallbacks) a known source with a key and params
    that source accepts."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, s in items(raw, "series"):
        sid = s.get("id")
        if isinstance(sid, str):
            if sid in seen:
                problems.append(f"series[{i}].id: duplicate id {sid!r} (first used by series[{seen[sid]}])")
            seen.setdefault(sid, i)
        refs = [(f"series[{i}]", s.get("source"), s.get("params", {}), s.get("key"))]
        refs += [
            (f"series[{i}].fallback[{j}]", f.get("source"), f.get("params", {}), f.get("key"))
            for j, f in enumerate(as_list(s.get("fallback")))
            if isinstance(f, dict)
        ]
        for where, source, params, key in refs:
            if isinstance(source, str):  # else reported by the block validation
                problems += _route(where, source, params, key)
    return problems


def _route(where: str, source: str, params: Any, key: Any) -> list[str]:
    from series import sources

    try:
        src = sources.get(source)
    except KeyError as e:
        return [f"{where}.source: {e.args[0]}"]
    problems = []
    key_problem = src.key_problem(key) if isinstance(key, str) and key.strip() else ""
    if key_problem:
        problems.append(f"{where}.key: {key!r} {key_problem}")
    if not isinstance(params, dict):
        return problems
    if src.params_model is None:
        return problems + ([f"{where}.params: source {source!r} takes no params"] if params else [])
    try:
        src.params_model.model_validate(params)
    except ValidationError as e:
        problems += [describe_error(err, src.params_model, prefix=f"{where}.params") for err in e.errors()]
    return problems


@check
def preferred_blocks(raw: dict[str, Any]) -> list[str]:
    """A [[preferred]] id is not a [[series]] id; its sources are [[series]] of one unit."""
    problems = []
    seen = _series_ids(raw)
    units = {s["id"]: s.get("units") for _, s in items(raw, "series") if isinstance(s.get("id"), str)}
    for i, p in items(raw, "preferred"):
        pid = p.get("id")
        if isinstance(pid, str) and pid in seen:
            problems.append(f"preferred[{i}].id: {pid!r} is already a [[series]] id")
        named = [sid for sid in as_list(p.get("sources")) if isinstance(sid, str)]
        for j, sid in enumerate(named):
            if sid not in units:
                problems.append(f"preferred[{i}].sources[{j}]: unknown series {sid!r}{suggest(sid, list(units))}")
        if len({units[sid] for sid in named if sid in units}) > 1:
            problems.append(f"preferred[{i}].sources: the series have different units; one quantity, one unit")
    return problems


@check
def fetch_endpoints(raw: dict[str, Any]) -> list[str]:
    """[fetch] endpoints name a source that can be redirected, with a base URL."""
    from series import sources

    fetch = raw.get("fetch")
    endpoints = fetch.get("endpoints") if isinstance(fetch, dict) else None
    problems = []
    for name, url in endpoints.items() if isinstance(endpoints, dict) else ():
        if name not in sources.names():
            problems.append(f"fetch.endpoints.{name}: unknown source{suggest(name, sources.names())}")
        elif not sources.get(name).redirectable:
            problems.append(f"fetch.endpoints.{name}: cannot be redirected (its library makes its own requests)")
        elif not isinstance(url, str) or not re.match(r"^https?://[^/\s]+", url):
            problems.append(f"fetch.endpoints.{name}: {url!r} is not a base URL such as http://127.0.0.1:8080")
    return problems


@check
def unique_names(raw: dict[str, Any]) -> list[str]:
    """Models, model groups, rules and receivers are named once each."""
    problems = []
    for section in ("models", "model_groups", "rules", "receivers"):
        names: dict[str, int] = {}
        for i, item in items(raw, section):
            name = item.get("name")
            if not isinstance(name, str):
                continue
            if name in names:
                problems.append(
                    f"{section}[{i}].name: duplicate name {name!r} (first used by {section}[{names[name]}])"
                )
            names.setdefault(name, i)
    return problems


@check
def model_blocks(raw: dict[str, Any]) -> list[str]:
    """A [[models]] block's variables are [[series]]; it is rolling or TVP, not both."""
    problems = []
    seen = _series_ids(raw)
    for i, m in items(raw, "models"):
        for j, v in enumerate(as_list(m.get("variables"))):
            ref = v.get("series") if isinstance(v, dict) else None
            if isinstance(ref, str) and ref not in seen:
                problems.append(f"models[{i}].variables[{j}].series: unknown series {ref!r}{suggest(ref, list(seen))}")
        if m.get("window") is not None and m.get("tvp"):
            problems.append(f"models[{i}]: choose either window (rolling) or tvp = true, not both")
    return problems


@check
def model_groups(raw: dict[str, Any]) -> list[str]:
    """A [[model_groups]] block is rolling or TVP; its markets are named once, each market's model has at least two
    variables, named once, and every variable is a [[series]]."""
    problems = []
    seen = _series_ids(raw)
    for i, g in items(raw, "model_groups"):
        where = f"model_groups[{i}]"
        if g.get("window") is not None and g.get("tvp"):
            problems.append(f"{where}: choose either window (rolling) or tvp = true, not both")
        common = [
            (f"{where}.variables[{j}]", v) for j, v in enumerate(as_list(g.get("variables"))) if isinstance(v, dict)
        ]
        markets: dict[str, int] = {}
        for k, market in enumerate(as_list(g.get("markets"))):
            if isinstance(market, dict):
                problems += _market(f"{where}.markets[{k}]", k, market, common, markets)
        for key, v in common + [
            (f"{where}.markets[{k}].variables[{j}]", v)
            for k, market in enumerate(as_list(g.get("markets")))
            if isinstance(market, dict)
            for j, v in enumerate(as_list(market.get("variables")))
            if isinstance(v, dict)
        ]:
            ref = v.get("series")
            if isinstance(ref, str) and ref not in seen:
                problems.append(f"{key}.series: unknown series {ref!r}{suggest(ref, list(seen))}")
    return problems


def _market(
    where: str, k: int, market: dict[str, Any], common: list[tuple[str, Any]], markets: dict[str, int]
) -> list[str]:
    """One market of a model group: its name not used before (`markets`: name -> first index, updated), its
    variables with the group's common ones named once, at least two."""
    problems = []
    mname = market.get("name")
    if isinstance(mname, str):
        if mname in markets:
            problems.append(f"{where}.name: duplicate market {mname!r} (first used by markets[{markets[mname]}])")
        markets.setdefault(mname, k)
    own = [
        (f"{where}.variables[{j}]", v) for j, v in enumerate(as_list(market.get("variables"))) if isinstance(v, dict)
    ]
    first: dict[str, str] = {}
    for key, v in [*common, *own]:
        name = v.get("name") or v.get("series")
        if isinstance(name, str):
            if name in first:
                problems.append(
                    f"{key}: variable {name!r} is already in this market's model (from {first[name]}); "
                    'give one of them another name = "..."'
                )
            first.setdefault(name, key)
    if len(common) + len(own) < 2:
        problems.append(f"{where}.variables: a market's model needs at least two variables with the common ones")
    return problems
