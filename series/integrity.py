"""The store's point-in-time invariant, checked and repaired (`monitor store check | repair`).

The invariant (series/fetch.py writes by it): a stored row is never dated on or before a day the store already
knew its series on, i.e. before the fetch that wrote it, except where something says when it was published:
the source (ALFRED vintages), or the release lag, for the first fetch of a series (its history) and for dates
published since the store's last fetch of it. "Knew on" is the as-of date of each earlier successful fetch and
the realtime_start of each earlier row.

Earlier versions broke it in one way: a run for a day before the store's last fetch (`monitor run --as-of
03-31`, then `monitor backfill` of 03-27) dated what it fetched on its own as-of, so `as_of(03-27)` returned
values first fetched on 03-31. The repair rewrites each such row as the current code would have written it:
deleted when its fetch was for a day before the store's last fetch (today that run reads the store and
fetches nothing), else re-dated (a revision: its fetch's day; a new date: the day after the last fetch).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby
from pathlib import Path

from series.store import Store, utcnow

DELETE = "delete"


@dataclass(frozen=True)
class Violation:
    """A row dated before the store could have known it, and what the repair does with it."""

    row_id: int
    series_id: str
    obs_date: str
    value: float
    realtime_start: date
    fetched_as_of: date  # the as-of date of the run whose fetch wrote the row
    known_through: date  # the latest day the store knew the series on before that fetch
    fix: str  # DELETE, or the ISO date the row is re-dated to

    def text(self) -> str:
        action = "delete it" if self.fix == DELETE else f"date it {self.fix}"
        return (
            f"{self.series_id} {self.obs_date} = {self.value:g}: dated {self.realtime_start} by a fetch as of "
            f"{self.fetched_as_of}, but the store knew the series through {self.known_through} ({action})"
        )


def find_violations(store: Store, dated_by_source: Callable[[str, str], bool]) -> list[Violation]:
    """Every row that breaks the invariant. `dated_by_source(series_id, source)`: that source gives each row's
    publication date itself (such rows are exempt)."""
    conn = store.connection
    moments = {
        int(r[0]): date.fromisoformat(r[1])
        for r in conn.execute("SELECT f.id, r.as_of FROM fetches f JOIN runs r ON r.id = f.run_id WHERE f.status='ok'")
    }
    fetches: dict[str, list[tuple[int, str]]] = {}
    for fid, sid, source in conn.execute("SELECT id, series_id, source FROM fetches WHERE status='ok' ORDER BY id"):
        fetches.setdefault(sid, []).append((int(fid), source))
    rows = conn.execute(
        "SELECT id, series_id, date, value, realtime_start, fetch_id FROM observations ORDER BY series_id, id"
    )
    out: list[Violation] = []
    for sid, series_rows in groupby(rows, key=lambda r: r[1]):
        out += _series_violations(sid, series_rows, fetches.get(sid, []), moments, dated_by_source)
    return out


def _series_violations(
    series_id: str,
    rows: Iterable[tuple[int, str, str, float, str, int | None]],
    fetches: list[tuple[int, str]],
    moments: dict[int, date],
    dated_by_source: Callable[[str, str], bool],
) -> list[Violation]:
    """Walk one series' rows in the order they were written, one fetch (or one appended row) at a time."""
    out: list[Violation] = []
    known: date | None = None  # the latest day the store knew the series on, before the current fetch
    seen: set[str] = set()  # dates stored before the current fetch
    done = 0  # fetches of this series already folded into `known`
    sources = dict(fetches)
    for fetch_id, group in groupby(rows, key=lambda r: r[5] if r[5] is not None else -r[0]):
        batch = list(group)
        # Every earlier successful fetch counts, including those that stored nothing new.
        while done < len(fetches) and fetches[done][0] < fetch_id:
            moment = moments.get(fetches[done][0])
            known = moment if known is None or (moment is not None and moment > known) else known
            done += 1
        moment = moments.get(fetch_id) if fetch_id > 0 else None
        exempt = fetch_id < 0 or moment is None or dated_by_source(series_id, sources.get(fetch_id, ""))
        if known is not None and moment is not None and not exempt:
            # A fetch for a day before the store's last one should have stored nothing; a later one nothing dated
            # on or before that day (a same-day re-run: on it).
            floor = min(known + timedelta(days=1), moment)
            for row_id, _, day, value, rt_text, _ in batch:
                rt = date.fromisoformat(rt_text)
                if moment >= known and rt >= floor:
                    continue
                fix = DELETE if moment < known else (moment if day in seen else floor).isoformat()
                out.append(Violation(row_id, series_id, day, float(value), rt, moment, known, fix))
        for _, _, day, _, rt_text, _ in batch:
            seen.add(day)
            rt = date.fromisoformat(rt_text)
            known = rt if known is None or rt > known else known
    return out


def repair(store: Store, violations: list[Violation], backup_dir: Path | None = None) -> Path:
    """Back the store up, then delete or re-date the rows, in one transaction. Returns the backup's path."""
    stamp = utcnow().replace(":", "").replace("-", "")
    backup = (backup_dir or store.path.parent) / f"{store.path.name}.before-repair-{stamp}"
    store.backup(backup)
    with store.transaction() as c:
        c.executemany("DELETE FROM observations WHERE id=?", [(v.row_id,) for v in violations if v.fix == DELETE])
        c.executemany(
            "UPDATE observations SET realtime_start=? WHERE id=?",
            [(v.fix, v.row_id) for v in violations if v.fix != DELETE],
        )
    return backup
