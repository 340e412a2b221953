"""The [[rules]] blocks: each validated by the model of its kind (monitor.alerts.rules.KINDS), and the series,
models and model variables a kind says it reads checked against the file."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from monitor.alerts.rules import KINDS, RuleBase
from monitor.alerts.rules.base import series_refs
from monitor.config.checks import as_list, check, items
from monitor.config.errors import describe_error, suggest


def validate_rules(raw: Any) -> tuple[list[RuleBase], list[str]]:
    """Each `[[rules]]` block against the model of its kind; every problem with its key path."""
    if not isinstance(raw, list):
        return [], ["rules: expected an array of tables ([[rules]] blocks)"]
    rules: list[RuleBase] = []
    problems: list[str] = []
    kinds = ", ".join(KINDS)
    for i, block in enumerate(raw):
        where = f"rules[{i}]"
        if not isinstance(block, dict):
            problems.append(f"{where}: expected a table, got {block!r}")
            continue
        kind = block.get("kind")
        if kind is None:
            problems.append(f"{where}.kind: required key is missing (one of {kinds})")
            continue
        cls = KINDS.get(kind) if isinstance(kind, str) else None
        if cls is None:
            problems.append(f"{where}.kind: {kind!r} is not one of {kinds}{suggest(str(kind), list(KINDS))}")
            continue
        try:
            rule = cls.model_validate(block)
        except ValidationError as e:
            problems += [describe_error(err, cls, prefix=where) for err in e.errors()]
            continue
        found = [f"{where}.annotations.{key}: {msg}" for key, msg in rule.template_problems()]
        problems += found
        if not found:
            rules.append(rule)
    return rules, problems


@check
def rule_references(raw: dict[str, Any]) -> list[str]:
    """Series, models and model variables that rules name must exist (read from the raw blocks, so a rule with
    other problems still has its references checked)."""
    series = [s["id"] for _, s in items(raw, "series") if isinstance(s.get("id"), str)]
    series += [p["id"] for _, p in items(raw, "preferred") if isinstance(p.get("id"), str)]
    models = _model_variables(raw)
    problems = []
    for i, block in items(raw, "rules"):
        where = f"rules[{i}]"
        kind = KINDS.get(block["kind"]) if isinstance(block.get("kind"), str) else None
        # An unknown kind (reported by validate_rules) still has every key any kind reads checked.
        kinds = [kind] if kind else list(KINDS.values())
        series_keys = dict.fromkeys(key for k in kinds for key in k.series_keys)
        for key, sid in series_refs(series_keys, block):
            if sid not in series:
                problems.append(f"{where}.{key}: unknown series {sid!r}{suggest(sid, series)}")
        model_key = next((k.model_key for k in kinds if k.model_key), None)
        model = block.get(model_key) if model_key else None
        if not isinstance(model, str):
            continue
        if model not in models:
            problems.append(f"{where}.{model_key}: unknown model {model!r}{suggest(model, list(models))}")
            continue
        for key in dict.fromkeys(key for k in kinds for key in k.variable_keys):
            var = block.get(key)
            if isinstance(var, str) and var not in models[model]:
                problems.append(
                    f"{where}.{key}: model {model} has no variable {var!r}{suggest(var, models[model])} "
                    f"(its variables: {', '.join(models[model])})"
                )
    return problems


def _model_variables(raw: dict[str, Any]) -> dict[str, list[str]]:
    """Every model a rule may name ([[models]] and each market of [[model_groups]]) with its variables."""
    models: dict[str, list[str]] = {}
    for _, m in items(raw, "models"):
        if isinstance(m.get("name"), str):
            models[m["name"]] = _variable_names(m.get("variables"))
    for _, g in items(raw, "model_groups"):
        for market in as_list(g.get("markets")):
            if isinstance(g.get("name"), str) and isinstance(market, dict) and isinstance(market.get("name"), str):
                names = _variable_names(g.get("variables")) + _variable_names(market.get("variables"))
                models[f"{g['name']}.{market['name']}"] = names
    return models


def _variable_names(variables: Any) -> list[str]:
    names = [v.get("name") or v.get("series") for v in as_list(variables) if isinstance(v, dict)]
    return [n for n in names if isinstance(n, str)]
