"""The execution seam: serial, process-pool and Dask runs give bit-identical bands with the same seed; outputs come
back in chunk order; errors in a chunk come back as themselves; a missing Dask is a clear error. SYNTHETIC data."""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
import pytest

import monitor.models.bands as bands_mod
from monitor.compute import Compute
from monitor.errors import InputDataError, MonitorError
from monitor.models.bands import full_sample_bands, rolling_bands
from monitor.models.spec import BandSpec
from tests.models.simulate import simulate_var

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
def test_an_unreachable_dask_scheduler_is_a_clear_error(dask_installed) -> None:  # type: ignore[no-untyped-def]
    compute = Compute("dask", workers=1, address="tcp://127.0.0.1:9", timeout=1)  # nothing listens on port 9
    with compute, pytest.raises(MonitorError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        compute.map(_slow_identity, [1, 2])


def test_the_compute_block_of_the_config_chooses_the_backend() -> None:
    from monitor.config import validate_config

    series = {"id": "krw", "label": "KRW", "source": "csv", "key": "k.csv", "freq": "B", "units": "KRW"}
    config = validate_config({"series": [series], "compute": {"scheduler": "processes", "workers": 3}})
    compute = Compute.from_config(config.compute)
    assert (compute.scheduler, compute.workers, compute.describe()) == ("processes", 3, "processes (3 workers)")
    assert Compute.from_config(validate_config({"series": [series]}).compute).describe() == "serial"


def test_progress_is_reported_as_chunks_finish() -> None:
    for compute in (Compute("serial"), Compute("processes", workers=2)):
        seen: list[tuple[int, int]] = []
        compute.progress = lambda done, total, seen=seen: seen.append((done, total))  # type: ignore[misc]
        with compute:
            assert compute.map(_slow_identity, list(range(6))) == list(range(6))
        assert seen == [(k, 6) for k in range(1, 7)], compute.describe()
