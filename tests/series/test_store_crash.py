"""A writer killed with SIGKILL mid-write leaves the store readable, without a partial fetch, and unlocked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from series.store import Store

WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np, pandas as pd
    from series.store import Payload, Store

    store = Store.open(sys.argv[1], writer="crash-test writer")
    n = 150_000  # big enough that one transaction takes a noticeable time
    for k in range(1, 50):
        dates = pd.date_range("1700-01-01", periods=n, freq="D")
        obs = pd.DataFrame({"date": dates, "value": np.arange(n) * 1.0 + k, "realtime_start": dates})
        print(f"begin {k}", flush=True)
        store.save_fetch(series_id=f"s{k}", source="t", key="k", payloads=[Payload(bytes(k) * 1000, "u", "t/k")],
                         observations=obs)
        print(f"done {k}", flush=True)
    """
)


def test_sigkill_mid_write_leaves_no_partial_fetch(tmp_path):
    path = tmp_path / "m.sqlite"
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    seen = []
    assert child.stdout is not None
    for line in child.stdout:
        seen.append(line.strip())
        if line.strip() == "begin 2":
            break
    time.sleep(0.3)  # inside the second fetch's transaction
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert "done 1" in seen and child.returncode == -signal.SIGKILL

    with Store.open(path, writer="after the crash") as store:  # the kernel released the lock
        assert store.connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        fetches = store.fetches()
        assert [f["series_id"] for f in fetches][:1] == ["s1"]
        for f in fetches:  # every recorded fetch has all of its observations ...
            n = store.connection.execute("SELECT COUNT(*) FROM observations WHERE fetch_id=?", (f["id"],)).fetchone()[0]
            assert n == f["n_added"] == 150_000
        # ... and no observation exists without its fetch
        orphans = store.connection.execute(
            "SELECT COUNT(*) FROM observations WHERE fetch_id NOT IN (SELECT id FROM fetches)"
        ).fetchone()[0]
        assert orphans == 0
        assert store.count() == 150_000 * len(fetches)
        assert len(fetches) == 1, "the kill should have landed inside the second fetch's transaction"
