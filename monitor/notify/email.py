"""Deliver stored messages: by SMTP (smtplib) or, for dry runs, as .eml files.

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
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import SMTP as SMTP_POLICY
from email.utils import getaddresses
from pathlib import Path
from typing import Protocol

from monitor.errors import MonitorError
from series import secrets


class DeliveryError(MonitorError):
    """A message could not be delivered now; it stays in the outbox and is tried again on the next run."""

    exit_code = 1


@dataclass(frozen=True)
class Refusal:
    """The server's answer to one recipient it did not accept (RCPT TO): 4xx is for now, 5xx for good."""

    code: int
    reply: str

    @property
    def permanent(self) -> bool:
        return self.code >= 500

    def __str__(self) -> str:
        return f"{self.code} {self.reply}"


class Sender(Protocol):
    def send(self, message: bytes, to: Sequence[str]) -> dict[str, Refusal]:
        """Deliver `message` to the envelope recipients `to` (a retry names only those still owed it); return
        the recipients the server refused. Raises DeliveryError when nobody could be given the message."""
        ...


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
    ) -> None:
        self.name, self.host, self.port, self.security = name, host, port, security
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

    def send(self, message: bytes, to: Sequence[str]) -> dict[str, Refusal]:
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
        return {addr: Refusal(code, redact(_reply(text), self.secrets())) for addr, (code, text) in refused.items()}

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


class FileSender:
    """Dry runs: write each message as an .eml file (atomically: a reader never sees half a file)."""

    def __init__(self, *, name: str, directory: Path) -> None:
        self.name, self.directory = name, directory

    def send(self, message: bytes, to: Sequence[str]) -> dict[str, Refusal]:
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
