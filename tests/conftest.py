"""Test-wide guards: no network but loopback, headless matplotlib, and the path to ../shared."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fault_server import FaultServer

os.environ.setdefault("MPLBACKEND", "Agg")
REPO_ROOT = Path(__file__).resolve().parents[1]
# Exchange calendars take seconds to build; keep them between test runs, inside the (git-ignored) pytest cache.
# One per pytest-xdist worker: two processes building the same calendar file at once could leave it half written.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
os.environ.setdefault("MONITOR_CACHE_DIR", str(REPO_ROOT / ".pytest_cache" / "monitor-cache" / _WORKER))

SHARED = (REPO_ROOT / ".." / "shared").resolve()

# Keys must never leak into a test run from the developer's shell (and pykrx logs in at import time if set).
_SECRET_VARS = ("FRED_API_KEY", "ECOS_API_KEY", "DATA_GO_KR_KEY", "KRX_ID", "KRX_PW")


def _is_loopback(address: object) -> bool:
    if not isinstance(address, tuple) or not address:
        return True  # AF_UNIX paths and the like never leave the machine
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    guard(monkeypatch)


@pytest.fixture(autouse=True)
def _charts_drawn_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run started in the test process draws its charts there, unless its config or the test asks for more
    processes: a drawing process spawned for each of the suite's runs would cost seconds of the two cores that
    pytest-xdist already keeps busy. tests/reports/test_drawing.py tests the pool itself, and the acceptance
    run in tests/monitor/pipeline/test_run.py re-runs its date with `chart_workers = 2`."""
    import reports.drawing

    monkeypatch.setattr(reports.drawing, "default_workers", lambda: 1)


def guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """No socket but loopback, no key from the shell: for each test, and for the session fixtures that run."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded(self: socket.socket, address: object) -> object:
        if not _is_loopback(address):
            raise OSError(f"test tried to reach the network: {address!r} (tests replay recorded responses)")
        return real_connect(self, address)  # type: ignore[arg-type]

    def guarded_ex(self: socket.socket, address: object) -> object:
        if not _is_loopback(address):
            raise OSError(f"test tried to reach the network: {address!r} (tests replay recorded responses)")
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_ex)
    for var in _SECRET_VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared data folder beside the repo; tests that need it skip with a reason when it is absent."""
    if not (SHARED / "data").is_dir():
        reason = f"../shared is absent ({SHARED}): real samples and history are not available here"
        if os.environ.get("MONITOR_REQUIRE_SHARED"):  # CI always has ../shared: a skip there would hide a failure
            pytest.fail(reason)
        pytest.skip(reason)
    return SHARED


def _digests(folder: Path) -> dict[str, str]:
    files = (p for p in folder.rglob("*") if p.is_file())
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def _built_once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Iterator[Path]:
    """A folder `build` fills once per test session, then only read; teardown fails the session if a test wrote
    into it. Under pytest-xdist (`-n 2`) the workers share one: the first builds it under a lock while the other
    waits, in the run's common temp folder."""
    if not _WORKER:
        folder = factory.mktemp(name)
        build(folder)
        before = _digests(folder)
    else:
        import fcntl  # only with -n: CI and the README's command run on Linux

        root = factory.getbasetemp().parent  # the run's folder; each worker's basetemp is inside it
        folder, done = root / name, root / f"{name}.digests.json"
        with (root / f"{name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if not done.exists():
                shutil.rmtree(folder, ignore_errors=True)  # a build that failed in the other worker
                folder.mkdir()
                build(folder)
                done.write_text(json.dumps(_digests(folder)))
        before = json.loads(done.read_text())
    yield folder
    assert _digests(folder) == before, f"a test changed the shared {name} folder {folder}"


@pytest.fixture(scope="session")
def replay_dir(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The replay directory of the real history (tests/replay.py), built once per session."""
    from tests.replay import build_replay_dir

    yield from _built_once(tmp_path_factory, "replay", lambda folder: build_replay_dir(shared, folder))


@pytest.fixture(scope="session")
def replayed_run(replay_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The folder of one `monitor run --as-of 2026-03-27 --replay` with the shipped config (tests/replayed.py):
    config.toml, data/monitor.sqlite, exports/, mail/. Read-only; a test that writes (`monitor report`, a second
    run) works on `tests.replayed.copy_run`."""
    from tests.replayed import run_replay

    def build(folder: Path) -> None:
        with pytest.MonkeyPatch.context() as monkeypatch:
            guard(monkeypatch)
            code = run_replay(folder, replay_dir)
        assert code == 1, f"the replay run exited {code}"  # 1: the series with no real data in any form fail

    yield from _built_once(tmp_path_factory, "replayed", build)


@pytest.fixture(scope="session")
def dask_installed() -> None:
    """Tests of the Dask backend skip with a reason without the extra; CI's extras run sets MONITOR_REQUIRE_DASK=1,
    where a skip would hide a failure."""
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        reason = "the dask extra is not installed (pip install -e '.[test,dask]')"
        if os.environ.get("MONITOR_REQUIRE_DASK"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    """A real HTTP server on 127.0.0.1 that answers from a script (see tests/fault_server.py)."""
    server = FaultServer().start()
    yield server
    server.stop()
