"""`monitor spillover FILE.csv`: Diebold-Yilmaz connectedness of the variables in a CSV file."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from monitor.cli import app
from monitor.errors import InputDataError, MonitorError

if TYPE_CHECKING:
    import pandas as pd

    from monitor.models.spillover import SpilloverTable


class Transform(StrEnum):
    log = "log"
    diff = "diff"
    log_diff = "log_diff"


def _read_csv(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """The file as a frame indexed by date; leading/trailing rows with a gap are trimmed (with a note), any other
    problem is an InputDataError naming the file, column and row."""
    import numpy as np
    import pandas as pd

    if not path.is_file():
        raise InputDataError(f"{path}: no such file")
    try:
        raw = pd.read_csv(path, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as e:
        raise InputDataError(f"{path}: not a readable CSV file ({str(e).splitlines()[0]})") from None
    if raw.shape[1] < 3:
        raise InputDataError(
            f"{path}: needs a date column and at least two variable columns, found {raw.shape[1]} column(s)"
        )
    first = raw.columns[0]
    dates = pd.to_datetime(raw[first], errors="coerce", format="mixed")
    if dates.isna().any():
        row = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise InputDataError(
            f"{path}: the first column ({first}) must hold dates; row {row + 2} has {raw[first].iloc[row]!r}"
        )
    frame = raw.drop(columns=[first])
    for col in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col]):
            continue
        numbers = pd.to_numeric(frame[col], errors="coerce")
        bad = numbers.isna() & frame[col].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputDataError(
                f"{path}: column {col} is not numeric: row {row + 2} ({dates.iloc[row]:%Y-%m-%d}) has "
                f"{frame[col].iloc[row]!r}"
            )
        frame[col] = numbers
    frame.index = pd.DatetimeIndex(dates, name=str(first))
    return _trim(frame, str(path))


def _trim(frame: pd.DataFrame, label: str) -> tuple[pd.DataFrame, list[str]]:
    complete = frame.notna().all(axis=1).to_numpy()
    if not complete.any():
        raise InputDataError(f"{label}: no row has a value for every variable")
    first, last = int(complete.argmax()), len(complete) - 1 - int(complete[::-1].argmax())
    notes = []
    if first or last < len(frame) - 1:
        notes.append(
            f"note: {label}: using {frame.index[first]:%Y-%m-%d} to {frame.index[last]:%Y-%m-%d}, the rows where "
            f"every variable has a value ({first} leading and {len(frame) - 1 - last} trailing row(s) left out)"
        )
    return frame.iloc[first : last + 1], notes


def _write_csv(frame: pd.DataFrame, out: Path) -> None:
    tmp = out.with_name(out.name + ".tmp")
    try:
        frame.to_csv(tmp, index_label="date")
        tmp.replace(out)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise MonitorError(f"cannot write {out}: {e.strerror or e}") from None


def _print_table(table: SpilloverTable, title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    names = table.variables
    grid = Table(title=title, caption=f"TCI {table.tci:.2f}%   cTCI {table.ctci:.2f}%")
    grid.add_column("receiver \\ giver", style="bold")
    for name in names:
        grid.add_column(name, justify="right")
    grid.add_column("FROM", justify="right", style="bold")
    for i, name in enumerate(names):
        grid.add_row(name, *(f"{v:.2f}" for v in table.matrix[i]), f"{table.from_[i]:.2f}")
    grid.add_section()
    grid.add_row("TO", *(f"{v:.2f}" for v in table.to), f"{table.to.sum():.2f}")
    grid.add_row("NET", *(f"{v:+.2f}" for v in table.net), "")
    grid.add_row("NPT", *(str(int(v)) for v in table.npt), "")
    Console(width=max(100, 14 * (len(names) + 2))).print(grid)


@app.command("spillover")
def spillover(
    file: Path = typer.Argument(..., help="CSV file: first column the date, every other column a variable."),
    lags: int = typer.Option(..., "--lags", "-p", min=1, help="VAR lag order P."),
    horizon: int = typer.Option(
        ..., "--horizon", "-H", min=1, help="H: MA terms h = 0..H-1 (ConnectednessApproach's nfore)."
    ),
    window: int | None = typer.Option(None, "--window", "-w", help="Rolling window W in rows (needs --out)."),
    tvp: bool = typer.Option(False, "--tvp", help="TVP-VAR (Antonakakis et al. 2020) instead (needs --out)."),
    orthogonal: bool = typer.Option(False, "--orthogonal", help="Cholesky FEVD in column order."),
    transform: Transform | None = typer.Option(None, "--transform", help="Transform every column first."),
    as_json: bool = typer.Option(False, "--json", help="Print the full-sample result as JSON."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Where to write the per-date series (CSV)."),
    kappa1: float = typer.Option(0.99, "--kappa1", help="TVP-VAR forgetting factor of the coefficients."),
    kappa2: float = typer.Option(0.99, "--kappa2", help="TVP-VAR decay factor of the error covariance."),
    prior_window: int | None = typer.Option(
        None, "--prior-window", help="TVP-VAR prior from the first N rows (default: all rows)."
    ),
) -> None:
    """Diebold-Yilmaz connectedness table of a VAR(P) with a constant (generalized FEVD unless --orthogonal).

    Table rows receive, columns transmit (percent); FROM/TO/NET per variable, TCI and corrected TCI.
    With --window or --tvp the per-date measures go to --out; the table printed is the full-sample one (the
    average of the per-date tables for --tvp).
    """
    import json

    from monitor.models.spillover import connectedness, rolling_connectedness, tvp_connectedness
    from monitor.transforms import transform_frame

    if window is not None and tvp:
        raise MonitorError("use either --window or --tvp, not both")
    if (window is not None or tvp) and out is None:
        raise MonitorError("--out OUT.csv is required with --window and --tvp (the per-date series go there)")
    frame, notes = _read_csv(file)
    if transform:
        # The first row(s) have no predecessor after differencing: expected, so no note.
        frame, _ = _trim(transform_frame(frame, transform.value), f"{file} after {transform.value}")
    for note in notes:
        typer.echo(note, err=True)

    per_date: Any = None
    if tvp:
        result = tvp_connectedness(frame, lags, horizon, kappa1, kappa2, prior_window, orthogonal=orthogonal)
        table, per_date = result.table, result.frame
        title = f"TVP-VAR({lags}), H = {horizon}, average of {len(per_date)} dates"
    else:
        table = connectedness(frame, lags, horizon, orthogonal=orthogonal)
        title = f"VAR({lags}), H = {horizon}, {table.nobs} observations"
        if window is not None:
            per_date = rolling_connectedness(frame, lags, horizon, window, orthogonal=orthogonal)
    title = ("Orthogonal " if orthogonal else "Generalized ") + title + ", percent"

    if out is not None:
        _write_csv(per_date if per_date is not None else table.frame(), out)
    if as_json:
        typer.echo(json.dumps(table.payload()))
    else:
        _print_table(table, title)
        if out is not None:
            what = f"{len(per_date)} dates" if per_date is not None else "the table"
            typer.echo(f"wrote {what} to {out}")
