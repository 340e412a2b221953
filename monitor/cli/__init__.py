"""The `monitor` command line. `main()` is the only place that turns exceptions into messages and exit codes.

Each command group lives in its own module and registers itself on `app`; the modules import pandas, statsmodels
and friends inside the command functions so that `monitor --help` starts fast.
"""

from __future__ import annotations

import gc
import os
import sys

import typer
from typer.exceptions import TyperException

# Registration by import: each module adds its commands to `app`.
from monitor.cli import (  # noqa: F401
    alerts_cmd,
    config_cmd,
    fetch_cmd,
    init_cmd,
    run_cmd,
    series_cmd,
    spillover_cmd,
    store_cmd,
)
from monitor.cli.app import app
from monitor.errors import MonitorError

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
    code = run()
    # The command is done and has closed what it opened; what is left is mostly the libraries it imported
    # (pandas, scipy, statsmodels, matplotlib). Frozen, they are skipped by the collections the interpreter runs
    # as it shuts down, which would otherwise walk them for about half a second after a daily run (measured with
    # bench/daily.py's process line). Nothing is skipped that closes a file: the store, logs and exports are
    # closed by the command itself, and atexit handlers still run.
    gc.freeze()
    sys.exit(code)
