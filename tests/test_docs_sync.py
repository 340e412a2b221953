"""The README and config.toml name everything the code accepts: every source (the source registry), every rule kind
(the rule registry), every receiver kind and every config key (walked from the pydantic models that validate
config.toml). Read from the registries and models themselves, so a source, kind or key added in one place without
its doc line fails here, naming what is missing and where it belongs."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from monitor.alerts.rules import KINDS
from monitor.config import Config
from series import sources

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
CONFIG_TOML = (REPO / "config.toml").read_text(encoding="utf-8")
CONFIG_SECTION = "Configuration (`config.toml`)"


# -- reading the documents ------------------------------------------------------------------------------------
def section(title: str) -> str:
    """The README's `## title` section, up to the next `## ` heading."""
    match = re.search(rf"^## {re.escape(title)}$.*?(?=^## |\Z)", README, re.M | re.S)
    assert match, f"README.md has no '## {title}' section"
    return match.group(0)


def words(text: str) -> set[str]:
    """Every identifier inside the `code spans` of a text: what the README marks as a key or a name."""
    return {w for span in re.findall(r"`([^`]+)`", text) for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", span)}


def row(text: str, first_cell: str) -> str:
    """The table row whose first cell is `first_cell` (as written, e.g. "`[[series]]`")."""
    match = re.search(rf"^\| {re.escape(first_cell)} \|.*$", text, re.M)
    return match.group(0) if match else ""


def kind_line(text: str, kind: str) -> str:
    """The bullet that documents a receiver kind's own keys: "- `kind`: ..."."""
    match = re.search(rf"^- `{re.escape(kind)}`:.*$", text, re.M)
    return match.group(0) if match else ""


def config_toml_comments() -> str:
    return "\n".join(line for line in CONFIG_TOML.splitlines() if line.lstrip().startswith("#"))


def listed_in_config_toml(name: str) -> bool:
    """config.toml's comments list a choice in an `a | b | c` enumeration or as a quoted `"name"`."""
    comments = config_toml_comments()
    return bool(re.search(rf'(?:\|\s*{name}\b|(?<![\w.]){name}\s*\||"{name}")', comments))


# -- reading the code -----------------------------------------------------------------------------------------
def literal_values(annotation: Any) -> list[str]:
    if typing.get_origin(annotation) is Literal:
        return [str(a) for a in typing.get_args(annotation)]
    return [v for arg in typing.get_args(annotation) for v in literal_values(arg)]


def models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    """The pydantic models an annotation holds (through list[...], X | None, Annotated[Union[...], ...])."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        for arg in typing.get_args(annotation):
            yield from models_in(arg)


def keys(model: type[BaseModel]) -> list[str]:
    """The keys a config block accepts, as written in TOML (the alias: `from`, `for`)."""
    return [f.alias or name for name, f in model.model_fields.items() if not f.exclude]


def blocks() -> Iterator[tuple[str, type[BaseModel]]]:
    """(top-level config key, model) for every block model reachable from Config, except the rule kinds."""
    rule_classes = set(KINDS.values())
    seen: set[type[BaseModel]] = set()

    def walk(top: str, model: type[BaseModel]) -> Iterator[tuple[str, type[BaseModel]]]:
        if model in seen or model in rule_classes:
            return
        seen.add(model)
        yield top, model
        for f in model.model_fields.values():
            for inner in models_in(f.annotation):
                yield from walk(top, inner)

    for name, f in Config.model_fields.items():
        if not f.exclude:
            for model in models_in(f.annotation):
                yield from walk(name, model)


def receiver_kinds() -> list[str]:
    """The `kind` values of the receiver blocks (one block with a choice, or one block per kind)."""
    found = [m.model_fields["kind"] for top, m in blocks() if top == "receivers" and "kind" in m.model_fields]
    return sorted({v for f in found for v in literal_values(f.annotation)})


def rule_models(cls: type[BaseModel]) -> Iterator[type[BaseModel]]:
    """A rule kind's model and the models of its nested keys (the components of emp)."""
    yield cls
    for f in cls.model_fields.values():
        for inner in models_in(f.annotation):
            yield from rule_models(inner)


# -- the checks -----------------------------------------------------------------------------------------------
def test_every_source_is_in_the_readme_and_config_toml():
    table = section("Data sources, record and replay")
    assert sources.names(), "the source registry is empty"
    missing = [s for s in sources.names() if not row(table, f"`{s}`")]
    assert not missing, f"README.md 'Data sources' table has no row for source(s) {missing}"
    line = re.search(r"^#\s+source\s+(.*)$", CONFIG_TOML, re.M)
    assert line, "config.toml has no '#   source  a | b | ...' comment line listing the sources"
    listed = set(re.findall(r"[a-z_]+", line.group(1).split("(")[0]))
    missing = [s for s in sources.names() if s not in listed]
    assert not missing, f"config.toml's '# source' comment does not list {missing}"


def test_every_rule_kind_is_in_the_readme_and_config_toml():
    table = section("Alerts")
    missing = [k for k in KINDS if not row(table, f"`{k}`")]
    assert not missing, f"README.md 'Alerts' table of kinds has no row for {missing}"
    missing = [k for k in KINDS if not listed_in_config_toml(k)]
    assert not missing, f"config.toml does not list rule kind(s) {missing} (the `kind = level | ...` comment)"


def test_every_receiver_kind_is_in_the_readme_and_config_toml():
    kinds = receiver_kinds()
    assert kinds, "no receiver kinds found in the config models"
    cell = re.search(r"`kind` \(([^)]*)\)", row(section(CONFIG_SECTION), "`[[receivers]]`"))
    assert cell, "README.md's [[receivers]] row has no `kind` (a, b, ...) entry"
    documented = set(re.findall(r"\w+", cell.group(1)))
    missing = [k for k in kinds if k not in documented]
    assert not missing, f"README.md's [[receivers]] row does not name receiver kind(s) {missing}"
    missing = [k for k in kinds if not listed_in_config_toml(k)]
    assert not missing, f'config.toml does not show receiver kind(s) {missing} (kind = "..." in the receivers comment)'


def test_every_config_key_is_in_the_readme_config_reference():
    reference = section(CONFIG_SECTION)
    missing = []
    for top, model in blocks():
        cell = row(reference, f"`[[{top}]]`") or row(reference, f"`[{top}]`")
        if not cell:
            missing.append(f"[{top}] (no row in the table)")
            continue
        if top == "receivers" and "kind" in model.model_fields:
            # A receiver kind's own keys are in its line under the table ("- `webhook`: `url_env`, ...").
            cell += "".join(
                kind_line(reference, kind) for kind in literal_values(model.model_fields["kind"].annotation)
            )
        missing += [f"[{top}] {key} ({model.__name__})" for key in keys(model) if key not in words(cell)]
    assert not missing, "README.md's config reference (## Configuration) lacks:\n" + "\n".join(missing)


def test_every_rule_key_is_in_the_readme():
    alerts = section("Alerts")
    common = words(row(section(CONFIG_SECTION), "`[[rules]]`"))
    # What holds for several kinds is said once, in the prose around the table ("Rules on one series also take").
    prose = words("\n".join(line for line in alerts.splitlines() if not line.startswith("|")))
    missing = []
    for kind, cls in KINDS.items():
        documented = words(row(alerts, f"`{kind}`")) | common | prose
        for model in rule_models(cls):
            missing += [f"{kind}: {key}" for key in keys(model) if key not in documented]
    assert not missing, "README.md's rule reference (## Alerts) lacks:\n" + "\n".join(missing)
