"""The one execution seam: independent chunks of work, run serially, in a local process pool or on Dask.

Heavy work (bootstrap bands, many-market model groups) is cut by its owner into independent chunks, each a
picklable argument to a module-level function and each carrying its own random stream, and handed to
`Compute.map(fn, chunks)`, which returns the outputs in the order of the chunks. Because the chunking is decided
by the work (never by the backend or the number of workers) and the outputs are reassembled in order, the results
are bit-identical whatever runs them.

Backends, chosen by `[compute]` in config.toml:
- serial: in this process, one chunk after another (the default; no start-up cost).
- processes: a `concurrent.futures.ProcessPoolExecutor` with `workers` processes, started on first use from a
  forkserver that has the model code preloaded (forking the caller itself is unsafe once it runs threads, as the
  daily run does). Started once per `Compute` and reused by every `map` until `close()`.
- dask: `dask.distributed.Client(address)` on an existing scheduler ("tcp://host:8786"; its workers need this
  package installed at the same version), or a `LocalCluster` of `workers` single-threaded processes when address
  is empty. Dask is an optional extra (`pip install -e '.[dask]'`), imported only here and only when chosen.
  On connecting, every worker is asked for its version of this package. When the scheduler cannot be reached (or
  the connection is lost during a map), or a worker runs another version or none, the work runs here instead,
  serially, and `note` says why: a run never loses its estimates to the cluster, and its report says so.

Data many chunks share (a market's rows, of which each chunk reads a few overlapping windows) travel as a `Part`
of the whole array: pickled for a process pool as just its rows, and on Dask the whole array is scattered to the
cluster once per map while the chunks carry only where their rows are.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from importlib import metadata
from multiprocessing import forkserver
from typing import Any, Literal, Protocol, TypeVar

import numpy as np

from monitor.errors import MonitorError

T = TypeVar("T")
R = TypeVar("R")
Scheduler = Literal["serial", "processes", "dask"]
SCHEDULERS: tuple[str, ...] = ("serial", "processes", "dask")
DASK_HINT = "pip install -e '.[dask]'"
PACKAGE = "kr-macro-monitor"  # the distribution whose version the Dask workers must run
# Imported once in the forkserver so that each worker process starts with the model code (and the statsmodels
# modules it imports on first use) loaded, instead of importing them again in every worker.
PRELOAD = [
    "monitor.models.bands",
    "monitor.models.estimate",
    "statsmodels.tsa.stattools",
    "statsmodels.tsa.vector_ar.var_model",
]


SINGLE_THREADED = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class Settings(Protocol):
    """The `[compute]` block of the config (monitor.config.ComputeBlock), which this module must not import:
    models import it, and the config knows the fetchers."""

    @property
    def scheduler(self) -> str: ...
    @property
    def workers(self) -> int: ...
    @property
    def address(self) -> str: ...


class Runner(Protocol):
    """What chunked work needs from a backend: the outputs of fn over the chunks, in order."""

    def map(self, fn: Callable[[T], R], chunks: Sequence[T]) -> list[R]: ...


@dataclass(frozen=True, eq=False)
class Part:
    """Rows lo:hi of an array that many chunks share. Reads as those rows (`np.asarray(part)`); pickles as a copy
    of only those rows, so that a chunk never carries the whole array."""

    whole: np.ndarray
    lo: int
    hi: int

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        rows = self.whole[self.lo : self.hi]
        return rows if dtype is None else rows.astype(dtype)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return np.ascontiguousarray, (self.whole[self.lo : self.hi],)


Progress = Callable[[int, int], None]  # (chunks done, chunks in all), called as chunks finish


class Compute:
    """A backend for chunked work; use as a context manager so that pools and clusters are shut down.

    >>> with Compute("processes", workers=2) as compute:
    ...     outputs = compute.map(work, chunks)
    """

    def __init__(
        self, scheduler: str = "serial", workers: int = 1, address: str = "", *, timeout: float = 10.0
    ) -> None:
        """timeout: seconds to wait for a Dask scheduler at `address` to answer."""
        if scheduler not in SCHEDULERS:
            raise MonitorError(f"scheduler must be one of {', '.join(SCHEDULERS)}, got {scheduler!r}")
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise MonitorError(f"workers must be a whole number of at least 1, got {workers!r}")
        if address and scheduler != "dask":
            raise MonitorError(f"address {address!r} is only used by scheduler = 'dask', not {scheduler!r}")
        self.scheduler = scheduler
        self.workers = workers
        self.address = address
        self.timeout = timeout
        self.progress: Progress | None = None  # e.g. a progress bar's update, set by an interactive caller
        self._pool: Executor | None = None
        self._client: Any = None
        self._cluster: Any = None
        self.note = ""  # set when the Dask work ran here instead: why (for the run's report)
        if scheduler == "dask":
            _dask()  # fail now, with the install hint, rather than at the first map

    @classmethod
    def from_config(cls, block: Settings) -> Compute:
        return cls(block.scheduler, block.workers, block.address)

    def describe(self) -> str:
        if self.scheduler == "serial":
            return "serial"
        if self.scheduler == "processes":
            return f"processes ({self.workers} workers)"
        return f"dask ({self.address or f'local cluster of {self.workers} workers'})"

    # -- running ---------------------------------------------------------------------------------------
    def map(self, fn: Callable[[T], R], chunks: Sequence[T]) -> list[R]:
        """fn(chunk) for every chunk, outputs in the order of chunks. An exception in a chunk is raised here.
        With `progress` set (see `Compute.progress`), it is told each time a chunk finishes."""
        chunks = list(chunks)
        total, report = len(chunks), self.progress or (lambda done, total: None)
        if not chunks:
            return []
        if self.scheduler == "serial" or total == 1 or (self.scheduler == "dask" and self._dask_client() is None):
            # One chunk gains nothing from a pool; running it here also keeps the results identical.
            return _serial(fn, chunks, report)
        if self.scheduler == "processes":
            futures = [self._processes().submit(fn, c) for c in chunks]
            try:
                for done, future in enumerate(as_completed(futures), 1):
                    future.result()  # the first failure stops the wait
                    report(done, total)
                return [f.result() for f in futures]
            finally:
                for f in futures:
                    f.cancel()
        client = self._dask_client()
        from dask.distributed import as_completed as dask_completed

        futures = _dask_map(client, fn, chunks)
        try:
            for done, future in enumerate(dask_completed(futures), 1):
                future.result()
                report(done, total)
            return list(client.gather(futures))
        except (OSError, TimeoutError) as e:  # the scheduler went away (CommClosedError is an OSError)
            self._fall_back(f"lost the Dask scheduler at {self.address or 'the local cluster'} ({e})")
            return _serial(fn, chunks, report)
        finally:
            if self._client is not None:
                client.cancel(futures)

    def _processes(self) -> Executor:
        if self._pool is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            # One BLAS thread per worker (what Dask's workers do too): the chunks are many small products, and
            # workers x BLAS threads on the same cores would only contend. The variables must be set when the
            # forkserver starts (it loads numpy for every worker), so it is started here, under them.
            saved = {k: os.environ.get(k) for k in SINGLE_THREADED}
            os.environ.update(SINGLE_THREADED)
            try:
                forkserver.ensure_running()
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        return self._pool

    def _dask_client(self) -> Any:
        """The connected client, or None when the work runs here instead (see `note`)."""
        if self.note:
            return None
        if self._client is None:
            client_cls, cluster_cls = _dask()
            if self.address:
                try:
                    self._client = client_cls(self.address, timeout=f"{self.timeout}s")
                except (OSError, TimeoutError) as e:
                    self._fall_back(
                        f"cannot reach the Dask scheduler at {self.address} ({e}); check [compute] address, or "
                        "leave it empty for a local cluster"
                    )
                    return None
                mismatch = worker_mismatch(self._client, self.address)
                if mismatch:
                    self._fall_back(mismatch)
                    return None
            else:
                import logging

                import dask

                # Dask's workers start with MALLOC_TRIM_THRESHOLD_=65536, which makes glibc hand every large
                # temporary array back to the OS and fault it in again: the bootstrap runs ~1.7x slower. Keep
                # the rest of its worker environment (one BLAS thread per worker).
                with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
                    self._cluster = cluster_cls(
                        n_workers=self.workers,
                        threads_per_worker=1,  # the chunks are numpy loops holding the GIL between small kernels
                        processes=True,
                        dashboard_address=":0",  # its HTTP server on a free port: two clusters never collide
                        scheduler_kwargs={"dashboard": False},
                        silence_logs=logging.ERROR,
                    )
                self._client = client_cls(self._cluster)
        return self._client

    def _fall_back(self, why: str) -> None:
        self.note = f"{why}: computed here, serially, instead"
        self._close_dask()

    # -- lifecycle ---------------------------------------------------------------------------------------
    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._close_dask()

    def _close_dask(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self) -> Compute:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _dask_map(client: Any, fn: Callable[[T], R], chunks: Sequence[T]) -> list[Any]:
    """The chunks as Dask tasks; the whole array behind each distinct `Part` field is scattered once, and each
    task gets it as an argument (a future the workers share) with the bounds of its rows."""
    where = [_part_field(c) for c in chunks]
    if not any(where):
        return list(client.map(fn, chunks, pure=False))
    scattered: dict[int, Any] = {}
    wholes: list[Any] = []
    bounds: list[tuple[str, int, int] | None] = []
    bare: list[Any] = []
    for chunk, name in zip(chunks, where, strict=True):
        if not name:
            wholes.append(None)
            bounds.append(None)
            bare.append(chunk)
            continue
        part: Part = getattr(chunk, name)
        if id(part.whole) not in scattered:
            scattered[id(part.whole)] = client.scatter(part.whole, hash=False)
        wholes.append(scattered[id(part.whole)])
        bounds.append((name, part.lo, part.hi))
        bare.append(dataclasses.replace(chunk, **{name: None}))  # type: ignore[type-var]
    return list(client.map(_rejoin, [fn] * len(chunks), bare, wholes, bounds, pure=False))


def _part_field(chunk: Any) -> str:
    """The name of the chunk's one `Part` field ('' if it has none, or is not a dataclass)."""
    if not dataclasses.is_dataclass(chunk):
        return ""
    names = [f.name for f in dataclasses.fields(chunk) if isinstance(getattr(chunk, f.name), Part)]
    return names[0] if len(names) == 1 else ""


def _rejoin(fn: Callable[[Any], R], chunk: Any, whole: Any, bounds: tuple[str, int, int] | None) -> R:
    """On a worker: the chunk with its rows put back (as the same contiguous copy a pickled `Part` becomes)."""
    if bounds is not None:
        name, lo, hi = bounds
        chunk = dataclasses.replace(chunk, **{name: np.ascontiguousarray(whole[lo:hi])})
    return fn(chunk)


def _serial(fn: Callable[[T], R], chunks: Sequence[T], report: Progress) -> list[R]:
    outputs = []
    for chunk in chunks:
        outputs.append(fn(chunk))
        report(len(outputs), len(chunks))
    return outputs


def worker_mismatch(client: Any, address: str) -> str:
    """Why the workers of `client` cannot run this code ('' when each has this package at this version). Asked
    with a function of the standard library, which a worker without our package can still unpickle."""
    here = metadata.version(PACKAGE)
    try:
        found = client.run(metadata.version, PACKAGE, on_error="return")
    except (OSError, TimeoutError) as e:
        return f"cannot ask the Dask workers at {address} for their version ({e})"
    if not found:
        return f"the Dask scheduler at {address} has no workers"
    bad = {
        worker: f"{PACKAGE} not installed" if isinstance(v, BaseException) else f"{PACKAGE} {v}"
        for worker, v in sorted(found.items())
        if v != here
    }
    if not bad:
        return ""
    listed = "; ".join(f"{v} on {w}" for w, v in list(bad.items())[:3])
    more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
    return (
        f"the Dask workers at {address} cannot run this code ({PACKAGE} {here} here; {listed}{more}); install "
        f"{PACKAGE} {here} on every worker"
    )


def _dask() -> tuple[Any, Any]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise MonitorError(f"scheduler 'dask' needs the dask extra, which is not installed: {DASK_HINT}") from None
    return Client, LocalCluster
