"""`monitor spillover FILE.csv`: Diebold-Yilmaz connectedness of the variables in a CSV file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from monitor.cli.app import app
from monitor.errors import InputDataError, MonitorError
from monitor.limits import MAX_DRAWS, MAX_HORIZON, MAX_LAGS

if TYPE_CHECKING:
    import pandas as pd

    from monitor.models.frequency import FrequencyTables
    from monitor.models.spillover import SpilloverTable


class Transform(StrEnum):
    log = "log"
    diff = "diff"
    log_diff = "log_diff"


class Scheduler(StrEnum):
    serial = "serial"
    processes = "processes"
    dask = "dask"


class Interval(StrEnum):
    percentile = "percentile"
    bias_corrected = "bias-corrected"


def _read_csv(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """The file as a frame indexed by date; leading/trailing rows with a gap are trimmed (with a note), any other
    problem is an InputDataError naming the file, column and row."""
    import numpy as np
    import pandas as pd

    if not path.is_file():
        raise InputDataError(f"{path}: no such file")
    from series.sources.base import exact_floats

    try:
        raw = pd.read_csv(path, skipinitialspace=True, **exact_floats())
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as e:
        raise InputDataError(f"{path}: not a readable CSV file ({str(e).splitlines()[0]})") from None
    if raw.shape[1] < 3:
        raise InputDataError(
            f"{path}: needs a date column and at least two variable columns, found {raw.shape[1]} column(s)"
        )
    first = raw.columns[0]
    if pd.api.types.is_numeric_dtype(raw[first]):
        raise InputDataError(
            f"{path}: the first column ({first}) must hold dates such as 2024-05-31, found numbers; "
            "put the date column first"
        )
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


def _print_table(table: SpilloverTable, title: str, bands: pd.DataFrame | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    names = table.variables
    caption = f"TCI {table.tci:.2f}%   cTCI {table.ctci:.2f}%"
    if bands is not None:
        how = [f"{bands.attrs['draws']} draws"]
        if bands.attrs["block_length"] is not None:
            how.append(f"stationary blocks of mean length {bands.attrs['block_length']:g}")
        if bands.attrs["interval"] != "percentile":
            how.append(bands.attrs["interval"].replace("_", "-"))
        caption += (
            f"\n{bands.attrs['level']:.0%} bootstrap band ({', '.join(how)}): TCI [{bands.at['TCI', 'lo']:.2f}, "
            f"{bands.at['TCI', 'hi']:.2f}]   cTCI [{bands.at['cTCI', 'lo']:.2f}, {bands.at['cTCI', 'hi']:.2f}]"
        )
    grid = Table(title=title, caption=caption)
    grid.add_column("receiver \\ giver", style="bold")
    for name in names:
        grid.add_column(name, justify="right")
    grid.add_column("FROM", justify="right", style="bold")
    for i, name in enumerate(names):
        grid.add_row(name, *(f"{v:.2f}" for v in table.matrix[i]), f"{table.from_[i]:.2f}")
    grid.add_section()
    grid.add_row("TO", *(f"{v:.2f}" for v in table.to), f"{table.to.sum():.2f}")
    grid.add_row("NET", *(f"{v:+.2f}" for v in table.net), "")
    if bands is not None:
        grid.add_row(
            "NET band", *(f"[{bands.at[f'NET_{v}', 'lo']:+.1f}, {bands.at[f'NET_{v}', 'hi']:+.1f}]" for v in names), ""
        )
    grid.add_row("NPT", *(str(int(v)) for v in table.npt), "")
    Console(width=max(100, 14 * (len(names) + 2))).print(grid)


@app.command("spillover")
def spillover(
    file: Annotated[Path, typer.Argument(help="CSV file: first column the date, every other column a variable.")],
    lags: Annotated[int, typer.Option("--lags", "-p", min=1, max=MAX_LAGS, help="VAR lag order P.")],
    horizon: Annotated[
        int,
        typer.Option(
            "--horizon", "-H", min=1, max=MAX_HORIZON, help="H: MA terms h = 0..H-1 (ConnectednessApproach's nfore)."
        ),
    ],
    window: Annotated[
        int | None,
        # Bounded by the data: shorter than the regression needs, or longer than the file, is one clear line.
        typer.Option("--window", "-w", help="Rolling window W in rows (needs --out)."),
    ] = None,
    tvp: Annotated[
        bool, typer.Option("--tvp", help="TVP-VAR (Antonakakis et al. 2020) instead (needs --out).")
    ] = False,
    orthogonal: Annotated[bool, typer.Option("--orthogonal", help="Cholesky FEVD in column order.")] = False,
    transform: Annotated[Transform | None, typer.Option("--transform", help="Transform every column first.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full-sample result as JSON.")] = False,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write the per-date series (CSV).")] = None,
    kappa1: Annotated[float, typer.Option("--kappa1", help="TVP-VAR forgetting factor of the coefficients.")] = 0.99,
    kappa2: Annotated[float, typer.Option("--kappa2", help="TVP-VAR decay factor of the error covariance.")] = 0.99,
    prior_window: Annotated[
        int | None, typer.Option("--prior-window", help="TVP-VAR prior from the first N rows (default: 200 - lags).")
    ] = None,
    bands: Annotated[
        float | None,
        typer.Option("--bands", help="Bootstrap bands at this level, e.g. 0.9 (the 5th-95th percentiles)."),
    ] = None,
    draws: Annotated[
        int | None,
        typer.Option("--draws", help="Bootstrap draws per window [default: 500]."),
    ] = None,
    block_length: Annotated[
        float | None,
        typer.Option(
            "--block-length", help="Stationary bootstrap of the residuals, mean block length L (default iid)."
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the bootstrap [default: 0].")] = None,
    interval: Annotated[
        Interval | None,
        typer.Option("--interval", help="percentile, or bias-corrected for weakly connected systems."),
    ] = None,
    scheduler: Annotated[
        Scheduler | None, typer.Option("--scheduler", help="Where the bootstrap runs [default: serial].")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Worker processes for processes/dask [default: CPU count].")
    ] = None,
    address: Annotated[
        str | None, typer.Option("--address", help="Dask scheduler, e.g. tcp://host:8786 (default: a local cluster).")
    ] = None,
    frequency: Annotated[
        str | None,
        typer.Option(
            "--frequency",
            help="Frequency bands (Barunik-Krehlik): cut points in rows (sessions), e.g. 5,20 for 1-5, 5-20, 20+.",
        ),
    ] = None,
    frequency_grid: Annotated[
        int | None,
        typer.Option("--frequency-grid", min=1, help="DFT bins of the frequency bands (default: H, at least H)."),
    ] = None,
) -> None:
    """Diebold-Yilmaz connectedness table of a VAR(P) with a constant (generalized FEVD unless --orthogonal).

    Table rows receive, columns transmit (percent); FROM/TO/NET per variable, TCI and corrected TCI.
    With --window or --tvp the per-date measures go to --out; the table printed is the full-sample one (the
    average of the per-date tables for --tvp). With --bands, residual-bootstrap bands of every measure: in --json
    under "bands", in OUT.csv as <measure>_lo and <measure>_hi columns. With --frequency, the table split over
    frequency bands (absolute and within, see monitor.models.frequency): in --json under "frequency", in OUT.csv
    as <band>:<measure> and <band>:within:<measure> columns.
    """
    import json

    import pandas as pd

    from monitor.models.spillover import connectedness, rolling_connectedness, tvp_connectedness
    from monitor.transforms import transform_frame

    if window is not None and tvp:
        raise MonitorError("use either --window or --tvp, not both")
    if (window is not None or tvp) and out is None:
        raise MonitorError("--out OUT.csv is required with --window and --tvp (the per-date series go there)")
    band_spec = _band_spec(bands, draws, block_length, seed, interval, tvp)
    cuts = _cuts(frequency, frequency_grid, horizon)
    compute = _compute(scheduler, workers, address, band_spec is not None)
    frame, notes = _read_csv(file)
    if transform:
        # The first row(s) have no predecessor after differencing: expected, so no note.
        frame, _ = _trim(transform_frame(frame, transform.value), f"{file} after {transform.value}")
    for note in notes:
        typer.echo(note, err=True)

    per_date: Any = None
    full_bands: pd.DataFrame | None = None
    freq: FrequencyTables | None = None
    if tvp:
        result = tvp_connectedness(frame, lags, horizon, kappa1, kappa2, prior_window, orthogonal=orthogonal)
        table, per_date = result.table, result.frame
        title = f"TVP-VAR({lags}), H = {horizon}, average of {len(per_date)} dates"
        if cuts is not None:
            from monitor.models.frequency import tvp_frequency

            by_band, freq = tvp_frequency(
                frame, lags, horizon, cuts, kappa1, kappa2, prior_window, grid=frequency_grid, orthogonal=orthogonal
            )
            per_date = pd.concat([per_date, by_band], axis=1)
    else:
        table = connectedness(frame, lags, horizon, orthogonal=orthogonal)
        title = f"VAR({lags}), H = {horizon}, {table.nobs} observations"
        if window is not None:
            per_date = rolling_connectedness(frame, lags, horizon, window, orthogonal=orthogonal)
        if band_spec is not None:
            full_bands, per_date = _bands(frame, lags, horizon, window, orthogonal, band_spec, compute, per_date)
        if cuts is not None:
            from monitor.models.frequency import frequency_connectedness, rolling_frequency

            freq = frequency_connectedness(frame, lags, horizon, cuts, grid=frequency_grid, orthogonal=orthogonal)
            if window is not None:
                by_band = rolling_frequency(
                    frame, lags, horizon, window, cuts, grid=frequency_grid, orthogonal=orthogonal
                )
                per_date = pd.concat([per_date, by_band], axis=1)
    title = ("Orthogonal " if orthogonal else "Generalized ") + title + ", percent"

    if out is not None:
        _write_csv(per_date if per_date is not None else table.frame(), out)
    if as_json:
        payload = table.payload()
        if full_bands is not None:
            payload["bands"] = _bands_payload(full_bands, table.variables)
        if freq is not None:
            payload["frequency"] = _frequency_payload(freq)
        typer.echo(json.dumps(payload))
    else:
        _print_table(table, title, full_bands)
        if freq is not None:
            _print_frequency(freq)
        if out is not None:
            what = f"{len(per_date)} dates" if per_date is not None else "the table"
            typer.echo(f"wrote {what} to {out}")


def _cuts(text: str | None, grid: int | None, horizon: int) -> tuple[float, ...] | None:
    """The frequency cut points from --frequency (None without it); --frequency-grid alone is a usage error."""
    if text is None:
        if grid is not None:
            raise MonitorError("--frequency-grid sets up the frequency bands: add --frequency CUTS (e.g. 5,20)")
        return None
    from monitor.models.frequency import parse_cuts

    if grid is not None and grid < horizon:
        raise MonitorError(f"--frequency-grid must be at least the horizon H = {horizon}, got {grid}")
    try:
        return parse_cuts(text)
    except InputDataError as e:
        raise MonitorError(f"--frequency: {e}") from None


def _frequency_payload(freq: FrequencyTables) -> dict[str, Any]:
    """The JSON shape of the band tables: per band label its absolute and within table payloads."""
    return {
        "cuts": list(freq.cuts),
        "grid": freq.grid,
        "bands": {
            label: {"absolute": a.payload(), "within": w.payload()}
            for label, a, w in zip(freq.labels, freq.absolute, freq.within, strict=True)
        },
    }


def _print_frequency(freq: FrequencyTables) -> None:
    from rich.console import Console
    from rich.table import Table

    names = freq.absolute[0].variables
    grid = Table(
        title=f"Frequency bands (Barunik-Krehlik), periods in rows, {freq.grid} DFT bins",
        caption="absolute: the band's part of the table (adds up to it); within: the band on its own",
    )
    for col in ("band", "TCI abs", "TCI within", *(f"NET {v}" for v in names)):
        grid.add_column(col, justify="left" if col == "band" else "right")
    for label, a, w in zip(freq.labels, freq.absolute, freq.within, strict=True):
        grid.add_row(label, f"{a.tci:.2f}", f"{w.tci:.2f}", *(f"{x:+.2f}" for x in a.net))
    Console(width=max(100, 14 * (len(names) + 3))).print(grid)


def _band_spec(
    level: float | None,
    draws: int | None,
    block_length: float | None,
    seed: int | None,
    interval: Interval | None,
    tvp: bool,
) -> Any:
    """The bootstrap settings from the options, or None without --bands; each bad value is named."""
    from monitor.spec import BandSpec

    if level is None:
        given = [
            o for o, v in (("--draws", draws), ("--block-length", block_length), ("--seed", seed)) if v is not None
        ]
        given += ["--interval"] if interval is not None else []
        if given:
            verb = "sets" if len(given) == 1 else "set"
            raise MonitorError(
                f"{', '.join(given)} {verb} up the bootstrap bands: add --bands LEVEL (e.g. --bands 0.9)"
            )
        return None
    if tvp:
        raise MonitorError("--bands bootstraps VAR models, not the TVP-VAR: drop --tvp (use --window) or --bands")
    checks = [
        (0.0 < level < 1.0, f"--bands must be between 0 and 1 (0.9 = the 5th to 95th percentiles), got {level}"),
        (draws is None or draws >= 1, f"--draws must be at least 1, got {draws}"),
        (draws is None or draws <= MAX_DRAWS, f"--draws must be at most {MAX_DRAWS:,} (as in config), got {draws}"),
        (
            block_length is None or block_length >= 1,
            f"--block-length must be at least 1 (the mean block length in rows), got {block_length}",
        ),
        (seed is None or seed >= 0, f"--seed must be a non-negative whole number, got {seed}"),
    ]
    for ok, message in checks:
        if not ok:
            raise MonitorError(message)
    return BandSpec(
        level=level,
        draws=500 if draws is None else draws,
        block_length=block_length,
        seed=0 if seed is None else seed,
        interval=(interval or Interval.percentile).value.replace("-", "_"),
    )


def _compute(scheduler: Scheduler | None, workers: int | None, address: str | None, banded: bool) -> Any:
    import os

    from monitor.compute import Compute

    if not banded:
        given = [
            o for o, v in (("--scheduler", scheduler), ("--workers", workers), ("--address", address)) if v is not None
        ]
        if given:
            verb = "applies" if len(given) == 1 else "apply"
            raise MonitorError(f"{', '.join(given)} only {verb} to the bootstrap: add --bands LEVEL (e.g. --bands 0.9)")
        return None
    if workers is not None and workers < 1:
        raise MonitorError(f"--workers must be at least 1, got {workers}")
    if address and scheduler is not Scheduler.dask:
        raise MonitorError("--address is the Dask scheduler's: add --scheduler dask")
    chosen = (scheduler or Scheduler.serial).value
    return Compute(chosen, workers or os.cpu_count() or 1, address or "")


def _bands(
    frame: pd.DataFrame,
    lags: int,
    horizon: int,
    window: int | None,
    orthogonal: bool,
    spec: Any,
    compute: Any,
    per_date: pd.DataFrame | None,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Full-sample bands, and the rolling frame with its band columns (both runs share one batch of chunks)."""
    import pandas as pd

    from monitor.models.bands import full_sample_job, rolling_job, run_jobs

    jobs = [full_sample_job(frame, lags, horizon, spec, orthogonal=orthogonal)]
    if window is not None:
        jobs.append(rolling_job(frame, lags, horizon, window, spec, orthogonal=orthogonal))
    with compute, _progress(compute, "bootstrap"):
        frames = run_jobs(jobs, compute)
    if window is not None and per_date is not None:
        per_date = pd.concat([per_date, frames[1]], axis=1)
    return frames[0], per_date


@contextmanager
def _progress(compute: Any, what: str) -> Iterator[None]:
    """A progress bar on stderr while chunks finish, on a terminal only (cron and pipes stay quiet)."""
    from monitor.cli.common import is_tty

    if not is_tty():
        yield
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(what, total=None)
        compute.progress = lambda done, total: bar.update(task, completed=done, total=total)
        try:
            yield
        finally:
            compute.progress = None


def _bands_payload(bands: pd.DataFrame, names: tuple[str, ...]) -> dict[str, Any]:
    """The JSON shape of the full-sample bands, keyed like the table's payload; npdc has both directions
    (the band of NPDC_b_a is minus the band of NPDC_a_b, its ends swapped)."""

    def band(measure: str) -> dict[str, float]:
        return {"lo": float(bands.at[measure, "lo"]), "hi": float(bands.at[measure, "hi"])}

    npdc: dict[str, dict[str, dict[str, float]]] = {a: {} for a in names}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            ab = band(f"NPDC_{a}_{b}")
            npdc[a][b] = ab
            npdc[b][a] = {"lo": -ab["hi"], "hi": -ab["lo"]}
    return {
        **{k: bands.attrs[k] for k in ("level", "draws", "block_length", "seed", "interval")},
        "tci": band("TCI"),
        "ctci": band("cTCI"),
        "from": {v: band(f"FROM_{v}") for v in names},
        "to": {v: band(f"TO_{v}") for v in names},
        "net": {v: band(f"NET_{v}") for v in names},
        "npdc": npdc,
    }
