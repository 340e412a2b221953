"""The `monitor` command line. `main()` is the only place that turns exceptions into messages and exit codes.

Each command group lives in its own module and registers itself on `app`; the modules import pandas, statsmodels
and friends inside the command functions so that `monitor --help` starts fast.
"""

from __future__ import annotations

import os
import sys

import typer
from typer.exceptions import TyperException

from monitor.errors import MonitorError

app = typer.Typer(
    help="Korea macro & market monitor: fetch, model spillovers, evaluate risk rules, e-mail and export.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"monitor {version('kr-macro-monitor')}")
        except PackageNotFoundError:  # run from a source tree that was never installed
            typer.echo("monitor (not installed: no version)")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Korea macro & market monitor: fetch, model spillovers, evaluate risk rules, e-mail and export."""


# Registration by import: each module adds its commands to `app`.
from monitor.cli import (  # noqa: E402,F401
    alerts_cmd,
    config_cmd,
    fetch_cmd,
    run_cmd,
    series_cmd,
    spillover_cmd,
    store_cmd,
)

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3


def _fail(message: str, code: int) -> int:
    # One line, no traceback: the scheduler's mail and the user's terminal both stay readable.
    typer.echo(f"error: {message}", err=True)
    return code


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code (used by `main` and by tests)."""
    from series.errors import SeriesError

    try:
        rv = app(args=argv, prog_name="monitor", standalone_mode=False)
    except typer.Exit as e:  # raised by typer.Exit and --help
        return int(getattr(e, "exit_code", 0) or 0)
    except typer.Abort:
        return _fail("aborted", 130)
    except TyperException as e:  # usage errors: bad option, missing argument, bad value ...
        message = e.format_message() if hasattr(e, "format_message") else str(e)
        if not message.strip():  # `monitor series` without a subcommand: the help was printed
            return EXIT_USAGE
        return _fail(message.replace("\n", " "), EXIT_USAGE)
    except (MonitorError, SeriesError) as e:
        return _fail(str(e), e.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except Exception as e:
        if os.environ.get("MONITOR_DEBUG"):
            raise
        text = " ".join(str(e).split())  # some library messages span lines (a parser's caret diagram)
        return _fail(
            f"unexpected {type(e).__name__}: {text} (set MONITOR_DEBUG=1 for the traceback and please report it)",
            EXIT_ERRORS,
        )
    return int(rv or 0)


def main() -> None:
    sys.exit(run())
