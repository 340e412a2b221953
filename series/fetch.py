"""Fetch series into the store: pick the source, fetch incrementally, validate, store (all or nothing per fetch).

- Source choice: the primary unless its keys are missing, then each fallback (another route to the same
  numbers). A failing source is recorded and the next route is tried; a series with no usable route is skipped
  with a note naming the key that would enable it.
- Incremental: the first fetch backfills from the series' configured start; later fetches ask from the last
  stored date minus the source's revision window, so revisions arrive as new vintages.
- Point in time: every stored row carries `realtime_start`. Sources with vintages (ALFRED) give it; for the
  others it is the end of the observation's period plus the series' `release_lag_days`, never later than the
  run's as-of date. A run for a past date (backfill, replay) keeps only what would have been known by then.
- Replay: in a replay directory, a series whose sources have no recording is served by the `csv` source from
  `DIR/csv/<series id>.csv` (columns date,value), for files that are not in any source's wire format.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import pandas as pd

from series import calendars, sources
from series.errors import SourceError
from series.freshness import period_end
from series.http import ReplayTransport, Transport
from series.sources.base import Window, redact
from series.spec import SeriesSpec, SourceRef
from series.store import AppendResult, Payload, Store
from series.validate import ERROR, DataIssue, check_batch

REPLAY_CSV_KEY = "replay"


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
    error_kind: str = ""  # unavailable | throttled | auth | schema | empty | missing_key | validation
    issues: tuple[DataIssue, ...] = ()
    missing_keys: tuple[str, ...] = ()  # keys that would enable the primary route
    tried: tuple[str, ...] = field(default=())  # "source: message" of routes that failed before this one

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def failed(self) -> bool:
        """Nothing new stored because the source failed or the data did not pass validation (a skip is not)."""
        return self.status in ("failed", "quarantined")

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
) -> pd.DataFrame:
    """Scale, drop missing values and what was not yet known on `as_of`, and fill realtime_start.

    A date the store already holds can only change by revision, which this fetch (as of `as_of`) is the first to
    see: its realtime_start is `as_of`, so the store keeps the value in effect before as the earlier vintage."""
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
        out["realtime_start"] = [period_end(d, spec.freq) + lag for d in out["date"]]
        if not point_in_time:
            # A live fetch proves the value is known today, whatever the usual publication lag says.
            out["realtime_start"] = out["realtime_start"].clip(upper=cutoff)
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
    tried: list[str] = []
    last_error = ("", "")
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
            last_error = (message, e.kind)
            continue
        payloads = [Payload(_redact_bytes(r.body, secrets), r.url, r.request.replay_name) for r in responses]
        history = store.latest(spec.id)
        observations = to_observations(spec, ref, frame, as_of, point_in_time=point_in_time, stored_dates=history.index)
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
    message, kind = last_error
    return FetchOutcome(
        spec.id, "failed", refs[-1].source, message=message, error_kind=kind, missing_keys=missing, tried=tuple(tried)
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
    for spec in specs:
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
        outcomes.append(outcome)
        if on_done is not None:
            on_done(outcome)
    return outcomes


def keyless_note(outcomes: Sequence[FetchOutcome], specs: Sequence[SeriesSpec]) -> str:
    """One line saying which series a key would improve or enable, and how to set it ('' if none)."""
    by_key: dict[str, list[str]] = {}
    for o in outcomes:
        for k in o.missing_keys:
            by_key.setdefault(k, []).append(o.series_id + ("" if o.ok else " (skipped)"))
    if not by_key:
        return ""
    parts = [f"{k}: {', '.join(ids)}" for k, ids in sorted(by_key.items())]
    return "keyless run; set these environment variables for the primary sources: " + "; ".join(parts)


def _redact_bytes(body: bytes, secrets: tuple[str, ...]) -> bytes:
    for s in secrets:
        body = body.replace(s.encode(), b"***")
    return body
