"""kind = "file": write each message as an .eml file (dry runs, and a folder another tool picks mail up from).

The file is the e-mail the message would be, written atomically (a reader never sees half a file) as
`<as_of>_<receiver>_<key>.eml`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from email import message_from_bytes
from email.policy import SMTP as SMTP_POLICY
from email.utils import getaddresses
from pathlib import Path
from typing import Literal

from pydantic import Field

from monitor.notify.email import mime
from monitor.notify.receiver import DeliveryError, Notifier, ReceiverBase, Refusal, Resolve, Stored, register


@register
class FileReceiver(ReceiverBase):
    kind: Literal["file"] = "file"
    directory: str = ""  # where the .eml files go (default exports/mail)
    to: list[str] = Field(default_factory=list)  # optional: the To the files show
    from_: str = Field("", alias="from")

    def addresses(self) -> list[str]:
        return [addr for _, addr in getaddresses(list(self.to)) if addr] or [f"{self.name}@dry-run.invalid"]

    def notifier(self, env: Mapping[str, str], resolve: Resolve) -> Notifier:
        return FileSender(
            name=self.name,
            directory=resolve(self.directory or "exports/mail"),
            sender=self.from_ or "kr-monitor@localhost",
            to=list(self.to) or self.addresses(),
        )


class FileSender:
    def __init__(self, *, name: str, directory: Path, sender: str, to: Sequence[str]) -> None:
        self.name, self.directory, self.sender, self.to = name, directory, sender, list(to)

    def send(self, stored: Stored, to: Sequence[str]) -> dict[str, Refusal]:
        message = mime(stored, self.sender, self.to)
        msg = message_from_bytes(message, policy=SMTP_POLICY)
        key = str(msg.get("X-KR-Monitor-Key", "message")).strip()[:16]
        stamp = str(msg.get("X-KR-Monitor-As-Of", "")).strip() or "mail"
        path = self.directory / f"{stamp}_{self.name}_{key}.eml"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(message)
            tmp.replace(path)
        except OSError as e:
            raise DeliveryError(f"receiver {self.name}: cannot write {path}: {e.strerror}") from None
        return {}
