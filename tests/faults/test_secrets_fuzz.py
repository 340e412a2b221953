"""Seeded, bounded fuzz of the redaction: random keys (with '+', '/', '=', '%', non-ASCII, a CR or CRLF from a
`.env` written on Windows) through the error paths of the fault suite, under the real `monitor run`, and no form
of any key in anything the run leaves behind: stdout and stderr (the JSON log), run.json, report.html, the
e-mails the file receiver wrote, and the bytes of the SQLite store.

Each run faults the three sources that carry a key (FRED, ECOS, data.go.kr customs), all served by the fault
server on 127.0.0.1, each with a fault drawn from FAULTS: error bodies that repeat the request as sent, decoded
or encoded again, with the key placed across the 160-character cut of an error snippet; a redirect whose
Location carries the whole request URL percent-encoded (the key twice encoded) to a port nobody listens on; a
server error; throttling; an answer nested too deeply to parse. The SMTP receiver logs in with a random password too,
and a webhook (signed with a random key), a Slack and a Teams receiver post to URLs with random tokens, on the same
server, which answers 500 with the request path repeated.
The seed is fixed (a failure reproduces) and the number of runs small (a few seconds each)."""

from __future__ import annotations

import base64
import json
import random
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote

import pytest

from tests.fault_server import FakeClock, FaultServer, Reply, Seen
from tests.faults.conftest import Smtp
from tests.faults.support import run_in_process, write_config

SEED = 13_2026
RUNS = 3
AS_OF = date(2025, 2, 27)
KEYS = {"fred": "FRED_API_KEY", "ecos": "ECOS_API_KEY", "customs": "DATA_GO_KR_KEY"}
PASSWORD_ENV = "MONITOR_SMTP_PASSWORD"
HOOKS = {"webhook": "MONITOR_WEBHOOK_URL", "slack": "MONITOR_SLACK_URL", "teams": "MONITOR_TEAMS_URL"}
HMAC_ENV = "MONITOR_WEBHOOK_SECRET"
SERIES = {  # source -> (key, freq)
    "fred": ("DFF", "D"),
    "ecos": ("722Y001/0101000", "D"),
    "customs": ("8542", "M"),
}
PATHS = {"/fred/": "fred", "/api/StatisticSearch/": "ecos", "/1220000/": "customs", "/hooks/": "hooks"}
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789" + "+/=%" * 4 + "\u00e9\u00df\ud55c\u5186"


def random_key(rng: random.Random) -> str:
    core = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(16, 40)))
    return core + rng.choice(["", "", "\r", "\r\n", " "])


def forms(key: str) -> set[str]:
    """What must never show: the key as set and as meant (normalised), percent-encoded once and twice, with '+'
    for spaces, decoded (a key given encoded), JSON-escaped, base64, and its first 10 characters (a key cut)."""
    out: set[str] = set()
    for k in {key, key.strip(), unquote(key.strip())}:
        once = {k, quote(k, safe=""), quote(k), quote_plus(k)}
        out |= once | {quote(f, safe="") for f in once} | {quote_plus(f) for f in once}
        out |= {json.dumps(k)[1:-1], base64.b64encode(k.encode("utf-8", "surrogateescape")).decode(), k[:10]}
    return {f for f in out if len(f) >= 8}


# -- the faults: each a function of the request (as the fault server saw it) and the run's random source ----------
Fault = Callable[[Seen, random.Random], Reply]


def _echo_body(seen: Seen, rng: random.Random, url: str) -> str:
    target = rng.choice([seen.target, unquote(seen.target), quote(seen.target, safe=""), url + seen.target])
    pad = "x" * rng.randint(0, 200)  # moves the key across the snippet's cut
    return pad + target


def echo_json(seen: Seen, rng: random.Random, url: str) -> Reply:
    body = {"status": 400, "error": "Bad Request", "message": _echo_body(seen, rng, url), "path": seen.target}
    return Reply(rng.choice([400, 404, 200]), json.dumps(body, ensure_ascii=rng.random() < 0.5).encode())


def echo_xml(seen: Seen, rng: random.Random, url: str) -> Reply:
    said = _echo_body(seen, rng, url).replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return Reply(400, f'<?xml version="1.0"?><error code="400" message="{said}"/>'.encode())


def echo_html(seen: Seen, rng: random.Random, url: str) -> Reply:
    return Reply(rng.choice([200, 400, 502]), f"<html><body>{_echo_body(seen, rng, url)}</body></html>".encode())


def huge_echo(seen: Seen, rng: random.Random, url: str) -> Reply:
    return Reply(400, (f"{seen.target} " + "y" * 300_000 + f" {unquote(seen.target)}").encode())


def redirect(seen: Seen, rng: random.Random, url: str) -> Reply:
    return Reply(302, b"", {"Location": f"http://127.0.0.1:1/login?next={quote(url + seen.target, safe='')}"})


def server_error(seen: Seen, rng: random.Random, url: str) -> Reply:
    return Reply(500, _echo_body(seen, rng, url).encode())


def throttled(seen: Seen, rng: random.Random, url: str) -> Reply:
    return Reply(429, _echo_body(seen, rng, url).encode(), {"Retry-After": str(rng.choice([1, 600]))})


def hook_echo(seen: Seen, rng: random.Random, url: str) -> Reply:
    """A webhook endpoint that fails and says where it was asked: the path carries the URL's token."""
    return Reply(500, f"no route for {seen.target} ({seen.path})".encode())


def nested(seen: Seen, rng: random.Random, url: str) -> Reply:
    return Reply(200, b"[" * 50_000 + b"]" * 50_000)


def fred_ok_echo(seen: Seen, rng: random.Random, url: str) -> Reply:
    """SYNTHETIC: a good FRED answer (two observations) that also repeats the request: it is stored in the
    payload archive, whose bytes must not hold the key either."""
    root = ET.Element("observations", {"realtime_start": "2025-02-27", "echo": _echo_body(seen, rng, url)})
    for day, value in (("2025-02-03", "4.33"), ("2025-02-04", "4.33")):
        ET.SubElement(root, "observation", {"realtime_start": "2025-02-27", "date": day, "value": value})
    return Reply(200, b'<?xml version="1.0" encoding="utf-8" ?>\n' + ET.tostring(root))


FAULTS = [echo_json, echo_xml, echo_html, huge_echo, redirect, server_error, throttled, nested]


def deal(rng: random.Random) -> list[dict[str, Fault]]:
    """Each run's fault per source: every fault dealt at least once over the runs, in a seeded order, and FRED's
    good answer that repeats the key in one of them."""
    slots = [(run, source) for run in range(RUNS) for source in SERIES]
    ok_run = rng.randrange(RUNS)
    deck = rng.sample(FAULTS, len(FAULTS))
    others = [slot for slot in slots if slot != (ok_run, "fred")]
    dealt = {slot: deck[i % len(deck)] for i, slot in enumerate(others)} | {(ok_run, "fred"): fred_ok_echo}
    return [{source: dealt[run, source] for source in SERIES} for run in range(RUNS)]


def write_fuzz_config(folder: Path, smtp_port: int, endpoint: str) -> Path:
    """The fault suite's config (the CSV series `won`, its rule, data health, the SMTP receiver) with the SMTP
    receiver logging in, a file receiver, and one series per keyed source, all sent to the fault server."""
    config = write_config(
        folder, None, smtp_port=smtp_port, retries=0, timeout=2.0, fx_days=(AS_OF - timedelta(days=40), AS_OF)
    )
    endpoints = ", ".join(f'{s} = "{endpoint}"' for s in SERIES)
    text = config.read_text().replace("retries = 0\n", f"retries = 0\nendpoints = {{ {endpoints} }}\n", 1)
    text += f'username = "desk@example.com"\npassword_env = "{PASSWORD_ENV}"\n'
    text += f'\n[[receivers]]\nname = "files"\nkind = "file"\ndirectory = "{folder / "mail"}"\n'
    for kind, env in HOOKS.items():
        text += f'\n[[receivers]]\nname = "{kind}_hook"\nkind = "{kind}"\nurl_env = "{env}"\ntimeout_seconds = 2\n'
        text += f'secret_env = "{HMAC_ENV}"\n' if kind == "webhook" else ""
    for source, (key, freq) in SERIES.items():
        text += (
            f'\n[[series]]\nid = "{source}_probe"\nlabel = "{source} probe"\nsource = "{source}"\nkey = "{key}"\n'
            f'freq = "{freq}"\nunits = "units"\nstart = "{AS_OF - timedelta(days=120)}"\n'
        )
    config.write_text(text)
    return config


def outputs(folder: Path, said: str) -> list[tuple[str, bytes]]:
    """Everything a run left behind, as bytes: what it said, its exports, the e-mails written, the store."""
    files = [*(folder / "exports").rglob("*"), *(folder / "mail").rglob("*"), *folder.glob("store.sqlite*")]
    written = [(str(p.relative_to(folder)), p.read_bytes()) for p in files if p.is_file()]
    return [("stdout+stderr", said.encode()), *written]


def test_no_form_of_any_random_key_reaches_any_output(
    tmp_path: Path,
    http: FaultServer,
    smtp: Smtp,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rng = random.Random(SEED)
    config = write_fuzz_config(tmp_path, smtp.port, http.url)
    plan = deal(rng)
    for run, faults in enumerate(plan):
        keys = {env: random_key(rng) for env in [*KEYS.values(), PASSWORD_ENV, HMAC_ENV]}
        for env, value in keys.items():
            monkeypatch.setenv(env, value)
        for env in HOOKS.values():  # the token as a URL carries it (percent-encoded), with a CR or not
            keys[env] = quote(random_key(rng).strip(), safe="")
            monkeypatch.setenv(env, f"{http.url}/hooks/{keys[env]}" + rng.choice(["", "\r", "\r\n"]))
        fault_rng = random.Random(rng.random())

        def answer(seen: Seen, faults: dict[str, Fault] = faults, fault_rng: random.Random = fault_rng) -> Reply:
            source = next((s for prefix, s in PATHS.items() if seen.path.startswith(prefix)), "")
            if not source:
                return Reply(404, b"not here")
            if source == "hooks":
                return hook_echo(seen, fault_rng, http.url)
            return faults[source](seen, fault_rng, http.url)

        http.reset()
        http.script(answer)
        day = (AS_OF - timedelta(days=RUNS - 1 - run)).isoformat()
        capsys.readouterr()
        ran = run_in_process(config, day, capsys)
        assert ran.code == 1, ran.err  # every keyed series failed; the run went on and said so
        statuses = {s: ran.summary["fetch"][f"{s}_probe"]["status"] for s in SERIES}
        assert statuses == {s: "ok" if faults[s] is fred_ok_echo else "failed" for s in SERIES}, ran.err
        assert len(http.requests) >= len(SERIES)  # every keyed source really asked the server
        posted = {r.target.removeprefix("/hooks/") for r in http.requests if r.path.startswith("/hooks/")}
        assert posted == {keys[env] for env in HOOKS.values()}, ran.err  # every HTTP receiver posted (and failed)
        for name, data in outputs(tmp_path, ran.err):
            text = data.decode("utf-8", "replace")
            for env, key in keys.items():
                plain = base64.b64encode(f"\0desk@example.com\0{key.strip()}".encode()).decode()  # AUTH PLAIN
                leaked = [f for f in forms(key) | {plain} if f in text or f.encode() in data]
                assert not leaked, f"run {run} ({faults}): {env} shows in {name} as {leaked}"
    assert {f for faults in plan for f in faults.values()} == {*FAULTS, fred_ok_echo}  # every kind was tried
