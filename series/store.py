"""The SQLite store: observations with vintages, the raw payload archive, fetches, runs and the writer lock.

Invariants:
- observations are append-only. A row is (series, date, value, realtime_start = first known). Appending a value
  equal to the one in effect at that realtime_start adds nothing; a different value adds a new vintage row.
- one fetch (its payloads, its fetch row and its observations) is written in one transaction, so a writer killed
  mid-write leaves either the whole fetch or none of it.
- `as_of(d)` never returns a row first known after `d`.
- one writer at a time: writers hold an exclusive lock on `<store>.lock` (`series.lockfile`: flock, or
  msvcrt.locking on Windows); the OS drops it if the writer dies, so a SIGKILL never leaves the store locked.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import math
import os
import socket
import sqlite3
import sys
import zlib
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from series.dates import DateLike, as_date
from series.errors import StoreError, StoreLocked, StoreWriteError
from series.lockfile import LOCK, open_lock_file, read_note, write_note

# Forward migrations: index i upgrades schema version i to i + 1. Never edit a released step; append a new one.
MIGRATIONS: list[str] = [
    # 1: runs, the raw payload archive, fetches and observations
    """
    CREATE TABLE runs(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        as_of TEXT NOT NULL,
        started TEXT NOT NULL,
        finished TEXT,
        status TEXT NOT NULL,
        command TEXT NOT NULL DEFAULT '',
        outcomes TEXT NOT NULL DEFAULT '{}',
        summary TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE payloads(
        hash TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        codec TEXT NOT NULL,
        body BLOB NOT NULL
    );
    CREATE TABLE fetches(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id INTEGER REFERENCES runs(id),
        series_id TEXT NOT NULL,
        source TEXT NOT NULL,
        key TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        status TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT '',
        n_obs INTEGER NOT NULL DEFAULT 0,
        n_added INTEGER NOT NULL DEFAULT 0,
        n_revised INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX fetches_series ON fetches(series_id, fetched_at);
    CREATE TABLE fetch_payloads(
        fetch_id INTEGER NOT NULL REFERENCES fetches(id),
        seq INTEGER NOT NULL,
        payload_hash TEXT NOT NULL REFERENCES payloads(hash),
        url TEXT NOT NULL,
        replay_name TEXT NOT NULL,
        PRIMARY KEY(fetch_id, seq)
    );
    CREATE TABLE observations(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        series_id TEXT NOT NULL,
        date TEXT NOT NULL,
        value REAL NOT NULL,
        realtime_start TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        source TEXT NOT NULL,
        run_id INTEGER,
        fetch_id INTEGER REFERENCES fetches(id)
    );
    CREATE INDEX observations_key ON observations(series_id, date, realtime_start, id);
    """,
    # 2: model results (monitor.models.results), one compressed JSON body per (model, as_of)
    """
    CREATE TABLE model_results(
        model TEXT NOT NULL,
        as_of TEXT NOT NULL,
        run_id INTEGER,
        created_at TEXT NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY(model, as_of)
    );
    """,
    # 3: alert state (monitor/alerts/state.py) and the notification outbox (monitor/notify/outbox.py)
    """
    CREATE TABLE alert_state(
        fingerprint TEXT PRIMARY KEY,
        rule TEXT NOT NULL,
        labels TEXT NOT NULL,
        state TEXT NOT NULL,
        active_since TEXT,
        firing_since TEXT,
        cleared_since TEXT,
        resolved_at TEXT,
        pending INTEGER NOT NULL DEFAULT 0,
        clear INTEGER NOT NULL DEFAULT 0,
        last_obs TEXT,
        value REAL,
        threshold REAL,
        updated TEXT NOT NULL
    );
    CREATE TABLE alert_events(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        fingerprint TEXT NOT NULL,
        rule TEXT NOT NULL,
        obs_date TEXT NOT NULL,
        as_of TEXT NOT NULL,
        from_state TEXT NOT NULL,
        to_state TEXT NOT NULL,
        value REAL,
        threshold REAL
    );
    CREATE INDEX alert_events_key ON alert_events(fingerprint, obs_date);
    CREATE TABLE outbox(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        receiver TEXT NOT NULL,
        as_of TEXT NOT NULL,
        subject TEXT NOT NULL,
        message BLOB NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        sent TEXT
    );
    CREATE INDEX outbox_status ON outbox(status, id);
    CREATE TABLE notifications_sent(
        receiver TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        episode TEXT NOT NULL,
        state TEXT NOT NULL,
        as_of TEXT NOT NULL,
        outbox_id INTEGER NOT NULL REFERENCES outbox(id),
        PRIMARY KEY(receiver, fingerprint, episode, state, as_of)
    );
    """,
    # 4: delivery per recipient (monitor/notify/outbox.py): which of a message's recipients the server accepted,
    # which it refused for now (still owed the message) and which for good (never retried)
    """
    CREATE TABLE outbox_recipients(
        outbox_id INTEGER NOT NULL REFERENCES outbox(id),
        address TEXT NOT NULL,
        status TEXT NOT NULL,
        code INTEGER,
        reply TEXT NOT NULL DEFAULT '',
        updated TEXT NOT NULL,
        PRIMARY KEY(outbox_id, address)
    );
    """,
    # 5: alert state per evaluated day (point in time: day d starts from the state of the last day before d). The
    # v3 rows become the state of the day the last finished run evaluated; `alert_state` is now a view of each
    # alert's latest day.
    """
    CREATE TABLE alert_states(
        fingerprint TEXT NOT NULL,
        as_of TEXT NOT NULL,
        rule TEXT NOT NULL,
        labels TEXT NOT NULL,
        state TEXT NOT NULL,
        active_since TEXT,
        firing_since TEXT,
        cleared_since TEXT,
        resolved_at TEXT,
        pending INTEGER NOT NULL DEFAULT 0,
        clear INTEGER NOT NULL DEFAULT 0,
        last_obs TEXT,
        value REAL,
        threshold REAL,
        updated TEXT NOT NULL,
        PRIMARY KEY(fingerprint, as_of)
    );
    INSERT INTO alert_states SELECT fingerprint,
        COALESCE((SELECT as_of FROM runs WHERE kind IN ('run', 'backfill') AND status IN ('ok', 'errors')
                  ORDER BY id DESC LIMIT 1), last_obs, substr(updated, 1, 10)),
        rule, labels, state, active_since, firing_since, cleared_since, resolved_at, pending, clear, last_obs, value,
        threshold, updated FROM alert_state;
    DROP TABLE alert_state;
    CREATE VIEW alert_state AS SELECT s.* FROM alert_states s
        WHERE s.as_of = (SELECT MAX(t.as_of) FROM alert_states t WHERE t.fingerprint = s.fingerprint);
    """,
    # 6: the outbox stores the notification itself (monitor/notify/message.py, JSON), which every notifier kind
    # renders; rows stored before are MIME e-mail and are delivered as such
    """
    ALTER TABLE outbox ADD COLUMN format TEXT NOT NULL DEFAULT 'mime';
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
# Stamped in the SQLite header (PRAGMA application_id, "KRMn") so that a store can be told from another program's
# SQLite file; stores made before the stamp are known by their tables.
APPLICATION_ID = 0x4B524D6E
OWN_TABLES = frozenset({"runs", "fetches", "observations"})
# Series reads kept in memory (about 100 kB each for a daily series since 2000): every series of a daily run at
# the run's date and the day before, several times over.
SERIES_KEPT = 256


def utcnow() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso(d: DateLike) -> str:
    return as_date(d, "as_of").isoformat()


def same_value(a: float, b: float) -> bool:
    # Sources print the same number with different trailing digits (1187.7100 vs 1187.71): compare as numbers.
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


@dataclass(frozen=True)
class AppendResult:
    added: int = 0  # observations for dates not stored before
    revised: int = 0  # new vintages of stored dates
    unchanged: int = 0

    @property
    def rows(self) -> int:
        return self.added + self.revised


@dataclass(frozen=True)
class Payload:
    """One raw response body as served, with where it came from (URL already redacted)."""

    body: bytes
    url: str
    replay_name: str


@dataclass(frozen=True)
class SeriesSummary:
    series_id: str
    n_obs: int
    first: date | None
    last: date | None
    last_value: float | None
    last_fetched: str | None
    source: str | None


class Store:
    """Open with `Store.open(path)` to read or `Store.open(path, writer="monitor run")` to write."""

    def __init__(self, path: Path, conn: sqlite3.Connection, lock_fd: int | None) -> None:
        self.path = path
        self._conn = conn
        self._lock_fd = lock_fd
        # The series read (`as_of`, `latest`), kept while no observation changes: a daily run reads each one in
        # the models, the rules, the e-mail and the report. Forgotten by a trigger on every write to the
        # observations through this connection, on a rolled-back transaction, and when another connection has
        # committed (PRAGMA data_version); bounded, so a backtest over many dates does not hold them all.
        self._series: OrderedDict[tuple[str, str | None], pd.Series] = OrderedDict()
        self._series_version = -1

    # -- opening, locking, migrations --------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, *, writer: str | None = None) -> Store:
        """Open the store. With `writer` (a description such as "monitor run"), take the single-writer lock
        first (raises StoreLocked naming the holder) and create the store if it does not exist.

        Every failure is a StoreError with one line: exit 2 for what the user must set right (a folder or file
        this user cannot write, a damaged file, an SQLite file of another program, which is refused and left as
        it is), exit 1 for a machine that failed (disk full, I/O error), exit 3 for the lock."""
        path = Path(path)
        lock_fd = None
        if writer is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise _os_error(e, f"cannot create the store folder {path.parent}", path.parent) from None
            lock_fd = _acquire_lock(path, writer)
        elif not path.exists():
            raise StoreError(f"no store at {path} yet: run `monitor fetch` or `monitor run` first")
        try:
            conn = sqlite3.connect(path, timeout=30, isolation_level=None)
            conn.row_factory = sqlite3.Row
            store = cls(path, conn, lock_fd)
            store._verify()
            conn.execute("PRAGMA foreign_keys=ON")
            if writer is not None:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
            store._migrate(can_write=writer is not None)
            store._watch_observations()
        except sqlite3.DatabaseError as e:
            _release_lock(lock_fd)
            raise _open_error(e, path) from None
        except StoreError:
            _release_lock(lock_fd)
            raise
        return store

    def _verify(self) -> None:
        """Refuse, before a single row is read, a file SQLite finds damaged and an SQLite file of another
        program (never adopted: migrating it would write our tables into it).

        quick_check reads every page once (about 0.4 s for a 165 MB store): damage that leaves the pages well
        formed (a changed byte inside a stored number) cannot be told from data by SQLite, so keep backups."""
        problems = [r[0] for r in self._conn.execute("PRAGMA quick_check(3)")]
        if problems != ["ok"]:
            raise StoreError(_damaged(self.path, "; ".join(problems)))
        app_id = int(self._conn.execute("PRAGMA application_id").fetchone()[0])
        tables = {
            r[0]
            for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            if not str(r[0]).startswith("sqlite_")
        }
        if app_id not in (0, APPLICATION_ID) or (tables and not tables >= OWN_TABLES):
            held = ", ".join(sorted(tables)[:5]) + (" ..." if len(tables) > 5 else "")
            raise StoreError(
                f"{self.path} is an SQLite file of another program, not a monitor store (it holds "
                f"{held or 'no tables'}): it was left as it is; set [paths].store to a new file"
            )

    def close(self) -> None:
        self._conn.close()
        _release_lock(self._lock_fd)
        self._lock_fd = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def is_writer(self) -> bool:
        return self._lock_fd is not None

    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self, *, can_write: bool) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.path} has schema v{version}, newer than this monitor knows "
                f"(v{SCHEMA_VERSION}): upgrade the monitor"
            )
        if version == SCHEMA_VERSION:
            return
        if not can_write:
            raise StoreError(
                f"store {self.path} has schema v{version} and needs v{SCHEMA_VERSION}: run any "
                "writing command (monitor fetch) once to upgrade it"
            )
        for step in range(version, SCHEMA_VERSION):
            with self._transaction() as c:
                c.executescript_in_tx(MIGRATIONS[step])
                c.execute(f"PRAGMA user_version={step + 1}")
                c.execute(f"PRAGMA application_id={APPLICATION_ID}")

    def _watch_observations(self) -> None:
        """TEMP triggers (this connection only, nothing stored) that forget the series read whenever a row of
        the observations is inserted, changed or deleted, whichever module writes it."""
        self._conn.create_function("monitor_observations_written", 0, self._forget_series)
        for op in ("INSERT", "UPDATE", "DELETE"):
            self._conn.execute(
                f"CREATE TEMP TRIGGER IF NOT EXISTS observations_{op.lower()}_forgets_series AFTER {op} ON "
                "main.observations BEGIN SELECT monitor_observations_written(); END"
            )

    def _forget_series(self) -> None:
        self._series.clear()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[_Tx]:
        self._require_writer()
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _Tx(self._conn)
            except BaseException:
                self._forget_series()  # a series read inside the transaction may hold rows rolled back now
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        except sqlite3.OperationalError as e:
            # Disk full, I/O error, read-only file: the transaction is rolled back, nothing partial remains.
            self._forget_series()
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
            raise StoreWriteError(
                f"cannot write the store {self.path}: {e} (nothing from this step was stored)"
            ) from None
        except sqlite3.DatabaseError as e:  # damage found while writing (quick_check passed at open)
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
            raise _open_error(e, self.path) from None

    def _require_writer(self) -> None:
        if self._lock_fd is None:
            raise StoreError("the store was opened read-only; writers open it with Store.open(path, writer=...)")

    # -- runs ----------------------------------------------------------------------------------------------
    def begin_run(self, kind: str, as_of: DateLike, command: str = "") -> int:
        with self._transaction() as c:
            cur = c.execute(
                "INSERT INTO runs(kind, as_of, started, status, command) VALUES (?, ?, ?, 'running', ?)",
                (kind, _iso(as_of), utcnow(), command),
            )
            return int(cur.lastrowid or 0)

    def finish_run(
        self, run_id: int, status: str, outcomes: dict[str, Any] | None = None, summary: dict[str, Any] | None = None
    ) -> None:
        with self._transaction() as c:
            c.execute(
                "UPDATE runs SET finished=?, status=?, outcomes=?, summary=? WHERE id=?",
                (
                    utcnow(),
                    status,
                    json.dumps(outcomes or {}, sort_keys=True),
                    json.dumps(summary or {}, sort_keys=True, default=str),
                    run_id,
                ),
            )

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self._conn.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [_run_dict(r) for r in rows]

    def run(self, run_id: int) -> dict[str, Any] | None:
        row = self._conn.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        return _run_dict(row) if row else None

    # -- fetches: payloads + fetch row + observations in one transaction -----------------------------------
    def save_fetch(
        self,
        *,
        series_id: str,
        source: str,
        key: str,
        payloads: Sequence[Payload] = (),
        observations: pd.DataFrame | None = None,
        status: str = "ok",
        message: str = "",
        run_id: int | None = None,
        fetched_at: str | None = None,
    ) -> AppendResult:
        """Archive the raw payloads, record the fetch and append its observations, all or nothing.

        `observations` has columns date, value, realtime_start (no NaN values; one row per date and
        realtime_start, so several vintages of a date may come in one batch)."""
        fetched_at = fetched_at or utcnow()
        rows = _observation_rows(observations) if observations is not None else []
        with self._transaction() as c:
            cur = c.execute(
                "INSERT INTO fetches(run_id, series_id, source, key, fetched_at, status, message, n_obs) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, series_id, source, key, fetched_at, status, message, len(rows)),
            )
            fetch_id = int(cur.lastrowid or 0)
            for seq, p in enumerate(payloads):
                digest = hashlib.sha256(p.body).hexdigest()
                # A payload archived before (the same response served again) is not compressed again.
                if c.execute("SELECT 1 FROM payloads WHERE hash=?", (digest,)).fetchone() is None:
                    c.execute(
                        "INSERT INTO payloads(hash, size, codec, body) VALUES (?, ?, 'zlib', ?)",
                        (digest, len(p.body), zlib.compress(p.body, 6)),
                    )
                c.execute(
                    "INSERT INTO fetch_payloads(fetch_id, seq, payload_hash, url, replay_name) VALUES (?,?,?,?,?)",
                    (fetch_id, seq, digest, p.url, p.replay_name),
                )
            result = self._append_rows(
                c, series_id, rows, source=source, fetched_at=fetched_at, run_id=run_id, fetch_id=fetch_id
            )
            c.execute("UPDATE fetches SET n_added=?, n_revised=? WHERE id=?", (result.added, result.revised, fetch_id))
        return result

    def append(
        self,
        series_id: str,
        observations: pd.DataFrame,
        *,
        source: str,
        run_id: int | None = None,
        fetched_at: str | None = None,
    ) -> AppendResult:
        """Append observations without a fetch record (imports, tests)."""
        rows = _observation_rows(observations)
        with self._transaction() as c:
            return self._append_rows(
                c, series_id, rows, source=source, fetched_at=fetched_at or utcnow(), run_id=run_id, fetch_id=None
            )

    def _append_rows(
        self,
        c: _Tx,
        series_id: str,
        rows: list[tuple[str, float, str]],
        *,
        source: str,
        fetched_at: str,
        run_id: int | None,
        fetch_id: int | None,
    ) -> AppendResult:
        if not rows:
            return AppendResult()
        stored = c.execute(
            "SELECT date, realtime_start, value FROM observations WHERE series_id=? ORDER BY date, realtime_start, id",
            (series_id,),
        ).fetchall()
        dates, values, rts = (list(col) for col in zip(*rows, strict=True))
        keep, known = _new_vintages(stored, dates, np.asarray(values, dtype=float), rts)
        added = int((keep & ~known).sum())
        revised = int((keep & known).sum())
        unchanged = len(rows) - added - revised
        inserts = [
            (series_id, dates[i], values[i], rts[i], fetched_at, source, run_id, fetch_id) for i in np.flatnonzero(keep)
        ]
        c.executemany(
            "INSERT INTO observations(series_id, date, value, realtime_start, fetched_at, source, run_id, fetch_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            inserts,
        )
        return AppendResult(added, revised, unchanged)

    # -- reads -----------------------------------------------------------------------------------------------
    def latest(self, series_id: str) -> pd.Series:
        """The latest known value for every date."""
        return self._values(series_id, None)

    def as_of(self, series_id: str, when: DateLike) -> pd.Series:
        """The values as they were known on `when`: never a row first known after it."""
        return self._values(series_id, _iso(when))

    def _values(self, series_id: str, as_of: str | None) -> pd.Series:
        version = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        if version != self._series_version:  # another connection committed: what was read may be out of date
            self._series.clear()
            self._series_version = version
        key = (series_id, as_of)
        if key in self._series:
            self._series.move_to_end(key)
        else:
            self._series[key] = self._read_values(series_id, as_of)
            if len(self._series) > SERIES_KEPT:
                self._series.popitem(last=False)
        return self._series[key].copy()  # a caller may change its copy; the kept one stays as read

    def _read_values(self, series_id: str, as_of: str | None) -> pd.Series:
        where, args = ("AND realtime_start <= ?", (series_id, as_of)) if as_of else ("", (series_id,))
        # Every row known by then in the index's order; the value in effect on a date is its last row (newest
        # vintage, then latest written), picked here: half the time of a ROW_NUMBER() window in SQLite.
        cursor = self._conn.execute(
            f"SELECT date, value FROM observations WHERE series_id=? {where} ORDER BY date, realtime_start, id", args
        )
        cursor.row_factory = None  # plain tuples
        rows = cursor.fetchall()
        dates = np.array([r[0] for r in rows], dtype=str)
        last = np.ones(len(dates), dtype=bool)
        last[:-1] = dates[1:] != dates[:-1]
        index = pd.DatetimeIndex(pd.to_datetime(dates[last].tolist()), name="date").as_unit("ns")
        values = np.array([r[1] for r in rows], dtype="float64")[last]
        return pd.Series(values, index=index, name=series_id, dtype="float64")

    def vintages(self, series_id: str) -> pd.DataFrame:
        """Every stored row of a series: date, value, realtime_start, fetched_at, source, run_id."""
        frame = pd.read_sql_query(
            "SELECT date, value, realtime_start, fetched_at, source, run_id FROM observations "
            "WHERE series_id=? ORDER BY date, realtime_start, id",
            self._conn,
            params=(series_id,),
        )
        for col in ("date", "realtime_start"):
            frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
        return frame

    def first_known(self, series_id: str, as_of: DateLike) -> pd.Series:
        """Observation date -> the day it was first known (its earliest realtime_start), for the dates known on
        `as_of`: how the series' knowledge grew, day by day (series.freshness.known_ages reads it)."""
        rows = self._conn.execute(
            "SELECT date, MIN(realtime_start) FROM observations WHERE series_id=? AND realtime_start <= ? "
            "GROUP BY date ORDER BY date",
            (series_id, _iso(as_of)),
        ).fetchall()
        return pd.Series(
            pd.to_datetime([r[1] for r in rows]), index=pd.to_datetime([r[0] for r in rows]), dtype="datetime64[ns]"
        )

    def known_through(self, series_id: str) -> date | None:
        """The latest day the store knew this series on: its newest realtime_start, or the as-of date of the latest
        run that fetched it successfully, whichever is later (None: never fetched nor stored). Rows appended later
        must not be dated on or before it, or `as_of()` answers already given would change."""
        row = self._conn.execute(
            """SELECT MAX(m) FROM (
                   SELECT MAX(realtime_start) AS m FROM observations WHERE series_id=?
                   UNION ALL
                   SELECT MAX(r.as_of) FROM fetches f JOIN runs r ON r.id = f.run_id
                   WHERE f.series_id=? AND f.status='ok')""",
            (series_id, series_id),
        ).fetchone()
        return date.fromisoformat(row[0]) if row and row[0] else None

    def last_date(self, series_id: str) -> date | None:
        row = self._conn.execute("SELECT MAX(date) FROM observations WHERE series_id=?", (series_id,)).fetchone()
        return date.fromisoformat(row[0]) if row and row[0] else None

    def count(self, series_id: str | None = None) -> int:
        if series_id is None:
            return int(self._conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0])
        return int(
            self._conn.execute("SELECT COUNT(*) FROM observations WHERE series_id=?", (series_id,)).fetchone()[0]
        )

    def summaries(self, as_of: DateLike | None = None) -> dict[str, SeriesSummary]:
        """Per series: counts, range, last value, last fetch and source, of every row or (`as_of`) of the rows
        known on that day."""
        known = _iso(as_of) if as_of is not None else "9999-12-31"
        out: dict[str, SeriesSummary] = {}
        for r in self._conn.execute(
            """SELECT series_id, COUNT(DISTINCT date) AS n, MIN(date) AS first, MAX(date) AS last,
                      MAX(fetched_at) AS fetched FROM observations WHERE realtime_start <= ? GROUP BY series_id""",
            (known,),
        ):
            sid = r["series_id"]
            last_row = self._conn.execute(
                "SELECT value, source FROM observations WHERE series_id=? AND date=? AND realtime_start <= ? "
                "ORDER BY realtime_start DESC, id DESC LIMIT 1",
                (sid, r["last"], known),
            ).fetchone()
            out[sid] = SeriesSummary(
                sid,
                int(r["n"]),
                date.fromisoformat(r["first"]),
                date.fromisoformat(r["last"]),
                float(last_row["value"]),
                r["fetched"],
                last_row["source"],
            )
        return out

    def fetches(self, series_id: str | None = None, run_id: int | None = None) -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM fetches WHERE 1=1", list[Any]()
        if series_id is not None:
            sql, args = sql + " AND series_id=?", [*args, series_id]
        if run_id is not None:
            sql, args = sql + " AND run_id=?", [*args, run_id]
        return [dict(r) for r in self._conn.execute(sql + " ORDER BY id", args)]

    def payload(self, digest: str) -> bytes:
        row = self._conn.execute("SELECT codec, body FROM payloads WHERE hash=?", (digest,)).fetchone()
        if row is None:
            raise StoreError(f"no payload {digest} in the archive")
        return zlib.decompress(row["body"])

    def fetch_payloads(self, fetch_id: int) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self._conn.execute(
                "SELECT seq, payload_hash, url, replay_name FROM fetch_payloads WHERE fetch_id=? ORDER BY seq",
                (fetch_id,),
            )
        ]

    def export_replay(self, run_id: int, directory: Path) -> list[Path]:
        """Write every raw body a run fetched as a replay directory, so the run can be replayed exactly."""
        written = []
        for f in self.fetches(run_id=run_id):
            for p in self.fetch_payloads(int(f["id"])):
                path = Path(directory) / p["replay_name"]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(self.payload(p["payload_hash"]))
                written.append(path)
        return written

    def backup(self, target: Path) -> None:
        """A consistent copy of the whole store at `target` (SQLite's online backup)."""
        copy = sqlite3.connect(target)
        try:
            self._conn.backup(copy)
        finally:
            copy.close()

    @property
    def connection(self) -> sqlite3.Connection:
        """For the store's sibling modules (alert state, outbox, model results) that add their own tables."""
        return self._conn

    def transaction(self) -> contextlib.AbstractContextManager[_Tx]:
        """A write transaction for sibling modules: all or nothing, disk errors become StoreError."""
        return self._transaction()


class _Tx:
    """The connection inside BEGIN IMMEDIATE ... COMMIT (executescript would commit early, so split it)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, args)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> sqlite3.Cursor:
        return self._conn.executemany(sql, rows)

    def executescript_in_tx(self, script: str) -> None:
        for statement in script.split(";"):
            if statement.strip():
                self._conn.execute(statement)


def _observation_rows(frame: pd.DataFrame) -> list[tuple[str, float, str]]:
    missing = {"date", "value", "realtime_start"} - set(frame.columns)
    if missing:
        raise ValueError(f"observations need columns date, value, realtime_start; missing {sorted(missing)}")
    if frame["value"].isna().any():
        raise ValueError("observations contain NaN values; drop missing values before storing")
    if not np.isfinite(frame["value"].astype(float)).all():
        raise ValueError("observations contain infinite values; validation quarantines them before storing")
    days = pd.to_datetime(frame["date"]).to_numpy(dtype="datetime64[D]")
    rt_days = pd.to_datetime(frame["realtime_start"]).to_numpy(dtype="datetime64[D]")
    # Several vintages of one date (ALFRED) are applied oldest first: sort by (date, realtime_start), stable.
    order = np.lexsort((rt_days, days))
    keys = _keys(days[order], rt_days[order])
    if (keys[1:] == keys[:-1]).any():
        raise ValueError("observations have duplicate (date, realtime_start) pairs; validate before storing")
    dates = np.datetime_as_string(days[order], unit="D").tolist()
    rts = np.datetime_as_string(rt_days[order], unit="D").tolist()
    return list(zip(dates, frame["value"].to_numpy(dtype=float)[order].tolist(), rts, strict=True))


def _keys(days: np.ndarray, rt_days: np.ndarray) -> np.ndarray:
    """One int64 per (date, realtime_start) that sorts as the pair does (day numbers fit easily in 31 bits)."""
    return (days.astype(np.int64) << 32) + rt_days.astype(np.int64)


def _new_vintages(
    stored: Sequence[tuple[str, str, float]], dates: list[str], values: np.ndarray, rts: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Which of the new rows (sorted by date, realtime_start) to insert, and whether their date was known before.

    A row is kept unless the vintage in effect at its realtime_start (the last stored one at or before it) has the
    same value. Dates with one new row (the daily case) are decided at once with a sorted search over the stored
    keys; dates with several new vintages in the batch go row by row, as each sees the ones inserted before it."""
    new_days = np.array(dates, dtype="datetime64[D]")
    new_keys = _keys(new_days, np.array(rts, dtype="datetime64[D]"))
    if stored:
        s_dates, s_rts, s_values = zip(*stored, strict=True)
        s_keys = _keys(np.array(s_dates, dtype="datetime64[D]"), np.array(s_rts, dtype="datetime64[D]"))
        s_vals = np.asarray(s_values, dtype=float)
    else:
        s_keys, s_vals = np.empty(0, dtype=np.int64), np.empty(0)
    s_days = s_keys >> 32
    day = new_keys >> 32
    first = np.searchsorted(s_days, day, side="left")
    known = first < len(s_days)
    known[known] = s_days[first[known]] == day[known]
    prev = np.searchsorted(s_keys, new_keys, side="right") - 1  # the vintage in effect, if of the same date
    in_effect = prev >= first
    keep = np.ones(len(day), dtype=bool)
    keep[in_effect] = ~_same_values(s_vals[prev[in_effect]], values[in_effect])
    repeated = np.zeros(len(day), dtype=bool)
    repeated[1:] = day[1:] == day[:-1]
    repeated[:-1] |= repeated[1:]
    if repeated.any():
        _several_vintages(np.flatnonzero(repeated), s_days, s_keys, s_vals, new_keys, values, keep, known)
    return keep, known


def _several_vintages(
    rows: np.ndarray,
    s_days: np.ndarray,
    s_keys: np.ndarray,
    s_vals: np.ndarray,
    new_keys: np.ndarray,
    values: np.ndarray,
    keep: np.ndarray,
    known: np.ndarray,
) -> None:
    """keep and known for the new rows of dates with several new vintages (in place), one row at a time."""
    history: dict[int, tuple[list[int], list[float]]] = {}
    for i in rows:
        day = int(new_keys[i] >> 32)
        if day not in history:
            lo, hi = np.searchsorted(s_days, [day, day + 1])
            history[day] = (s_keys[lo:hi].tolist(), s_vals[lo:hi].tolist())
        keys, vals = history[day]
        j = bisect_right(keys, int(new_keys[i]))
        known[i] = bool(keys)
        keep[i] = not (j > 0 and same_value(vals[j - 1], float(values[i])))
        if keep[i]:
            keys.insert(j, int(new_keys[i]))
            vals.insert(j, float(values[i]))


def _same_values(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """same_value, elementwise."""
    return np.abs(a - b) <= np.maximum(1e-12 * np.maximum(np.abs(a), np.abs(b)), 1e-12)  # type: ignore[no-any-return]


def _run_dict(row: sqlite3.Row) -> dict[str, Any]:
    d = dict(row)
    d["outcomes"] = json.loads(d["outcomes"])
    d["summary"] = json.loads(d["summary"])
    return d


def _primary_code(error: sqlite3.Error) -> int | None:
    """SQLite's primary result code of an error (its extended code carries detail in the high bits)."""
    code = getattr(error, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _open_error(e: sqlite3.DatabaseError, path: Path) -> StoreError:
    """The one-line error for an SQLite failure while opening (or, for damage, using) the store."""
    code = _primary_code(e)
    if code == sqlite3.SQLITE_NOTADB:
        return StoreError(f"{path} is not a readable monitor store ({e}): move it away or set [paths].store")
    if code == sqlite3.SQLITE_CORRUPT:
        return StoreError(_damaged(path, str(e)))
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH):
        return StoreError(
            f"cannot open the store {path}: {e}: make it, its -wal and -shm files and {path.parent} writable for "
            "this user, or set [paths].store in config.toml"
        )
    # The file may be fine: the disk is not (never advise moving a good store away).
    return StoreWriteError(f"cannot open the store {path}: {e} (check the free space and permissions of {path.parent})")


def _damaged(path: Path, why: str) -> str:
    return (
        f"{path} is damaged ({' '.join(why.split())}): nothing was read from it; restore it from a backup (or move "
        "it away to start a new store, then `monitor backfill`)"
    )


def _os_error(e: OSError, what: str, folder: Path) -> StoreError:
    """A file-system failure around the store: permissions are the user's to fix (exit 2), a full or failing
    disk the machine's (exit 1, rerun once fixed)."""
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StoreError(
            f"{what}: {e.strerror}: make {folder} writable for this user, or set [paths].store in config.toml"
        )
    return StoreWriteError(f"{what}: {e.strerror} (check the free space and permissions of {folder})")


def _acquire_lock(path: Path, writer: str) -> int:
    lock_path = path.with_name(path.name + ".lock")
    try:
        fd = open_lock_file(lock_path)
    except OSError as e:
        raise _os_error(e, f"cannot open the store's lock file {lock_path}", path.parent) from None
    if not LOCK.acquire(fd):
        holder = _read_holder(fd)
        os.close(fd)
        raise StoreLocked(f"store {path} is in use by {holder}; wait for it to finish or stop it") from None
    info = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "writer": writer,
        "since": utcnow(),
        "argv": " ".join(sys.argv[:3]),
    }
    try:
        write_note(fd, json.dumps(info).encode())
    except OSError as e:  # a full disk: the holder's note (a few hundred bytes) does not fit
        _release_lock(fd)
        raise _os_error(e, f"cannot write the store's lock file {lock_path}", path.parent) from None
    return fd


def _read_holder(fd: int) -> str:
    try:
        info = json.loads(read_note(fd) or b"{}")
        return (
            f"{info.get('writer', 'another writer')} (pid {info.get('pid', '?')} on {info.get('host', '?')}, "
            f"since {info.get('since', '?')})"
        )
    except (OSError, ValueError):
        return "another writer"


def _release_lock(fd: int | None) -> None:
    if fd is not None:
        with contextlib.suppress(OSError):
            LOCK.release(fd)
            os.close(fd)
