"""kind = "email": deliver by SMTP (smtplib), counted per recipient.

SMTP: `security = "starttls"` (port 587: plain connect, then STARTTLS before anything else is said), `"ssl"`
(port 465: TLS from the first byte) or `"none"` (a relay on localhost only). Certificates are verified against the
system store, or `ca_file` when set. The password comes from the environment variable the receiver names; it is
used for the login only and never appears in a message, an error or a log line.
"""

from __future__ import annotations

import base64
import contextlib
import os
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from email import message_from_bytes
from email.policy import SMTP as SMTP_POLICY
from email.utils import getaddresses
from typing import Literal

from pydantic import Field, field_validator, model_validator

from monitor.notify.message import build_message
from monitor.notify.receiver import (
    DeliveryError,
    Notifier,
    ReceiverBase,
    Refusal,
    Resolve,
    Stored,
    env_name,
    register,
)
from series import secrets


@register
class EmailReceiver(ReceiverBase):
    kind: Literal["email"] = "email"
    to: list[str] = Field(default_factory=list)
    from_: str = Field("", alias="from")
    host: str = ""
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = ""
    password_env: str = ""
    ca_file: str = ""  # PEM file of CA certificates to trust (an internal CA); default: the system store
    timeout_seconds: float = Field(30.0, gt=0)

    @field_validator("password_env")
    @classmethod
    def _env_name(cls, v: str) -> str:
        return env_name(v, "MONITOR_SMTP_PASSWORD")

    @model_validator(mode="after")
    def _complete(self) -> EmailReceiver:
        missing = [k for k, v in (("to", self.to), ("from", self.from_), ("host", self.host)) if not v]
        if missing:
            raise ValueError(f"an email receiver needs {', '.join(missing)}")
        return self

    def secret_envs(self) -> list[str]:
        return [self.password_env] if self.password_env else []

    def logins(self) -> list[tuple[str, str]]:
        """(username, password_env): SMTP AUTH sends the password in forms of its own (base64 of both)."""
        return [(self.username, self.password_env)] if self.password_env else []

    def addresses(self) -> list[str]:
        return [addr for _, addr in getaddresses(list(self.to)) if addr]

    def refused_line(self, address: str) -> str:
        return f"mail to {address} refused for good by the server"

    def notifier(self, env: Mapping[str, str], resolve: Resolve) -> Notifier:
        return SmtpSender(
            name=self.name,
            host=self.host,
            port=self.port,
            security=self.security,
            username=self.username,
            password_env=self.password_env,
            ca_file=str(resolve(self.ca_file)) if self.ca_file else "",
            timeout=self.timeout_seconds,
            env=env,
            sender=self.from_,
            to=self.to,
        )


def mime(message: Stored, sender: str, to: Sequence[str]) -> bytes:
    """The bytes e-mail sends: a stored notification packed as MIME, or a row stored as MIME by an older store."""
    return message if isinstance(message, bytes) else build_message(message, sender, list(to)).as_bytes()


def recipients(message: bytes) -> tuple[str, list[str]]:
    msg = message_from_bytes(message, policy=SMTP_POLICY)
    sender = getaddresses([str(msg.get("From", ""))])[0][1]
    to = [addr for _, addr in getaddresses([str(v) for v in msg.get_all("To", []) + msg.get_all("Cc", [])]) if addr]
    return sender, to


def redact(text: str, secrets: Sequence[str]) -> str:
    """Remove secrets, and the encodings SMTP AUTH would put them in, from a text."""
    for secret in secrets:
        if not secret:
            continue
        forms = {secret, base64.b64encode(secret.encode()).decode()}
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, "***")
    return text


class SmtpSender:
    def __init__(
        self,
        *,
        name: str,
        host: str,
        port: int,
        security: str,
        username: str = "",
        password_env: str = "",
        ca_file: str = "",
        timeout: float = 30.0,
        env: Mapping[str, str] | None = None,
        sender: str = "",
        to: Sequence[str] = (),
    ) -> None:
        self.name, self.host, self.port, self.security = name, host, port, security
        self.sender, self.to = sender, list(to)  # From and To of the message (the envelope is `send`'s `to`)
        self.username, self.password_env, self.ca_file, self.timeout = username, password_env, ca_file, timeout
        self._env = os.environ if env is None else env

    def secrets(self) -> list[str]:
        password = secrets.read(self._env, self.password_env) if self.password_env else ""
        return [password] if password else []

    def _password(self) -> str:
        if not self.password_env:
            return ""
        password = secrets.read(self._env, self.password_env)  # a CRLF .env leaves "\r" on the value
        if not password:
            raise DeliveryError(
                f"receiver {self.name}: the environment variable {self.password_env} (its SMTP password) is not set"
            )
        return password

    def _context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self.ca_file or None)
        except (OSError, ssl.SSLError) as e:
            raise DeliveryError(f"receiver {self.name}: cannot read ca_file {self.ca_file}: {e}") from None

    def send(self, stored: Stored, to: Sequence[str]) -> dict[str, Refusal]:
        message = mime(stored, self.sender, self.to)
        sender, _ = recipients(message)
        if not to:
            raise DeliveryError(f"receiver {self.name}: the message has no recipients")
        where = f"{self.host}:{self.port}"
        try:
            refused = self._send(message, sender, list(to))
        except DeliveryError:
            raise
        except smtplib.SMTPAuthenticationError as e:
            raise DeliveryError(
                f"receiver {self.name}: {where} refused the login for {self.username!r} ({e.smtp_code}); "
                f"check {self.password_env}"
            ) from None
        except smtplib.SMTPRecipientsRefused as e:  # every recipient refused: their replies say for how long
            refused = e.recipients
        except smtplib.SMTPNotSupportedError as e:
            raise DeliveryError(f"receiver {self.name}: {where} does not support {e} (check security)") from None
        except ssl.SSLError as e:
            raise DeliveryError(f"receiver {self.name}: TLS with {where} failed: {e.reason or e}") from None
        except smtplib.SMTPResponseException as e:  # the server's own reply, e.g. "451 4.3.0 try again later"
            text = redact(f"{e.smtp_code} {_reply(e.smtp_error)}", self.secrets())
            raise DeliveryError(f"receiver {self.name}: cannot deliver via {where}: {text}") from None
        except (smtplib.SMTPException, OSError) as e:
            text = redact(str(e) or type(e).__name__, self.secrets())
            raise DeliveryError(f"receiver {self.name}: cannot deliver via {where}: {text}") from None
        # sendmail returns, rather than raises, the recipients refused when at least one was accepted.
        return {
            addr: Refusal(code, redact(_reply(text), self.secrets()), permanent=code >= 500)
            for addr, (code, text) in refused.items()
        }

    def _send(self, message: bytes, sender: str, to: list[str]) -> dict[str, tuple[int, bytes]]:
        password = self._password()
        smtp: smtplib.SMTP
        if self.security == "ssl":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._context())
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(
                        f"receiver {self.name}: {self.host}:{self.port} does not offer STARTTLS; "
                        'use the submission port or security = "ssl"'
                    )
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, password)
            return smtp.sendmail(sender, to, message)
        except KeyboardInterrupt:  # SIGTERM, SIGINT: hang up at once (a QUIT waits for a server that may hang)
            smtp.close()
            raise
        finally:
            # A polite QUIT; a server that fumbles it has already answered for the message.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                if smtp.sock is not None:
                    smtp.quit()
            smtp.close()


def _reply(text: bytes | str) -> str:
    """A server reply as one line of text (multi-line replies joined)."""
    reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return " ".join(reply.split())
