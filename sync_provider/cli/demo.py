"""`sync-cli demo`: the closed loop for real, through Airflow, against the local Databricks emulator."""

from __future__ import annotations

from pathlib import Path

import typer

from sync_provider.cli._common import CliError, console, err_console

app = typer.Typer(no_args_is_help=True)


def demo(
    runs: int = typer.Option(15, "--runs", min=1, max=60, help="DAG runs of the main job, one per simulated day."),
    report: Path | None = typer.Option(
        None, "--report", help="Where to write the HTML report (default: report.html in the demo's directory)."
    ),
    json_lines: bool = typer.Option(False, "--json", help="Print one JSON object per run instead of the table."),
    workload: str | None = typer.Option(
        None,
        "--workload",
        help="Emulator workload of the main job: a built-in name or a workload file "
        "(default: the demo's own oversized daily ETL, with data growth on day 6 and a code change on day 10).",
    ),
    keep_home: bool = typer.Option(
        False, "--keep-home", help="Keep the demo's Airflow home, store and emulator data in its directory afterwards."
    ),
    group_runs: int = typer.Option(
        3,
        "--group-runs",
        min=0,
        max=30,
        help="DAG runs of the grouped-goals example (c) for the report's scatter; 0 skips it.",
    ),
    fail_at: list[int] = typer.Option(
        [], "--fail-at", help="Make the main job's run on this day fail (repeatable), to see a revert."
    ),
    demo_dir: Path = typer.Option(Path(".demo"), "--dir", help="Working directory of the demo (recreated)."),
    seed: int = typer.Option(7, "--seed", help="Seed of the emulated world's noise and spot losses."),
) -> None:
    """Run the closed-loop demo: a DAG that gets cheaper every day while meeting its SLA.

    Starts the Databricks emulator and its S3, a private Airflow home with the `sync`, `databricks_default` and
    `aws_default` connections, then runs dags_examples/sync_recipe.py once per simulated day with
    `airflow dags test`, shows each run, and writes a self-contained HTML report.

    Example: sync-cli demo --runs 15 --report .demo/report.html
    """
    from sync_provider.demo.errors import DemoError
    from sync_provider.demo.output import DemoDisplay
    from sync_provider.demo.runner import DemoOptions, run_demo, total_steps

    options = DemoOptions(
        runs=runs,
        report_path=report or demo_dir / "report.html",
        json_lines=json_lines,
        workload=workload,
        keep_home=keep_home,
        group_runs=group_runs,
        fail_at=list(fail_at),
        demo_dir=demo_dir,
        seed=seed,
    )
    display = DemoDisplay(
        total_steps=total_steps(options), json_lines=json_lines, console=console, err_console=err_console
    )
    try:
        with display:
            result = run_demo(options, display)
    except DemoError as exc:
        if exc.log_tail:
            err_console.print("[dim]── last lines of the log ──[/dim]")
            err_console.print(exc.log_tail, markup=False, highlight=False, soft_wrap=True)
            err_console.print("[dim]──[/dim]")
        raise CliError(str(exc), hint=exc.hint) from exc
    out = err_console if json_lines else console
    out.print(f"Report: [bold]{result.report_path}[/bold]  (open it in a browser; it works offline)", soft_wrap=True)
    out.print(f"Done in {result.seconds:.0f} s.")
    if result.home is not None:
        out.print(f"Kept the Airflow home, store and emulator data: {result.home.parent}", soft_wrap=True)
