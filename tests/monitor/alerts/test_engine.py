"""The alert state machine and the stages, on small handmade (SYNTHETIC) series."""

from __future__ import annotations

import itertools
from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.alerts import engine, state
from monitor.alerts.data import RuleData, SeriesHealth, SeriesInfo, health_of
from monitor.alerts.engine import FIRING, INACTIVE, PENDING, RESOLVED, AlertState, SentRecord
from monitor.alerts.rules import DataHealthRule, LevelRule
from monitor.config import SilenceBlock
from series.store import Store


def level(name: str = "krw_warning", threshold: float = 1450, for_: int = 0, keep: int = 0, **kw) -> LevelRule:
    return LevelRule.model_validate(
        {
            "name": name,
            "kind": "level",
            "series": "krw_usd",
            "op": ">=",
            "threshold": threshold,
            "for": for_,
            "keep_firing_for": keep,
            "label": "KRW/USD",
            **kw,
        }
    )


def series(values: list[float], start: str = "2026-01-05", name: str = "krw_usd") -> pd.Series:
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)), name=name, dtype="float64")


def states_over(conditions: list[bool], for_: int, keep: int) -> list[str]:
    st_ = AlertState("fp", "r", {})
    return [engine.step(st_, date(2026, 1, 1 + i), 0.0, 0.0, c, for_, keep) for i, c in enumerate(conditions)]


def test_pending_becomes_firing_only_after_for_observations():
    # for = 2: pending on the 1st and 2nd observation meeting the condition, firing on the 3rd.
    assert states_over([True, True, True, True], 2, 0) == [PENDING, PENDING, FIRING, FIRING]
    # An interruption resets the count: no firing until three in a row.
    assert states_over([True, True, False, True, True, True], 2, 0) == [
        PENDING,
        PENDING,
        INACTIVE,
        PENDING,
        PENDING,
        FIRING,
    ]
    assert states_over([True], 0, 0) == [FIRING]


def test_keep_firing_for_prevents_flapping():
    flapping = [True, False, True, False, True, False, False, False]
    without = states_over(flapping, 0, 0)
    assert without[:6] == [FIRING, RESOLVED, FIRING, RESOLVED, FIRING, RESOLVED]
    held = states_over(flapping, 0, 2)
    # One episode: firing through every single gap, resolved on the 3rd observation in a row without it.
    assert held == [FIRING] * 7 + [RESOLVED]
    changes = sum(a != b for a, b in itertools.pairwise(held))
    assert changes == 1


@settings(max_examples=200, deadline=None)
@given(
    conditions=st.lists(st.booleans(), min_size=1, max_size=60),
    for_=st.integers(0, 4),
    keep=st.integers(0, 4),
    cut=st.integers(0, 60),
)
def test_stepping_in_two_runs_equals_one_run(conditions, for_, keep, cut):
    """Runs see observations in batches; the state never depends on how they were batched."""
    frame = pd.DataFrame(
        {"value": 0.0, "threshold": 0.0, "condition": conditions},
        index=pd.bdate_range("2026-01-05", periods=len(conditions)),
    )
    whole = AlertState("fp", "r", {})
    engine.replay(whole, frame, for_, keep)
    parts = AlertState("fp", "r", {})
    engine.replay(parts, frame.iloc[:cut], for_, keep)
    engine.replay(parts, frame, for_, keep)  # the second run sees everything; only newer rows count
    assert parts == whole
    # And the firing rule: firing iff the last for+1 observations met the condition, or it fired and the
    # last keep+1 observations did not all fail.
    run = 0
    for c in reversed(conditions):
        if not c:
            break
        run += 1
    if run > for_:
        assert whole.state == FIRING


def run_day(store: Store, rules, data: RuleData):
    evaluations = engine.evaluate(rules, data)
    step = engine.advance(evaluations, state.load_states(store, before=data.as_of), data)
    state.save(store, step.states.values(), step.transitions, data.as_of)
    return step


def test_state_persists_between_runs_and_a_rerun_gives_the_same_answer(tmp_path):
    rule = level(for_=1)
    values = series([1400, 1460, 1470, 1480])
    info = {"krw_usd": SeriesInfo("krw_usd", "KRW per USD")}
    with Store.open(tmp_path / "s.sqlite", writer="test") as store:
        for day in values.index[:2]:
            run_day(store, [rule], RuleData(day.date(), {"krw_usd": values[:day]}, info))
        assert [s.state for s in state.load_states(store, before=values.index[2].date()).values()] == [PENDING]
        day = values.index[2]
        first = run_day(store, [rule], RuleData(day.date(), {"krw_usd": values[:day]}, info))
        again = run_day(store, [rule], RuleData(day.date(), {"krw_usd": values[:day]}, info))
        assert [t.to_state for t in first.transitions] == [FIRING]
        # A re-run starts again from the day before: the same answer, and no transition recorded twice.
        assert again.transitions == first.transitions
        [alert] = again.alerts
        assert alert.state == FIRING and alert.since == day.date() and alert.episode == "2026-01-06"
        assert alert.summary == "KRW/USD 1,470 >= 1,450"
        events = state.events(store)
        assert [(e["obs_date"], e["to_state"]) for e in events] == [("2026-01-06", PENDING), ("2026-01-07", FIRING)]


def make_alerts(rules, values: dict[str, pd.Series], as_of: date, health=None):
    infos = {k: SeriesInfo(k, k, stale_days=5) for k in values}
    data = RuleData(as_of, values, infos, health=health or {})
    evaluations = engine.evaluate(rules, data)
    return engine.advance(evaluations, {}, data).alerts, data


def test_stale_krw_mutes_the_krw_rules_and_raises_one_data_health_alert():
    krw = series([1460, 1470, 1480, 1490, 1500], start="2026-03-02")  # last 2026-03-06
    kospi = series([2500] * 12, start="2026-03-02", name="kospi")
    rules = [
        level("krw_usd_warning", 1450),
        level("krw_usd_critical", 1500, severity="critical"),
        LevelRule.model_validate(
            {"name": "kospi_low", "kind": "level", "series": "kospi", "op": "<=", "threshold": 2600}
        ),
        DataHealthRule.model_validate({"name": "inputs_stale", "kind": "data_health"}),
    ]
    as_of = date(2026, 3, 17)
    infos = {"krw_usd": SeriesInfo("krw_usd", stale_days=5), "kospi": SeriesInfo("kospi", stale_days=5)}
    health = {
        "krw_usd": health_of(infos["krw_usd"], date(2026, 3, 6), as_of),
        "kospi": health_of(infos["kospi"], date(2026, 3, 17), as_of),
    }
    alerts, data = make_alerts(rules, {"krw_usd": krw, "kospi": kospi}, as_of, health)
    out = engine.inhibit(alerts, data.health, as_of)
    muted = sorted(a.rule for a in out if a.suppressed)
    assert muted == ["krw_usd_critical", "krw_usd_warning"]
    health_alerts = [a for a in out if a.kind == "data_health" and a.state == FIRING]
    assert [a.labels["series"] for a in health_alerts] == ["krw_usd"]
    assert health_alerts[0].annotations["mutes"] == "krw_usd_critical, krw_usd_warning"
    assert "is 11 days old (limit 5 days)" in health_alerts[0].summary
    assert not next(a for a in out if a.rule == "kospi_low").suppressed
    # What a receiver hears: the data-health alert and the KOSPI alert, never the muted KRW ones.
    heard = engine.dedup(out, {}, as_of, 7)
    assert sorted(a.display_id for a in heard) == ["inputs_stale{series=krw_usd}", "kospi_low"]


def test_without_a_data_health_rule_inhibit_still_says_why_once():
    krw = series([1460, 1470], start="2026-03-02")
    rules = [level("a", 1450), level("b", 1400), level("c", 1300)]
    as_of = date(2026, 3, 20)
    health = {"krw_usd": SeriesHealth("krw_usd", date(2026, 3, 3), stale=True, status="failed", message="HTTP 500")}
    alerts, _ = make_alerts(rules, {"krw_usd": krw}, as_of, health)
    out = engine.inhibit(alerts, health, as_of)
    made = [a for a in out if a.kind == "data_health"]
    assert len(made) == 1 and made[0].annotations["mutes"] == "a, b, c"
    assert "source down (failed: HTTP 500)" in made[0].summary
    assert all(a.suppressed for a in out if a.kind != "data_health")


def test_an_expired_silence_stops_muting():
    alerts, _ = make_alerts([level("krw_usd_warning", 1450)], {"krw_usd": series([1500])}, date(2026, 1, 5))
    silences = [SilenceBlock(matchers={"rule": "krw_usd_warning"}, expires=date(2026, 1, 9), comment="known")]
    assert engine.silence(alerts, silences, date(2026, 1, 9))[0].suppressed == "silenced until 2026-01-09: known"
    assert engine.silence(alerts, silences, date(2026, 1, 10))[0].suppressed == ""
    regex = [SilenceBlock(matchers={"rule": "~krw_.*"}, expires=date(2027, 1, 1))]
    assert engine.silence(alerts, regex, date(2026, 1, 10))[0].suppressed
    other = [SilenceBlock(matchers={"rule": "krw_usd_warning", "severity": "critical"}, expires=date(2027, 1, 1))]
    assert not engine.silence(alerts, other, date(2026, 1, 10))[0].suppressed  # every matcher must match


@settings(max_examples=200, deadline=None)
@given(
    repeat=st.integers(0, 10),
    days=st.lists(st.integers(0, 40), min_size=1, max_size=20, unique=True),
)
def test_dedup_respects_repeat_interval(repeat, days):
    """Over a firing episode, a receiver hears it once, then again only after repeat days (0: never again)."""
    alerts, _ = make_alerts([level()], {"krw_usd": series([1500])}, date(2026, 1, 5))
    [alert] = alerts
    sent: dict[str, SentRecord] = {}
    told = []
    for offset in sorted(days):
        today = date(2026, 1, 5) + pd.Timedelta(days=offset)
        if engine.dedup([alert], sent, today, repeat):
            told.append(today)
            sent[alert.fingerprint] = SentRecord(alert.fingerprint, alert.episode, FIRING, today)
    assert told[0] == date(2026, 1, 5) + pd.Timedelta(days=min(days))
    gaps = [(b - a).days for a, b in itertools.pairwise(told)]
    if repeat == 0:
        assert len(told) == 1
    else:
        assert all(g >= repeat for g in gaps)


def test_resolved_is_told_only_to_receivers_that_heard_the_firing():
    values = series([1500, 1400])
    rule = level()
    infos = {"krw_usd": SeriesInfo("krw_usd")}
    data = RuleData(values.index[-1].date(), {"krw_usd": values}, infos)
    [alert] = engine.advance(engine.evaluate([rule], data), {}, data).alerts
    assert alert.state == RESOLVED
    assert alert.annotations["resolved_reason"] == "KRW/USD 1,400, below 1,450 on 2026-01-06"
    assert engine.dedup([alert], {}, data.as_of, 7) == []
    heard = {alert.fingerprint: SentRecord(alert.fingerprint, alert.episode, FIRING, date(2026, 1, 5))}
    assert engine.dedup([alert], heard, data.as_of, 7) == [alert]
    told = {alert.fingerprint: SentRecord(alert.fingerprint, alert.episode, RESOLVED, date(2026, 1, 6))}
    assert engine.dedup([alert], told, data.as_of, 7) == []


def test_group_by_receiver_severities_and_order():
    from monitor.notify.file import FileReceiver

    rules = [level("w", 1450), level("c", 1500, severity="critical"), level("i", 1000, severity="info")]
    alerts, _ = make_alerts(rules, {"krw_usd": series([1510])}, date(2026, 1, 5))
    desk = FileReceiver(name="desk", severities=["warning", "critical"])
    everyone = FileReceiver(name="all", severities=["info", "warning", "critical"])
    groups = engine.group(alerts, [desk, everyone])
    assert [a.rule for a in groups["desk"]] == ["c", "w"]
    assert [a.rule for a in groups["all"]] == ["c", "w", "i"]


def test_labels_identify_an_alert():
    a = level("x", 1, labels={"topic": "fx", "desk": "seoul"})
    b = level("x", 2, labels={"desk": "seoul", "topic": "fx"})
    infos = {"krw_usd": SeriesInfo("krw_usd")}
    data = RuleData(date(2026, 1, 5), {"krw_usd": series([5])}, infos)
    [ea] = a.evaluate(data)
    [eb] = b.evaluate(data)
    assert ea.fingerprint == eb.fingerprint  # same labels in any order, whatever the threshold
    c = level("x", 1, labels={"topic": "rates", "desk": "seoul"})
    assert c.evaluate(data)[0].fingerprint != ea.fingerprint


@pytest.mark.parametrize("bad", [{"rule": "x"}, {"severity": "x"}, {"Topic": "x"}])
def test_reserved_or_malformed_labels_are_rejected(bad):
    with pytest.raises(ValueError):
        level(labels=bad)
