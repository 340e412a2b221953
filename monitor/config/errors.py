"""The one error config loading raises, and how a validation problem reads: `<key path>: <what is wrong>`."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from monitor.errors import MonitorError


class ConfigError(MonitorError):
    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path, self.problems = Path(path), problems
        head = f"{path}: {len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__("\n".join([head, *(f"  {p}" for p in problems)]))


def suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _loc(loc: tuple[int | str, ...], prefix: str = "") -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def describe_error(err: Any, root: type[BaseModel], prefix: str = "") -> str:
    loc = tuple(p for p in err["loc"] if p != "from_")
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    # Union members add their type name to the location (e.g. "int", "literal['aic','bic']"): drop them.
    loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in ("int", "str", "float"))))
    where = _loc(loc, prefix)
    if kind == "extra_forbidden":
        parent = loc[:-1]
        allowed = _allowed_keys(root, parent)
        return f"{where}: unknown key{suggest(str(loc[-1]), allowed)}"
    if kind == "missing":
        return f"{where}: required key is missing"
    if kind == "literal_error":
        expected = ctx.get("expected", "").replace("'", "").replace(" or ", ", ")
        return f"{where}: {value!r} is not one of {expected}"
    if kind == "string_pattern_mismatch":
        return f"{where}: {value!r} must be lowercase letters, digits and underscores, starting with a letter"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        wanted = kind.split("_")[0].replace("dict", "table").replace("list", "array").replace("bool", "true/false")
        if kind.startswith("date"):
            wanted = "a date (YYYY-MM-DD)"
        return f"{where}: expected {wanted}, got {value!r}"
    if kind == "value_error":
        return f"{where}: {str(err['msg']).removeprefix('Value error, ')}"
    return f"{where}: {err['msg']}" + ("" if isinstance(value, (dict, list)) else f" (got {value!r})")


def _allowed_keys(root: type[BaseModel], parent: tuple[int | str, ...]) -> list[str]:
    """Field names of the block that holds an unknown key, for a 'did you mean' hint."""
    model: Any = root
    for part in parent:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        ann = field.annotation
        candidates = (ann, *getattr(ann, "__args__", ()))
        model = next((a for a in candidates if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if model is None:
            return []
    return [f.alias or name for name, f in model.model_fields.items()]
