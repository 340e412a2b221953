"""The alert engine: a state machine counted in observations, and the stages as plain functions over alerts.

States of one alert instance (identified by its fingerprint, a hash of its sorted labels):

    inactive --condition--> pending --condition on `for` more observations--> firing
    pending --no condition--> inactive
    firing --no condition on keep_firing_for + 1 observations in a row--> resolved
    resolved --condition--> pending (a new episode)

Time is counted in observations of the rule's input series, never wall-clock: a rule with `for = 2` fires on
the third observation in a row that meets its condition, whether they came in one daily run or three. Day d
steps the state of the last day evaluated before d with the observations dated after the last one it saw, so
re-running a day gives the same answer and an earlier day evaluated late never sees a later one's state; the
state lives in the store, per evaluated day (monitor/alerts/state.py).

Stages (each takes and returns a list of alerts; `suppressed` says why an alert is muted):
    inhibit(alerts, health)                  a stale, missing or failed input mutes the rules on it; one
                                             data-health alert per such series says so and names what it mutes
    silence(alerts, silences, as_of)          config `[[silences]]`: matchers on labels, until `expires`
    dedup(alerts, sent, as_of, repeat_days)  what a receiver has not been told yet (or not for repeat_days)
    group(alerts, receivers)                 per receiver, by its severities
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Protocol

import pandas as pd

from monitor.alerts import rules as rules_mod
from monitor.alerts import wording
from monitor.alerts.data import Provenance, RuleData, SeriesHealth, fingerprint
from monitor.alerts.rules import SEVERITY_RANK, Evaluation, RuleBase

INACTIVE, PENDING, FIRING, RESOLVED = "inactive", "pending", "firing", "resolved"
DATA_HEALTH = "data_health"


class Silence(Protocol):
    """A `[[silences]]` block (monitor.config.SilenceBlock)."""

    @property
    def matchers(self) -> Mapping[str, str]: ...
    @property
    def expires(self) -> date: ...
    @property
    def comment(self) -> str: ...


class Receiver(Protocol):
    """A `[[receivers]]` block (monitor.notify.receiver.ReceiverBase), as far as grouping is concerned."""

    @property
    def name(self) -> str: ...
    @property
    def severities(self) -> Sequence[str]: ...


# ------------------------------------------------------------------------------------------------------------
# The state machine
# ------------------------------------------------------------------------------------------------------------
@dataclass
class AlertState:
    fingerprint: str
    rule: str
    labels: dict[str, str]
    state: str = INACTIVE
    active_since: date | None = None  # first observation of the current episode (pending or firing)
    firing_since: date | None = None
    cleared_since: date | None = None  # first observation without the condition while firing
    resolved_at: date | None = None
    pending: int = 0  # observations in a row meeting the condition, in this episode
    clear: int = 0  # observations in a row without it, while firing
    last_obs: date | None = None
    value: float = math.nan
    threshold: float = math.nan


@dataclass(frozen=True)
class Transition:
    fingerprint: str
    rule: str
    obs_date: date
    from_state: str
    to_state: str
    value: float
    threshold: float


def step(st: AlertState, day: date, value: float, threshold: float, condition: bool, for_: int, keep: int) -> str:
    """Advance one observation; returns the new state (mutates `st`)."""
    if condition:
        st.clear, st.cleared_since = 0, None
        if st.state in (INACTIVE, RESOLVED):
            st.state, st.active_since, st.pending = PENDING, day, 0
            st.firing_since = st.resolved_at = None
        st.pending += 1
        if st.state == PENDING and st.pending > for_:
            st.state, st.firing_since = FIRING, day
    elif st.state == PENDING:
        st.state, st.active_since, st.pending = INACTIVE, None, 0
    elif st.state == FIRING:
        st.clear += 1
        st.cleared_since = st.cleared_since or day
        if st.clear > keep:
            st.state, st.resolved_at = RESOLVED, day
    st.last_obs, st.value, st.threshold = day, value, threshold
    return st.state


def replay(st: AlertState, frame: pd.DataFrame, for_: int, keep: int) -> list[Transition]:
    """Step through the frame's observations dated after `st.last_obs`; return the state changes."""
    rows = frame if st.last_obs is None else frame[frame.index > pd.Timestamp(st.last_obs)]
    out: list[Transition] = []
    if rows.empty:
        return out
    days = pd.DatetimeIndex(rows.index).date.tolist()  # not one Timestamp per row: 15x faster on a long history
    values = rows["value"].to_numpy(dtype=float)
    thresholds = rows["threshold"].to_numpy(dtype=float)
    conditions = rows["condition"].to_numpy(dtype=bool)
    for day, v, t, c in zip(days, values, thresholds, conditions, strict=True):
        before = st.state
        after = step(st, day, float(v), float(t), bool(c), for_, keep)
        if after != before:
            out.append(Transition(st.fingerprint, st.rule, day, before, after, float(v), float(t)))
    return out


@dataclass(frozen=True)
class Episode:
    """One firing period of a rule in history: pending from `pending_since`, firing from `start`, resolved at
    `end` (None: still firing at the last observation). `peak` is the most extreme value while firing."""

    rule: str
    labels: Mapping[str, str]
    pending_since: date
    start: date
    end: date | None
    peak: float
    peak_date: date
    observations: int  # observations from start to end (or to the last one)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "pending_since": self.pending_since.isoformat(),
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "peak": None if math.isnan(self.peak) else self.peak,
            "peak_date": self.peak_date.isoformat(),
            "observations": self.observations,
        }


def episode(ev: Evaluation, values: pd.Series, pending_since: date, start: date, end: date | None) -> Episode:
    """An episode with its peak: the most extreme value from `start` to `end` in the rule's bad direction."""
    window = values[values.index >= pd.Timestamp(start)]
    if end is not None:
        window = window[window.index <= pd.Timestamp(end)]
    finite = window.dropna()
    peak, peak_day = math.nan, start
    if len(finite):
        where = finite.idxmax() if ev.rule.peak_sign() > 0 else finite.idxmin()
        peak, peak_day = float(finite[where]), pd.Timestamp(where).date()
    return Episode(ev.rule.name, ev.labels, pending_since, start, end, peak, peak_day, len(window))


def episodes(ev: Evaluation, frame: pd.DataFrame | None = None) -> list[Episode]:
    """Replay the whole history of an evaluation through the state machine and list its firing episodes."""
    frame = ev.frame if frame is None else frame
    transitions = _replay_history(ev, frame)
    pendings = [t.obs_date for t in transitions if t.to_state == PENDING]
    out = []
    for fired, end in _periods(transitions):
        since = max((d for d in pendings if d <= fired), default=fired)
        out.append(episode(ev, frame["value"], since, fired, end))
    return out


def firing_periods(ev: Evaluation) -> list[tuple[date, date | None]]:
    """The episodes' (fired on, resolved on; None while still firing), without `episodes`' peaks and values (the
    charts shade these periods and need nothing more)."""
    return _periods(_replay_history(ev, ev.frame))


def _replay_history(ev: Evaluation, frame: pd.DataFrame) -> list[Transition]:
    return replay(AlertState(ev.fingerprint, ev.rule.name, ev.labels), frame, ev.rule.for_, ev.rule.keep_firing_for)


def _periods(transitions: Sequence[Transition]) -> list[tuple[date, date | None]]:
    ends = sorted(t.obs_date for t in transitions if t.to_state == RESOLVED)
    return [(t.obs_date, next((d for d in ends if d > t.obs_date), None)) for t in transitions if t.to_state == FIRING]


# ------------------------------------------------------------------------------------------------------------
# Alerts
# ------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Alert:
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    state: str  # pending | firing | resolved
    kind: str
    value: float
    threshold: float
    obs_date: date  # the latest observation evaluated
    since: date  # pending: first observation; firing: fired on; resolved: resolved on
    episode: str  # the first observation of the episode (ISO date): tells repeated episodes apart
    inputs: tuple[str, ...] = ()
    provenance: tuple[Provenance, ...] = ()
    changed: bool = False  # the state changed in this run
    suppressed: str = ""  # why the alert is muted ("" = not muted)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.labels)

    @property
    def rule(self) -> str:
        return self.labels.get("rule", "")

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "warning")

    @property
    def summary(self) -> str:
        return self.annotations.get("summary", self.rule)

    @property
    def headline(self) -> str:
        """One line for a subject: the summary while firing, why it cleared once resolved."""
        if self.state == RESOLVED:
            return self.annotations.get("resolved_reason", self.summary)
        return self.summary

    @property
    def display_id(self) -> str:
        """rule, plus the labels that tell its instances apart: inputs_stale{series=krw_usd}."""
        extra = {k: v for k, v in self.labels.items() if k == "series"}
        return self.rule + ("{" + ",".join(f"{k}={v}" for k, v in sorted(extra.items())) + "}" if extra else "")


def _kind(rule: RuleBase) -> str:
    return str(getattr(rule, "kind", ""))


def _context(ev: Evaluation, data: RuleData, day: date | None) -> dict[str, Any]:
    """The template fields of the observation dated `day` (the latest one when that is not in the frame)."""
    when = pd.Timestamp(day) if day else pd.Timestamp(data.as_of)
    frame = ev.frame
    row = frame.loc[when] if when in frame.index else frame.iloc[-1]
    return rules_mod.template_context(ev, data, row, when)


def _stopped(ev: Evaluation, data: RuleData, st: AlertState, now: Mapping[str, Any]) -> str:
    """Why the condition stopped holding: the values of the observation where it stopped (`cleared_since`),
    and the statistic now when later observations came in. Never the latest values against the exit condition:
    after an episode ended the statistic may be anywhere short of re-entering it."""
    assert st.cleared_since is not None
    if _kind(ev.rule) == DATA_HEALTH or pd.Timestamp(st.cleared_since) not in ev.frame.index:
        return ev.rule.clear_reason(now)  # data health: a frame of today only, and its text says today's age
    at_exit = _context(ev, data, st.cleared_since)
    return ev.rule.stopped_text(at_exit, st.cleared_since, now if st.last_obs != st.cleared_since else None)


def _alert(ev: Evaluation, st: AlertState, data: RuleData, changed: bool) -> Alert:
    ctx = _context(ev, data, st.last_obs)
    rule = ev.rule
    annotations = {k: rules_mod.render(v, ctx) for k, v in rule.annotations.items()}
    annotations["summary"] = rules_mod.summary(ev, ctx)
    if st.state == FIRING and st.cleared_since is not None:
        # Held by keep_firing_for: the firing summary would state a comparison that no longer holds.
        annotations["summary"] = wording.held(_stopped(ev, data, st, ctx), rule.keep_firing_for - st.clear)
    annotations["label"] = str(ctx["label"])
    annotations["units"] = str(ctx["units"])
    annotations["value"] = rule.value_text(ctx)
    # The card's threshold is the number; data health's is its limit in days.
    threshold = wording.summary_threshold(ctx, rule.unit())
    annotations["threshold"] = rule.level_text(ctx) if _kind(rule) == DATA_HEALTH else threshold
    provenance = tuple(data.provenance[s] for s in ev.inputs if s in data.provenance)
    if provenance:
        annotations["provenance"] = "; ".join(p.text() for p in provenance)
    since = {PENDING: st.active_since, FIRING: st.firing_since, RESOLVED: st.resolved_at}[st.state]
    if st.state == RESOLVED:
        annotations["resolved_reason"] = _stopped(ev, data, st, ctx)
    assert since is not None and st.last_obs is not None
    return Alert(
        labels=ev.labels,
        annotations=annotations,
        state=st.state,
        kind=_kind(rule),
        value=float(ctx["value"]),
        threshold=float(ctx["threshold"]),
        obs_date=st.last_obs,
        since=since,
        episode=(st.active_since or since).isoformat(),
        inputs=ev.inputs,
        provenance=provenance,
        changed=changed,
    )


def evaluate(rules: Iterable[RuleBase], data: RuleData) -> list[Evaluation]:
    out: list[Evaluation] = []
    for rule in rules:
        out += rule.evaluate(data)
    return out


@dataclass
class Advance:
    """The outcome of stepping every alert instance: the alerts worth showing and what changed."""

    alerts: list[Alert]
    states: dict[str, AlertState]
    transitions: list[Transition] = field(default_factory=list)


def advance(evaluations: Sequence[Evaluation], states: Mapping[str, AlertState], data: RuleData) -> Advance:
    """Step each instance from its saved state through its new observations (pure: the caller saves)."""
    as_of = pd.Timestamp(data.as_of)
    new_states: dict[str, AlertState] = {}
    alerts: list[Alert] = []
    transitions: list[Transition] = []
    for ev in evaluations:
        fp = ev.fingerprint
        old = states.get(fp)
        st = replace(old) if old else AlertState(fp, ev.rule.name, ev.labels)
        frame = ev.frame[ev.frame.index <= as_of]
        moved = replay(st, frame, ev.rule.for_, ev.rule.keep_firing_for)
        transitions += moved
        new_states[fp] = st
        if st.state != INACTIVE and st.last_obs is not None:
            alerts.append(_alert(replace(ev, frame=frame), st, data, changed=bool(moved)))
    return Advance(alerts, new_states, transitions)


# ------------------------------------------------------------------------------------------------------------
# Stages
# ------------------------------------------------------------------------------------------------------------
def inhibit(alerts: Sequence[Alert], health: Mapping[str, SeriesHealth], as_of: date) -> list[Alert]:
    """Mute every alert that reads an unhealthy series; make sure one data-health alert per such series says so
    (the configured data_health rule's, or one made here when no rule covers that series)."""
    bad = {sid: h for sid, h in health.items() if not h.healthy}
    out: list[Alert] = []
    muted: dict[str, list[str]] = {}
    for a in alerts:
        hit = [s for s in a.inputs if s in bad]
        # An episode that resolved in an earlier run has nothing left to say: no need to mute it.
        live = a.state in (PENDING, FIRING) or a.changed
        if a.kind == DATA_HEALTH or not hit or a.suppressed or not live:
            out.append(a)
            continue
        for s in hit:
            muted.setdefault(s, []).append(a.display_id)
        out.append(replace(a, suppressed=f"inhibited: {hit[0]} {wording.health_problem(bad[hit[0]])}"))
    for sid, names in sorted(muted.items()):
        mutes = ", ".join(sorted(set(names)))
        idx = next((i for i, a in enumerate(out) if a.kind == DATA_HEALTH and a.labels.get("series") == sid), None)
        if idx is not None:
            a = out[idx]
            out[idx] = replace(a, annotations={**a.annotations, "mutes": mutes})
            continue
        h = bad[sid]
        age = float(h.age_days) if h.age_days is not None else math.nan
        limit = float(h.stale_after_days) if h.stale_after_days is not None else math.nan
        labels = {"rule": DATA_HEALTH, "severity": "warning", "series": sid}
        out.append(
            Alert(
                labels=labels,
                annotations={
                    "summary": f"{sid}: {wording.health_problem(h)}",
                    "mutes": mutes,
                    "value": wording.health_age(age),
                    "threshold": wording.health_limit(limit),
                },
                state=FIRING,
                kind=DATA_HEALTH,
                value=age,
                threshold=limit,
                obs_date=as_of,
                since=as_of,
                episode=(h.last_date or as_of).isoformat(),
                inputs=(sid,),
                changed=True,
            )
        )
    return out


def _matches(matchers: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    for key, want in matchers.items():
        have = labels.get(key, "")
        if want.startswith("~"):
            if re.fullmatch(want[1:], have) is None:
                return False
        elif have != want:
            return False
    return True


def silence(alerts: Sequence[Alert], silences: Sequence[Silence], as_of: date) -> list[Alert]:
    """Mute alerts whose labels match every matcher of a silence that has not expired (`expires` is the last
    day it mutes). A matcher value starting with ~ is a regular expression on the whole label value."""
    out = []
    for a in alerts:
        hit = next((s for s in silences if s.expires >= as_of and _matches(s.matchers, a.labels)), None)
        if hit is not None and not a.suppressed:
            note = f": {hit.comment}" if hit.comment else ""
            a = replace(a, suppressed=f"silenced until {hit.expires}{note}")
        out.append(a)
    return out


@dataclass(frozen=True)
class SentRecord:
    """The last notice a receiver got about an alert."""

    fingerprint: str
    episode: str
    state: str  # firing | resolved
    as_of: date


def dedup(
    alerts: Sequence[Alert], sent: Mapping[str, SentRecord], as_of: date, repeat_interval_days: int
) -> list[Alert]:
    """What one receiver should hear now: a firing alert it was not told about in this episode (or not for
    `repeat_interval_days`; 0 = never repeat), and a resolved alert whose firing it was told about."""
    out = []
    for a in alerts:
        if a.suppressed or a.state not in (FIRING, RESOLVED):
            continue
        last = sent.get(a.fingerprint)
        same_episode = last is not None and last.episode == a.episode
        if a.state == FIRING:
            if not same_episode or (
                last is not None
                and last.state == FIRING
                and repeat_interval_days > 0
                and (as_of - last.as_of).days >= repeat_interval_days
            ):
                out.append(a)
        elif same_episode and last is not None and last.state == FIRING:
            out.append(a)
    return out


def order(alerts: Iterable[Alert]) -> list[Alert]:
    """Risk alerts before data health; within each, firing before resolved before pending, the most severe
    first, then by rule."""
    rank = {FIRING: 0, RESOLVED: 1, PENDING: 2}
    return sorted(
        alerts,
        key=lambda a: (
            a.kind == DATA_HEALTH,
            rank.get(a.state, 3),
            -SEVERITY_RANK.get(a.severity, 0),
            a.display_id,
        ),
    )


def tally(alerts: Iterable[Alert]) -> str:
    """What a headline counts, the report's and the e-mail subject's alike: risk alerts firing and resolved;
    data health apart, as inputs ('2 firing, 1 resolved, 3 inputs stale or down'). Pending alerts are not news."""
    alerts = list(alerts)
    risk = [a for a in alerts if a.kind != DATA_HEALTH]
    health = [a for a in alerts if a.kind == DATA_HEALTH]
    firing = sum(a.state == FIRING for a in risk)
    resolved = sum(a.state == RESOLVED for a in risk)
    parts = [f"{firing} firing"] if firing or not resolved else []
    if resolved:
        parts.append(f"{resolved} resolved")
    down = sum(a.state == FIRING for a in health)
    if down:
        parts.append(f"{wording.plural(down, 'input')} stale or down")
    recovered = sum(a.state == RESOLVED for a in health)
    if recovered:
        parts.append(f"{wording.plural(recovered, 'input')} resolved")
    return ", ".join(parts)


def group(alerts: Sequence[Alert], receivers: Sequence[Receiver]) -> dict[str, list[Alert]]:
    """Per receiver: the alerts of the severities it takes, in message order."""
    return {r.name: order(a for a in alerts if a.severity in r.severities) for r in receivers}
