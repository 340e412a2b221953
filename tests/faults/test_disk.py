"""The store's disk fails: `monitor run` as a child process whose files cannot grow past a limit (RLIMIT_FSIZE,
what `ulimit -f` sets; to the process, a full disk), in three places: no byte at all (not even the lock file's
note of who holds the lock fits), so small that the store cannot be opened for writing (SQLite's shared-memory
index needs 32 KB), and large enough for the run to start and store its first
fetch (under 40 KB of write-ahead log), but not the second one (the source's answer that day is the full 45-year
history, 53 KB compressed, measured to fail anywhere from 44 KB to 110 KB).

Each time: exit 1 with one line naming the store and what to check, no traceback; nothing stored before is lost
or corrupted, and no fetch is partly stored; the next normal run recovers and ends with the store of an
unfaulted run."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.fault_server import FaultServer, Reply
from tests.faults.conftest import Smtp
from tests.faults.support import (
    Child,
    Row,
    assert_delivered_once,
    assert_store_sound,
    observations,
    outbox,
    run_args,
    run_error,
    run_in_process,
    runs,
    write_config,
)
from tests.faults.test_sources import HTTP, PROBES

PROBE = PROBES["fredgraph"]
DAY1, DAY2 = PROBE.days[:2]
FULL_HISTORY = "data/samples/fredgraph_DEXKOUS_observation_date_header_to_2026-03-27.csv"


@pytest.fixture(scope="module")
def stores(
    shared: Path, http_server: FaultServer, smtp_session: Smtp, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[Row]]:
    """The store after day 1 (where each case starts), and the observations after an unfaulted day 2."""
    from monitor.cli import run

    folder = tmp_path_factory.mktemp("disk-reference")
    config = write_config(folder, PROBE, smtp_port=smtp_session.port, endpoint=http_server.url)
    http_server.script(Reply(200, HTTP["fredgraph"].good(shared)))
    assert run(run_args(config, DAY1)) == 0
    shutil.copy(folder / "store.sqlite", folder / "day1.sqlite")
    http_server.script(Reply(200, (shared / FULL_HISTORY).read_bytes()))
    assert run(run_args(config, DAY2)) == 0
    return folder / "day1.sqlite", observations(folder / "store.sqlite")


@pytest.mark.parametrize(("where", "limit"), [("locking", 0), ("opening", 8_000), ("writing", 80_000)])
def test_a_full_disk_stops_the_run_cleanly_and_the_next_run_recovers(
    where: str,
    limit: int,
    stores: tuple[Path, list[Row]],
    shared: Path,
    http: FaultServer,
    smtp: Smtp,
    tmp_path: Path,
    capsys: Any,
) -> None:
    day1, reference = stores
    store = tmp_path / "store.sqlite"
    shutil.copy(day1, store)
    before, runs_before = observations(store), runs(store)
    http.script(Reply(200, (shared / FULL_HISTORY).read_bytes()))
    config = write_config(tmp_path, PROBE, smtp_port=smtp.port, endpoint=http.url)

    failed = Child(config, DAY2, file_size_limit=limit).finish()
    assert failed.code == 1, failed.err
    assert "Traceback" not in failed.err
    errors = [line for line in failed.err.splitlines() if not line.startswith("{")]
    failed.assert_json_log()
    assert len(errors) == 1, failed.err
    assert_store_sound(store)
    if where == "locking":  # not even the lock file's note (who holds the lock) fits
        assert errors[0].startswith(f"error: cannot write the store's lock file {store}.lock: File too large")
        assert errors[0].endswith(f"(check the free space and permissions of {tmp_path})")
        assert observations(store) == before and runs(store) == runs_before
    elif where == "opening":
        assert errors[0].startswith(f"error: cannot open the store {store}: ")
        assert errors[0].endswith(f"(check the free space and permissions of {tmp_path})")
        assert "move it away" not in errors[0]  # the store is fine: never advise moving it
        assert observations(store) == before and runs(store) == runs_before
    else:
        assert errors[0].startswith(f"error: cannot write the store {store}: ")
        assert errors[0].endswith("(nothing from this step was stored)")
        assert [e["series"] for e in failed.events if e["event"] == "fetch"] == ["won"]
        # The CSV series' fetch is stored whole, the probe's not at all: nothing before it lost.
        assert [r for r in observations(store) if r[0] == "probe"] == [r for r in before if r[0] == "probe"]
        assert [r for r in observations(store) if r[0] == "won"] == [r for r in reference if r[0] == "won"]
        # The failure's own record is small enough to fit: the run is on record as failed, and why.
        assert runs(store) == [*runs_before, (2, "failed")]
        assert "StoreWriteError: cannot write the store" in run_error(store, 2)

    recovered = run_in_process(config, DAY2, capsys)
    assert recovered.code == 0, recovered.err
    assert observations(store) == reference
    assert_store_sound(store)
    assert smtp.messages == []  # day 1's message went out on day 1; nothing new since
    assert_delivered_once(store, smtp.messages, since_id=len(outbox(store)))
    assert [status for _, status, _ in outbox(store)] == ["sent"]
