"""The alert step of a daily run: evaluate every rule, step the persisted state, inhibit, silence.

    result = run_rules(store, config.rules, config.silences, data)     # data: load_rule_data(...)
    groups = engine.group(result.alerts, config.receivers)
    monitor.notify.dispatch.queue(store, config.receivers, groups, render, as_of)  # render: reports.mail.renderer

A rule that cannot be evaluated (its model was not estimated, its series is unknown to the store) is reported in
`errors` and the other rules still run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from monitor.alerts import engine, state
from monitor.alerts.data import RuleData
from monitor.alerts.engine import Alert, Silence, Transition
from monitor.alerts.rules import Evaluation, RuleBase
from monitor.errors import MonitorError
from series.store import Store


@dataclass
class RuleRun:
    evaluations: list[Evaluation]
    alerts: list[Alert]  # after inhibit and silence; `suppressed` says why one is muted
    transitions: list[Transition]
    errors: dict[str, str] = field(default_factory=dict)  # rule name -> why it could not be evaluated


def run_rules(store: Store, rules: Sequence[RuleBase], silences: Sequence[Silence], data: RuleData) -> RuleRun:
    evaluations: list[Evaluation] = []
    errors: dict[str, str] = {}
    for rule in rules:
        try:
            evaluations += rule.evaluate(data)
        except MonitorError as e:
            errors[rule.name] = str(e)
        except Exception as e:  # a bug in one rule costs that rule only
            errors[rule.name] = f"evaluate: unexpected {type(e).__name__}: {' '.join(str(e).split())}"
    step = engine.advance(evaluations, state.load_states(store, before=data.as_of), data)
    state.save(store, step.states.values(), step.transitions, data.as_of)
    alerts = engine.inhibit(step.alerts, data.health, data.as_of)
    alerts = engine.silence(alerts, silences, data.as_of)
    return RuleRun(evaluations, alerts, step.transitions, errors)
