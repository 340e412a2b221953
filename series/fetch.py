"""Fetch series into the store: pick the source, fetch incrementally, validate, store (all or nothing per fetch).

- Source choice: the primary unless its keys are missing, then each fallback (another route to the same
  numbers). A failing source is recorded and the next route is tried; a series with no usable route is skipped
  with a note naming the key that would enable it.
- Incremental: the first fetch backfills from the series' configured start; later fetches ask from the last
  stored date minus the source's revision window, so revisions arrive as new vintages.
- Point in time: every stored row carries `realtime_start`, and rows are never dated on or before a day the
  store already answered for (`Store.known_through`), so no `as_of()` answer changes once given. Sources with
  vintages (ALFRED) give realtime_start. For the others, the first fetch of a series (the backfill of its
  history) and dates published since the store's last fetch of it (missed mornings) are dated by the end of
  their period plus the series' `release_lag_days` (a live run: at most today); a new value of a stored date (a
  revision) is dated by this fetch. A run for a past date (backfill, replay) keeps only what would have been
  known by then, and one for a date before the store's last fetch of a series fetches nothing: it reads what
  the store knew on that date.
- Replay: in a replay directory, a series whose sources have no recording is served by the `csv` source from
  `DIR/csv/<series id>.csv` (columns date,value), for files that are not in any source's wire format.
- Failures are said once per host: the series of a host that could not be reached are logged in one line
  ("fred.stlouisfed.org unreachable (DNS): 6 series not fetched (...)"), and a run where no host answered at all
  says "no network" in one line. `failure_lines` groups them the same way for the report.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import pandas as pd

from series import calendars, sources
from series.calendars import period_ends
from series.errors import SourceError, StoreError
from series.failures import LOCAL_SOURCES, failure_lines, no_network, no_network_line
from series.http import ReplayTransport, Transport, host_of
from series.sources.base import Window, cut, redact
from series.spec import SeriesSpec, SourceRef
from series.store import AppendResult, Payload, Store
from series.validate import ERROR, DataIssue, check_batch

REPLAY_CSV_KEY = "replay"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchOutcome:
    series_id: str
    status: str  # ok | failed | quarantined | skipped
    source: str = ""
    n_obs: int = 0
    added: int = 0
    revised: int = 0
    last_date: date | None = None
    message: str = ""
    error_kind: str = ""  # unreachable | unavailable | throttled | auth | schema | empty | missing_key | validation
    issues: tuple[DataIssue, ...] = ()
    missing_keys: tuple[str, ...] = ()  # keys that would enable the primary route
    tried: tuple[str, ...] = field(default=())  # "source: message" of routes that failed before this one
    host: str = ""  # the host that failed (the last route's)
    reason: str = ""  # the failure's class in a few words: "unreachable (DNS)", "HTTP 503", "timeout", "schema"
    reached: bool = True  # some server answered one of its routes (False: DNS, refused, timeouts only)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def failed(self) -> bool:
        """Nothing new stored because the source failed or the data did not pass validation (a skip is not)."""
        return self.status in ("failed", "quarantined")

    @property
    def log_level(self) -> int:
        """How loud its log line is: an unreachable host and a missing key are each said in one line for all
        the series they cost (`log_failures`, `keys_note`), so their per-series lines are debug detail."""
        if self.error_kind in ("unreachable", "missing_key"):
            return logging.DEBUG
        return logging.WARNING if self.failed else logging.INFO

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "source": self.source,
            "n_obs": self.n_obs,
            "added": self.added,
            "revised": self.revised,
            "last_date": self.last_date.isoformat() if self.last_date else None,
            "message": self.message,
            "error_kind": self.error_kind,
            "host": self.host,
            "reason": self.reason,
            "reached": self.reached,
            "issues": [f"{i.severity}:{i.check}: {i.message}" for i in self.issues],
        }


def routes(spec: SeriesSpec, env: Mapping[str, str], transport: Transport) -> tuple[list[SourceRef], tuple[str, ...]]:
    """The source routes to try, in order, and the keys missing for the primary route."""
    missing_primary = sources.get(spec.source).missing_keys(env)
    if isinstance(transport, ReplayTransport):
        # Replaying needs no keys; try whatever was recorded, then the plain CSV stand-in.
        candidates = [*spec.refs(), SourceRef("csv", REPLAY_CSV_KEY)]
        return [r for r in candidates if transport.has(_replay_name(r, spec, env))], ()
    usable = [r for r in spec.refs() if not sources.get(r.source).missing_keys(env)]
    return usable, missing_primary


def _replay_name(ref: SourceRef, spec: SeriesSpec, env: Mapping[str, str]) -> str:
    src = sources.get(ref.source)
    return src.build_query(ref, spec, Window(), _placeholder_env(src, env)).replay_name


def _placeholder_env(src: sources.Source, env: Mapping[str, str]) -> Mapping[str, str]:
    # Replays never send the key; the URL only needs something in its place.
    return {**env, **{k: "REPLAY" for k in src.missing_keys(env)}}


def window_for(spec: SeriesSpec, ref: SourceRef, store: Store, as_of: date, *, full: bool = False) -> Window:
    last = None if full else store.last_date(spec.id)
    if last is None:
        return Window(spec.start, as_of)
    start = last - timedelta(days=sources.get(ref.source).revision_days)
    if spec.start is not None:
        start = max(start, spec.start)
    return Window(start, as_of)


def to_observations(
    spec: SeriesSpec,
    ref: SourceRef,
    frame: pd.DataFrame,
    as_of: date,
    *,
    point_in_time: bool,
    stored_dates: pd.DatetimeIndex | None = None,
    known_through: date | None = None,
) -> pd.DataFrame:
    """Scale, drop missing values and what was not yet known on `as_of`, and fill realtime_start.

    A date the store already holds can only change by revision, which this fetch (as of `as_of`) is the first to
    see: its realtime_start is `as_of`, so the store keeps the value in effect before as the earlier vintage.
    `known_through` (the last day the store knew the series on, None for its first fetch): a new date is dated
    after it, as the store did not have it then (on it, for a re-run of that same day)."""
    out = frame.copy()
    out["date"] = pd.to_datetime(out["date"]).dt.normalize()
    out["value"] = out["value"].astype("float64") * ref.scale
    out = out.dropna(subset=["value"])
    cutoff = pd.Timestamp(as_of)
    out = out[out["date"] <= cutoff]
    if spec.start is not None:
        out = out[out["date"] >= pd.Timestamp(spec.start)]
    if "realtime_start" in out.columns:
        out["realtime_start"] = pd.to_datetime(out["realtime_start"]).dt.normalize()
    else:
        lag = pd.Timedelta(days=spec.release_lag_days)
        out["realtime_start"] = period_ends(pd.DatetimeIndex(out["date"]), spec.freq) + lag
        if not point_in_time:
            # A live fetch proves the value is known today, whatever the usual publication lag says.
            out["realtime_start"] = out["realtime_start"].clip(upper=cutoff)
        if known_through is not None:
            floor = min(pd.Timestamp(known_through) + pd.Timedelta(days=1), cutoff)
            out["realtime_start"] = out["realtime_start"].clip(lower=floor)
        if stored_dates is not None and len(stored_dates):
            out.loc[out["date"].isin(stored_dates), "realtime_start"] = cutoff
    out = out[out["realtime_start"] <= cutoff]
    return out.sort_values(["date", "realtime_start"]).reset_index(drop=True)[["date", "value", "realtime_start"]]


def fetch_series(
    spec: SeriesSpec,
    *,
    store: Store,
    transport: Transport,
    env: Mapping[str, str],
    as_of: date,
    run_id: int | None = None,
    point_in_time: bool = False,
    full: bool = False,
) -> FetchOutcome:
    """Fetch one series through its routes and store the result. Never raises for source trouble."""
    secrets = sources.secret_values(env)
    refs, missing = routes(spec, env, transport)
    if not refs:
        if isinstance(transport, ReplayTransport):
            names = ", ".join(sorted({_replay_name(r, spec, env) for r in spec.refs()} | {f"csv/{spec.id}.csv"}))
            return FetchOutcome(
                spec.id,
                "failed",
                message=f"no replay file for this series (looked for {names})",
                error_kind="unavailable",
            )
        return FetchOutcome(
            spec.id, "skipped", message=f"needs {', '.join(missing)}", error_kind="missing_key", missing_keys=missing
        )
    known = store.known_through(spec.id)
    if known is not None and as_of < known:
        # Fetching now would date today's answers on a past day: read what the store knew then instead.
        stored = store.as_of(spec.id, as_of)
        return FetchOutcome(
            spec.id,
            "ok",
            "store",
            last_date=stored.index[-1].date() if len(stored) else None,
            message=f"not fetched: the store has this series as known on {known}; using what it knew on {as_of}",
            missing_keys=missing,
        )
    tried: list[str] = []
    last_error: SourceError | None = None
    reached = False
    for ref in refs:
        src = sources.get(ref.source)
        call_env = _placeholder_env(src, env) if isinstance(transport, ReplayTransport) else env
        ref_for_call = ref if ref.key != REPLAY_CSV_KEY else replace(ref, key=f"csv/{spec.id}.csv")
        window = window_for(spec, ref, store, as_of, full=full)
        try:
            frame, responses = src.fetch(ref_for_call, spec, window, transport, call_env)
        except SourceError as e:
            message = redact(str(e), secrets)
            store.save_fetch(
                series_id=spec.id, source=ref.source, key=ref.key, status=e.kind, message=message, run_id=run_id
            )
            tried.append(f"{ref.source}: {message}")
            last_error = e
            reached = reached or (e.answered and ref.source not in LOCAL_SOURCES)
            continue
        payloads = [Payload(_redact_bytes(r.body, secrets), r.url, r.request.replay_name) for r in responses]
        history = store.latest(spec.id)
        observations = to_observations(
            spec, ref, frame, as_of, point_in_time=point_in_time, stored_dates=history.index, known_through=known
        )
        sessions = calendars.sessions(spec.calendar) if spec.freq == "B" and spec.calendar else None
        parsed = frame.assign(value=frame["value"] * ref.scale)
        parsed = parsed[pd.to_datetime(parsed["date"]) <= pd.Timestamp(as_of)]
        issues = tuple(check_batch(spec, parsed, as_of, history, sessions))
        errors = [i for i in issues if i.severity == ERROR]
        if errors:
            message = "; ".join(f"{i.check}: {i.message}" for i in errors)
            store.save_fetch(
                series_id=spec.id,
                source=ref.source,
                key=ref.key,
                payloads=payloads,
                status="quarantined",
                message=message,
                run_id=run_id,
            )
            return FetchOutcome(
                spec.id,
                "quarantined",
                ref.source,
                len(observations),
                message=message,
                error_kind="validation",
                issues=issues,
                missing_keys=missing,
                tried=tuple(tried),
            )
        result: AppendResult = store.save_fetch(
            series_id=spec.id,
            source=ref.source,
            key=ref.key,
            payloads=payloads,
            observations=observations,
            run_id=run_id,
        )
        last = observations["date"].max()
        return FetchOutcome(
            spec.id,
            "ok",
            ref.source,
            len(observations),
            result.added,
            result.revised,
            last.date() if pd.notna(last) else store.last_date(spec.id),
            issues=issues,
            missing_keys=missing,
            tried=tuple(tried),
        )
    assert last_error is not None  # every route failed
    return FetchOutcome(
        spec.id,
        "failed",
        refs[-1].source,
        message=redact(str(last_error), secrets),
        error_kind=last_error.kind,
        missing_keys=missing,
        tried=tuple(tried),
        host=last_error.host or host_of(last_error.url),
        reason=last_error.reason,
        reached=reached,
    )


def fetch_all(
    specs: Sequence[SeriesSpec],
    *,
    store: Store,
    transport: Transport,
    env: Mapping[str, str],
    as_of: date,
    run_id: int | None = None,
    point_in_time: bool = False,
    full: bool = False,
    on_done: Callable[[FetchOutcome], None] | None = None,
) -> list[FetchOutcome]:
    outcomes = []
    secrets = sources.secret_values(env)
    for spec in specs:
        try:
            outcome = fetch_series(
                spec,
                store=store,
                transport=transport,
                env=env,
                as_of=as_of,
                run_id=run_id,
                point_in_time=point_in_time,
                full=full,
            )
        except StoreError:
            raise  # the store failing is not one series' problem: the caller stops (nothing half-stored)
        except Exception as e:
            # A bug or an input nobody foresaw takes down this series only (monitor run and monitor fetch alike).
            said = " ".join(str(e).split())
            text = f"fetch: unexpected {type(e).__name__}" + (f": {said}" if said else "")
            outcome = FetchOutcome(spec.id, "failed", message=cut(redact(text, secrets)), error_kind="unexpected")
        outcomes.append(outcome)
        if on_done is not None:
            on_done(outcome)
    log_failures(outcomes)
    return outcomes


def log_failures(outcomes: Sequence[FetchOutcome]) -> None:
    """One line for a run without network, else one line per unreachable host (its series' own lines are debug)."""
    entries = {o.series_id: o.as_dict() for o in outcomes}
    if no_network(entries):
        log.warning(no_network_line(entries))
        return
    for line in failure_lines({k: v for k, v in entries.items() if v["error_kind"] == "unreachable"}):
        log.warning(line)


def keys_note(specs: Sequence[SeriesSpec], env: Mapping[str, str]) -> str:
    """Before a live run: one line saying what each missing key would add ('' when none is missing)."""
    by_key: dict[str, list[str]] = {}
    for spec in specs:
        usable = any(not sources.get(r.source).missing_keys(env) for r in spec.refs())
        for k in sources.get(spec.source).missing_keys(env):
            by_key.setdefault(k, []).append(spec.id + ("" if usable else " (skipped)"))
    if not by_key:
        return ""
    parts = [f"{k}: {', '.join(ids)}" for k, ids in sorted(by_key.items())]
    return "keyless run; set these environment variables for the primary sources: " + "; ".join(parts)


def _redact_bytes(body: bytes, secrets: tuple[str, ...]) -> bytes:
    for s in secrets:
        body = body.replace(s.encode(), b"***")
    return body
