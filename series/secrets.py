"""The secrets of a run: how they are read, which they are, and every form in which they can reach a text.

Read: a value is normalised when it is read (`read`): surrounding whitespace, CR and LF stripped, so that a `.env`
with CRLF line endings gives the same key to the request and to the redaction. (`urlsplit` drops a trailing CR:
the URL would carry the stripped key while the redaction looked for the one with the CR.)

Which: ONE registry (`registry`): the environment variables every source declares (`Source.env_keys`), those the
caller adds (each e-mail receiver's `password_env`), and any variable whose name says it holds a secret.

Forms (`forms`): as written and normalised; percent-encoded once and twice (a redirect's `Location` may carry the
whole original URL encoded again: `%252B`), with `quote`, `quote(safe="")`, `quote_plus` and the requoting that
requests applies to every URL, in upper- and lower-case hex; JSON-escaped (a server that echoes the request in a
JSON body); base64 (SMTP AUTH LOGIN sends the password so, AUTH PLAIN sends `\\0user\\0password` so:
`login_forms`). Redaction replaces the longest form first, on whole texts, before anything is cut.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import quote, quote_plus, unquote

# Environment variables whose values are secrets by their name, besides the ones declared by sources and receivers.
SECRET_SUFFIXES = ("_KEY", "_PW", "_PASSWORD", "_TOKEN", "_SECRET")
# A variable only named like a secret whose value is shorter than this is a flag or a number, not a secret:
# redacting it would blank every "1" of every log line. (Declared variables are redacted whatever their length.)
GUESSED_MIN_LENGTH = 8


def normalise(value: str) -> str:
    """A secret as it is meant: without surrounding whitespace, CR or LF."""
    return value.strip()


def read(env: Mapping[str, str], name: str) -> str:
    """The normalised value of environment variable `name` ('' when unset or blank)."""
    return normalise(env.get(name) or "")


def _requote(value: str) -> str:
    # What requests does to every URL before sending it (non-ASCII and stray '%' encoded, "%41" -> "A").
    from requests.utils import requote_uri

    try:
        return requote_uri(value)
    except Exception:  # requests refuses some invalid escapes; then it sends nothing with this form
        return value


_ENCODERS: tuple[Callable[[str], str], ...] = (
    lambda v: quote(v, safe=""),
    quote,
    quote_plus,
    _requote,
)
_HEX = re.compile(r"%[0-9A-F]{2}")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8", "surrogateescape")).decode()


def forms(*values: str) -> tuple[str, ...]:
    """Every form of each value that a request, an answer, an exception or a log line can carry; longest first,
    so that a form that contains another one is replaced whole."""
    out: set[str] = set()
    for value in values:
        if not value:
            continue
        bases = {value, normalise(value)}
        if "%" in normalise(value):  # a key given percent-encoded (data.go.kr's "encoding key") is sent decoded
            bases.add(unquote(normalise(value)))
        for base in filter(None, bases):
            once = {base} | {encode(base) for encode in _ENCODERS}
            for form in once | {encode(f) for f in once for encode in _ENCODERS}:
                out.update((form, _HEX.sub(lambda m: m.group(0).lower(), form)))
            out.add(json.dumps(base)[1:-1])  # \uXXXX for non-ASCII, \" and \\ escaped
            out.add(json.dumps(base)[1:-1].replace("/", "\\/"))  # PHP's json_encode also escapes '/'
            out.add(json.dumps(base, ensure_ascii=False)[1:-1])
            out.add(_b64(base))
    return tuple(sorted((f for f in out if f), key=len, reverse=True))


def login_forms(username: str, password: str) -> tuple[str, ...]:
    """The forms of an SMTP password, and of the credentials SMTP AUTH PLAIN sends (base64 of `\\0user\\0pass`)."""
    if not password:
        return ()
    plain = {_b64(f"\0{username}\0{p}") for p in (password, normalise(password))}
    return tuple(sorted(set(forms(password)) | plain, key=len, reverse=True))


def registry(
    env: Mapping[str, str], declared: Iterable[str], logins: Iterable[tuple[str, str]] = ()
) -> tuple[str, ...]:
    """Every form of every secret of a run: the values in `env` of the `declared` variables (sources' env keys,
    receivers' password_env) and of any variable named like a secret, and of the SMTP `logins` (username, name of
    the password's variable). Longest first."""
    declared = set(declared)
    guessed = {k for k in env if k.endswith(SECRET_SUFFIXES) and len(normalise(env[k])) >= GUESSED_MIN_LENGTH}
    values = {env[n] for n in declared | guessed if env.get(n)}
    out = set(forms(*sorted(values)))
    for username, password_env in logins:
        out.update(login_forms(username, env.get(password_env) or ""))
    return tuple(sorted(out, key=len, reverse=True))


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every one of `secrets` (forms, see `forms`) replaced by ***, the longest first."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text
