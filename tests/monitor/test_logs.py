"""The run's logging: whatever logs (our code, the data layer, a library, a Python warning), --log-format json
gets one redacted JSON object per line, never a bare line from Python's last-resort handler."""

from __future__ import annotations

import io
import json
import logging
import warnings
from collections.abc import Iterator

import pytest

from monitor.logs import setup

SECRET = "s3cr3t-ECOS-key-0123"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    logging.captureWarnings(False)  # an earlier command in this process may have switched it on already
    yield
    for h in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(h)
    root.setLevel(level)
    logging.captureWarnings(False)


def test_every_record_is_one_redacted_json_line() -> None:
    out = io.StringIO()
    log = setup("json", [SECRET], stream=out)
    log.info("run started")
    logging.getLogger("series.http").warning("[ecos] probe: HTTP 500 (/api/%s/json); retry 1 of 4 in 1.0 s", SECRET)
    logging.getLogger("series.sources.krx").info("pykrx: logged in")
    logging.getLogger("yfinance").error("1 Failed download")
    logging.getLogger("urllib3.connectionpool").debug("below WARNING: not shown for a library")
    warnings.warn("a library says something", UserWarning, stacklevel=1)
    entries = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["event"] for e in entries] == ["monitor", "series.http", "series.sources.krx", "yfinance", "py.warnings"]
    assert SECRET not in out.getvalue() and "/api/***/json" in entries[1]["message"]
    assert entries[1]["level"] == "warning"


def test_a_second_setup_replaces_the_first_and_follows_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    first = io.StringIO()
    setup("json", [], stream=first)
    setup("human", [])  # no stream: whatever sys.stderr is when a record comes
    logging.getLogger("series.http").warning("retry 1 of 4")
    assert first.getvalue() == ""
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].endswith("warning: retry 1 of 4")
