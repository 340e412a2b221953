"""The [[receivers]] blocks: each is validated against the block its notifier kind registers
(monitor.notify.registry), e-mail when `kind` is left out."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from monitor.config.errors import describe_error, suggest
from monitor.notify.receiver import KINDS, ReceiverBase
from monitor.notify.registry import DEFAULT_KIND, Receiver

__all__ = ["Receiver", "validate_receivers"]


def validate_receivers(raw: Any) -> tuple[list[ReceiverBase], list[str]]:
    """Each `[[receivers]]` block against the block of its notifier kind (email when `kind` is left out)."""
    if not isinstance(raw, list):
        return [], ["receivers: expected an array of tables ([[receivers]] blocks)"]
    receivers: list[ReceiverBase] = []
    problems: list[str] = []
    kinds = ", ".join(sorted(KINDS))
    for i, block in enumerate(raw):
        where = f"receivers[{i}]"
        if not isinstance(block, dict):
            problems.append(f"{where}: expected a table, got {block!r}")
            continue
        kind = block.get("kind", DEFAULT_KIND)
        cls = KINDS.get(kind) if isinstance(kind, str) else None
        if cls is None:
            problems.append(f"{where}.kind: {kind!r} is not one of {kinds}{suggest(str(kind), list(KINDS))}")
            continue
        try:
            receivers.append(cls.model_validate(block))
        except ValidationError as e:
            problems += [describe_error(err, cls, prefix=where) for err in e.errors()]
    return receivers, problems
