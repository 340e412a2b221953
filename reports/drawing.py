"""Drawing the charts: each chart once, every format saved from that one figure, on every core the run may use.

`draw(name, ctx, formats)` is the one place a chart is drawn and saved, and where a failing chart is contained
(it costs that chart only). `Painters` is a pool of drawing processes that a run starts before it fetches, so
that importing matplotlib and the chart code in them overlaps the fetch and the models; `draw_all` then shares
the charts between them and this process (the pool takes charts from the front of the list, this process from
the back, each taking the next one not yet begun). Charts are independent and drawn from the same context, so the
files are the same bytes whichever process drew them (tests/reports/test_drawing.py).

Processes are spawned, never forked: the run holds threads (BLAS, the log's) and an open store by then. A chart
registered at run time by the caller (not one of `reports.charts`' own modules) is drawn here, since a new process
would not know it. A pool that breaks (a worker killed, out of memory) costs nothing: what it had not returned is
drawn here.
"""

from __future__ import annotations

import atexit
import gc
import itertools
import logging
import multiprocessing
import os
import pickle
import signal
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from matplotlib import rc_context
from matplotlib.figure import Figure

from reports import charts
from reports.context import ReportContext
from reports.png import figure_png
from reports.style import DPI, house_style

log = logging.getLogger(__name__)

MAX_WORKERS = 4  # beyond a few cores the charts left for each are too few to pay for starting a process


def default_workers() -> int:
    """Processes that draw charts, this one included: the cores this process may run on, at most MAX_WORKERS."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, MAX_WORKERS))


@dataclass(frozen=True)
class Drawn:
    """One chart: its files by format, or why it was not drawn (`skipped`: its data are missing, not an error;
    `failed`: drawing it raised, an error the run reports)."""

    name: str
    images: dict[str, bytes]
    skipped: str = ""
    failed: str = ""


# No timestamps in the files: re-running a date rewrites byte-identical charts.
_METADATA = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}
# PDF text as Type 3 fonts: the same DejaVu glyphs, embedded as drawing procedures for the characters used. Type 42
# made matplotlib subset the whole TrueType font with fontTools for every file, about 0.7 s a chart and half of a
# warm daily run (bench/daily.py); Type 3 costs about a fifth of that and looks the same. The 14 core fonts would
# be cheaper still but cannot draw the labels' non-Latin-1 characters (the won sign).
_SAVE_RC = {"pdf": {"pdf.fonttype": 3}}


def figure_bytes(fig: Figure, fmt: str) -> bytes:
    """The figure saved in one format (png, svg or pdf)."""
    with house_style(), rc_context(_SAVE_RC.get(fmt, {})):  # type: ignore[arg-type]
        if fmt == "png":  # rendered by Agg as savefig would, encoded without Pillow's per-row filter search
            return figure_png(fig, DPI)
        buffer = BytesIO()
        fig.savefig(buffer, format=fmt, dpi=DPI, metadata=_METADATA[fmt])
        return buffer.getvalue()


def draw(name: str, ctx: ReportContext, formats: Sequence[str]) -> Drawn:
    """The chart drawn once and saved as PNG (the report and the e-mail show it) and in every format asked for."""
    try:
        fig = charts.render(name, ctx)
        return Drawn(name, {fmt: figure_bytes(fig, fmt) for fmt in dict.fromkeys(("png", *formats))})
    except charts.ChartSkipped as e:
        return Drawn(name, {}, skipped=str(e))
    except Exception as e:
        # A chart that fails (a bug, data nobody foresaw) costs that chart only; the run reports it.
        text = " ".join(str(e).split())
        return Drawn(name, {}, failed=f"draw: unexpected {type(e).__name__}" + (f": {text}" if text else ""))


class Painters:
    """Processes that draw charts beside this one; a context manager (the processes end with it).

    workers: the processes drawing, this one included (1: no pool, everything is drawn here; None: one per core,
    at most MAX_WORKERS).

    The charts of an export are claimed one at a time through two counters in shared memory: the pool's
    processes take the next chart from the front, this process the last one from the back, until they meet. No
    chart is ever drawn twice or taken back from a process, so a worker's death is the only thing to recover
    from: what it had claimed and not returned is drawn here."""

    def __init__(self, workers: int | None = None) -> None:
        self.extra = max(0, (workers or default_workers()) - 1)
        self._pool: ProcessPoolExecutor | None = None
        self._tokens = itertools.count()
        self._claims: _Claims | None = None

    def start(self) -> Painters:
        """Start the processes now (they import the chart code while the caller goes on). When they cannot start
        (no shared-memory semaphores in a container, a process limit), every chart is drawn in this process and a
        warning says why: the run never depends on the pool."""
        if not self.extra or self._pool is not None:
            return self
        pool = None
        try:
            context = multiprocessing.get_context("spawn")
            claims = _Claims(context.Lock(), context.RawValue("i", 0), context.RawValue("i", 0))
            pool = ProcessPoolExecutor(self.extra, mp_context=context, initializer=_worker_start, initargs=(claims,))
            for _ in range(self.extra):  # a pool spawns a process per task submitted while none is idle
                pool.submit(_ready)
        except (OSError, RuntimeError) as e:
            if pool is not None:
                pool.shutdown(wait=False)
            why = " ".join(str(e).split()) or type(e).__name__
            log.warning("charts drawn in the run's process only: the drawing processes could not start (%s)", why)
            self.extra = 0
            return self
        self._claims, self._pool = claims, pool
        return self

    def close(self) -> None:
        if self._pool is not None:
            if self._claims is not None:  # an export stopped halfway (Ctrl-C, SIGTERM): workers take no next chart
                self._claims.reset(0)
            self._pool.shutdown(wait=True)
            self._pool = None

    def __enter__(self) -> Painters:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def draw_all(self, ctx: ReportContext, names: Sequence[str], formats: Sequence[str]) -> list[Drawn]:
        """Every chart, in the order of names, drawn here and by the pool's processes alike."""
        charts.names()  # every chart module imported here too, so that the registry says where each chart is from
        shared = [n for n in names if _known_to_workers(n)] if self._pool is not None else []
        done = {n: draw(n, ctx, formats) for n in names if n not in shared}
        drains = self._hand_out(ctx, shared, formats)
        claims = self._claims
        while drains and claims is not None and (i := claims.take_last()) is not None:
            done[shared[i]] = draw(shared[i], ctx, formats)
        for drain in drains:
            try:
                done.update(drain.result())
            except Exception as e:  # a worker died (killed, out of memory): what it claimed is drawn below
                log.warning(
                    "a chart-drawing process stopped (%s): its charts are drawn in the run's process",
                    type(e).__name__,
                )
        for name in shared:
            if name not in done:
                done[name] = draw(name, ctx, formats)
        return [done[n] for n in names]

    def _hand_out(self, ctx: ReportContext, shared: list[str], formats: Sequence[str]) -> list[Future[dict]]:
        """A drain task per worker over the shared charts (none when the pool is down)."""
        if self._pool is None or self._claims is None or not shared:
            return []
        if not self._claims.reset(len(shared)):
            return []  # a worker died holding the lock: the pool is broken, everything is drawn here
        # Pickled once: every task carries the same bytes, and a worker unpickles them once per export.
        token, blob = (os.getpid(), next(self._tokens)), pickle.dumps(ctx, pickle.HIGHEST_PROTOCOL)
        try:
            return [self._pool.submit(_drain, token, blob, tuple(shared), tuple(formats)) for _ in range(self.extra)]
        except RuntimeError as e:  # the pool broke (a worker died) before this export: everything is drawn here
            log.warning(
                "the chart-drawing processes stopped (%s): the charts are drawn in the run's process", type(e).__name__
            )
            self._claims.reset(0)
            return []


def draw_all(
    ctx: ReportContext, names: Sequence[str], formats: Sequence[str], painters: Painters | None = None
) -> list[Drawn]:
    """Every chart, in the order of names (with painters, shared with their processes)."""
    if painters is None:
        return [draw(n, ctx, formats) for n in names]
    return painters.draw_all(ctx, names, formats)


@dataclass(frozen=True)
class _Claims:
    """Which of an export's shared charts are taken: [front, back) is still free. Workers take from the front,
    the run's process from the back."""

    lock: Any
    front: Any  # multiprocessing RawValue("i")
    back: Any

    # A worker killed inside the lock would leave it held: waits are bounded, and a timeout means the pool is gone.
    TIMEOUT = 10.0

    def reset(self, count: int) -> bool:
        if not self.lock.acquire(timeout=self.TIMEOUT):
            return False
        self.front.value, self.back.value = 0, count
        self.lock.release()
        return True

    def take_first(self) -> int | None:
        return self._take(last=False)

    def take_last(self) -> int | None:
        return self._take(last=True)

    def _take(self, *, last: bool) -> int | None:
        if not self.lock.acquire(timeout=self.TIMEOUT):
            return None
        try:
            if self.front.value >= self.back.value:
                return None
            if last:
                self.back.value -= 1
                return int(self.back.value)
            self.front.value += 1
            return int(self.front.value - 1)
        finally:
            self.lock.release()


def _known_to_workers(name: str) -> bool:
    """A chart of reports.charts' own modules: a new process registers it by importing them."""
    module = getattr(charts.REGISTRY[name].draw, "__module__", "") if name in charts.REGISTRY else ""
    return module.startswith("reports.charts.")


# -- in the worker processes ------------------------------------------------------------------------------------
_context: tuple[tuple[int, int], ReportContext] | None = None
_claims: _Claims | None = None


def _worker_start(claims: _Claims) -> None:
    global _claims
    _claims = claims
    # Ctrl-C in a terminal reaches the whole process group: the run stops the pool itself, and a worker dying
    # halfway through a chart would only make the run draw it again.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # As `monitor.cli.main` does: at exit, the interpreter's shutdown skips walking the libraries' objects (about
    # half a second, which the run would spend waiting for this process to end).
    atexit.register(gc.freeze)
    charts.names()  # imports every chart module (and matplotlib's text machinery) before the first chart


def _ready() -> None:
    """The warm-up task: returns once the process has started."""


def _drain(token: tuple[int, int], blob: bytes, names: tuple[str, ...], formats: tuple[str, ...]) -> dict[str, Drawn]:
    """Draw the next unclaimed chart from the front until none is left; what this process drew."""
    global _context
    if _context is None or _context[0] != token:
        _context = (token, pickle.loads(blob))
    drawn: dict[str, Drawn] = {}
    while _claims is not None and (i := _claims.take_first()) is not None:
        drawn[names[i]] = draw(names[i], _context[1], formats)
    return drawn
