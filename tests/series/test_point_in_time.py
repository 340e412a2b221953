"""Point in time across runs (issue 12, items 2 and 3): whatever order the days are run in, the store answers
`as_of(d)` the same, day d's alerts and run.json are the same, and no run dates a value before it fetched it.

Data are SYNTHETIC (made here) and go through the real fetch path (the csv source, as a replay serves it), the
real pipeline and the real exports."""

from __future__ import annotations

import json
import logging
import random
import re
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from monitor.cli import run
from monitor.cli.common import today
from monitor.config import load_config
from monitor.pipeline import RunRequest, run_daily
from series.store import Store
from tests.replayed import AS_OF, run_replay, shipped_run_config

TODAY = date(2026, 11, 26)  # any day after the data: every run below is a point-in-time run
# SYNTHETIC KRW per USD on the KRX sessions of March 2026 (rises through 1,450, falls back, rises again).
KRW = dict(
    zip(
        [d.date().isoformat() for d in pd.bdate_range("2026-03-02", "2026-03-31") if d.day != 2],
        [
            1420,
            1432,
            1447,
            1452,
            1461,
            1458,
            1444,
            1438,
            1449,
            1455,
            1466,
            1471,
            1469,
            1448,
            1441,
            1437,
            1452,
            1463,
            1475,
            1480,
            1490,
        ],
        strict=True,
    )
)
# SYNTHETIC monthly exports, published 20 days after the month ends.
EXPORTS = {
    f"{y}-{m:02d}-01": 50_000 + 700 * i for i, (y, m) in enumerate((y, m) for y in (2025, 2026) for m in range(1, 13))
}
# Sessions the property test draws from (late enough that each has history before it).
DAYS = [date.fromisoformat(d) for d in KRW if d >= "2026-03-10"]


def write_config(tmp: Path) -> Path:
    """Two csv series (a daily one published the next day, a monthly one 20 days late), rules with state
    (`for`, `keep_firing_for`) and a data-health rule."""
    (tmp / "krw.csv").write_text("date,value\n" + "".join(f"{d},{v}\n" for d, v in KRW.items()))
    (tmp / "exports.csv").write_text("date,value\n" + "".join(f"{d},{v}\n" for d, v in EXPORTS.items()))
    config = tmp / "config.toml"
    config.write_text(
        textwrap.dedent(f"""\
        [paths]
        store = "{tmp / "store.sqlite"}"
        exports = "{tmp / "exports"}"

        [[series]]
        id = "krw_usd"
        label = "KRW per USD"
        source = "csv"
        key = "krw.csv"
        freq = "B"
        calendar = "XKRX"
        units = "KRW per USD"
        release_lag_days = 1

        [[series]]
        id = "exports_total"
        label = "Exports"
        source = "csv"
        key = "exports.csv"
        freq = "M"
        units = "USD million"
        release_lag_days = 20

        [[rules]]
        name = "krw_usd_warning"
        kind = "level"
        series = "krw_usd"
        op = ">="
        threshold = 1450
        for = 1
        keep_firing_for = 1
        label = "KRW/USD"

        [[rules]]
        name = "krw_jump"
        kind = "change"
        series = "krw_usd"
        periods = 3
        mode = "pct"
        op = ">="
        threshold = 1
        label = "KRW/USD"

        [[rules]]
        name = "inputs_stale"
        kind = "data_health"
        series = ["*"]
        checks = ["stale", "missing", "source_down"]

        [[receivers]]
        name = "desk"
        kind = "file"
        directory = "{tmp / "mail"}"
        """)
    )
    return config


def backfill_day(config: Path, day: date) -> None:
    """`monitor backfill --from DAY --to DAY` (no catch-up, no mail), through the real pipeline."""
    cfg = load_config(config)
    request = RunRequest(as_of=day, today=TODAY, catch_up=False, notify=False, formats=("svg",), kind="backfill")
    run_daily(cfg, request, {}, logging.getLogger("test_point_in_time"))


def answers(tmp: Path, days: list[date]) -> dict[str, object]:
    """What the store and the exports say about each day, without what only says which run wrote it."""
    out: dict[str, object] = {}
    with Store.open(tmp / "store.sqlite") as store:
        for d in sorted(days):
            for sid in ("krw_usd", "exports_total"):
                out[f"as_of {sid} {d}"] = store.as_of(sid, d).to_dict()
            out[f"states {d}"] = [
                {**dict(r), "updated": None}
                for r in store.connection.execute(
                    "SELECT * FROM alert_states WHERE as_of=? ORDER BY fingerprint", (d.isoformat(),)
                )
            ]
    for d in days:
        summary = json.loads((tmp / "exports" / d.isoformat() / "run.json").read_text())
        # Left out: the run's id, and how each fetch went (a day run before a later one fetches; run after it,
        # it reads the store instead). `changed` says what changed since the last day evaluated before, which
        # depends on which days ran first by definition; the firing and pending alerts themselves do not.
        summary.pop("run_id")
        summary["fetch"] = {sid: (f["status"], f["last_date"]) for sid, f in summary["fetch"].items()}
        summary["alerts"] = [
            {k: v for k, v in a.items() if k != "changed"} for a in summary["alerts"] if a["state"] != "resolved"
        ]
        out[f"run.json {d}"] = summary
    return out


@pytest.mark.slow
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# A pair that once gave the data-health alert on exports_total (stale from 03-18) a `since` of the first day run.
@example(days=[date(2026, 3, 18), date(2026, 3, 19)], rnd=random.Random(0))
@given(st.lists(st.sampled_from(DAYS), min_size=2, max_size=3, unique=True), st.randoms(use_true_random=False))
def test_any_order_of_days_gives_the_answers_of_date_order(tmp_path_factory, days, rnd):
    order = list(days)
    rnd.shuffle(order)
    if order == sorted(days):
        order.reverse()
    results = []
    for sequence in (sorted(days), order):
        tmp = tmp_path_factory.mktemp("pit")
        config = write_config(tmp)
        for day in sequence:
            backfill_day(config, day)
        results.append(answers(tmp, days))
    in_order, shuffled = results
    assert shuffled == in_order
    for d in days:
        # An independent check of what a day knows: KRW up to the session before it (published a day late).
        krw = in_order[f"as_of krw_usd {d}"]
        assert max(krw) == max(pd.Timestamp(k) for k in KRW if date.fromisoformat(k) < d)


def test_a_backfill_before_a_later_run_reads_what_the_store_knew(tmp_path, capsys):
    """The issue's case: a run as of 03-31, then a backfill of 03-27. As of 03-27 the store must answer what a
    backfill of 03-27 alone answers: not 03-27's value (published a day later), nothing fetched on 03-31."""
    alone, after = tmp_path / "alone", tmp_path / "after"
    alone.mkdir(), after.mkdir()
    config_alone, config_after = write_config(alone), write_config(after)
    backfill_day(config_after, date(2026, 3, 31))
    backfill_day(config_after, date(2026, 3, 27))
    backfill_day(config_alone, date(2026, 3, 27))
    day = [date(2026, 3, 27)]
    assert answers(after, day) == answers(alone, day)
    with Store.open(after / "store.sqlite") as store:
        krw = store.as_of("krw_usd", "2026-03-27")
        # The value of 03-27 was first known (and fetched) later: as of 03-27 the last value is 03-26's.
        assert krw.index[-1] == pd.Timestamp("2026-03-26") and krw.iloc[-1] == KRW["2026-03-26"]
        # ... and no stored row is dated before the fetch that wrote it, except the first backfill's history.
        runs = [r["as_of"] for r in store.runs()]
        assert sorted(runs) == ["2026-03-27", "2026-03-31"]
        rows = store.vintages("krw_usd")
        assert (rows["realtime_start"] <= pd.Timestamp("2026-03-31")).all()
        assert len(rows) == len(rows.drop_duplicates("date"))  # the backfill added no vintage
    summary = json.loads((after / "exports" / "2026-03-27" / "run.json").read_text())
    assert summary["fetch"]["krw_usd"]["source"] == "store"
    assert "using what it knew on 2026-03-27" in summary["fetch"]["krw_usd"]["message"]
    capsys.readouterr()


# -- item 3 on the real history (../shared) ------------------------------------------------------------------
def headline(report: Path) -> str:
    """The report's headline card, with wall-clock fetch times (they differ between any two runs) blanked."""
    html = report.read_text()
    card = re.search(r'<div class="card status-[^"]*" id="headline">.*?<div class="card" id="changes">', html, re.S)
    assert card is not None
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<time>", card.group(0))


def without_ids(summary: dict) -> dict:
    """run.json without the store's row ids (the run's and the outbox message's), which count earlier runs."""
    notes = summary["notifications"]
    return {
        **summary,
        "run_id": None,
        "notifications": {**notes, "queued": sorted(notes["queued"]), "delivered": len(notes["delivered"])},
    }


@pytest.mark.slow
def test_a_later_day_run_first_leaks_nothing_into_an_earlier_day(replay_dir, replayed_run, tmp_path, capsys):
    """The offline quick start (`monitor run` today, every source down), then the replay as of 2026-03-27 in
    the same folder, says what the replay alone says (the session's shared run, tests/replayed.py, made the same
    way in a folder of its own). The offline run is made with an empty replay directory: every fetch fails as
    without a network, and no test may reach one."""
    nothing, folder = tmp_path / "no-network", tmp_path / "after_today"
    nothing.mkdir(), folder.mkdir()
    config = str(shipped_run_config(folder))
    now = today()
    assert run(["run", "--config", config, "--as-of", now.isoformat(), "--replay", str(nothing)]) == 1
    down = json.loads((folder / "exports" / now.isoformat() / "run.json").read_text())
    assert {f["status"] for f in down["fetch"].values()} == {"failed"}  # every source was down
    outputs = []
    # The shared run exited 1 (its fixture checks): the series with no real data in any form fail.
    for code, done in ((run_replay(folder, replay_dir), folder), (1, replayed_run)):
        out = done / "exports" / AS_OF
        outputs.append((code, headline(out / "report.html"), without_ids(json.loads((out / "run.json").read_text()))))
    (after_code, after_head, after_run), (alone_code, alone_head, alone_run) = outputs
    assert after_code == alone_code
    assert after_run == alone_run
    assert after_head == alone_head
    # The replay's own verdict, so that the comparison is not between two equally wrong answers.
    assert not any(a["summary"].endswith(": unhealthy") and "krw_usd" in a["alert"] for a in alone_run["alerts"])
    assert any(a["alert"] == "krw_usd_critical" and a["state"] == "firing" for a in alone_run["alerts"])
    capsys.readouterr()


def test_how_a_fetch_dates_its_rows():
    """The README's table: first fetch by the release lag; later dates after the store's last fetch; a revision
    on its fetch's day; a same-day re-run on that day; a live run at most today."""
    from series.fetch import to_observations
    from series.spec import SeriesSpec, SourceRef

    ref = SourceRef("csv", "k")
    spec = SeriesSpec("x", "x", "B", "u", ref, release_lag_days=3)
    frame = pd.DataFrame({"date": pd.to_datetime(["2026-03-02", "2026-03-10", "2026-03-16"]), "value": [1.0, 2, 3]})

    def dated(as_of: str, **kw: Any) -> dict[str, str]:
        out = to_observations(spec, ref, frame, date.fromisoformat(as_of), point_in_time=True, **kw)
        return {f"{d:%m-%d}": f"{r:%m-%d}" for d, r in zip(out["date"], out["realtime_start"], strict=True)}

    assert dated("2026-03-20") == {"03-02": "03-05", "03-10": "03-13", "03-16": "03-19"}  # first fetch
    assert dated("2026-03-20", known_through=date(2026, 3, 11)) == {
        "03-02": "03-12",
        "03-10": "03-13",
        "03-16": "03-19",
    }
    stored = pd.DatetimeIndex(["2026-03-02"])
    assert dated("2026-03-20", known_through=date(2026, 3, 6), stored_dates=stored)["03-02"] == "03-20"  # revision
    assert dated("2026-03-13", known_through=date(2026, 3, 13)) == {"03-02": "03-13", "03-10": "03-13"}  # re-run
    live = to_observations(spec, ref, frame, date(2026, 3, 17), point_in_time=False, known_through=date(2026, 3, 16))
    assert [f"{r:%m-%d}" for r in live["realtime_start"]] == ["03-17", "03-17", "03-17"]
