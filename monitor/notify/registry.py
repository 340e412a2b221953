"""The notifier kinds, registered in one place: importing a kind's module registers its `[[receivers]]` block
(monitor.notify.receiver.register). Config's receiver block is the union of the registered blocks (`Receiver`),
and the secrets every receiver declares join the run's one secret registry (`secret_values`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Discriminator, Tag

from monitor.notify import email, file, slack, teams, webhook  # noqa: F401  (one per kind: importing it registers it)
from monitor.notify.receiver import KINDS, ReceiverBase
from series import secrets

DEFAULT_KIND = "email"  # a block without `kind`


def kind_of(block: Any) -> str:
    kind = block.get("kind", DEFAULT_KIND) if isinstance(block, dict) else getattr(block, "kind", DEFAULT_KIND)
    return str(kind)


if TYPE_CHECKING:
    Receiver = ReceiverBase
else:
    Receiver = Annotated[
        Union[tuple(Annotated[cls, Tag(kind)] for kind, cls in KINDS.items())],  # noqa: UP007
        Discriminator(kind_of),
    ]


def secret_values(receivers: Sequence[ReceiverBase], env: Mapping[str, str]) -> tuple[str, ...]:
    """Every form of every secret of a run: the sources' (series.sources.secret_values) with the variables each
    receiver declares, the SMTP logins, and the parts of secret URLs an HTTP library may print on their own (the
    path and query, the long tokens in them). Longest first."""
    from series import sources

    names = [name for r in receivers for name in r.secret_envs()]
    logins = [login for r in receivers for login in r.logins()]
    parts = [part for r in receivers for part in r.secret_parts(env)]
    out = set(sources.secret_values(env, names, logins)) | set(secrets.forms(*parts))
    return tuple(sorted(out, key=len, reverse=True))
