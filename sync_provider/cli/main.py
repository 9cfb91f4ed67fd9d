"""`sync-cli`: the command line for automation, modelled on the original Sync CLI plus offline commands.

Each command group lives in its own module; this one only assembles them and maps failures to exit codes:
0 ok, 1 operation failed (a CliError or any other exception), 2 usage error (typer/click).
"""

from __future__ import annotations

import sys

import typer

from sync_provider import __version__
from sync_provider.cli import (
    aws_databricks,
    configure,
    demo,
    emulator_cmd,
    eventlog,
    goals,
    offline,
    photon,
    predictions,
    products,
    projects,
)
from sync_provider.cli._common import CliError, err_console

app = typer.Typer(
    name="sync-cli",
    help="Closed-loop cluster optimisation for recurring Spark jobs on Databricks (embedded engine, no SaaS).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sync-cli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
) -> None:
    _state["debug"] = debug


app.command("configure")(configure.configure)
app.command("products")(products.products)
app.add_typer(projects.app, name="projects")
app.add_typer(predictions.app, name="predictions")
app.add_typer(aws_databricks.app, name="aws-databricks")
app.add_typer(goals.app, name="goals")
app.add_typer(eventlog.app, name="eventlog")
app.command("photon-roi")(photon.photon_roi)
app.command("recommend")(offline.recommend)
app.command("backtest")(offline.backtest)
app.add_typer(emulator_cmd.app, name="emulator")
app.command("demo")(demo.demo)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning expected failures into one readable line and exit code 1."""
    try:
        app(args=argv, standalone_mode=True)
    except CliError as exc:
        if _state["debug"]:
            raise
        err_console.print(f"[red]Error:[/red] {exc}")
        if exc.hint:
            err_console.print(f"[yellow]Hint:[/yellow] {exc.hint}")
        sys.exit(1)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        if _state["debug"]:
            raise
        err_console.print(f"[red]Error:[/red] {type(exc).__name__}: {exc}")
        err_console.print("[dim]Run again with --debug for the full traceback.[/dim]")
        sys.exit(1)


if __name__ == "__main__":
    main()
