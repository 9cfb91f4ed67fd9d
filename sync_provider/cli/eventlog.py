"""`sync-cli eventlog summarize PATH [--json]`: what a Spark event log says, offline.

PATH is a local file or directory, an s3:// location (default AWS credentials) or a dbfs:/ path (DATABRICKS_HOST
and DATABRICKS_TOKEN); any codec, rolled directory or zip that `parse_eventlog` reads. `--json` prints exactly the
DESIGN.md keys; the default is a readable table plus the parser's warnings. A progress bar (stderr) appears on
large logs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from sync_provider.cli._common import CliError, console, err_console, print_json

app = typer.Typer(no_args_is_help=True, help="Read Spark event logs offline.")

#: Logs at least this large (raw bytes) get a progress bar.
PROGRESS_THRESHOLD = 32 * 2**20


def _human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{n} B"


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int | None], None]]:
    """A callback for parse_eventlog that draws a bar on stderr once the log is known to be large."""
    if not enabled:
        yield lambda _done, _total: None
        return
    bar = Progress(
        TextColumn("parsing event log"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )
    task = None

    def update(done: int, total: int | None) -> None:
        nonlocal task
        if total is None or total < PROGRESS_THRESHOLD:
            return
        if task is None:
            bar.start()
            task = bar.add_task("parse", total=total)
        bar.update(task, completed=done)

    try:
        yield update
    finally:
        if task is not None:
            bar.stop()


def load_profile(path: str, *, spark_context_id: str | None = None, progress: bool = True):
    """Parse PATH for a CLI command, turning parser errors into CliError (exit 1).

    S3 and DBFS are reached with the CLI's configuration (region, endpoint, workspace), as every other command.
    """
    from sync_provider.cli.context import get_context
    from sync_provider.engine.evidence.eventlog import EventLogError, parse_eventlog

    try:
        reader = get_context().log_reader(path) if path.startswith(("s3://", "dbfs:")) else None
        with _progress(progress) as callback:
            return parse_eventlog(path, reader=reader, progress=callback, spark_context_id=spark_context_id)
    except EventLogError as exc:
        raise CliError(str(exc), hint="give an event-log file, a rolled event-log directory or a zip") from None


def _table(summary: dict, title: str) -> Table:
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        if key.endswith("_bytes") and isinstance(value, int):
            shown = f"{_human_bytes(value)} ({value:,})"
        elif isinstance(value, float):
            shown = f"{value:,.3f}"
        elif isinstance(value, int):
            shown = f"{value:,}"
        else:
            shown = "-" if value is None else str(value)
        table.add_row(key, escape(shown))
    return table


@app.command("summarize")
def summarize_cmd(
    path: str = typer.Argument(..., help="Event log: file, rolled directory, zip, s3://... or dbfs:/..."),
    json_out: bool = typer.Option(
        False,
        "--json",
        help="Print one JSON object with the summary's keys (listed in docs/evidence.md), nothing else.",
    ),
    spark_context_id: str | None = typer.Option(
        None, "--spark-context-id", help="Pick one Spark context when a directory holds several."
    ),
) -> None:
    """Summarize a Spark event log (jobs, stages, tasks, time, bytes, executors).

    Example: sync-cli eventlog summarize s3://logs/cluster-0101/eventlog/ --json
    """
    from sync_provider.engine.evidence.eventlog import summarize

    profile = load_profile(path, spark_context_id=spark_context_id)
    summary = summarize(profile)
    if json_out:
        print_json(summary)
        return
    console.print(_table(summary, title=escape(f"Event log: {path}")))
    for warning in profile.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
