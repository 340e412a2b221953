"""The daily run (`monitor run`), top to bottom, one call per step:

    lock -> fetch -> validate -> store -> align -> models -> rules -> notify (outbox) -> export -> record the run

Idempotent per as-of date: fetching the same data again adds no rows, model results are replaced (one per model
and date), the alert state only steps through observations it has not seen, the outbox never stores the same
message twice, and the exports are rewritten. A failing source, model or mail server never stops the run: it is
recorded, its series are marked stale, the rules reading them are inhibited, and the run ends "done with errors"
(exit 1). Only the writer lock (exit 3) and bad config or arguments (exit 2) stop it before it starts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from monitor.alerts import engine, state
from monitor.alerts.data import SeriesInfo, load_rule_data
from monitor.alerts.run import RuleRun, run_rules
from monitor.align import model_panel
from monitor.compute import Compute
from monitor.config import Config
from monitor.errors import InputDataError, MonitorError
from monitor.logs import event
from monitor.models.estimate import estimate
from monitor.models.flow_response import FlowResponseSpec, estimate_flow_response
from monitor.models.groups import estimate_groups
from monitor.models.results import ModelResult, load_result, load_results, save_result
from monitor.notify.dispatch import Dispatch, deliver_all, queue_digest
from monitor.notify.file import FileReceiver
from monitor.notify.outbox import DeliveryReport
from monitor.spec import ModelSpec
from reports.charts import FORMATS
from reports.context import RuleTrace, load_brief, load_context
from reports.drawing import Painters
from reports.export import DRY_RUN, REPORT_ONLY, ExportResult, export_all, export_dir
from reports.mail import renderer
from series import calendars, sources
from series.errors import StoreError
from series.fetch import FetchOutcome, fetch_all
from series.freshness import freshness
from series.http import build_transport
from series.store import Store

EXIT_OK, EXIT_ERRORS = 0, 1
# Fewest panel rows a model is estimated on; below that, the input that shortens the sample most is left out.
MIN_ROWS = {"D": 250, "M": 36}


@dataclass(frozen=True)
class RunRequest:
    as_of: date
    today: date  # the calendar date in Asia/Seoul: a run for an earlier date is point in time
    replay: Path | None = None
    dry_run: bool = False
    catch_up: bool = True
    notify: bool = True
    formats: tuple[str, ...] = FORMATS
    kind: str = "run"  # run | backfill


@dataclass
class RunOutcome:
    run_id: int
    as_of: date
    dry_run: bool = False
    days: list[date] = field(default_factory=list)
    fetches: list[FetchOutcome] = field(default_factory=list)
    models: dict[str, ModelResult] = field(default_factory=dict)
    rules: RuleRun | None = None  # the as-of day's rule run
    daily: list[tuple[date, list[engine.Alert]]] = field(default_factory=list)  # each evaluated day's alerts
    dispatch: Dispatch | None = None
    delivery: DeliveryReport | None = None
    exports: ExportResult | None = None
    steps_failed: list[str] = field(default_factory=list)  # "<step>: unexpected ...", a step that gave up whole

    @property
    def problems(self) -> list[str]:
        """Everything that makes the run 'done with errors', one line each."""
        out = list(self.steps_failed)
        out += [f"{o.series_id}: {o.status}: {o.message}" for o in self.fetches if o.failed]
        out += [f"model {name}: {r.error}" for name, r in self.models.items() if r.error]
        if self.rules is not None:
            out += [f"rule {name}: {why}" for name, why in self.rules.errors.items()]
        if self.delivery is not None:
            out += [f"mail #{i} not delivered (kept in the outbox): {why}" for i, why in self.delivery.failed.items()]
            out += self.delivery.refused
        if self.exports is not None:
            out += self.exports.problems
        return out

    @property
    def status(self) -> str:
        return "errors" if self.problems else "ok"

    @property
    def exit_code(self) -> int:
        return EXIT_ERRORS if self.problems else EXIT_OK

    def summary(self) -> dict[str, Any]:
        """run.json: what ran, what failed, what fired (no timestamps, so a re-run rewrites the same file)."""
        alerts = self.rules.alerts if self.rules is not None else []
        return {
            "as_of": self.as_of.isoformat(),
            "run_id": self.run_id,
            "status": self.status,
            "exit_code": self.exit_code,
            "dry_run": self.dry_run,
            "days_evaluated": [d.isoformat() for d in self.days],
            "fetch": {o.series_id: o.as_dict() for o in self.fetches},
            "models": {
                name: {
                    "estimated": not r.error,
                    "error": r.error,
                    "method": r.method,
                    "lags": r.lags,
                    "nobs": r.nobs,
                    "variables": list(r.series),
                    "dropped": list(r.dropped),
                    "notes": list(r.notes),
                    # rolling models: windows in all, computed this run (new, holding revised rows), and why
                    **({"rolling_update": r.extra["rolling_update"]} if "rolling_update" in r.extra else {}),
                    # the flows' response to the yield gap: the last window's estimate and band
                    **({"latest": r.extra["latest"]} if "latest" in r.extra else {}),
                }
                for name, r in self.models.items()
            },
            "alerts": [
                {
                    "alert": a.display_id,
                    "state": a.state,
                    "severity": a.severity,
                    "summary": a.summary,
                    "value": a.annotations.get("value", ""),
                    "threshold": a.annotations.get("threshold", ""),
                    "since": a.since.isoformat(),
                    "changed": a.changed,
                    "suppressed": a.suppressed,
                }
                for a in alerts
                if a.state in (engine.FIRING, engine.PENDING) or a.changed
            ],
            "notifications": {
                "queued": dict(self.dispatch.enqueued) if self.dispatch else {},
                "delivered": list(self.delivery.sent) if self.delivery else [],
                "kept_in_outbox": {str(k): v for k, v in self.delivery.failed.items()} if self.delivery else {},
                "refused_for_good": list(self.delivery.refused) if self.delivery else [],
            },
            "failed": self.problems,
        }


def run_daily(
    config: Config,
    request: RunRequest,
    env: Mapping[str, str],
    log: logging.Logger,
    started: Callable[[int], None] | None = None,
    painters: Painters | None = None,
) -> RunOutcome:
    """One run as of a date: every step, the run recorded in the store. Raises only for the lock and config.
    `started` is told the run's id once it is recorded. painters: the chart-drawing processes to use (a
    backfill shares one pool across its dates); without, the run starts its own before it fetches, so that they
    are ready when the charts are drawn."""
    with _store_for(config, request, log) as store, _drawing(config, painters) as drawing:
        run_id = store.begin_run(request.kind, request.as_of, command=f"monitor {request.kind}")
        if started is not None:
            started(run_id)
        out = RunOutcome(run_id, request.as_of, request.dry_run)
        try:
            out.fetches = fetch(config, store, request, env, run_id, log)
            out.models = models(config, store, request.as_of, run_id, log)
            out.days = days_to_evaluate(config, store, request)
            with contained(out, "rules", log):
                out.daily, out.rules = rules(config, store, out.days, out.fetches, out.models, log)
            if out.rules is not None:
                with contained(out, "notify", log):
                    out.dispatch, out.delivery = notify(config, store, out.daily, out.rules, request, env, log)
            with contained(out, "export", log):
                out.exports = export(config, store, request, out, log, drawing)
        except BaseException as e:
            # Best effort: when the disk is what failed, recording the failure fails too, and the first error is
            # the one to report.
            status = "interrupted" if isinstance(e, KeyboardInterrupt) else "failed"  # SIGTERM, SIGINT
            with contextlib.suppress(StoreError):
                store.finish_run(run_id, status, {}, {"error": f"{type(e).__name__}: {e}"})
            raise
        store.finish_run(run_id, out.status, {o.series_id: o.as_dict() for o in out.fetches}, out.summary())
        event(
            log,
            "run.done",
            f"run {run_id} as of {request.as_of}: {out.status}"
            + (f" ({len(out.problems)} problems)" if out.problems else ""),
            run_id=run_id,
            status=out.status,
            problems=out.problems,
        )
    return out


# ------------------------------------------------------------------------------------------------------------
# The steps
# ------------------------------------------------------------------------------------------------------------
def fetch(
    config: Config, store: Store, request: RunRequest, env: Mapping[str, str], run_id: int, log: logging.Logger
) -> list[FetchOutcome]:
    """Fetch, validate and store every series (a failing source is recorded and the run goes on)."""
    transport = build_transport(
        timeout=config.fetch.timeout_seconds,
        retries=config.fetch.retries,
        endpoints=config.fetch.endpoints,
        limits=sources.limits(),
        max_response_mb=config.fetch.max_response_mb,
        replay=request.replay,
    )

    def done(o: FetchOutcome) -> None:
        level = o.log_level
        event(
            log,
            "fetch",
            f"{o.series_id}: {o.status} via {o.source or '-'}, +{o.added} new, {o.revised} revised"
            + (f": {o.message}" if o.message else ""),
            level=level,
            series=o.series_id,
            status=o.status,
            source=o.source,
            added=o.added,
            revised=o.revised,
        )

    return fetch_all(
        config.series_specs(),
        store=store,
        transport=transport,
        env=env,
        as_of=request.as_of,
        run_id=run_id,
        point_in_time=request.as_of < request.today,
        on_done=done,
    )


def models(config: Config, store: Store, as_of: date, run_id: int, log: logging.Logger) -> dict[str, ModelResult]:
    """Align, transform and estimate every model and model group on the data known as of the date (bootstrap
    chunks and group markets on the `[compute]` backend); store the results."""
    infos = config.series_infos()
    out: dict[str, ModelResult] = {}
    with Compute.from_config(config.compute) as compute:
        for spec in config.model_specs():
            data = {v.series_id: store.as_of(v.series_id, as_of) for v in spec.variables}
            try:
                used, dropped = inputs_for(spec, data, infos, as_of)
                panel = model_panel(data, used, as_of)
                previous = load_result(store, spec.name, as_of - timedelta(days=1))
                result = estimate(used, panel, previous=previous, dropped=dropped, compute=compute)
            except MonitorError as e:
                result = not_estimated(spec, as_of, str(e))
            except StoreError:
                raise
            except Exception as e:
                result = not_estimated(spec, as_of, unexpected("estimate", e))
            out[spec.name] = result
        flow = flow_response(config, store, as_of)
        if flow is not None:
            out[flow.name] = flow
        groups = config.group_specs()
        if groups:
            markets = [m.spec for g in groups for m in g.markets]
            data = {v.series_id: store.as_of(v.series_id, as_of) for m in markets for v in m.variables}
            stored = {m.name: load_result(store, m.name, as_of - timedelta(days=1)) for m in markets}
            previous_groups = {name: r for name, r in stored.items() if r is not None}
            try:
                out.update(estimate_groups(groups, data, as_of, compute=compute, previous=previous_groups).results)
            except StoreError:
                raise
            except Exception as e:
                # The groups are estimated together (one compute map); a failure there fails each market.
                why = unexpected("estimate model groups", e)
                out.update({m.name: not_estimated(m, as_of, why) for m in markets})
    out.update(flows_at_risk(config, store, as_of))
    if compute.note:
        # The cluster could not be used: every model was estimated here instead; the report says why.
        event(log, "compute", compute.note, level=logging.WARNING)
        out = {name: dataclasses.replace(r, notes=(*r.notes, compute.note)) for name, r in out.items()}
    for name, result in out.items():
        save_result(store, result, run_id)
        if result.error:
            event(log, "model", f"{name}: not estimated: {result.error}", level=logging.WARNING, model=name)
        else:
            left_out = f", left out {', '.join(d.split(':')[0] for d in result.dropped)}" if result.dropped else ""
            event(
                log,
                "model",
                f"{name}: {result.method}({result.lags}) on {result.nobs} rows{left_out}",
                model=name,
                nobs=result.nobs,
                dropped=list(result.dropped),
            )
    return out


def flow_response(config: Config, store: Store, as_of: date) -> ModelResult | None:
    """The rolling response of foreign flows to the US-Japan yield gap (monitor/models/flow_response.py), when
    the config has its three series; stored with the run like a model, so rules read its rolling results."""
    spec = FlowResponseSpec()
    if not set(spec.series) <= set(config.series_infos()):
        return None
    try:
        return estimate_flow_response({s: store.as_of(s, as_of) for s in spec.series}, as_of, spec)
    except StoreError:
        raise
    except Exception as e:
        return ModelResult(name=spec.name, label=spec.label, freq="D", as_of=as_of, error=unexpected("estimate", e))


def flows_at_risk(config: Config, store: Store, as_of: date) -> dict[str, ModelResult]:
    """Every [[flows_at_risk]] block's point-in-time forecasts on the series as known on the date (a failure is a
    result with its error, like a model's)."""
    from monitor.models.flows_at_risk import far_result
    from series.preferred import resolve

    preferred = {p.id: p.sources for p in config.preferred_specs()}
    out: dict[str, ModelResult] = {}
    for name, label, settings in config.far_settings():
        ids = {settings.flows, *(s for d in settings.drivers for s in d.inputs)}
        try:
            data = {
                sid: resolve({src: store.as_of(src, as_of) for src in preferred[sid]}, preferred[sid])["value"]
                if sid in preferred
                else store.as_of(sid, as_of)
                for sid in ids
            }
            # The latest stored result (the date's own when it runs again): its forecasts are kept only where the
            # data they were made on are unchanged, so the answer is that of a fit of every origin.
            previous = load_result(store, name, as_of)
            out[name] = far_result(name, label, data, settings, as_of, previous)
        except StoreError:
            raise
        except MonitorError as e:
            out[name] = ModelResult(name=name, label=label, freq="D", as_of=as_of, method="flows at risk", error=str(e))
        except Exception as e:
            why = unexpected("flows at risk", e)
            out[name] = ModelResult(name=name, label=label, freq="D", as_of=as_of, method="flows at risk", error=why)
    return out


def not_estimated(spec: ModelSpec, as_of: date, why: str) -> ModelResult:
    return ModelResult(
        name=spec.name,
        label=spec.label,
        freq=spec.freq,
        as_of=as_of,
        error=why,
        series=tuple(v.series_id for v in spec.variables),
    )


def inputs_for(
    spec: ModelSpec, data: Mapping[str, pd.Series], infos: Mapping[str, SeriesInfo], as_of: date
) -> tuple[ModelSpec, tuple[str, ...]]:
    """The model restricted to the inputs the data can carry, and why each other one was left out.

    Stale or empty inputs go first (older than their series' stale limit, as series.freshness says: the rules
    mute on the same answer). Then, while the aligned sample is shorter than MIN_ROWS, the input whose removal
    lengthens it most goes. At least two inputs stay; fewer is an error that says what is missing."""
    dropped: list[str] = []
    keep = []
    for v in spec.variables:
        why = _stale(data[v.series_id], infos.get(v.series_id) or SeriesInfo(v.series_id), as_of)
        if why:
            dropped.append(f"{v.series_id}: {why}")
        else:
            keep.append(v)
    if len(keep) < 2:
        raise InputDataError(f"model {spec.name} needs two usable inputs; {'; '.join(dropped) or 'none has data'}")
    used = dataclasses.replace(spec, variables=tuple(keep))
    need = max(MIN_ROWS[spec.freq], (spec.window or 0))
    while len(used.variables) > 2 and _rows(data, used, as_of) < need:
        lengths = {v.series_id: _rows(data, _without(used, v.series_id), as_of) for v in used.variables}
        worst = max(lengths, key=lambda s: lengths[s])
        if lengths[worst] <= _rows(data, used, as_of):
            break
        dropped.append(f"{worst}: its history limits the sample to {_rows(data, used, as_of)} rows (< {need})")
        used = _without(used, worst)
    return used, tuple(dropped)


def days_to_evaluate(config: Config, store: Store, request: RunRequest) -> list[date]:
    """The as-of date, preceded by the KRX sessions missed since the last run (at most catch_up_days)."""
    if not request.catch_up or config.run.catch_up_days == 0:
        return [request.as_of]
    earlier = [
        r
        for r in store.runs(500)
        if r["kind"] in ("run", "backfill")
        and r["status"] in ("ok", "errors")
        and r["as_of"] < request.as_of.isoformat()
    ]
    if not earlier:
        return [request.as_of]
    last = date.fromisoformat(max(r["as_of"] for r in earlier))
    missed = calendars.sessions_between(
        config.run.calendar, last + timedelta(days=1), request.as_of - timedelta(days=1)
    )
    return [d.date() for d in missed[-config.run.catch_up_days :]] + [request.as_of]


def rules(
    config: Config,
    store: Store,
    days: Sequence[date],
    fetches: Sequence[FetchOutcome],
    results: Mapping[str, ModelResult],
    log: logging.Logger,
) -> tuple[list[tuple[date, list[engine.Alert]]], RuleRun]:
    """Evaluate the rules day by day on what was known each day; the state steps and is saved each time.
    Returns each day's alerts (for one digest) and the as-of day's rule run."""
    failures = failed_series(fetches)
    rolling = rolling_results(results)
    run: RuleRun | None = None
    daily: list[tuple[date, list[engine.Alert]]] = []
    for day in days:
        # A fetch failure is news about today's sources, not about the days being caught up on.
        data = load_rule_data(
            store, config.series_infos().values(), day, failures=failures if day == days[-1] else None, results=rolling
        )
        run = run_rules(store, config.rules, config.silences, data)
        daily.append((day, run.alerts))
    assert run is not None
    live = [a for a in run.alerts if a.state in (engine.FIRING, engine.PENDING) or a.changed]
    # Data health is one line (an offline run has every input down): what is wrong with each is in the report.
    health = [a for a in live if a.kind == "data_health" and a.state == engine.FIRING]
    if health:
        names = ", ".join(a.labels.get("series", a.display_id) for a in health)
        inputs = f"{len(health)} input{'s' if len(health) != 1 else ''}"
        event(log, "alert", f"data health: {inputs} stale or down: {names}", alerts=len(health))
    for a in (a for a in live if a not in health):
        event(
            log,
            "alert",
            f"{a.display_id}: {a.state}{' (' + a.suppressed + ')' if a.suppressed else ''}: {a.headline}",
            alert=a.display_id,
            state=a.state,
            severity=a.severity,
            suppressed=a.suppressed,
        )
    for name, why in run.errors.items():
        event(log, "rule", f"rule {name} not evaluated: {why}", level=logging.WARNING, rule=name)
    return daily, run


def notify(
    config: Config,
    store: Store,
    daily: Sequence[tuple[date, Sequence[engine.Alert]]],
    run: RuleRun,
    request: RunRequest,
    env: Mapping[str, str],
    log: logging.Logger,
) -> tuple[Dispatch | None, DeliveryReport | None]:
    """Per receiver, what it has not heard yet over the evaluated days, as one message (a digest after a
    catch-up) in the outbox; then deliver everything pending (a message kept by an earlier outage goes out now,
    exactly once)."""
    if not request.notify:
        return None, None
    if request.dry_run:
        config = config.model_copy(update={"receivers": dry_run_receivers(config, request.as_of)})
    groups = [(day, engine.group(alerts, config.receivers)) for day, alerts in daily]
    brief = load_brief(store, config.series_specs(), request.as_of, preferred=config.preferred_specs())
    render = renderer(run.evaluations, request.as_of, brief)
    dispatch = queue_digest(store, config.receivers, groups, render, request.as_of)
    for receiver, outbox_id in dispatch.enqueued.items():
        event(log, "notify", f"queued outbox #{outbox_id} for {receiver}", receiver=receiver, outbox_id=outbox_id)
    delivery = deliver_all(store, config, dict(env))
    if request.dry_run:  # what a dry run would send, or that it would send nothing
        n = len(delivery.sent)
        said = (
            f"{n} e-mail(s) written to {dry_run_mail(config, request.as_of)}"
            if n
            else "nothing to send: no receiver has news it was not sent"
        )
        event(log, "dry_run", f"dry run: {said}", messages=n)
    return dispatch, delivery


def dry_run_receivers(config: Config, as_of: date) -> list[FileReceiver]:
    """Every receiver as a file receiver: the messages land as .eml files in the exports, nothing is sent."""
    folder = str(dry_run_mail(config, as_of))
    return [
        FileReceiver(
            name=r.name,
            directory=folder,
            severities=r.severities,
            repeat_interval_days=r.repeat_interval_days,
        )
        for r in config.receivers
    ]


def dry_run_mail(config: Config, as_of: date) -> Path:
    return export_dir(config.exports_dir(), as_of, DRY_RUN) / "mail"


def export(
    config: Config,
    store: Store,
    request: RunRequest,
    out: RunOutcome,
    log: logging.Logger,
    painters: Painters | None = None,
) -> ExportResult:
    """Charts (PNG, SVG, PDF), CSV tables, run.json and report.html in exports/<as_of>/ (a dry run's in
    exports/<as_of>/dry-run/)."""
    run = out.rules
    traces = [trace(ev) for ev in run.evaluations] if run is not None else []
    # Resolved is news for a week after the days evaluated began; a first run replays all history and would
    # otherwise list every episode that ever ended.
    recent = (out.days[0] if out.days else request.as_of) - timedelta(days=7)
    alerts = [
        a
        for a in (run.alerts if run is not None else [])
        if not a.suppressed
        and (a.state == engine.FIRING or (a.state == engine.RESOLVED and a.changed and a.since >= recent))
    ]
    summary = out.summary()
    ctx = load_context(
        store,
        config.series_specs(),
        request.as_of,
        rules=traces,
        alerts=alerts,
        run={**summary, "failed": out.problems},
        failed=failed_series(out.fetches),
        preferred=config.preferred_specs(),
    )
    variant = DRY_RUN if request.dry_run else ""  # a dry run never replaces the run's own report
    result = export_all(ctx, config.exports_dir(), request.formats, run=summary, variant=variant, painters=painters)
    event(
        log,
        "export",
        f"exports in {result.directory} ({len(result.charts)} charts"
        + (f", {len(result.skipped)} not drawn" if result.skipped else "")
        + ")",
        directory=str(result.directory),
    )
    return result


def report_only(config: Config, as_of: date, formats: Sequence[str] = FORMATS) -> ExportResult:
    """`monitor report`: the exports for a date from what the store holds, without fetching or stepping any
    alert state (the rules are evaluated for their history; current alerts come from the stored state)."""
    with Store.open(config.store_path()) as store, painters_for(config) as painters:
        results = load_results(store, as_of)
        data = load_rule_data(store, config.series_infos().values(), as_of, results=rolling_results(results))
        evaluations = []
        for rule in config.rules:
            try:
                evaluations += rule.evaluate(data)
            except MonitorError:
                continue  # its inputs are missing: the report shows the chart without that rule
        # The stored state steps over nothing new: what is firing now, computed without saving anything, then
        # muted as the run mutes (stale inputs, silences), so the report and the run agree on what is firing. A
        # rule with no observation by the date (its inputs start later) cannot be firing on it.
        known = [ev for ev in evaluations if (ev.frame.index <= pd.Timestamp(as_of)).any()]
        stepped = engine.advance(known, state.load_states(store, before=as_of), data).alerts
        shown = engine.silence(engine.inhibit(stepped, data.health, as_of), config.silences, as_of)
        firing = [a for a in shown if a.state == engine.FIRING and not a.suppressed]
        ctx = load_context(
            store,
            config.series_specs(),
            as_of,
            rules=[trace(ev) for ev in evaluations],
            alerts=firing,
            run={"as_of": as_of.isoformat(), "status": "report only"},
            preferred=config.preferred_specs(),
        )
        return export_all(ctx, config.exports_dir(), formats, variant=REPORT_ONLY, painters=painters)


def trace(ev: engine.Evaluation) -> RuleTrace:
    """A rule's history for the charts: when it was firing (the state machine replayed over its history)."""
    frame = ev.frame
    firing = pd.Series(firing_mask(ev), index=frame.index)
    thresholds = frame["threshold"].dropna().unique() if "threshold" in frame else []
    return RuleTrace(
        name=ev.rule.name,
        severity=ev.rule.severity,
        series=tuple(ev.inputs),
        label=ev.rule.label or ev.rule.name,
        firing=firing,
        threshold=float(thresholds[0]) if len(thresholds) == 1 else None,
        op=getattr(ev.rule, "op", None),
        kind=str(getattr(ev.rule, "kind", "")),
        instance=", ".join(ev.instance.values()),
    )


def firing_mask(ev: engine.Evaluation) -> np.ndarray:
    """Where the rule was firing over its history: from each episode's start up to its end (excluded; still
    firing: to the last observation)."""
    days = ev.frame.index.to_numpy(dtype="datetime64[ns]")
    firing = np.zeros(len(days), dtype=bool)
    for fired, end in engine.firing_periods(ev):
        during = days >= np.datetime64(fired, "ns")
        if end is not None:
            during &= days < np.datetime64(end, "ns")
        firing |= during
    return firing


# ------------------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def contained(out: RunOutcome, step: str, log: logging.Logger) -> Iterator[None]:
    """Run a step; if it fails for a reason nobody foresaw, record one line naming it and let the run go on to
    the next step (the store failing is not contained: then nothing more can be recorded)."""
    try:
        yield
    except StoreError:
        raise
    except Exception as e:
        why = unexpected(step, e)
        out.steps_failed.append(why)
        event(log, "step", why, level=logging.ERROR, step=step)


def unexpected(step: str, e: BaseException) -> str:
    """The one-line reason a step failed for a reason nobody foresaw (a bug, an input no check caught)."""
    text = " ".join(str(e).split())
    return f"{step}: unexpected {type(e).__name__}" + (f": {text}" if text else "")


def failed_series(fetches: Sequence[FetchOutcome]) -> dict[str, str]:
    """Series id -> why its fetch failed in this run (its source counts as down)."""
    return {o.series_id: o.message for o in fetches if o.failed}


def rolling_results(results: Mapping[str, ModelResult]) -> dict[str, pd.DataFrame]:
    """Model name -> its per-date (rolling or TVP) results, for the spillover rules."""
    return {name: r.rolling for name, r in results.items() if r.rolling is not None and not r.error}


def painters_for(config: Config) -> Painters:
    """The pool of chart-drawing processes `[run] chart_workers` asks for (default: one per core, at most 4)."""
    return Painters(config.run.chart_workers)


@contextlib.contextmanager
def _drawing(config: Config, painters: Painters | None) -> Iterator[Painters]:
    if painters is not None:  # the caller's, for several runs: it closes them
        yield painters
        return
    with painters_for(config) as own:
        yield own


@contextlib.contextmanager
def _store_for(config: Config, request: RunRequest, log: logging.Logger) -> Iterator[Store]:
    """The store to run on: the real one under its writer lock, or, for a dry run, a scratch copy of it (so a
    dry run fetches, models and evaluates for real but changes nothing stored and sends nothing)."""
    writer = f"monitor {request.kind} --as-of {request.as_of}"
    path = config.store_path()
    if not request.dry_run:
        with Store.open(path, writer=writer) as store:
            yield store
        return
    with tempfile.TemporaryDirectory(prefix="monitor-dry-run-") as tmp:
        scratch = Path(tmp) / path.name
        if path.exists():
            with Store.open(path, writer=writer + " (dry run: copying the store)") as real:
                real.backup(scratch)
        event(log, "dry_run", f"dry run on a scratch copy of {path}: nothing stored, nothing sent")
        with Store.open(scratch, writer=writer + " --dry-run") as store:
            yield store


def _stale(s: pd.Series, info: SeriesInfo, as_of: date) -> str:
    s = s.dropna()
    fresh = freshness(info, s.index[-1] if len(s) else None, as_of)
    return "" if fresh.fresh else f"{fresh.status}: {fresh.reason}"


def _without(spec: ModelSpec, series_id: str) -> ModelSpec:
    return dataclasses.replace(spec, variables=tuple(v for v in spec.variables if v.series_id != series_id))


def _rows(data: Mapping[str, pd.Series], spec: ModelSpec, as_of: date) -> int:
    try:
        frame = model_panel(data, spec, as_of).frame
    except MonitorError:
        return 0
    if spec.start is not None:
        frame = frame[frame.index >= pd.Timestamp(spec.start)]
    return len(frame)


def ping(url: str, log: logging.Logger, timeout: float = 10.0) -> None:
    """The dead-man's switch: tell the heartbeat URL that a run succeeded (a failed ping is only a warning)."""
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read(1024)
        event(log, "heartbeat", "heartbeat sent")
    except OSError as e:
        event(log, "heartbeat", f"heartbeat not sent: {e}", level=logging.WARNING)
