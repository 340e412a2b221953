"""Charts drawn by a pool of processes beside the run's: the same bytes as drawn here, and nothing lost when the
pool breaks or cannot know a chart."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from reports import charts, drawing
from reports.drawing import Painters, default_workers, draw, draw_all
from reports.export import export_all
from reports.style import figure
from tests.reports.fixture import AS_OF

FORMATS = ("png", "svg", "pdf")
RUN = {"status": "ok", "as_of": AS_OF.isoformat(), "fired": []}


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_charts_drawn_by_a_worker_process_are_the_charts_drawn_here(report_fixture, monkeypatch):
    """The worker alone draws (this process claims nothing): its charts are the bytes drawn here."""
    ctx, _ = report_fixture
    names = ["policy_rates", "alert_timeline", "krw_usd"]
    with Painters(2) as painters:
        monkeypatch.setattr(drawing._Claims, "take_last", lambda self: None)  # here only, not in the worker
        from_worker = painters.draw_all(ctx, names, FORMATS)
    for drawn in from_worker:
        assert drawn.images and drawn.images == draw(drawn.name, ctx, FORMATS).images, drawn.name


def test_exports_drawn_with_a_pool_are_byte_identical_to_exports_drawn_here(report_exported, tmp_path):
    ctx, serial, root = report_exported
    with Painters(3) as painters:
        pooled = export_all(ctx, tmp_path, run=RUN, painters=painters)
    assert pooled.skipped == serial.skipped and pooled.failed == serial.failed
    assert set(pooled.charts) == set(serial.charts) and len(pooled.charts) >= 10
    assert _files(tmp_path) == _files(root)


def test_a_pool_whose_workers_died_costs_nothing(report_exported, tmp_path, caplog):
    """A worker killed (the OOM killer, an operator) before the charts: every chart is drawn here instead."""
    ctx, serial, root = report_exported
    with Painters(2) as painters:
        painters.draw_all(ctx, ["krw_usd"], ("png",))  # the worker is up
        for pid in list(painters._pool._processes):  # type: ignore[union-attr]
            os.kill(pid, signal.SIGKILL)
        pooled = export_all(ctx, tmp_path, run=RUN, painters=painters)
    assert set(pooled.charts) == set(serial.charts) and not pooled.failed
    assert _files(tmp_path) == _files(root)
    # Said once, in a line (the pool broke either before the export's tasks or under them).
    [warning] = [r.getMessage() for r in caplog.records if r.name == "reports.drawing"]
    assert "stopped (BrokenProcessPool)" in warning and warning.endswith("drawn in the run's process")


def test_a_pool_that_cannot_start_leaves_every_chart_to_this_process(report_fixture, monkeypatch, caplog):
    """No shared-memory semaphores (some containers), a process limit: one warning, and the charts all drawn."""
    ctx, _ = report_fixture

    def no_semaphores(method):
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(drawing.multiprocessing, "get_context", no_semaphores)
    with Painters(2) as painters:
        assert painters.extra == 0
        [result] = painters.draw_all(ctx, ["krw_usd"], ("png",))
    assert result.images["png"].startswith(b"\x89PNG")
    [warning] = [r.getMessage() for r in caplog.records if r.name == "reports.drawing"]
    assert warning == (
        "charts drawn in the run's process only: the drawing processes could not start "
        "([Errno 38] Function not implemented)"
    )


def test_a_chart_registered_by_the_caller_is_drawn_in_this_process(report_fixture, monkeypatch):
    """A new process knows only reports.charts' own charts: one registered at run time is drawn here."""
    ctx, _ = report_fixture
    drawn_in: list[int] = []

    def mine(ctx):
        drawn_in.append(os.getpid())
        fig, [ax] = figure("A desk's own chart")
        ax.plot([0, 1], [0, 1])
        return fig

    monkeypatch.setitem(charts.REGISTRY, "desk_chart", charts.Chart("desk_chart", "Markets", "Ours?", mine))
    with Painters(2) as painters:
        [result] = draw_all(ctx, ["desk_chart"], ("png",), painters)
    assert result.images["png"].startswith(b"\x89PNG") and drawn_in == [os.getpid()]


def test_a_failing_chart_costs_that_chart_only(report_fixture, monkeypatch):
    ctx, _ = report_fixture

    def broken(ctx):
        raise ZeroDivisionError("division by zero\n  in the desk's code")

    monkeypatch.setitem(charts.REGISTRY, "broken", charts.Chart("broken", "Markets", "Broken?", broken))
    out = draw_all(ctx, ["broken", "krw_usd"], ("png",))
    assert out[0].failed == "draw: unexpected ZeroDivisionError: division by zero in the desk's code"
    assert not out[0].images and out[1].images["png"].startswith(b"\x89PNG")


def test_one_process_per_core_at_most_four(monkeypatch):
    # default_workers as imported here is the function itself (the suite's conftest replaces the module's name)
    monkeypatch.setattr(drawing.os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    assert default_workers() == drawing.MAX_WORKERS == 4
    monkeypatch.setattr(drawing.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert default_workers() == 1
    assert Painters(1).extra == 0 and Painters(3).extra == 2


@pytest.mark.parametrize("workers", [0, -1, 65])
def test_chart_workers_out_of_range_is_a_config_error(workers, tmp_path):
    from monitor.config import load_config
    from monitor.errors import MonitorError

    repo = Path(__file__).resolve().parents[2]
    path = tmp_path / "config.toml"
    path.write_text((repo / "config.toml").read_text().replace("[run]\n", f"[run]\nchart_workers = {workers}\n", 1))
    with pytest.raises(MonitorError, match="chart_workers"):
        load_config(path)


def test_closing_the_pool_mid_export_stops_its_workers_after_their_current_chart(report_fixture):
    """Ctrl-C or SIGTERM during the export: the run closes the pool, whose workers take no further chart (and the
    run does not wait for them to draw the rest)."""
    ctx, _ = report_fixture
    names = charts.names()
    with Painters(2) as painters:
        [drain] = painters._hand_out(ctx, names, ("png", "svg", "pdf"))
    # Closed the moment the charts were handed out: the worker drew the one it had begun, if any.
    assert len(drain.result(timeout=120)) <= 1 < len(names)
