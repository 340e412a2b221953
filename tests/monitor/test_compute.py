"""The execution seam: serial, process-pool and Dask runs give bit-identical bands with the same seed; outputs come
back in chunk order; errors in a chunk come back as themselves; a missing Dask is a clear error. SYNTHETIC data."""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import pandas as pd
import pytest

import monitor.models.bands as bands_mod
from monitor.compute import Compute
from monitor.errors import InputDataError, MonitorError
from monitor.models.bands import full_sample_bands, rolling_bands
from monitor.spec import BandSpec
from tests.monitor.models.simulate import simulate_var

DATA = simulate_var(220, 3, 2, seed=17)
SPEC = BandSpec(0.9, 60, block_length=3.0, seed=99)


def _slow_identity(x: int) -> int:
    time.sleep(0.05 * (5 - x % 5))  # the first chunks finish last
    return x


def _broken(x: int) -> int:
    if x == 3:
        raise InputDataError("chunk 3 cannot be used")
    return x


def _bands(compute: Compute, monkeypatch: pytest.MonkeyPatch) -> tuple[pd.DataFrame, pd.DataFrame]:
    monkeypatch.setattr(bands_mod, "CHUNK_ROWS", 40_000)  # several chunks, so that the workers share them
    rolling = rolling_bands(DATA, 2, 8, 120, SPEC, key="m", compute=compute)
    full = full_sample_bands(DATA, 2, 8, SPEC, key="m", compute=compute)
    assert len(bands_mod.rolling_job(DATA, 2, 8, 120, SPEC).chunks) >= 4
    return rolling, full


@pytest.fixture(scope="module")
def serial_bands() -> tuple[pd.DataFrame, pd.DataFrame]:
    with pytest.MonkeyPatch.context() as mp:
        return _bands(Compute("serial"), mp)


def test_process_pool_bands_are_bit_identical_to_serial(serial_bands, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    with Compute("processes", workers=2) as compute:
        rolling, full = _bands(compute, monkeypatch)
        assert compute._pool is not None  # the pool really ran them
    assert np.array_equal(rolling.to_numpy(), serial_bands[0].to_numpy())
    assert rolling.index.equals(serial_bands[0].index) and rolling.columns.equals(serial_bands[0].columns)
    assert np.array_equal(full.to_numpy(), serial_bands[1].to_numpy())


@pytest.mark.dask
def test_dask_local_cluster_bands_are_bit_identical_to_serial(  # type: ignore[no-untyped-def]
    dask_installed, serial_bands, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A LocalCluster of two worker processes (processes=True, so that the chunks really are pickled and run in
    other interpreters, as on a remote cluster); it is shut down by the context manager."""
    with Compute("dask", workers=2) as compute:
        rolling, full = _bands(compute, monkeypatch)
        assert len(compute._client.scheduler_info()["workers"]) == 2
        assert compute.map(_slow_identity, list(range(10))) == list(range(10))
        with pytest.raises(InputDataError, match="chunk 3 cannot be used"):
            compute.map(_broken, list(range(6)))
    assert compute._client is None and compute._cluster is None
    assert np.array_equal(rolling.to_numpy(), serial_bands[0].to_numpy())
    assert np.array_equal(full.to_numpy(), serial_bands[1].to_numpy())


def test_outputs_come_back_in_chunk_order_and_errors_as_themselves() -> None:
    for compute in (Compute("serial"), Compute("processes", workers=2)):
        with compute:
            assert compute.map(_slow_identity, list(range(10))) == list(range(10))
            assert compute.map(_slow_identity, []) == []
            with pytest.raises(InputDataError, match="chunk 3 cannot be used"):
                compute.map(_broken, list(range(6)))


def test_asking_for_dask_without_the_extra_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dask", None)  # what an install without the extra looks like to import
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(MonitorError, match=r"scheduler 'dask' needs the dask extra, .*pip install -e '\.\[dask\]'"):
        Compute("dask", workers=2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("threads", 2, ""), "scheduler must be one of serial, processes, dask"),
        (("processes", 0, ""), "workers must be a whole number of at least 1"),
        (("processes", 2, "tcp://10.0.0.1:8786"), "only used by scheduler = 'dask'"),
    ],
)
def test_bad_compute_settings_are_clear_errors(args: tuple[str, int, str], message: str) -> None:
    with pytest.raises(MonitorError, match=message):
        Compute(*args)


@pytest.mark.dask
def test_an_unreachable_dask_scheduler_computes_here_and_says_so(dask_installed) -> None:  # type: ignore[no-untyped-def]
    """It used to raise, and the daily run lost its point estimates with the bands."""
    compute = Compute("dask", workers=1, address="tcp://127.0.0.1:9", timeout=1)  # nothing listens on port 9
    with compute:
        assert compute.map(_slow_identity, list(range(6))) == list(range(6))
        assert compute.note.startswith("cannot reach the Dask scheduler at tcp://127.0.0.1:9 (")
        assert compute.note.endswith(
            "check [compute] address, or leave it empty for a local cluster: computed here, serially, instead"
        )
        with pytest.raises(InputDataError, match="chunk 3 cannot be used"):  # errors of the work stay themselves
            compute.map(_broken, list(range(6)))


@pytest.fixture
def other_version(tmp_path):  # type: ignore[no-untyped-def]
    """A folder that, first on a worker's PYTHONPATH, makes it report kr-macro-monitor 0.0.1 (a stale install)."""
    info = tmp_path / "kr_macro_monitor-0.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: kr-macro-monitor\nVersion: 0.0.1\n")
    return tmp_path


@pytest.mark.dask
def test_workers_at_another_version_are_named_and_the_work_runs_here(dask_installed, other_version) -> None:  # type: ignore[no-untyped-def]
    """A worker in its own interpreter (as on another machine) whose install is stale."""
    import subprocess
    from importlib import metadata

    from dask.distributed import Client, LocalCluster

    here = metadata.version("kr-macro-monitor")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(other_version), os.environ.get("PYTHONPATH", "")])}
    with LocalCluster(n_workers=0, processes=True, dashboard_address=":0") as cluster:
        address = cluster.scheduler_address
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1", "--no-dashboard"],
            env=env,
            cwd=other_version,  # not the repository, whose egg-info says the current version
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with Client(address) as probe:
                probe.wait_for_workers(1, timeout=60)
                (name,) = probe.scheduler_info()["workers"]
            with Compute("dask", workers=1, address=address, timeout=10) as compute:
                assert compute.map(_slow_identity, list(range(4))) == list(range(4))
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    assert compute.note == (
        f"the Dask workers at {address} cannot run this code (kr-macro-monitor {here} here; kr-macro-monitor 0.0.1 "
        f"on {name}); install kr-macro-monitor {here} on every worker: computed here, serially, instead"
    )


@pytest.mark.dask
def test_the_daily_run_keeps_its_estimates_when_the_scheduler_is_down(dask_installed, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The run used to record the model as not estimated (point estimates lost with the bands)."""
    import json
    import textwrap

    from monitor.cli import run

    monkeypatch.setattr(bands_mod, "CHUNK_ROWS", 40_000)  # several chunks: the cluster is really asked
    days = pd.date_range("2023-01-01", periods=400, freq="D")
    for name, column in zip(("a", "b"), DATA.to_numpy()[:, :2].T, strict=True):  # SYNTHETIC, from simulate_var
        values = np.resize(column, len(days))
        (tmp_path / f"{name}.csv").write_text(
            "date,value\n" + "".join(f"{d:%Y-%m-%d},{float(v)!r}\n" for d, v in zip(days, values, strict=True))
        )
    series = "".join(
        f'[[series]]\nid = "{n}"\nlabel = "{n}"\nsource = "csv"\nkey = "{n}.csv"\nfreq = "D"\nunits = "u"\n'
        f'start = "2023-01-01"\n\n'
        for n in ("a", "b")
    )
    config = tmp_path / "config.toml"
    config.write_text(
        textwrap.dedent(f"""\
            [paths]
            store = "{tmp_path / "store.sqlite"}"
            exports = "{tmp_path / "exports"}"

            [compute]
            scheduler = "dask"
            address = "tcp://127.0.0.1:9"

            """)
        + series
        + '[[models]]\nname = "pair"\nfreq = "D"\nlags = 1\nhorizon = 5\nwindow = 120\n'
        + 'variables = [{ series = "a" }, { series = "b" }]\nbands = { draws = 20 }\n'
    )
    code = run(["run", "--config", str(config), "--as-of", "2024-02-04", "--format", "png", "--log-format", "json"])
    summary = json.loads((tmp_path / "exports" / "2024-02-04" / "run.json").read_text())
    assert code == 0, summary["failed"]
    pair = summary["models"]["pair"]
    assert pair["estimated"] and pair["nobs"] > 0
    (note,) = [n for n in pair["notes"] if "Dask" in n]
    assert note.startswith("cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert note.endswith("computed here, serially, instead")
    assert note in (tmp_path / "exports" / "2024-02-04" / "report.html").read_text()


def test_a_part_pickles_as_its_rows_only() -> None:
    """What a process pool is sent for a chunk: its rows, not the whole array they are cut from."""
    import pickle

    from monitor.compute import Part

    whole = np.arange(50_000.0).reshape(10_000, 5)
    part = Part(whole, 100, 350)
    back = pickle.loads(pickle.dumps(part))
    assert isinstance(back, np.ndarray) and back.flags.c_contiguous and np.array_equal(back, whole[100:350])
    assert len(pickle.dumps(part)) < len(pickle.dumps(whole)) / 30
    assert np.array_equal(np.ascontiguousarray(part), whole[100:350])


@pytest.mark.dask
def test_dask_gets_each_markets_rows_once_and_the_bands_stay_identical(  # type: ignore[no-untyped-def]
    dask_installed, serial_bands, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each chunk used to carry its market's rows (about 2.8 MB per market of 5,000 windows through the
    scheduler); now the rows are scattered once per market and the chunks say where theirs are."""
    import pickle

    from dask.distributed import Client

    scattered: list[int] = []
    real = Client.scatter

    def scatter(self, data, *args, **kwargs):  # type: ignore[no-untyped-def]
        scattered.append(data.nbytes)
        return real(self, data, *args, **kwargs)

    monkeypatch.setattr(Client, "scatter", scatter)
    monkeypatch.setattr(bands_mod, "CHUNK_ROWS", 40_000)
    job = bands_mod.rolling_job(DATA, 2, 8, 120, SPEC, key="m")
    assert len(job.chunks) >= 4
    bare = [pickle.dumps(bands_mod.BandChunk(**{**vars(c), "values": None})) for c in job.chunks]
    with Compute("dask", workers=2) as compute:
        rolling = bands_mod.run_jobs([job], compute)[0]
        assert not compute.note
    assert scattered == [DATA.to_numpy().nbytes]  # the market's rows, once for all its chunks
    assert max(len(b) for b in bare) < DATA.to_numpy().nbytes / 10  # what each task carries besides
    assert np.array_equal(rolling.to_numpy(), serial_bands[0].to_numpy())
