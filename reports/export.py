"""Write `exports/<as_of>/`: every chart as PNG, SVG and PDF, CSV tables, run.json and report.html.

Files are written to a temporary name and moved into place, so a crash never leaves a half-written report, and
re-running a date rewrites the same files. Only the run itself writes `exports/<as_of>/`; a dry run writes
`exports/<as_of>/dry-run/` (its e-mails in `dry-run/mail/`) and `monitor report` `exports/<as_of>/report/`, so
neither ever replaces what the run reported.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from monitor.models.groups import group_summary
from reports import charts
from reports.context import ReportContext
from reports.drawing import Painters, draw_all
from reports.html import render_report
from series import numbers


@dataclass(frozen=True)
class ExportResult:
    directory: Path
    charts: dict[str, list[Path]]  # chart name -> files
    skipped: dict[str, str]  # chart name -> why it was not drawn (its data are missing: not an error)
    report: Path
    pngs: dict[str, bytes]  # for the e-mail's inline images
    failed: dict[str, str] = field(default_factory=dict)  # chart name -> why drawing it failed (an error)

    @property
    def problems(self) -> list[str]:
        return chart_problems(self.failed)


def chart_problems(failed: Mapping[str, str]) -> list[str]:
    return [f"chart {name}: {why}" for name, why in sorted(failed.items())]


DRY_RUN, REPORT_ONLY = "dry-run", "report"  # the subfolders of exports/<as_of>/ that are not the run's own


def export_dir(root: Path, as_of: date, variant: str = "") -> Path:
    """exports/<as_of>/ for the run, exports/<as_of>/<variant>/ for a dry run (DRY_RUN) or `monitor report`
    (REPORT_ONLY)."""
    out = Path(root) / as_of.isoformat()
    return out / variant if variant else out


def export_all(
    ctx: ReportContext,
    root: Path,
    formats: Sequence[str] = charts.FORMATS,
    run: Mapping[str, Any] | None = None,
    variant: str = "",
    painters: Painters | None = None,
) -> ExportResult:
    """painters: processes to share the drawing with (reports.drawing); without, every chart is drawn here."""
    out = export_dir(root, ctx.as_of, variant)
    (out / "charts").mkdir(parents=True, exist_ok=True)
    drawn: dict[str, list[Path]] = {}
    pngs: dict[str, bytes] = {}
    skipped: dict[str, str] = {}
    failed: dict[str, str] = {}
    for chart in draw_all(ctx, charts.names(), formats, painters):
        if chart.failed:
            failed[chart.name] = chart.failed
            skipped[chart.name] = f"failed: {chart.failed}"
        elif chart.skipped:
            skipped[chart.name] = chart.skipped
        else:
            pngs[chart.name] = chart.images["png"]
            files: list[Path] = []
            for fmt in formats:
                path = out / "charts" / f"{chart.name}.{fmt}"
                _write_bytes(path, chart.images[fmt])
                files.append(path)
            drawn[chart.name] = files
    if failed:
        # run.json and the report's problem list name the failed charts too.
        run = _with_problems(run if run is not None else ctx.run, chart_problems(failed))
        ctx = replace(ctx, run=run)
    _write_tables(ctx, out)
    _write_text(
        out / "run.json",
        json.dumps(run if run is not None else dict(ctx.run), indent=2, sort_keys=True, default=str) + "\n",
    )
    report = out / "report.html"
    _write_text(report, render_report(ctx, pngs, skipped))
    return ExportResult(out, drawn, skipped, report, pngs, failed)


def _with_problems(run: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    out = {**run, "failed": [*run.get("failed", []), *problems]}
    if "exit_code" in run:  # a daily run's summary: now done with errors
        out.update(status="errors", exit_code=1)
    return out


def _write_tables(ctx: ReportContext, out: Path) -> None:
    rows = []
    for sid, s in ctx.series.items():
        s = s.dropna() if s is not None else s
        if s is None or s.empty:
            continue
        info = ctx.info.get(sid)
        rows.append(
            {
                "series": sid,
                "label": info.label if info else sid,
                "date": f"{s.index[-1]:%Y-%m-%d}",
                "value": numbers.shown(float(s.iloc[-1]), info.units if info else ""),
                "units": numbers.display(info.units).units if info else "",
                "source": info.source if info else "",
                "key": info.key if info else "",
            }
        )
    _write_text(out / "latest_values.csv", pd.DataFrame(rows).to_csv(index=False))
    for name, model in ctx.models.items():
        current = model.current_table
        if current is not None:
            _write_text(out / f"spillover_{name}_table.csv", current.frame().to_csv(float_format="%.6f"))
            pairs = current.pairwise_frame().to_csv(index=False, float_format="%.6f")  # PCI, influence (Gabauer)
            _write_text(out / f"spillover_{name}_pairwise.csv", pairs)
        frequency = _frequency_tables(model.extra.get("frequency"))
        if frequency is not None:
            _write_text(out / f"spillover_{name}_frequency.csv", frequency.to_csv(float_format="%.6f"))
        if model.latest_table is not None and model.table is not None:
            full = model.table.frame().to_csv(float_format="%.6f")
            _write_text(out / f"spillover_{name}_table_full_sample.csv", full)
        if model.rolling is not None and not model.rolling.empty:  # with <measure>_lo/_hi band columns, if any
            _write_text(
                out / f"spillover_{name}_rolling.csv",
                model.rolling.to_csv(float_format="%.6f", date_format="%Y-%m-%d", index_label="date"),
            )
        if model.bands is not None:
            _write_text(out / f"spillover_{name}_bands.csv", model.bands.to_csv(float_format="%.6f"))
    summary = group_summary(m for m in ctx.models.values() if not m.error)
    if not summary.empty:
        _write_text(
            out / "model_groups_summary.csv",
            summary.to_csv(index=False, float_format="%.6f", date_format="%Y-%m-%d"),
        )


def _frequency_tables(stored: dict | None) -> pd.DataFrame | None:
    """The stored frequency band tables (the latest window's, else the full sample's; absolute and within) as one
    frame indexed by band, form and receiver, or None."""
    from monitor.models.frequency import FrequencyTables

    if not stored:
        return None
    tables = FrequencyTables.from_dict(stored.get("latest") or stored["table"])
    parts = {
        (label, form): table.frame()
        for label, absolute, within in zip(tables.labels, tables.absolute, tables.within, strict=True)
        for form, table in (("absolute", absolute), ("within", within))
    }
    return pd.concat(parts, names=["band", "form", "receiver"])


def _write_text(path: Path, text: str) -> None:
    _write_bytes(path, text.encode("utf-8"))


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
