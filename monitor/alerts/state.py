"""Alert state in the store (tables alert_states, alert_events and notifications_sent; DDL in series.store).

Point in time: the state is kept per evaluated day. Day d starts from the state of the last day evaluated before
d (`load_states(store, before=d)`) and `save` writes day d's state only, so evaluating an earlier day after a
later one neither reads nor overwrites the later state, and re-running a day gives the same answer. `save`
writes the states and their transitions in one transaction: a run killed in the middle leaves the previous
state, and the next run steps through the same observations again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import date

from monitor.alerts.engine import AlertState, SentRecord, Transition
from series.store import Store, utcnow


def _d(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _num(x: float | None) -> float:
    return math.nan if x is None else float(x)


def _sql_num(x: float) -> float | None:
    return None if math.isnan(x) else x


def load_states(store: Store, *, before: date) -> dict[str, AlertState]:
    """Each alert's state as of the last day evaluated before `before` (never a later day's)."""
    out = {}
    for r in store.connection.execute(
        """SELECT s.* FROM alert_states s JOIN (
               SELECT fingerprint, MAX(as_of) AS as_of FROM alert_states WHERE as_of < ? GROUP BY fingerprint
           ) latest USING (fingerprint, as_of)""",
        (before.isoformat(),),
    ):
        out[r["fingerprint"]] = AlertState(
            fingerprint=r["fingerprint"],
            rule=r["rule"],
            labels=json.loads(r["labels"]),
            state=r["state"],
            active_since=_d(r["active_since"]),
            firing_since=_d(r["firing_since"]),
            cleared_since=_d(r["cleared_since"]),
            resolved_at=_d(r["resolved_at"]),
            pending=int(r["pending"]),
            clear=int(r["clear"]),
            last_obs=_d(r["last_obs"]),
            value=_num(r["value"]),
            threshold=_num(r["threshold"]),
        )
    return out


def save(store: Store, states: Iterable[AlertState], transitions: Iterable[Transition], as_of: date) -> None:
    """Day `as_of`'s states (replacing a re-run's) and the transitions not recorded yet (a re-run, or an earlier
    day evaluated after a later one, steps through observations whose transitions are already recorded)."""
    now = utcnow()
    with store.transaction() as c:
        c.executemany(
            """INSERT INTO alert_states(fingerprint, as_of, rule, labels, state, active_since, firing_since,
                   cleared_since, resolved_at, pending, clear, last_obs, value, threshold, updated)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
               ON CONFLICT(fingerprint, as_of) DO UPDATE SET rule=excluded.rule, labels=excluded.labels,
                   state=excluded.state, active_since=excluded.active_since, firing_since=excluded.firing_since,
                   cleared_since=excluded.cleared_since, resolved_at=excluded.resolved_at,
                   pending=excluded.pending, clear=excluded.clear, last_obs=excluded.last_obs,
                   value=excluded.value, threshold=excluded.threshold, updated=excluded.updated""",
            [
                (
                    s.fingerprint,
                    as_of.isoformat(),
                    s.rule,
                    json.dumps(s.labels, sort_keys=True),
                    s.state,
                    _iso(s.active_since),
                    _iso(s.firing_since),
                    _iso(s.cleared_since),
                    _iso(s.resolved_at),
                    s.pending,
                    s.clear,
                    _iso(s.last_obs),
                    _sql_num(s.value),
                    _sql_num(s.threshold),
                    now,
                )
                for s in states
            ],
        )
        c.executemany(
            "INSERT INTO alert_events(fingerprint, rule, obs_date, as_of, from_state, to_state, value, threshold) "
            "SELECT ?,?,?,?,?,?,?,? WHERE NOT EXISTS (SELECT 1 FROM alert_events "
            "WHERE fingerprint=?1 AND obs_date=?3 AND from_state=?5 AND to_state=?6)",
            [
                (
                    t.fingerprint,
                    t.rule,
                    t.obs_date.isoformat(),
                    as_of.isoformat(),
                    t.from_state,
                    t.to_state,
                    _sql_num(t.value),
                    _sql_num(t.threshold),
                )
                for t in transitions
            ],
        )


def events(store: Store, fingerprint: str | None = None) -> list[dict[str, object]]:
    """State changes in observation order (the report's alert timeline)."""
    sql = "SELECT * FROM alert_events"
    args: tuple[str, ...] = ()
    if fingerprint:
        sql, args = sql + " WHERE fingerprint=?", (fingerprint,)
    return [dict(r) for r in store.connection.execute(sql + " ORDER BY obs_date, id", args)]


def sent_records(store: Store, receiver: str, *, as_of: date) -> Mapping[str, SentRecord]:
    """The last notice `receiver` was sent about each alert for a day up to `as_of` (by as-of date, then enqueue
    order): a notice about a later day does not tell the receiver about an earlier one."""
    out: dict[str, SentRecord] = {}
    for r in store.connection.execute(
        "SELECT fingerprint, episode, state, as_of FROM notifications_sent WHERE receiver=? AND as_of<=? "
        "ORDER BY as_of, outbox_id",
        (receiver, as_of.isoformat()),
    ):
        out[r["fingerprint"]] = SentRecord(r["fingerprint"], r["episode"], r["state"], date.fromisoformat(r["as_of"]))
    return out
