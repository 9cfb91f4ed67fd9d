"""`sync-cli`: the command line for automation, modelled on the original Sync CLI plus offline commands.

Each command group lives in its own module; this one only assembles them and maps failures to exit codes:
0 ok, 1 operation failed (a CliError, a store/settings/engine error or any other exception), 2 usage error
(typer/click). The mapping lives in the root group's `invoke`, so `CliRunner` in tests and the installed script
behave the same. `--debug` shows the full traceback instead of the one-line message.
"""

from __future__ import annotations

import sys

import typer
from typer.core import TyperGroup

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
from sync_provider.cli._common import CliError, err_console, quiet_library_logs, state
from sync_provider.cli.context import reset_context

# Errors whose message already names the cause and the fix: printed as they are, without the type name.
_EXPECTED: tuple[type[BaseException], ...] = (CliError,)


def _expected_errors() -> tuple[type[BaseException], ...]:
    from sync_provider.engine.errors import EngineError
    from sync_provider.settings import SettingsError
    from sync_provider.store import SyncStoreError

    return (*_EXPECTED, EngineError, SettingsError, SyncStoreError)


def report_error(exc: BaseException) -> None:
    """Print an error as `Error: ...` (+ `Hint: ...`) on stderr."""
    if isinstance(exc, _expected_errors()):
        err_console.print(f"[red]Error:[/red] {exc}", highlight=False, soft_wrap=True)
        hint = getattr(exc, "hint", None)
        if hint:
            err_console.print(f"[yellow]Hint:[/yellow] {hint}", highlight=False, soft_wrap=True)
    else:
        err_console.print(f"[red]Error:[/red] {type(exc).__name__}: {exc}", highlight=False, soft_wrap=True)
        err_console.print("[dim]Run again with --debug for the full traceback.[/dim]")


class _SyncGroup(TyperGroup):
    """The root group: runs the chosen command and turns its failure into exit code 1 with a readable message."""

    def invoke(self, ctx: typer.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (typer.TyperException, typer.Exit, typer.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
            if state["debug"]:
                raise
            report_error(exc)
            raise typer.Exit(1) from None


app = typer.Typer(
    name="sync-cli",
    cls=_SyncGroup,
    help=(
        "Closed-loop cluster optimisation for recurring Spark jobs on Databricks (embedded engine, no SaaS).\n\n"
        "Exit codes: 0 ok, 1 the operation failed, 2 usage error.\n\n"
        "Example: sync-cli configure && sync-cli projects create nightly-etl --sla-minutes 45"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sync-cli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks and library logs on errors."),
) -> None:
    state["debug"] = debug
    reset_context()
    if "airflow" in sys.modules:  # imported by a command module: keep its logs off stdout
        quiet_library_logs()


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
    """Entry point of the `sync-cli` script."""
    try:
        app(args=argv, standalone_mode=True)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - errors raised outside a command (e.g. while parsing)
        if state["debug"]:
            raise
        report_error(exc)
        sys.exit(1)


if __name__ == "__main__":
    main()
