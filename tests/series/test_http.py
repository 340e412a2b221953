"""The HTTP policy: rate limits, backoff with jitter, Retry-After, no retry on auth, endpoint overrides, and the
recording / replaying transports. Network behaviour is exercised against a real server on 127.0.0.1."""

from __future__ import annotations

import base64
import email.utils
import gzip
import json
import logging
import random
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from series import sources
from series.errors import (
    EmptySeries,
    SourceAuthError,
    SourceError,
    SourceSchemaError,
    SourceThrottled,
    SourceUnavailable,
)
from series.http import (
    POLITE,
    HttpPolicy,
    Limit,
    LiveTransport,
    RateLimiter,
    RecordingTransport,
    ReplayTransport,
    build_transport,
    retry_after_seconds,
)
from series.sources.base import (
    CallContext,
    Request,
    Response,
    file_key,
    key_from_file,
    redact,
    replay_name,
    secret_forms,
)
from tests.fault_server import FakeClock, FaultServer, Reply, Seen

SECRET = "s3cr3t+key/with=chars"


def _policy(server: FaultServer, clock: FakeClock, **kw: object) -> HttpPolicy:
    return HttpPolicy(endpoints={"probe": server.url}, clock=clock, **kw)  # type: ignore[arg-type]


def _get(path: str = "/data", **kw: object) -> Request:
    return Request(url=f"https://example.org{path}", replay_name="probe/x.csv", host="example.org", **kw)  # type: ignore[arg-type]


# -- rate limiter ---------------------------------------------------------------------------------------------
def test_min_interval_spaces_calls_per_bucket_and_buckets_are_independent() -> None:
    clock = FakeClock()
    limiter = RateLimiter({"a": Limit(min_interval=1.0)}, clock, default=Limit())
    waits = [limiter.wait("a") for _ in range(3)]
    assert waits == [0.0, 1.0, 1.0]
    assert limiter.wait("b") == 0.0  # another host is not held up (default: no limit here)
    clock.now += 5
    assert limiter.wait("a") == 0.0  # enough time passed


def test_windowed_cap_ecos_300_calls_per_180_seconds() -> None:
    clock = FakeClock()
    limiter = RateLimiter(sources.limits(), clock)
    start = clock.now
    for _ in range(300):
        assert limiter.wait("ecos.bok.or.kr") == 0.0
        clock.now += 0.1  # 300 calls in 30 s
    waited = limiter.wait("ecos.bok.or.kr")
    # The 301st call must wait until 180 s after the first one.
    assert clock.now == pytest.approx(start + 180.0)
    assert waited == pytest.approx(150.0)


def test_fred_and_boj_limits_are_one_second() -> None:
    """Each source declares its limit in its own module; the registry collects them by host."""
    limits = sources.limits()
    assert limits["api.stlouisfed.org"].min_interval >= 1.0
    assert limits["www.stat-search.boj.or.jp"].min_interval >= 1.0
    ecos = limits["ecos.bok.or.kr"]
    assert (ecos.max_calls, ecos.per_seconds) == (300, 180.0)


def test_the_transport_a_command_builds_limits_each_host_as_its_source_declares() -> None:
    transport = build_transport(timeout=1.0, retries=0, endpoints={}, limits=sources.limits())
    assert isinstance(transport, LiveTransport)
    assert transport.limiter.limits == sources.limits() and transport.limiter.default == POLITE


# -- backoff ------------------------------------------------------------------------------------------------
def test_backoff_is_exponential_with_jitter_and_capped() -> None:
    policy = HttpPolicy(retries=10, backoff_base=1.0, backoff_max=8.0, rng=random.Random(7))
    err = SourceUnavailable("HTTP 503")
    for attempt, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 8.0), (6, 8.0)]:
        delays = {policy.retry_delay(err, attempt) for _ in range(50)}
        assert all(d is not None and ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered, not in lockstep


def test_retry_after_is_honoured_up_to_the_cap_and_only_retryable_errors_retry() -> None:
    policy = HttpPolicy(retries=3, retry_after_cap=60.0)
    assert policy.retry_delay(SourceThrottled("429", retry_after=7.0), 0) == 7.0
    assert policy.retry_delay(SourceThrottled("429", retry_after=3600.0), 0) is None  # give up, do not hang
    assert policy.retry_delay(SourceThrottled("429"), 3) is None  # retries used up
    assert policy.retry_delay(SourceAuthError("bad key"), 0) is None
    assert policy.retry_delay(SourceSchemaError("garbage"), 0) is None
    assert policy.retry_delay(EmptySeries("nothing"), 0) is None
    assert policy.retry_delay(SourceUnavailable("x", retryable=False), 0) is None


def test_retry_after_header_forms() -> None:
    assert retry_after_seconds("7") == 7.0
    now = time.time()
    date_30s = email.utils.formatdate(now + 30, usegmt=True)
    assert retry_after_seconds(date_30s, now=now) == pytest.approx(30, abs=1)  # an HTTP date has whole seconds
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_endpoint_override_rewrites_scheme_host_port_and_keeps_path_and_query() -> None:
    policy = HttpPolicy(endpoints={"ecos": "http://127.0.0.1:8080", "bis": "http://mirror.local/prefix/"})
    url = "https://ecos.bok.or.kr/api/StatisticSearch/KEY/json/kr/1/1000/722Y001?x=1"
    assert policy.endpoint("ecos", url) == "http://127.0.0.1:8080/api/StatisticSearch/KEY/json/kr/1/1000/722Y001?x=1"
    assert policy.endpoint("bis", "https://stats.bis.org/api/v1/data/WS_CBPOL/D.JP?format=csv") == (
        "http://mirror.local/prefix/api/v1/data/WS_CBPOL/D.JP?format=csv"
    )
    assert policy.endpoint("fred", url) == url  # no override: untouched


# -- the live transport against a real local server -----------------------------------------------------------
def test_500_then_success_is_retried_with_backoff(fault_server: FaultServer) -> None:
    clock = FakeClock()
    fault_server.script(Reply(500, b"oops"), Reply(503, b"busy"), Reply(200, b"a,b\n1,2\n"))
    transport = LiveTransport(_policy(fault_server, clock, retries=3, backoff_base=1.0))
    response = transport.send(_get(), source="probe", series="s")
    assert response.body == b"a,b\n1,2\n"
    assert len(fault_server.requests) == 3
    backoffs = [s for s in clock.sleeps if s >= 0.5]
    assert len(backoffs) == 2 and 0.5 <= backoffs[0] <= 1.0 and 1.0 <= backoffs[1] <= 2.0


def test_5xx_forever_ends_unavailable_after_the_configured_retries(fault_server: FaultServer) -> None:
    fault_server.script(Reply(502, b"bad gateway"))
    transport = LiveTransport(_policy(fault_server, FakeClock(), retries=2))
    with pytest.raises(SourceUnavailable, match=r"HTTP 502.*gave up after 3 attempts") as info:
        transport.send(_get(), source="probe", series="s")
    assert len(fault_server.requests) == 3
    assert info.value.source == "probe" and info.value.series == "s"


def test_429_honours_retry_after(fault_server: FaultServer) -> None:
    clock = FakeClock()
    fault_server.script(Reply(429, b"slow down", {"Retry-After": "7"}), Reply(200, b"ok"))
    transport = LiveTransport(_policy(fault_server, clock, retries=2))
    assert transport.send(_get(), source="probe", series="s").body == b"ok"
    assert 7.0 in clock.sleeps


def test_429_with_a_retry_after_beyond_the_cap_stops_at_once(fault_server: FaultServer) -> None:
    fault_server.script(Reply(429, b"", {"Retry-After": "86400"}))
    transport = LiveTransport(_policy(fault_server, FakeClock(), retries=4, retry_after_cap=120.0))
    with pytest.raises(SourceThrottled, match="86400"):
        transport.send(_get(), source="probe", series="s")
    assert len(fault_server.requests) == 1


def test_auth_errors_are_never_retried(fault_server: FaultServer) -> None:
    fault_server.script(Reply(401, b"no"))
    transport = LiveTransport(_policy(fault_server, FakeClock(), retries=4))
    with pytest.raises(SourceAuthError):
        transport.send(_get(), source="probe", series="s")
    assert len(fault_server.requests) == 1


def test_timeouts_are_retried_then_reported(fault_server: FaultServer) -> None:
    fault_server.script(Reply(200, b"late", delay=0.6))
    transport = LiveTransport(_policy(fault_server, FakeClock(), retries=1, timeout=0.15))
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match="timeout"):
        transport.send(_get(), source="probe", series="s")
    assert len(fault_server.requests) == 2
    assert time.monotonic() - started < 3.0


def test_a_retryable_error_in_a_200_body_is_retried(fault_server: FaultServer) -> None:
    """ECOS-style throttling announced in the body: the request's check raises, the transport retries."""
    clock = FakeClock()
    fault_server.script(Reply(200, b"THROTTLED"), Reply(200, b"fine"))

    def check(response: Response) -> None:
        if response.body == b"THROTTLED":
            raise SourceThrottled("body says throttled", retry_after=60.0)

    transport = LiveTransport(_policy(fault_server, clock, retries=2))
    assert transport.send(_get(check=check), source="probe", series="s").body == b"fine"
    assert 60.0 in clock.sleeps


def test_rate_limit_applies_to_the_canonical_host_even_behind_an_override(fault_server: FaultServer) -> None:
    clock = FakeClock()
    fault_server.script(Reply(200, b"x"))
    policy = _policy(fault_server, clock, limits={"example.org": Limit(min_interval=1.0)})
    transport = LiveTransport(policy)
    for _ in range(3):
        transport.send(_get(), source="probe", series="s")
    assert clock.sleeps == [1.0, 1.0]


def test_library_call_failures_are_typed_and_redacted(caplog: pytest.LogCaptureFixture) -> None:
    def boom(ctx: CallContext) -> bytes:
        raise RuntimeError(f"library exploded near api_key={SECRET}")

    request = Request(url="lib://x", replay_name="probe/x.csv", call=boom, secrets=secret_forms(SECRET))
    with pytest.raises(SourceUnavailable) as info, caplog.at_level(logging.DEBUG):
        LiveTransport(HttpPolicy(clock=FakeClock())).send(request, source="probe", series="s")
    assert "RuntimeError" in str(info.value) and SECRET not in str(info.value)
    assert not info.value.retryable  # an unknown library failure is reported, not hammered


def test_retry_log_lines_carry_no_secret(fault_server: FaultServer, caplog: pytest.LogCaptureFixture) -> None:
    fault_server.script(Reply(500, b"x"), Reply(200, b"y"))
    forms = secret_forms(SECRET)
    request = Request(
        url=f"https://example.org/api/{forms[-1]}/data?key={forms[0]}", replay_name="probe/x", secrets=forms
    )
    with caplog.at_level(logging.WARNING, logger="series.http"):
        LiveTransport(_policy(fault_server, FakeClock(), retries=2)).send(request, source="probe", series="s")
    assert "retry 1 of 2" in caplog.text
    assert all(f not in caplog.text for f in forms)


# -- record and replay ----------------------------------------------------------------------------------------
class _Canned:
    def __init__(self, status: int, body: bytes) -> None:
        self.status, self.body = status, body

    def send(self, request: Request, *, source: str, series: str) -> Response:
        return Response(self.status, self.body, request)

    def finish(self, responses: object) -> None:
        pass


def test_recording_redacts_every_form_of_the_secret(tmp_path: Path) -> None:
    forms = secret_forms(SECRET)
    body = f"raw {SECRET} quoted {forms[1]} plus {forms[2]}".encode()
    request = Request(url="https://x", replay_name=replay_name("ecos", "722Y001/0101000", "json"), secrets=forms)
    recorder = RecordingTransport(_Canned(200, body), tmp_path)
    response = recorder.send(request, source="ecos", series="s")
    assert not (tmp_path / "ecos").exists()  # nothing before the source has parsed the answer
    recorder.finish([response])
    saved = (tmp_path / "ecos" / "722Y001_0101000.json").read_bytes()
    assert saved.count(b"***") == 3 and SECRET.encode() not in saved
    assert not list(tmp_path.rglob("*.tmp"))


def test_recording_keeps_only_successful_answers(tmp_path: Path) -> None:
    request = Request(url="https://x", replay_name="bis/D.JP.csv")
    recorder = RecordingTransport(_Canned(404, b"NoResultsFound"), tmp_path)
    recorder.finish([recorder.send(request, source="bis", series="s")])
    assert not (tmp_path / "bis" / "D.JP.csv").exists()


def test_replay_serves_files_and_names_a_missing_one(tmp_path: Path) -> None:
    (tmp_path / "yahoo").mkdir()
    (tmp_path / "yahoo" / "^KS11.csv").write_bytes(b"x")
    replay = ReplayTransport(tmp_path)
    hit = Request(url="https://x", replay_name=replay_name("yahoo", "^KS11", "csv"))
    assert replay.send(hit, source="yahoo", series="kospi").body == b"x"
    miss = Request(url="https://x", replay_name=replay_name("yahoo", "KRW=X", "csv"))
    with pytest.raises(SourceUnavailable, match=r"replay file yahoo/KRW=X\.csv is missing") as info:
        replay.send(miss, source="yahoo", series="krw")
    assert isinstance(info.value, SourceError) and not info.value.retryable


def test_replay_names_keep_symbols_and_map_slashes() -> None:
    assert replay_name("yahoo", "^KS11", "csv") == "yahoo/^KS11.csv"
    assert replay_name("yahoo", "KRW=X", "csv") == "yahoo/KRW=X.csv"
    assert replay_name("ecos", "722Y001/0101000", "json") == "ecos/722Y001_0101000.json"
    assert replay_name("ecos", "722Y001/0101000", "json", page=3) == "ecos/722Y001_0101000.p3.json"
    assert replay_name("boj", "FM01/STRDCLUCON", "json") == "boj/FM01_STRDCLUCON.json"
    assert file_key("a_b c") == "a%5Fb%20c"


@given(st.text(min_size=1, max_size=40))
def test_file_keys_are_reversible_and_safe(key: str) -> None:
    name = file_key(key)
    assert key_from_file(name) == key
    assert "/" not in name and "\\" not in name and "\x00" not in name


# -- secrets: read normalised, every form redacted, on whole texts --------------------------------------------
ECHO_PAD = 150  # where the key starts in the echoing error body (the snippet used to be cut at 160)


def _echo(status: int = 400, pad: int = 0) -> Callable[[Seen], Reply]:
    """A Spring-style error answer that repeats the request's path and query (as sent, percent-encoded)."""

    def reply(seen: Seen) -> Reply:
        head, middle = f'{{"status":{status},"error":"Bad Request","message":"', '","path":"'
        key_at = len("/".join(seen.target.split("/")[:3])) + 1  # /api/StatisticSearch/KEY/...
        filler = "x" * max(0, pad - len(head) - len(middle) - key_at)  # the key starts at character `pad`
        return Reply(status, (head + filler + middle + seen.target + '"}').encode())

    return reply


def _forms_in(text: str, key: str) -> list[str]:
    """Which forms of `key` (and of its normalised value) show in `text`: as written, percent-encoded once and
    twice, '+' for spaces, JSON-escaped, base64, and the first 8 characters (a key cut short)."""
    out = []
    for k in {key, key.strip()}:
        once = [k, quote(k, safe=""), quote(k), quote_plus(k)]
        forms = once + [quote(f, safe="") for f in once] + [quote_plus(f) for f in once]
        forms += [json.dumps(k)[1:-1], base64.b64encode(k.encode()).decode(), k.strip()[:8]]
        out += [f for f in forms if f and f in text]
    return out


def test_every_form_of_a_secret_is_redacted() -> None:
    key = "Qx7+Vb2/Lm9=Tz%4Kp8W\u00e9\u3042 z\r\n"
    forms = secret_forms(key)
    core = key.strip()
    texts = [
        core,
        quote(core, safe=""),
        quote(quote(core, safe=""), safe=""),  # a redirect's Location carrying the request URL
        quote(quote_plus(core), safe=""),
        quote_plus(core),
        quote(core, safe="").lower(),
        json.dumps(core),
        base64.b64encode(core.encode()).decode(),
    ]
    for text in texts:
        said = redact(f"before {text} after", forms)
        assert _forms_in(said, key) == [] and said.startswith("before ") and said.endswith(" after"), (text, said)


def test_smtp_credentials_are_redacted_as_auth_plain_sends_them() -> None:
    from series.secrets import login_forms

    plain = base64.b64encode(b"\0desk@example.com\0pa+ss/w\xc3\xb6rd").decode()
    login = base64.b64encode("pa+ss/w\u00f6rd".encode()).decode()
    forms = login_forms("desk@example.com", "pa+ss/w\u00f6rd\r\n")
    assert redact(f"AUTH PLAIN {plain}; AUTH LOGIN {login}", forms) == "AUTH PLAIN ***; AUTH LOGIN ***"


def test_one_registry_covers_every_declared_key_and_each_receivers_password(tmp_path: Path) -> None:
    from monitor.config import load_config, secret_values
    from series import sources
    from tests.faults.support import write_config

    config = write_config(tmp_path, None, smtp_port=2525, fx_days=(date(2025, 1, 1), date(2025, 1, 2)))
    config.write_text(config.read_text() + 'username = "desk"\npassword_env = "MAILBOX_PASS"\n')
    declared = sorted({k for name in sources.names() for k in sources.get(name).env_keys})
    env = {name: f"v{i}-{name.lower()}-0123456789" for i, name in enumerate([*declared, "MAILBOX_PASS"])}
    forms = secret_values(load_config(config), env)
    assert set(env.values()) <= set(forms)  # not a hand-kept list: every source's keys, whatever they are
    assert base64.b64encode(b"\0desk\0" + env["MAILBOX_PASS"].encode()).decode() in forms
    assert "KRX_ID" in declared  # pykrx's login is redacted like its password
    guessed = secret_values(load_config(config), {"VENDOR_API_TOKEN": "tok-0123456789", "FEATURE_KEY": "1"})
    assert "tok-0123456789" in guessed and "1" not in guessed  # a flag named like a secret would blank every "1"


def _fetch_echoed(
    fault_server: FaultServer, tmp_path: Path, source: str, key: str, env: dict[str, str], reply: object
) -> str:
    from tests.series.sources.support import fetch_into, live, make_spec, store_dump

    fault_server.script(reply)  # type: ignore[arg-type]
    spec = make_spec(source, key, freq="M" if source == "customs" else "D", start=date(2025, 1, 1))
    outcome = fetch_into(tmp_path / "s.sqlite", spec, live(fault_server, source, FakeClock(), retries=0), env)
    assert outcome.failed
    return outcome.message + store_dump(tmp_path / "s.sqlite")


def test_a_key_read_with_a_trailing_cr_is_sent_and_redacted_without_it(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    key = "CRLFkey0123456789abcdef\r"  # from a .env written on Windows
    said = _fetch_echoed(fault_server, tmp_path, "ecos", "722Y001/0101000", {"ECOS_API_KEY": key}, _echo())
    assert "HTTP 400" in said and "***" in said
    assert _forms_in(said, key) == []
    assert "/api/StatisticSearch/CRLFkey0123456789abcdef/" in fault_server.requests[0].path  # sent normalised


def test_the_snippet_of_an_error_body_is_redacted_before_it_is_cut(fault_server: FaultServer, tmp_path: Path) -> None:
    key = "Straddle0123456789ABCDEFabcdef"
    said = _fetch_echoed(fault_server, tmp_path, "ecos", "722Y001/0101000", {"ECOS_API_KEY": key}, _echo(pad=ECHO_PAD))
    assert "HTTP 400" in said and _forms_in(said, key) == []


def test_a_redirect_carrying_the_url_encoded_again_leaks_no_key(fault_server: FaultServer, tmp_path: Path) -> None:
    key = "Zx+9/Yw==Qv8\u00e9" * 3  # customs sends it quote_plus'ed: '+' -> %2B, in the Location %252B

    def redirect(seen: Seen) -> Reply:
        back = quote(fault_server.url + seen.target, safe="")
        return Reply(302, b"", {"Location": f"http://127.0.0.1:1/login?next={back}"})  # nobody listens on port 1

    said = _fetch_echoed(fault_server, tmp_path, "customs", "8542", {"DATA_GO_KR_KEY": key}, redirect)
    assert "127.0.0.1" in said and "%252B" not in said.replace("***", "")
    assert _forms_in(said, key) == []


# -- bounds: answer size, total deadline, message length ---------------------------------------------------------
def _gzip_of_zeros(megabytes: int) -> bytes:
    """A gzip body of `megabytes` MB of zeros, as concatenated members of 1 MB each (one compressed once)."""
    member = gzip.compress(bytes(1_000_000), compresslevel=9)
    return member * megabytes


def test_an_answer_larger_than_the_limit_ends_the_fetch_with_a_schema_error(fault_server: FaultServer) -> None:
    fault_server.script(Reply(200, _gzip_of_zeros(30), {"Content-Encoding": "gzip"}))
    policy = _policy(fault_server, FakeClock(), retries=2, max_response_bytes=2_000_000)
    with pytest.raises(SourceSchemaError, match=r"larger than 2 MB decompressed") as info:
        LiveTransport(policy).send(_get(), source="probe", series="s")
    assert not info.value.retryable and len(fault_server.requests) == 1  # garbage is not asked for again


def test_an_answer_within_the_limit_is_read_whole_and_decompressed(fault_server: FaultServer) -> None:
    fault_server.script(Reply(200, _gzip_of_zeros(2), {"Content-Encoding": "gzip"}))
    policy = _policy(fault_server, FakeClock(), max_response_bytes=2_000_000)
    assert LiveTransport(policy).send(_get(), source="probe", series="s").body == bytes(2_000_000)


@pytest.mark.parametrize("where", ["headers", "body", "through a proxy"])
def test_a_server_trickling_a_byte_a_second_is_given_up_after_the_timeout(
    fault_server: FaultServer, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests' timeout is per read: each byte arriving within it kept the request alive for minutes.
    slow = Reply(200, b"x" * 100, trickle=1.0, trickle_head=where != "body")
    fault_server.script(slow)
    policy = _policy(fault_server, FakeClock(), retries=0, timeout=2.0)
    if where == "through a proxy":  # HTTP_PROXY from the environment: the fault server answers as the proxy
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", fault_server.url)
        policy = HttpPolicy(clock=FakeClock(), retries=0, timeout=2.0, endpoints={"probe": "http://example.org"})
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match=r"no answer within 2 s \(timeout\)"):
        LiveTransport(policy).send(_get(), source="probe", series="s")
    took = time.monotonic() - started
    print(f"slow server ({where}) given up after {took:.2f} s with timeout_seconds = 2")
    assert took < 3.0  # "honoured within a second"
    assert fault_server.requests[0].target.startswith("http://example.org/" if "proxy" in where else "/")


def test_an_error_message_is_cut_after_redaction(fault_server: FaultServer) -> None:
    huge = "Bad Request. " + "y" * 3_000_000 + SECRET  # FRED repeats what it got; a 3 MB message of its own
    body = f'<?xml version="1.0"?><error code="400" message="{huge}"/>'.encode()

    def call(ctx: CallContext) -> bytes:
        from series.sources.fred import fred_error

        response = ctx.open(f"https://api.stlouisfed.org/fred/series?api_key={SECRET}")
        raise fred_error(response.status, response.body)

    fault_server.script(Reply(400, body))
    request = Request(url="lib://fred", replay_name="probe/x.xml", call=call, secrets=secret_forms(SECRET))
    with pytest.raises(SourceError) as info:
        LiveTransport(_policy(fault_server, FakeClock(), retries=0)).send(request, source="probe", series="s")
    assert len(str(info.value)) < 1200 and str(info.value).count("y" * 900) == 1
    assert SECRET not in str(info.value)


NESTED = [
    ("ecos", "722Y001/0101000", b"[" * 100_000 + b"]" * 100_000),
    ("ecos", "722Y001/0101000", b'{"StatisticSearch": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001),
    ("boj", "FM01/STRDCLUCON", b'{"STATUS": ' + b"[" * 990 + b"]" * 990 + b"}"),  # parsed; repr() overflows
]


@pytest.mark.parametrize(("source", "key", "body"), NESTED, ids=["ecos-array", "ecos-object", "boj-status"])
def test_deeply_nested_json_is_a_schema_error_for_that_series(
    fault_server: FaultServer, tmp_path: Path, source: str, key: str, body: bytes
) -> None:
    from tests.series.sources.support import fetch_into, live, make_spec

    fault_server.script(Reply(200, body))
    spec = make_spec(source, key, start=date(2025, 1, 1))
    env = {"ECOS_API_KEY": "k" * 20}
    outcome = fetch_into(tmp_path / "s.sqlite", spec, live(fault_server, source, FakeClock(), retries=0), env)
    assert outcome.failed and outcome.error_kind == "schema", outcome
    assert "nested too deeply" in outcome.message, outcome.message


def test_a_blank_key_counts_as_missing() -> None:
    from series import sources

    ecos = sources.get("ecos")
    assert ecos.missing_keys({"ECOS_API_KEY": " \r\n"}) == ("ECOS_API_KEY",)  # not a key of "\r\n"
    assert ecos.missing_keys({"ECOS_API_KEY": "k3y\r\n"}) == ()


# -- a host that cannot be reached: tried once, then down for the run ------------------------------------------
def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed on exit: a connection there is refused


def _counting(transport: LiveTransport) -> list[str]:
    """The URLs the transport hands to requests (the library boundary; the real call still happens)."""
    sent: list[str] = []
    real = transport.http.request

    def request(method: str, url: str, **kw: object) -> object:
        sent.append(url)
        return real(method, url, **kw)  # type: ignore[arg-type]

    transport.http.request = request  # type: ignore[method-assign]
    return sent


def _one_short_line(error: SourceError) -> str:
    text = str(error)
    assert "\n" not in text and len(text) < 200, text
    for repr_part in ("ConnectionPool", "Caused by", "NewConnectionError", "NameResolutionError", "<", "Errno"):
        assert repr_part not in text, text
    return text


def test_a_refused_host_is_tried_once_and_then_down_for_the_run(fault_server: FaultServer) -> None:
    from series.errors import SourceUnreachable

    clock, port = FakeClock(), _closed_port()
    policy = HttpPolicy(endpoints={"probe": f"http://127.0.0.1:{port}", "other": fault_server.url}, clock=clock)
    transport = LiveTransport(policy)  # retries = 4: a refused connection is not retried anyway
    sent = _counting(transport)
    with pytest.raises(SourceUnreachable) as first:
        transport.send(_get(), source="probe", series="a")
    with pytest.raises(SourceUnreachable) as second:
        transport.send(_get("/other"), source="probe", series="b")
    assert len(sent) == 1 and clock.sleeps == []  # one request, no backoff
    assert first.value.host == f"127.0.0.1:{port}" and first.value.reason == "unreachable (connection refused)"
    assert not first.value.answered and not first.value.retryable
    assert _one_short_line(first.value) == (
        f"[probe] a: 127.0.0.1:{port} unreachable (connection refused) after 1 attempt; not tried again in this run"
    )
    assert "down" in _one_short_line(second.value) and "not requested" in str(second.value)
    assert second.value.reason == first.value.reason  # the report groups both under the host
    # Another host (another port of the same machine) is not held up.
    fault_server.script(Reply(200, b"fine"))
    assert transport.send(_get(), source="other", series="c").body == b"fine"


def test_a_name_that_does_not_resolve_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from series.errors import SourceUnreachable

    asked: list[object] = []

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        asked.append(host)  # the resolver as it answers offline
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    clock = FakeClock()
    transport = LiveTransport(HttpPolicy(endpoints={"probe": "https://nonexistent.invalid"}, clock=clock, retries=4))
    for series in ("a", "b", "c"):
        with pytest.raises(SourceUnreachable) as info:
            transport.send(_get(), source="probe", series=series)
        _one_short_line(info.value)
        assert info.value.reason == "unreachable (DNS)" and info.value.host == "nonexistent.invalid"
    assert asked == ["nonexistent.invalid"] and clock.sleeps == []


def test_other_connection_failures_are_retried_and_said_in_a_few_words(fault_server: FaultServer) -> None:
    """A reset connection may work the next time: retried, and named by its class, not by urllib3's repr."""
    import requests

    transport = LiveTransport(_policy(fault_server, FakeClock(), retries=1))
    calls: list[str] = []

    def reset(method: str, url: str, **kw: object) -> object:
        calls.append(url)
        try:
            raise ConnectionResetError(104, "Connection reset by peer")
        except ConnectionResetError as e:
            raise requests.ConnectionError(e) from e

    transport.http.request = reset  # type: ignore[method-assign]
    with pytest.raises(SourceUnavailable) as info:
        transport.send(_get(), source="probe", series="s")
    assert len(calls) == 2 and info.value.kind == "unavailable" and info.value.reason == "connection reset"
    assert "connection reset (gave up after 2 attempts)" in _one_short_line(info.value)


def test_yfinance_dns_failure_marks_yahoo_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """The library path: yfinance's own request (curl_cffi) fails to resolve; one call, later symbols not tried."""
    from curl_cffi.requests.exceptions import DNSError

    from series.errors import SourceUnreachable
    from series.sources import yahoo
    from series.sources.base import Window
    from series.spec import SeriesSpec, SourceRef

    calls: list[str] = []

    def download(symbol: str, *args: object) -> object:
        calls.append(symbol)
        raise DNSError("Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com", code=6)

    monkeypatch.setattr(yahoo, "download", download)
    clock = FakeClock()
    transport = LiveTransport(HttpPolicy(clock=clock, retries=4))
    source = yahoo.YahooSource()
    for symbol in ("^KS11", "KRW=X"):
        ref = SourceRef("yahoo", symbol)
        spec = SeriesSpec(id=symbol.lower(), label=symbol, freq="B", units="", primary=ref)
        request = source.build_query(ref, spec, Window(), {})
        with pytest.raises(SourceUnreachable) as info:
            transport.send(request, source="yahoo", series=spec.id)
        assert info.value.host == "query2.finance.yahoo.com" and info.value.reason == "unreachable (DNS)"
        _one_short_line(info.value)
    assert calls == ["^KS11"] and [s for s in clock.sleeps if s > 0] == []
