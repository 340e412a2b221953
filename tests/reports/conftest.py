"""The report fixture (tests/reports/fixture.py) is built and exported once per session: the modules that only
read it share it (each test derives variants with dataclasses.replace, never changing it)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from reports.context import ReportContext
from reports.export import ExportResult, export_all
from tests.reports.fixture import AS_OF, context


@pytest.fixture(scope="session")
def report_fixture(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReportContext, dict[str, pd.Series]]:
    return context(tmp_path_factory.mktemp("store") / "m.sqlite")


@pytest.fixture(scope="session")
def report_exported(
    report_fixture: tuple[ReportContext, dict[str, pd.Series]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[ReportContext, ExportResult, Path]:
    """The fixture exported in every format, as `monitor run` does: (context, export result, exports root)."""
    ctx, _ = report_fixture
    root = tmp_path_factory.mktemp("exports")
    return ctx, export_all(ctx, root, run={"status": "ok", "as_of": AS_OF.isoformat(), "fired": []}), root
