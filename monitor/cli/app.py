"""The `monitor` typer app and its global options. A leaf module: each command module registers its commands on
`app` from here and `monitor.cli` imports them, so the package and its commands never import each other in a
circle."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Korea macro & market monitor: fetch, model spillovers, evaluate risk rules, e-mail and export.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rich's formatter was a third of `monitor --help` (README, Performance)
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
