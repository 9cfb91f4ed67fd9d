"""`sync-cli aws-databricks ...`: the original Sync CLI's Databricks commands on the embedded engine and store.

The heavy lifting is shared with the Airflow operators, so a prediction made here equals one made in a DAG:
`run_prediction` (cluster report + event log + engine + store), `apply_recommendation` / `update_job_cluster`
(keyed jobs/update within the project's guardrails) and the sensor's delivery checks (`run_facts`,
`check_delivery`). This module adds the terminal around them: waits with progress, tables, --json and errors
that say what to do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sync_provider.cli._common import (
    CliError,
    JsonOption,
    actor,
    console,
    err_console,
    fmt_duration,
    fmt_usd,
    print_json,
    table,
)
from sync_provider.cli.context import CliContext, databricks_errors, get_context
from sync_provider.engine.models import ApplyMode, ComputeType, Plan, Preference

if TYPE_CHECKING:
    from sync_provider.store import ProjectRecord

app = typer.Typer(
    no_args_is_help=True,
    help="Databricks on AWS: predict from finished runs, run jobs, apply predictions, check access.",
)

RunIdArg = Annotated[str, typer.Argument(metavar="RUN_ID", help="Databricks run id.", show_default=False)]
JobIdArg = Annotated[str, typer.Argument(metavar="JOB_ID", help="Databricks job id.", show_default=False)]
PredictionArg = Annotated[
    str, typer.Argument(metavar="PREDICTION_ID", help="Prediction id (see `predictions list`).", show_default=False)
]
ProjectOpt = Annotated[str, typer.Option("--project", help="Sync project (name or id).", show_default=False)]
PlanOpt = Annotated[Plan | None, typer.Option("--plan", help="Databricks plan (default: the configured one).")]
ComputeOpt = Annotated[
    ComputeType | None, typer.Option("--compute", help="Compute type (default: the configured one).")
]
AllowIncomplete = Annotated[
    bool,
    typer.Option(
        "--allow-incomplete-cluster-report",
        help="Predict even when the event log is missing (from runtimes only).",
    ),
]
PreferenceOpt = Annotated[
    Preference | None, typer.Option("--preference", help="Solution to apply (default: the project's).")
]
PollOpt = Annotated[float, typer.Option("--poll-seconds", min=0.05, help="How often to look while waiting.")]
LogTimeoutOpt = Annotated[
    float, typer.Option("--log-timeout", min=0, help="Seconds to wait for the event log to be delivered.")
]
RunTimeoutOpt = Annotated[float, typer.Option("--timeout", min=1, help="Seconds to wait for the run to finish.")]
JobClusterKeyOpt = Annotated[
    str | None, typer.Option("--job-cluster-key", help="Job cluster to update (default: the project's).")
]
TaskKeyOpt = Annotated[
    str | None, typer.Option("--task-key", help="Task whose cluster to use (default: the project's).")
]

LOG_HINT = (
    "wait and retry, check the log destination (`sync-cli aws-databricks access-report`), or pass "
    "--allow-incomplete-cluster-report to predict from runtimes only"
)
NO_LOG_CONF_HINT = (
    "give the job cluster a cluster_log_conf (s3://... or dbfs:/...) so its next runs deliver event logs, or pass "
    "--allow-incomplete-cluster-report to predict from runtimes only"
)


# ---------------------------------------------------------------------- commands


@app.command("create-prediction")
def create_prediction(
    run_id: RunIdArg,
    project: ProjectOpt,
    plan: PlanOpt = None,
    compute: ComputeOpt = None,
    allow_incomplete_cluster_report: AllowIncomplete = False,
    log_timeout: LogTimeoutOpt = 600.0,
    poll_seconds: PollOpt = 5.0,
    json_out: JsonOption = False,
) -> None:
    """Predict from a finished run: build its cluster report, parse its event log, record it, recommend.

    Waits (with progress) until the run's event log has been delivered. Running it again for the same run
    reuses the recorded run and prediction.

    Example: sync-cli aws-databricks create-prediction --project nightly-etl --plan premium --compute jobs 9182
    """
    ctx = get_context()
    record = ctx.store.get_project(project)
    outcome = _predict(ctx, record, run_id, plan, compute, allow_incomplete_cluster_report, poll_seconds, log_timeout)
    _print_prediction(outcome, json_out)


@app.command("run-job")
def run_job(
    job_id: JobIdArg,
    project: ProjectOpt,
    plan: PlanOpt = None,
    compute: ComputeOpt = None,
    allow_incomplete_cluster_report: AllowIncomplete = False,
    timeout: RunTimeoutOpt = 7200.0,
    log_timeout: LogTimeoutOpt = 600.0,
    poll_seconds: PollOpt = 5.0,
    json_out: JsonOption = False,
) -> None:
    """Run a Databricks job now, wait for it, then predict from the run (like create-prediction).

    Exit code 1 when the run fails (it is still recorded, so the next prediction can revert).

    Example: sync-cli aws-databricks run-job --project nightly-etl 123
    """
    ctx = get_context()
    record = ctx.store.get_project(project)
    if record.job_id is None:
        record = ctx.store.update_project(record.id, job_id=str(job_id))
        err_console.print(f"Project {record.name} is now linked to Databricks job {job_id}.", highlight=False)
    run_id = _run_now(ctx, job_id)
    run = _wait_for_run(ctx, run_id, poll_seconds, timeout)
    outcome = _predict(ctx, record, run_id, plan, compute, allow_incomplete_cluster_report, poll_seconds, log_timeout)
    _print_prediction(outcome, json_out)
    _fail_if_run_failed(run, run_id, f"it is recorded and prediction {outcome.prediction_id} is saved")


@app.command("apply-prediction")
def apply_prediction(
    job_id: JobIdArg,
    prediction_id: PredictionArg,
    preference: PreferenceOpt = None,
    job_cluster_key: JobClusterKeyOpt = None,
    task_key: TaskKeyOpt = None,
    json_out: JsonOption = False,
) -> None:
    """Make a prediction's solution the project's active configuration and update the Databricks job with it.

    The job's cluster is found by job cluster key or task key (defaults: the project's). The project's
    guardrails apply: a refused change exits with code 1 and changes nothing.

    Example: sync-cli aws-databricks apply-prediction 123 4f1c2a... --preference balanced
    """
    ctx = get_context()
    outcome = _apply(ctx, job_id, prediction_id, preference, job_cluster_key, task_key)
    _print_apply(outcome, json_out)


@app.command("run-prediction")
def run_prediction_cmd(
    job_id: JobIdArg,
    prediction_id: PredictionArg,
    preference: PreferenceOpt = None,
    job_cluster_key: JobClusterKeyOpt = None,
    task_key: TaskKeyOpt = None,
    timeout: RunTimeoutOpt = 7200.0,
    poll_seconds: PollOpt = 5.0,
    json_out: JsonOption = False,
) -> None:
    """Apply a prediction to a job (as apply-prediction), run the job now and wait for it.

    Exit code 1 when the run fails.

    Example: sync-cli aws-databricks run-prediction 123 4f1c2a... --preference economy
    """
    ctx = get_context()
    outcome = _apply(ctx, job_id, prediction_id, preference, job_cluster_key, task_key)
    if not json_out:
        _print_apply(outcome, False)
    run_id = _run_now(ctx, job_id)
    run = _wait_for_run(ctx, run_id, poll_seconds, timeout)
    state = run.get("state") or {}
    if json_out:
        print_json({"apply": outcome.to_xcom(), "run_id": run_id, "state": state})
    else:
        console.print(
            f"Run {run_id} of job {job_id}: {state.get('life_cycle_state')} {state.get('result_state') or ''}".strip(),
            highlight=False,
        )
    _fail_if_run_failed(run, run_id, "see the run page for the cause")


@app.command("upload-init-script")
def upload_init_script(
    path: Annotated[
        str | None,
        typer.Option(
            "--path",
            help="Where to put it: workspace:/..., dbfs:/... or s3://... (default: the configured "
            "init_script_path, else workspace:/Shared/sync/collector_init.sh).",
        ),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Upload the collector init script, which records each node's instance facts next to the cluster logs.

    Clusters run it when the submit operator injects it; set the printed location as the `sync` connection's
    init_script_path (or `sync-cli configure --init-script-path`) when it is not the default.

    Example: sync-cli aws-databricks upload-init-script --path workspace:/Shared/sync/collector_init.sh
    """
    from sync_provider.collector import DEFAULT_INIT_SCRIPT_PATH, collector_script, upload_collector_script

    ctx = get_context()
    target = path or ctx.settings.init_script_path or DEFAULT_INIT_SCRIPT_PATH
    if target.startswith("s3://"):
        bucket, _, key = target.removeprefix("s3://").partition("/")
        if not key:
            raise CliError(f"{target} names no object key", hint="give s3://bucket/path/collector_init.sh")
        try:
            ctx.s3.put_object(Bucket=bucket, Key=key, Body=collector_script())
        except Exception as exc:  # noqa: BLE001 - botocore errors name the bucket and the refusal
            raise CliError(f"cannot write {target}: {exc}", hint="check the AWS credentials and the bucket") from None
        location = target
    else:
        try:
            with databricks_errors(ctx, f"uploading the init script to {target}"):
                location = upload_collector_script(ctx.databricks, target)
        except ValueError as exc:
            raise CliError(str(exc)) from None
    if json_out:
        print_json({"location": location})
        return
    console.print(f"Collector init script uploaded to {location}")


@app.command("get-cluster-report")
def get_cluster_report(
    run_id: RunIdArg,
    task_key: Annotated[str | None, typer.Option("--task-key", help="Task of a multi-task run.")] = None,
    log_destination: Annotated[
        str | None, typer.Option("--log-destination", help="Where the cluster logs are (default: the run's).")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Build a finished run's cluster report: the run, its cluster, cluster events and instances.

    Example: sync-cli aws-databricks get-cluster-report 9182 --json > report.json
    """
    ctx = get_context()
    api = ctx.databricks
    from sync_provider.engine.evidence.cluster_report import build_cluster_report
    from sync_provider.triggers.delivery import run_facts

    with databricks_errors(ctx, f"reading run {run_id}"):
        facts = run_facts(api("GET", "api/2.1/jobs/runs/get", {"run_id": run_id}), task_key=task_key)
        destination = log_destination or facts.log_destination or ctx.settings.log_destination
        reader = ctx.log_reader(destination) if destination else None
        report = build_cluster_report(api, run_id, reader=reader, log_destination=destination, task_key=task_key)
    data = _report_json(report)
    if json_out:
        print_json(data)
        return
    rows = [
        ("Run", run_id),
        ("Result", data.get("result_state")),
        ("Cluster", data.get("cluster_id")),
        ("Spark context", data.get("spark_context_id")),
        ("Runtime", fmt_duration(data.get("runtime_s"))),
        ("Events", len(data.get("events") or [])),
        ("Instances", len(data.get("instances") or [])),
        ("Missing", ", ".join(str(m) for m in data.get("missing") or []) or None),
    ]
    for label, key in (
        ("Node type", "node_type_id"),
        ("Driver", "driver_node_type_id"),
        ("Workers", "num_workers"),
        ("Photon", "photon"),
        ("Spot", "spot"),
        ("Spot nodes lost", "spot_lost_nodes"),
    ):
        if data.get(key) is not None:
            rows.append((label, data[key]))
    console.print(table(f"Cluster report of run {run_id}", ["Field", "Value"], rows))
    for warning in data.get("warnings") or []:
        err_console.print(f"[yellow]Warning:[/yellow] {warning}", highlight=False)


# Derived facts of a ClusterReport, included in the JSON even when the report computes them as properties.
_REPORT_FACTS = ("cluster_id", "spark_context_id", "runtime_s", "succeeded", "result_state")


def _report_json(report: Any) -> dict[str, Any]:
    data = report.model_dump(mode="json")
    for name in _REPORT_FACTS:
        if name not in data and hasattr(report, name):
            data[name] = getattr(report, name)
    return data


@app.command("access-report")
def access_report(json_out: JsonOption = False) -> None:
    """Check the token, the workspace calls the provider makes and reading the cluster log destination.

    Says exactly which permission is missing. Nothing is changed (jobs/update is not tried). Exit code 1 when a
    check fails.

    Example: sync-cli aws-databricks access-report --json
    """
    from sync_provider.cli.access import run_checks

    ctx = get_context()
    checks = run_checks(ctx)
    if json_out:
        print_json({"workspace": ctx.workspace_label(), "checks": [c.as_dict() for c in checks]})
    else:
        colours = {"ok": "green", "failed": "red", "skipped": "yellow"}
        rows = [(c.name, f"[{colours[c.status]}]{c.status}[/{colours[c.status]}]", c.detail) for c in checks]
        console.print(table(f"Access report for {ctx.workspace_label()}", ["Check", "Status", "Detail"], rows))
    failed = [c.name for c in checks if c.status == "failed"]
    if failed:
        raise CliError(f"{len(failed)} access check(s) failed: {', '.join(failed)}", hint="see the details above")


# ---------------------------------------------------------------------- steps


def _predict(
    ctx: CliContext,
    project: ProjectRecord,
    run_id: str,
    plan: Plan | None,
    compute: ComputeType | None,
    allow_incomplete: bool,
    poll_seconds: float,
    log_timeout: float,
) -> Any:
    """Check the run is finished and its evidence is there (waiting for log delivery), then `run_prediction`."""
    from sync_provider.operators.prediction import PredictionError, run_prediction
    from sync_provider.triggers.delivery import run_facts

    api = ctx.databricks
    with databricks_errors(ctx, f"reading run {run_id}"):
        run = api("GET", "api/2.1/jobs/runs/get", {"run_id": run_id})
    facts = run_facts(run, task_key=project.task_key)
    if not facts.terminated:
        raise CliError(
            f"run {run_id} is {facts.life_cycle_state or 'not finished'}: predictions are made from finished runs",
            hint="wait for it to finish, or start the job with `sync-cli aws-databricks run-job`",
        )
    # Only a cluster with a cluster_log_conf delivers logs: without one there is nothing to wait for.
    destination = facts.log_destination
    problem = None
    if destination is None:
        problem = (
            f"run {run_id}'s cluster has no cluster_log_conf, so Databricks delivered no event log (the Sync submit "
            "operator adds one from the configured log destination)"
        )
    elif facts.cluster_id is None:
        problem = f"run {run_id} reports no cluster id, so its event log cannot be found"
    else:
        problem = _wait_for_logs(ctx, destination, facts.cluster_id, poll_seconds, log_timeout, facts.succeeded)
    if problem:
        if not allow_incomplete:
            hint = LOG_HINT if destination else NO_LOG_CONF_HINT
            raise CliError(problem, hint=hint)
        err_console.print(f"[yellow]Warning:[/yellow] {problem}; predicting from runtimes only.", highlight=False)
    try:
        with databricks_errors(ctx, f"building the cluster report of run {run_id}"):
            return run_prediction(
                ctx.store,
                project,
                api,
                run_id,
                settings=ctx.settings,
                cost_model=ctx.cost_model(plan, compute),
                task_key=project.task_key,
                log_destination=destination,
                s3_client_factory=lambda: ctx.s3,
            )
    except PredictionError as exc:
        raise CliError(str(exc), hint="run `sync-cli aws-databricks access-report` to check permissions") from None


def _wait_for_logs(
    ctx: CliContext, destination: str, cluster_id: str, poll_seconds: float, timeout: float, succeeded: bool = True
) -> str | None:
    """Wait until the cluster's event log is completely delivered and stable; None when it is, else why not.

    A failed run's log may never be complete (a crashed driver writes no end event): for it, a listing that no
    longer changes is enough, and no log at all on the first look means there is nothing to wait for.
    """
    from sync_provider.triggers.delivery import check_delivery

    reader = ctx.log_reader(destination)
    previous = None
    check = None
    missing_bucket = None

    def look() -> bool:
        nonlocal previous, check, missing_bucket
        try:
            previous, check = check, check_delivery(destination, cluster_id, reader=reader)
        except Exception as exc:
            if "NoSuchBucket" not in str(exc):
                raise
            missing_bucket = str(exc)  # Databricks may not have delivered anything yet; fatal only at the end
            return False
        if not succeeded and check.directory is None and previous is None:
            return True  # a failed run with no log on the first look: nothing to wait for
        return check.delivered_since(previous, run_succeeded=succeeded)

    try:
        done = _wait(f"Waiting for the event log under {destination}", look, poll_seconds, timeout)
    except CliError:
        raise
    except Exception as exc:  # noqa: BLE001 - S3 ClientError, DBFS 403, ...
        raise CliError(
            f"cannot read the cluster logs under {destination}: {exc}",
            hint="check the credentials and permissions with `sync-cli aws-databricks access-report`",
        ) from None
    if done:
        return None
    detail = (
        check.detail
        if check
        else (f"the bucket does not exist: {missing_bucket}" if missing_bucket else "nothing found")
    )
    return f"the event log of cluster {cluster_id} was not completely delivered within {timeout:g} s ({detail})"


def _run_now(ctx: CliContext, job_id: str) -> str:
    with databricks_errors(ctx, f"starting job {job_id}"):
        answer = ctx.databricks("POST", "api/2.1/jobs/run-now", {"job_id": _job_id(job_id)})
    run_id = str(answer.get("run_id"))
    err_console.print(f"Started run {run_id} of job {job_id}.", highlight=False)
    return run_id


def _wait_for_run(ctx: CliContext, run_id: str, poll_seconds: float, timeout: float) -> dict:
    """Poll runs/get (with a spinner showing the run's state) until the run terminates."""
    from sync_provider.triggers.delivery import run_facts

    last: dict = {}

    def look() -> bool:
        nonlocal last
        with databricks_errors(ctx, f"reading run {run_id}"):
            last = ctx.databricks("GET", "api/2.1/jobs/runs/get", {"run_id": run_id})
        return run_facts(last).terminated

    def label() -> str:
        state = (last.get("state") or {}).get("life_cycle_state") or "PENDING"
        return f"Run {run_id}: {state}"

    if not _wait(label, look, poll_seconds, timeout):
        raise CliError(
            f"run {run_id} did not finish within {timeout:g} s (still {label().split(': ')[-1]})",
            hint=f"raise --timeout, or predict later with `sync-cli aws-databricks create-prediction {run_id}`",
        )
    return last


def _wait(label: str | Callable[[], str], done: Callable[[], bool], poll_seconds: float, timeout: float) -> bool:
    """Call `done` every `poll_seconds` until it is true (True) or `timeout` passes (False), with a spinner on
    stderr (shown only on a terminal, so --json output and logs stay clean)."""
    text = label if callable(label) else (lambda: label)
    deadline = time.monotonic() + timeout

    def loop(update: Callable[[], None]) -> bool:
        while True:
            if done():
                return True
            update()
            if time.monotonic() >= deadline:
                return False
            time.sleep(max(0.05, min(poll_seconds, deadline - time.monotonic())))

    if not err_console.is_terminal:
        err_console.print(f"{text()} (up to {timeout:g} s)...", highlight=False, soft_wrap=True)
        return loop(lambda: None)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task(text(), total=None)
        return loop(lambda: progress.update(task, description=text()))


def _apply(
    ctx: CliContext,
    job_id: str,
    prediction_id: str,
    preference: Preference | None,
    job_cluster_key: str | None,
    task_key: str | None,
) -> Any:
    """`apply_recommendation` in auto mode for the prediction's project, then the keyed jobs/update."""
    from sync_provider.cluster_spec import log_conf
    from sync_provider.operators.apply import ApplyError, Guardrails, apply_recommendation

    store = ctx.store
    record = store.get_prediction(prediction_id)
    project = store.get_project(record.project_id)
    if preference is not None:
        if preference not in record.prediction.solutions:
            raise CliError(f"prediction {prediction_id} has no {preference.value} solution")
        project = project.model_copy(update={"goals": project.goals.model_copy(update={"preference": preference})})
    job_cluster_key = job_cluster_key or project.job_cluster_key
    task_key = task_key or project.task_key
    try:
        with databricks_errors(ctx, f"updating job {job_id}"):
            outcome = apply_recommendation(
                store,
                project,
                prediction_id,
                mode=ApplyMode.AUTO,
                actor=actor(),
                guardrails=Guardrails(),
                catalog=ctx.settings.catalog(),
                api=ctx.databricks,
                job_id=str(job_id),
                job_cluster_key=job_cluster_key,
                task_key=task_key,
                cluster_log_conf=log_conf(ctx.settings),
            )
    except ApplyError as exc:
        raise CliError(str(exc), hint=f"see the job's clusters with the Databricks UI or jobs/get {job_id}") from None
    if outcome.action == "blocked":
        raise CliError(outcome.message, hint="change the project's constraints with `sync-cli projects update`")
    return outcome


def _fail_if_run_failed(run: dict, run_id: str, note: str) -> None:
    from sync_provider.triggers.delivery import run_facts

    facts = run_facts(run)
    if not facts.succeeded:
        raise CliError(
            f"run {run_id} ended {facts.life_cycle_state} {facts.result_state or ''}".rstrip()
            + (f": {facts.state_message}" if facts.state_message else "")
            + f"; {note}",
        )


def _job_id(job_id: str) -> int | str:
    return int(job_id) if str(job_id).isdigit() else job_id


# ---------------------------------------------------------------------- output


def _print_prediction(outcome: Any, json_out: bool) -> None:
    summary = dict(outcome.summary)
    summary["warnings"] = list(outcome.prediction.warnings)
    summary["reused"] = outcome.reused
    if json_out:
        print_json(summary)
        return
    current = (summary.get("current") or {}).get("description")
    recommended = (summary.get("recommended") or {}).get("description")
    rows = [
        ("Prediction", summary.get("prediction_id")),
        ("Project", summary.get("project")),
        ("Run", summary.get("run_id")),
        ("Run result", "succeeded" if summary.get("succeeded") else "[red]failed[/red]"),
        ("Actual runtime", fmt_duration(summary.get("actual_runtime_s"))),
        ("Actual cost", fmt_usd(summary.get("actual_cost_usd"))),
        ("Phase", summary.get("phase")),
        ("Current", current),
        (f"Recommended ({summary.get('preference')})", recommended),
        ("Predicted runtime", fmt_duration(summary.get("predicted_runtime_s"))),
        ("Predicted cost", fmt_usd(summary.get("predicted_cost_usd"))),
        ("Meets SLA", {True: "yes", False: "[yellow]no[/yellow]"}.get(summary.get("meets_sla"))),
        ("Why", summary.get("reason")),
    ]
    title = "Prediction (reused: this run was predicted before)" if outcome.reused else "Prediction"
    console.print(table(title, ["Field", "Value"], rows))
    for warning in summary["warnings"]:
        err_console.print(f"[yellow]Warning:[/yellow] {warning}", highlight=False)
    console.print(
        f"Apply it with: sync-cli aws-databricks apply-prediction JOB_ID {summary.get('prediction_id')}",
        highlight=False,
    )


def _print_apply(outcome: Any, json_out: bool) -> None:
    if json_out:
        print_json(outcome.to_xcom())
        return
    console.print(f"{outcome.action}: {outcome.message}", highlight=False)
