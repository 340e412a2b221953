"""The [[receivers]] block: who is notified, and how."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from monitor.config.base import ENV_NAME, SLUG, Block


class ReceiverBlock(Block):
    name: str = Field(pattern=SLUG)
    kind: Literal["email", "file"] = "email"
    to: list[str] = Field(default_factory=list)
    from_: str = Field("", alias="from")
    host: str = ""
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = ""
    password_env: str = ""
    directory: str = ""  # kind = "file": where the .eml files go
    ca_file: str = ""  # PEM file of CA certificates to trust (an internal CA); default: the system store
    timeout_seconds: float = Field(30.0, gt=0)
    severities: list[Literal["info", "warning", "critical"]] = ["warning", "critical"]
    repeat_interval_days: int = Field(7, ge=0)  # re-send a still-firing alert after this many days; 0 = never

    @field_validator("password_env")
    @classmethod
    def _env_name(cls, v: str) -> str:
        if v and not ENV_NAME.match(v):
            # Looks like a password pasted into the config: say so without echoing it.
            raise ValueError(
                "must be the NAME of an environment variable (e.g. MONITOR_SMTP_PASSWORD), never the password itself"
            )
        return v

    @model_validator(mode="after")
    def _complete(self) -> ReceiverBlock:
        if self.kind == "email":
            missing = [k for k, v in (("to", self.to), ("from", self.from_), ("host", self.host)) if not v]
            if missing:
                raise ValueError(f"an email receiver needs {', '.join(missing)}")
        return self
