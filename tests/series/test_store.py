"""The store's invariants: idempotent append, vintages kept, no look-ahead, atomic fetches, one writer."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from series.errors import StoreError, StoreLocked
from series.store import Payload, Store

BASE = date(2020, 1, 1)


def frame(rows: list[tuple[int, float, int]]) -> pd.DataFrame:
    """rows of (day offset, value, realtime offset in days after the date)."""
    return pd.DataFrame(
        {
            "date": [pd.Timestamp(BASE + timedelta(days=d)) for d, _, _ in rows],
            "value": [v for _, v, _ in rows],
            "realtime_start": [pd.Timestamp(BASE + timedelta(days=d + r)) for d, _, r in rows],
        }
    )


values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
batches = st.lists(
    st.tuples(st.integers(0, 60), values, st.integers(0, 30)), min_size=1, max_size=40, unique_by=lambda r: r[0]
)


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "m.sqlite", writer="test") as s:
        yield s


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=batches)
def test_appending_any_batch_twice_changes_nothing(tmp_path_factory, batch):
    with Store.open(tmp_path_factory.mktemp("s") / "m.sqlite", writer="test") as store:
        first = store.append("x", frame(batch), source="t")
        before = store.vintages("x")
        second = store.append("x", frame(batch), source="t")
        assert first.added == len(batch)
        assert second.rows == 0 and second.unchanged == len(batch)
        pd.testing.assert_frame_equal(store.vintages("x"), before)


@settings(max_examples=60, deadline=None)
@given(a=batches, b=batches, probe=st.integers(0, 100))
def test_as_of_never_returns_a_row_first_known_after_the_date(tmp_path_factory, a, b, probe):
    with Store.open(tmp_path_factory.mktemp("s") / "m.sqlite", writer="test") as store:
        store.append("x", frame(a), source="t")
        store.append("x", frame(b), source="t")
        when = BASE + timedelta(days=probe)
        known = store.as_of("x", when)
        vint = store.vintages("x")
        # Independent computation: for each date, the last vintage with realtime_start <= when.
        eligible = vint[vint["realtime_start"] <= pd.Timestamp(when)]
        expected = eligible.groupby("date")["value"].last()
        pd.testing.assert_series_equal(known, expected.rename("x"), check_names=False, check_freq=False)
        firsts = vint.groupby("date")["realtime_start"].min()
        assert (firsts.loc[known.index] <= pd.Timestamp(when)).all()


@settings(max_examples=60, deadline=None)
@given(batch=batches, bump=st.floats(min_value=0.5, max_value=100))
def test_revisions_keep_every_vintage(tmp_path_factory, batch, bump):
    with Store.open(tmp_path_factory.mktemp("s") / "m.sqlite", writer="test") as store:
        store.append("x", frame(batch), source="t")
        late = [(d, v + bump, 200) for d, v, _ in batch]  # every value revised, known 200 days later
        result = store.append("x", frame(late), source="t")
        assert result.revised == len(batch) and result.added == 0
        vint = store.vintages("x")
        assert len(vint) == 2 * len(batch)
        for d, v, r in batch:
            day = pd.Timestamp(BASE + timedelta(days=d))
            assert store.as_of("x", day + pd.Timedelta(days=r)).loc[day] == v
            assert store.as_of("x", day + pd.Timedelta(days=200)).loc[day] == pytest.approx(v + bump)
        assert store.latest("x").tolist() == pytest.approx([v + bump for _, v, _ in sorted(batch)])


def test_a_value_back_to_an_old_vintage_is_a_new_vintage(store):
    store.append("x", frame([(0, 1.0, 0)]), source="t")
    store.append("x", frame([(0, 2.0, 5)]), source="t")
    store.append("x", frame([(0, 1.0, 9)]), source="t")
    assert store.vintages("x")["value"].tolist() == [1.0, 2.0, 1.0]
    assert store.as_of("x", BASE + timedelta(days=6)).iloc[0] == 2.0
    # The same numbers printed differently (1187.7100 vs 1187.71) are not a revision.
    assert store.append("x", frame([(0, 1.0000000000001, 12)]), source="t").rows == 0


def test_save_fetch_archives_payloads_and_links_them_for_replay(store, tmp_path):
    body = b"observation_date,DEXKOUS\n2020-01-01,1156.0\n"
    run = store.begin_run("fetch", BASE)
    store.save_fetch(
        series_id="krw",
        source="fredgraph",
        key="DEXKOUS",
        run_id=run,
        payloads=[Payload(body, "https://fred.stlouisfed.org/graph/fredgraph.csv?id=DEXKOUS", "fredgraph/DEXKOUS.csv")],
        observations=frame([(0, 1156.0, 0)]),
    )
    store.finish_run(run, "ok", {"krw": {"status": "ok"}})
    [fetch] = store.fetches(run_id=run)
    assert fetch["n_obs"] == 1 and fetch["n_added"] == 1
    written = store.export_replay(run, tmp_path / "replay")
    assert [p.read_bytes() for p in written] == [body]
    assert written[0] == tmp_path / "replay" / "fredgraph" / "DEXKOUS.csv"
    raw = store.connection.execute("SELECT size, length(body) FROM payloads").fetchone()
    assert raw[0] == len(body)  # stored compressed, size of the original kept
    assert store.run(run)["outcomes"] == {"krw": {"status": "ok"}}


def test_a_failing_write_stores_nothing_of_that_fetch(store):
    bad = frame([(0, 1.0, 0), (1, 2.0, 0)])
    bad.loc[1, "value"] = float("nan")
    with pytest.raises(ValueError):
        store.save_fetch(series_id="x", source="t", key="k", payloads=[Payload(b"x", "u", "t/k")], observations=bad)
    assert store.count() == 0 and store.fetches() == []


def test_second_writer_is_refused_with_the_holder_named(tmp_path):
    path = tmp_path / "m.sqlite"
    with Store.open(path, writer="monitor run --as-of 2026-03-27"):
        with pytest.raises(StoreLocked) as e:
            Store.open(path, writer="monitor fetch")
        assert "monitor run --as-of 2026-03-27" in str(e.value) and "pid" in str(e.value)
        assert e.value.exit_code == 3
        with Store.open(path) as reader:  # readers are never blocked
            assert reader.count() == 0
    Store.open(path, writer="after").close()  # released on close


def test_not_a_store_and_missing_store_are_clear_errors(tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a readable monitor store"):
        Store.open(junk, writer="t")
    with pytest.raises(StoreError, match="no store at"):
        Store.open(tmp_path / "none.sqlite")


FULL_DISK = """
import os, resource, signal, sys
from series.store import Store
from series.errors import StoreError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), int(sys.argv[2])))
try:
    with Store.open(sys.argv[1], writer="t") as s:
        s.begin_run("run", "2026-03-27")
        s.save_fetch(series_id="x", source="t", key="k", payloads=[Payload(os.urandom(100_000), "u", "t/k")])
except StoreError as e:
    print(type(e).__name__, e.exit_code, e)
""".replace("from series.store import Store", "from series.store import Payload, Store")


@pytest.mark.parametrize(("limit", "says"), [(8_000, "cannot open the store"), (48_000, "cannot write the store")])
def test_a_full_disk_is_a_write_error_never_a_bad_store(tmp_path, limit, says):
    """A disk that is full (here: RLIMIT_FSIZE in a child process) when opening or when writing: exit 1 and a
    message about the disk, never 'not a readable monitor store ... move it away' about a good store."""
    import subprocess
    import sys

    path = tmp_path / "m.sqlite"
    Store.open(path, writer="t").close()
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(path), str(limit)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"StoreWriteError 1 {says} {path}: "), done.stdout
    assert "move it away" not in done.stdout
    with Store.open(path, writer="after") as store:
        assert store.connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store.fetches() == []


def test_newer_schema_is_refused_and_migrations_run_forward(tmp_path):
    path = tmp_path / "m.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version=999")
    conn.close()
    with pytest.raises(StoreError, match="newer than this monitor"):
        Store.open(path, writer="t")
    fresh = tmp_path / "fresh.sqlite"
    with Store.open(fresh, writer="t") as s:
        from series.store import SCHEMA_VERSION

        assert s.schema_version() == SCHEMA_VERSION
        tables = {r[0] for r in s.connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"observations", "payloads", "fetches", "fetch_payloads", "runs"} <= tables
        assert s.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _tables(path):
    conn = sqlite3.connect(path)
    try:
        return sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'"))
    finally:
        conn.close()


@pytest.mark.parametrize("user_version", [0, 2])
def test_an_sqlite_file_of_another_program_is_refused_and_left_as_it_is(tmp_path, user_version):
    """Another program's SQLite file at the store path (its user_version may be anything) is never migrated."""
    path = tmp_path / "notes.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT)")
    conn.execute("INSERT INTO notes(text) VALUES ('keep me')")
    conn.execute(f"PRAGMA user_version={user_version}")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    for writer in ("monitor run", None):
        with pytest.raises(StoreError, match="SQLite file of another program, not a monitor store") as e:
            Store.open(path, writer=writer)
        assert "(it holds notes)" in str(e.value) and e.value.exit_code == 2
    assert path.read_bytes() == before and _tables(path) == ["notes"]
    Store.open(path.with_name("new.sqlite"), writer="t").close()  # the lock was released


def test_a_new_store_is_stamped_and_an_older_unstamped_one_is_still_ours(tmp_path):
    from series.store import APPLICATION_ID

    with Store.open(tmp_path / "m.sqlite", writer="t") as s:
        assert s.connection.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        s.connection.execute("PRAGMA application_id=0")  # as a store made before the stamp
    with Store.open(tmp_path / "m.sqlite") as s:
        assert s.count() == 0


def _damage_a_page(path, series_rows=5000):
    """A store holding `series_rows` observations, then one page of the observations table overwritten with
    junk (what a failing disk or a stray write leaves): SQLite's quick_check finds it."""
    with Store.open(path, writer="t") as s:
        days = pd.date_range("2000-01-01", periods=series_rows)
        s.append("x", pd.DataFrame({"date": days, "value": range(series_rows), "realtime_start": days}), source="t")
        page_size = s.connection.execute("PRAGMA page_size").fetchone()[0]
        s.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # A leaf page of the table: the last page the table's rows fill (any page but the schema's would do).
        (page,) = s.connection.execute(
            "SELECT MAX(pageno) FROM dbstat WHERE name='observations' AND pagetype='leaf'"
        ).fetchone()
    with open(path, "r+b") as f:
        f.seek((page - 1) * page_size)
        f.write(b"\xff" * 64)


def test_a_damaged_store_is_refused_before_anything_is_read(tmp_path):
    path = tmp_path / "m.sqlite"
    _damage_a_page(path)
    before = path.read_bytes()
    for writer in (None, "monitor run"):
        with pytest.raises(StoreError, match="is damaged") as e:
            Store.open(path, writer=writer)
        assert "nothing was read from it; restore it from a backup" in str(e.value) and e.value.exit_code == 2
        assert "\n" not in str(e.value)
    assert path.read_bytes() == before


def test_infinite_values_are_never_stored(store):
    bad = frame([(0, 1.0, 0), (1, 2.0, 0)])
    bad.loc[1, "value"] = float("inf")
    with pytest.raises(ValueError, match="infinite values"):
        store.append("x", bad, source="t")
    assert store.count() == 0


LOCK_FULL = """
import resource, signal, sys
from series.store import Store
from series.errors import StoreError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # not a byte more: the lock file's note does not fit
try:
    Store.open(sys.argv[1], writer="t")
except StoreError as e:
    print(type(e).__name__, e.exit_code, e)
"""


def test_a_disk_too_full_for_the_lock_note_is_a_write_error(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "m.sqlite"
    done = subprocess.run([sys.executable, "-c", LOCK_FULL, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"StoreWriteError 1 cannot write the store's lock file {path}.lock: "), done.stdout
    assert done.stdout.rstrip().endswith(f"(check the free space and permissions of {tmp_path})")


def test_migration_to_v5_keeps_the_alert_state_as_of_the_last_finished_run(tmp_path):
    from series.store import MIGRATIONS

    path = tmp_path / "v3.sqlite"
    conn = sqlite3.connect(path)
    for step in MIGRATIONS[:3]:
        conn.executescript(step)
    conn.execute("PRAGMA user_version=3")
    conn.execute("INSERT INTO runs(kind, as_of, started, status) VALUES ('run', '2026-03-20', 'x', 'ok')")
    conn.execute("INSERT INTO runs(kind, as_of, started, status) VALUES ('run', '2026-03-27', 'x', 'running')")
    conn.execute(
        "INSERT INTO alert_state(fingerprint, rule, labels, state, last_obs, updated) "
        "VALUES ('f1', 'r', '{}', 'firing', '2026-03-19', '2026-03-20T01:00:00Z')"
    )
    conn.commit()
    conn.close()
    with Store.open(path, writer="t") as s:
        rows = [tuple(r) for r in s.connection.execute("SELECT fingerprint, as_of, state FROM alert_states")]
        # The run killed mid-way (still 'running') did not save; the last finished one did.
        assert rows == [("f1", "2026-03-20", "firing")]
        assert [tuple(r) for r in s.connection.execute("SELECT fingerprint, state FROM alert_state")] == [
            ("f1", "firing")
        ]


# -- the point-in-time invariant across fetches (monitor store check | repair) ---------------------------------
def day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def fetch_as_of(store: Store, as_of: str, rows: list[tuple[str, float, str]], source: str = "csv") -> None:
    """One run's fetch as of a date, storing (date, value, realtime_start) rows as given."""
    run_id = store.begin_run("run", as_of)
    batch = pd.DataFrame(
        {
            "date": [day(d) for d, _, _ in rows],
            "value": [v for _, v, _ in rows],
            "realtime_start": [day(r) for *_, r in rows],
        }
    )
    store.save_fetch(series_id="krw", source=source, key="k", observations=batch, run_id=run_id)
    store.finish_run(run_id, "ok")


def test_store_check_finds_rows_dated_before_their_fetch_and_repair_fixes_them(tmp_path):
    from series.integrity import DELETE, find_violations, repair

    never = lambda series_id, source: False  # noqa: E731 (no source here dates its own rows)
    with Store.open(tmp_path / "m.sqlite", writer="test") as store:
        # The first backfill (as of 03-20): history dated by the release lag, which is allowed.
        fetch_as_of(store, "2026-03-20", [("2026-03-18", 1490.0, "2026-03-19"), ("2026-03-19", 1495.0, "2026-03-20")])
        # A run as of 03-31 (what the current code writes: after the last fetch) ...
        fetch_as_of(store, "2026-03-31", [("2026-03-27", 1509.86, "2026-03-31")])
        assert find_violations(store, never) == []
        # ... then what earlier versions wrote: a backfill of 03-27 dated its copy on 03-27 (issue 12) ...
        fetch_as_of(store, "2026-03-27", [("2026-03-27", 1509.0, "2026-03-27")])
        # ... and a later run dated a gap-filling date and a revision before the last fetch.
        fetch_as_of(store, "2026-04-03", [("2026-03-30", 1500.0, "2026-03-31"), ("2026-03-19", 1496.0, "2026-03-21")])
        assert store.as_of("krw", "2026-03-27").iloc[-1] == 1509.0  # the corruption
        found = find_violations(store, never)
        assert sorted((v.obs_date, str(v.realtime_start), v.fix) for v in found) == [
            ("2026-03-19", "2026-03-21", "2026-04-03"),  # a revision: dated by its fetch
            ("2026-03-27", "2026-03-27", DELETE),  # fetched for a day before the last fetch: today it reads
            ("2026-03-30", "2026-03-31", "2026-04-01"),  # a new date: the day after the last fetch
        ]
        assert find_violations(store, lambda series_id, source: source == "csv") == []  # a source that dates rows
        backup = repair(store, found)
        assert find_violations(store, never) == []
        assert store.as_of("krw", "2026-03-27").index[-1] == day("2026-03-19")  # 03-27 was first known 03-31
        assert store.as_of("krw", "2026-03-31").iloc[-1] == 1509.86
        assert store.as_of("krw", "2026-04-03").to_dict() == {
            day("2026-03-18"): 1490.0,
            day("2026-03-19"): 1496.0,
            day("2026-03-27"): 1509.86,
            day("2026-03-30"): 1500.0,
        }
    with Store.open(backup) as before:  # the backup holds the store as it was
        assert before.as_of("krw", "2026-03-27").iloc[-1] == 1509.0


def test_monitor_store_check_and_repair_on_the_command_line(tmp_path, capsys):
    from monitor.cli import run

    config = tmp_path / "config.toml"
    config.write_text(
        f'[paths]\nstore = "{tmp_path / "m.sqlite"}"\n\n[[series]]\nid = "krw"\nlabel = "KRW"\nsource = "csv"\n'
        'key = "krw.csv"\nfreq = "B"\nunits = "KRW"\n'
    )
    with Store.open(tmp_path / "m.sqlite", writer="test") as store:
        fetch_as_of(store, "2026-03-31", [("2026-03-27", 1509.86, "2026-03-31")])
        fetch_as_of(store, "2026-03-27", [("2026-03-27", 1509.0, "2026-03-27")])
    assert run(["store", "check", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "1 rows in 1 series (krw) are dated before the store fetched them" in out
    assert "krw 2026-03-27 = 1509: dated 2026-03-27 by a fetch as of 2026-03-27, but the store knew" in out
    assert "monitor store repair" in out
    assert run(["store", "repair", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "repaired 1 rows (1 deleted, 0 re-dated); the store as it was is in" in out
    assert len(list(tmp_path.glob("m.sqlite.before-repair-*"))) == 1
    assert run(["store", "check", "--config", str(config)]) == 0
    assert "every row is dated on or after the fetch that wrote it" in capsys.readouterr().out
    assert run(["store", "repair", "--config", str(config), "--backup-dir", str(tmp_path / "nope")]) == 2
    (tmp_path / "m.sqlite").rename(tmp_path / "elsewhere.sqlite")
    assert run(["store", "check", "--config", str(config)]) == 2
    assert "no store at" in capsys.readouterr().err
    assert not (tmp_path / "m.sqlite").exists()  # checking a missing store does not create one
