"""The closed-loop demo, end to end: a private Airflow, the emulated workspace, one DAG run per simulated day,
the per-run table, and the HTML report.

Every DAG run goes through real Airflow (`airflow dags test` in a subprocess); this process only sets the stage
(the workspace, the connections, the project's goals) and reads back what happened: from the Sync store (what
Sync measured and decided) and from the emulator's admin API (what really happened).
"""

from __future__ import annotations

import platform
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sync_provider import __version__
from sync_provider.demo.airflow_env import AirflowHome, DagTestResult
from sync_provider.demo.collect import build_row, new_runs
from sync_provider.demo.connections import connection_env
from sync_provider.demo.dags import DemoDag, group_dag, recipe_dag
from sync_provider.demo.emulator import LOG_DESTINATION, REGION, DemoWorkspace
from sync_provider.demo.errors import DemoError
from sync_provider.demo.output import DemoDisplay
from sync_provider.demo.rows import DemoRow
from sync_provider.demo.scenario import baseline_cost, scenario_events
from sync_provider.report import JobSeries, ReportData, write_report
from sync_provider.store import SyncStore

FIRST_DAY = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)


@dataclass
class DemoOptions:
    """What `sync-cli demo` was asked to do."""

    runs: int = 15
    report_path: Path = Path(".demo/report.html")
    json_lines: bool = False
    workload: str | None = None
    keep_home: bool = False
    demo_dir: Path = Path(".demo")
    group_runs: int = 3
    time_scale: float = 2000.0
    dag_timeout_s: float = 600.0
    fail_at: list[int] = field(default_factory=list)
    #: Seed of the emulator's run-to-run noise and spot losses: the same seed replays the same world.
    seed: int | None = 7


@dataclass
class DemoResult:
    """Rows per job (the main job first), the report's path and how long the demo took."""

    rows: dict[str, list[DemoRow]]
    report_path: Path
    seconds: float
    home: Path | None


def run_demo(options: DemoOptions, display: DemoDisplay) -> DemoResult:
    """Run the demo; raises DemoError (with a log tail) when a step fails."""
    if options.runs < 1:
        raise DemoError(f"--runs must be at least 1, got {options.runs}")
    started = time.monotonic()
    demo_dir = options.demo_dir.resolve()
    recipe = recipe_dag(options.workload, fail_at=options.fail_at)
    group = group_dag() if options.group_runs > 0 else None
    home = AirflowHome(demo_dir / "airflow")
    display.step("Creating a private Airflow home")
    home.create([d.file for d in (recipe, group) if d is not None])
    store_url = f"sqlite:///{home.path / 'sync_provider.db'}"
    rows: dict[str, list[DemoRow]] = {}
    emulator_dir = demo_dir / "emulator"
    if emulator_dir.exists():
        shutil.rmtree(emulator_dir)
    display.step("Starting the Databricks emulator and its S3")
    with DemoWorkspace(emulator_dir, time_scale=options.time_scale, seed=options.seed) as workspace:
        home.extra_env = connection_env(
            workspace_url=workspace.url,
            token=workspace.token,
            s3_endpoint_url=workspace.s3_endpoint_url,
            store_url=store_url,
            log_destination=LOG_DESTINATION,
            region=REGION,
        )
        for dag in (recipe, group):
            if dag is not None:
                home.extra_env.update(dag.env)
        store = SyncStore(store_url)
        for dag in (recipe, group):
            if dag is not None:
                dag.prepare(store, workspace)
        display.step("airflow db migrate")
        home.migrate()
        display.advance()
        rows.update(_loop(recipe, options.runs, home, store, workspace, display, options, main_job=True))
        if group is not None:
            rows.update(_loop(group, options.group_runs, home, store, workspace, display, options, main_job=False))
        data = _report_data(store, rows, recipe, group, options, time.monotonic() - started)
    report = write_report(options.report_path, data)
    kept = home.path if options.keep_home else None
    if not options.keep_home:
        shutil.rmtree(home.path, ignore_errors=True)
        shutil.rmtree(emulator_dir, ignore_errors=True)
    return DemoResult(rows=rows, report_path=report, seconds=time.monotonic() - started, home=kept)


def total_steps(options: DemoOptions) -> int:
    """Progress bar length: the migration plus one step per DAG run."""
    return 1 + options.runs + max(options.group_runs, 0)


def _loop(
    dag: DemoDag,
    runs: int,
    home: AirflowHome,
    store: SyncStore,
    workspace: DemoWorkspace,
    display: DemoDisplay,
    options: DemoOptions,
    *,
    main_job: bool,
) -> dict[str, list[DemoRow]]:
    """One DAG run per simulated day; after each, one row per project the DAG optimises."""
    rows: dict[str, list[DemoRow]] = {name: [] for name in dag.projects}
    seen: dict[str, set[str]] = {name: set() for name in dag.projects}
    events = {name: scenario_events(dag.workloads[name], runs) for name in dag.projects}
    for day in range(1, runs + 1):
        logical_date = (FIRST_DAY + timedelta(days=day - 1)).isoformat()
        display.step(f"{dag.dag_id}: day {day} of {runs} (airflow dags test)")
        result = home.dags_test(
            dag.dag_id,
            logical_date,
            dag_file=dag.file,
            conf=dag.conf,
            log_name=f"{dag.dag_id}-day-{day:02d}",
            timeout=options.dag_timeout_s,
        )
        for name in dag.projects:
            project = store.get_project(name)
            recorded = new_runs(store, project, seen[name])
            if not recorded:
                raise _nothing_recorded(dag, name, day, result)
            for run in recorded:
                seen[name].add(run.id)
            run = recorded[-1]
            row = build_row(
                store,
                project,
                run,
                day=day,
                truth=workspace.ground_truth,
                previous=rows[name][-1] if rows[name] else None,
                events=events[name].get(day, []),
                dag_seconds=result.seconds,
            )
            start = dag.start_configs.get(name)
            if start is not None:
                row.baseline_cost_usd = round(baseline_cost(dag.workloads[name], start, day), 4)
            if not result.ok and row.succeeded:
                raise DemoError(
                    f"airflow dags test {dag.dag_id} failed on day {day} (exit code {result.returncode}) although "
                    f"its Databricks run {run.external_run_id} succeeded",
                    hint=f"see the full log: {result.log_path}",
                    log_tail=result.log_tail(),
                )
            rows[name].append(row)
            display.add_row(row, main_job=main_job)
        display.advance()
    return rows


def _nothing_recorded(dag: DemoDag, project: str, day: int, result: DagTestResult) -> DemoError:
    if not result.ok:
        return DemoError(
            f"airflow dags test {dag.dag_id} failed on day {day} (exit code {result.returncode}) and recorded no "
            f"run of project {project!r}",
            hint=f"see the full log: {result.log_path}",
            log_tail=result.log_tail(),
        )
    log = result.log_path.read_text(errors="replace")
    warnings = [line for line in log.splitlines() if "Sync prediction skipped" in line]
    warnings = [line for line in warnings if f"'{project}'" in line] or warnings
    return DemoError(
        f"day {day}: the DAG run of {dag.dag_id} succeeded but recorded no run of project {project!r} in the store",
        hint="the prediction task logs a warning instead of failing the pipeline; "
        + (f"it said: {warnings[-1].strip()}" if warnings else f"see the full log: {result.log_path}"),
        log_tail=result.log_tail(),
    )


def _series(store: SyncStore, name: str, rows: list[DemoRow], baseline_label: str = "") -> JobSeries:
    """A job's runs for the report, with the goals its project has in the store."""
    goals = store.get_project(name).goals
    return JobSeries(
        name=name,
        baseline_label=baseline_label,
        sla_seconds=goals.sla_seconds,
        cost_target_usd=goals.cost_target_usd,
        preference=goals.preference.value,
        runs=[r.point() for r in rows],
    )


def _report_data(
    store: SyncStore,
    rows: dict[str, list[DemoRow]],
    recipe: DemoDag,
    group: DemoDag | None,
    options: DemoOptions,
    seconds: float,
) -> ReportData:
    primary_name = recipe.projects[0]
    grouped = [_series(store, n, rows[n]) for n in (group.projects if group else []) if rows.get(n)]
    meta = {
        "Main job": f"{recipe.dag_id} (dags_examples/{recipe.file.name}), {options.runs} DAG runs, one a simulated day",
        "Workload": recipe.workload_note,
        "Orchestration": "real Airflow: airflow dags test per DAG run, against the local Databricks emulator",
        "Wall time": f"{seconds:.0f} s",
        "Versions": f"sync_provider {__version__}, Python {platform.python_version()}",
    }
    if group is not None:
        meta["Group example"] = (
            f"{group.dag_id} (dags_examples/{group.file.name}), {options.group_runs} DAG runs: {group.workload_note}"
        )
    start = recipe.start_configs.get(primary_name)
    primary = _series(store, primary_name, rows[primary_name], start.describe() if start else "")
    return ReportData(primary=primary, group=grouped, meta=meta)
