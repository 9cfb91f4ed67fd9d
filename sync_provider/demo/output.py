"""How the demo shows itself: a live progress bar with the per-run table, or one JSON line per run.

With `--json` stdout carries only the JSON lines (so scripts can parse it); progress then goes to stderr, and
only when stderr is a terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from sync_provider.cli._common import print_json_line
from sync_provider.demo.rows import DemoRow
from sync_provider.report.svg import fmt_duration, fmt_usd


def runs_table(rows: Sequence[DemoRow], title: str | None = None) -> Table:
    """The per-run table: configuration, true runtime and cost, SLA, phase and what changed."""
    table = Table(title=title, title_justify="left", header_style="bold", expand=False, pad_edge=False)
    table.add_column("Run", justify="right")
    table.add_column("Configuration")
    table.add_column("Ver", justify="right")
    table.add_column("Runtime", justify="right")
    table.add_column("True cost", justify="right")
    table.add_column("SLA")
    table.add_column("Phase")
    table.add_column("What changed", overflow="fold")
    for row in rows:
        if not row.succeeded:
            sla = "[red]failed[/red]"
        elif row.sla_met is None:
            sla = "–"
        else:
            sla = "[green]met[/green]" if row.sla_met else "[yellow]missed[/yellow]"
        version = "–" if row.config_version is None else f"v{row.config_version}"
        if row.reverted:
            version = f"[red]↺ {version}[/red]"
        events = " ".join(f"[magenta]\\[{e}][/magenta]" for e in row.events)
        table.add_row(
            str(row.run),
            row.config.describe(),
            version,
            "–" if row.runtime_s is None else fmt_duration(row.runtime_s),
            "–" if row.true_cost_usd is None else fmt_usd(row.true_cost_usd),
            sla,
            row.phase or "–",
            f"{events} {row.changed}".strip(),
        )
    return table


class DemoDisplay:
    """Progress and results of a demo; a context manager around rich's live display."""

    def __init__(
        self, *, total_steps: int, json_lines: bool, console: Console | None = None, err_console: Console | None = None
    ):
        self.json_lines = json_lines
        self.console = console or Console()
        self.err_console = err_console or Console(stderr=True)
        self.rows: dict[str, list[DemoRow]] = {}
        self._progress_console = self.err_console if json_lines else self.console
        self._show_live = self._progress_console.is_terminal
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self._progress_console,
        )
        self._task = self.progress.add_task("Setting up", total=total_steps)
        self._live: Live | None = None

    def __enter__(self) -> DemoDisplay:
        if self._show_live:
            self._live = Live(
                self._renderable(),
                console=self._progress_console,
                refresh_per_second=4,
                transient=False,
                vertical_overflow="visible",
            )
            self._live.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.update(self._renderable(final=True))
            self._live.__exit__(exc_type, exc, tb)
            self._live = None

    def _renderable(self, final: bool = False):
        tables = [runs_table(rows, title=f"Job {job}") for job, rows in self.rows.items() if rows]
        if self.json_lines:
            return Group(self.progress) if not final else Group()
        return Group(*tables, *([] if final else [self.progress]))

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._renderable())

    def step(self, description: str) -> None:
        """Show what the demo is doing now (setup steps and each DAG run)."""
        self.progress.update(self._task, description=description)
        if not self._show_live and not self.json_lines:
            self.console.print(f"[dim]…[/dim] {description}")
        self._refresh()

    def advance(self) -> None:
        self.progress.advance(self._task)
        self._refresh()

    def add_row(self, row: DemoRow, *, main_job: bool = True) -> None:
        """A finished DAG run: into the live table, or out as its JSON line (the main job's runs only: the
        contract has no job key, so the group example's runs stay out of the JSON stream)."""
        self.rows.setdefault(row.job, []).append(row)
        if self.json_lines:
            if main_job:
                print_json_line(row.contract())
        elif not self._show_live:
            self.console.print(_line(row), highlight=False, markup=False, soft_wrap=True)
        self._refresh()

    def message(self, text: str) -> None:
        """A line of prose (never on stdout in JSON mode)."""
        (self.err_console if self.json_lines else self.console).print(text)


def _line(row: DemoRow) -> str:
    """One finished run as a plain line, for logs and pipes (no live display)."""
    runtime = "–" if row.runtime_s is None else fmt_duration(row.runtime_s)
    cost = "–" if row.true_cost_usd is None else fmt_usd(row.true_cost_usd)
    sla = "failed" if not row.succeeded else "–" if row.sla_met is None else "SLA met" if row.sla_met else "SLA missed"
    version = "–" if row.config_version is None else f"v{row.config_version}"
    events = "".join(f" [{e}]" for e in row.events)
    return (
        f"{row.job} run {row.run:>2}: {row.config.describe():<28} {version:>4} {runtime:>9} {cost:>8} {sla:<10} "
        f"{row.phase or '–':<11}{events} {row.changed}"
    ).rstrip()
