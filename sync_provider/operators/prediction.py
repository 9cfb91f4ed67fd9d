"""SyncPredictionOperator: after a Databricks run, learn from its evidence and store the next recommendation.

Runs after the submit task (and usually a SyncPredictionSensor). It pulls the Databricks `run_id` from the XCom
of `task_to_submit` (as the original Sync Airflow recipe did), builds the cluster report, parses the event log,
prices the run, records it in the Sync store (idempotently: a retry adds nothing twice), asks the engine for a
recommendation with the project's whole history and saves it. The prediction id and a summary go to XCom for
ApplyRecommendationOperator and for people reading the task log.

Non-strict by default: optimisation must never break the user's pipeline, so any failure becomes one clear
warning (and an XCom summary saying what went wrong) while the job keeps its last good configuration.
`strict=True` fails the task instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from sync_provider.engine.models import ClusterConfig, Constraints, Goals, Prediction, Solution

if TYPE_CHECKING:
    from airflow.sdk import Context

    from sync_provider.engine.evidence.cost import CostModel
    from sync_provider.settings import SyncSettings
    from sync_provider.store import ProjectRecord, RunRecord, SyncStore

XCOM_PREDICTION_ID = "prediction_id"
XCOM_SUMMARY = "summary"
XCOM_RUN_ID = "run_id"  # the key Databricks operators push the run id under
XCOM_SYNC_PROJECT_ID = "sync_project_id"  # pushed by SyncDatabricksSubmitRunOperator


class PredictionError(Exception):
    """One step of the prediction failed; the message names the step, the cause and what to do."""


@dataclass
class PredictionOutcome:
    """What one prediction step produced: the recorded run, the saved prediction and its XCom summary."""

    run: RunRecord
    prediction_id: str
    prediction: Prediction
    summary: dict[str, Any]
    reused: bool = False


class SyncPredictionOperator(BaseOperator):
    """Record a finished Databricks run in the Sync store and save the engine's next recommendation.

    :param project: Sync project name or id (created on first use when `goals` is given); default: the project
        the submit task pushed to XCom (`sync_project_id`).
    :param task_to_submit: task id whose XCom `run_id` names the Databricks run (ignored when `run_id` is set).
    :param run_id: the Databricks run id, when not taken from XCom (templated).
    :param task_key: for multi-task runs, the task whose cluster Sync optimises.
    :param sync_conn_id: the `sync` connection (store URL, pricing plan, log destination, ...).
    :param databricks_conn_id: overrides the sync connection's `databricks_conn_id`.
    :param aws_conn_id: overrides the sync connection's `aws_conn_id` (reads S3-delivered logs).
    :param log_destination: overrides where cluster logs are delivered (default: the run's cluster_log_conf,
        else the sync connection's `log_destination`).
    :param goals / constraints: used only to create the project when it does not exist yet.
    :param strict: fail the task on any error (default: the sync connection's `strict`, which defaults to False).
    """

    template_fields: Sequence[str] = ("project", "task_to_submit", "run_id", "task_key", "log_destination")
    ui_color = "#f2e6ff"

    def __init__(
        self,
        *,
        project: str | None = None,
        task_to_submit: str = "submit_run",
        run_id: str | int | None = None,
        task_key: str | None = None,
        sync_conn_id: str = "sync_default",
        databricks_conn_id: str | None = None,
        aws_conn_id: str | None = None,
        log_destination: str | None = None,
        goals: Goals | Mapping[str, Any] | None = None,
        constraints: Constraints | Mapping[str, Any] | None = None,
        strict: bool | None = None,
        trigger_rule: str = "all_done",
        **kwargs: Any,
    ) -> None:
        # all_done: a failed Databricks run (the submit task fails) or a timed-out sensor (skipped) must still be
        # recorded, so the controller can revert a bad change.
        super().__init__(trigger_rule=trigger_rule, **kwargs)
        self.project = project
        self.task_to_submit = task_to_submit
        self.run_id = run_id
        self.task_key = task_key
        self.sync_conn_id = sync_conn_id
        self.databricks_conn_id = databricks_conn_id
        self.aws_conn_id = aws_conn_id
        self.log_destination = log_destination
        self.goals = Goals.model_validate(goals) if isinstance(goals, Mapping) else goals
        self.constraints = Constraints.model_validate(constraints) if isinstance(constraints, Mapping) else constraints
        self.strict = strict

    # ------------------------------------------------------------------ Airflow entry point

    def execute(self, context: Context) -> str | None:
        from sync_provider.hooks.sync import SyncHook

        ti = context["ti"]
        strict = bool(self.strict)
        try:
            hook = SyncHook(self.sync_conn_id)
            settings = hook.settings
            strict = settings.strict if self.strict is None else bool(self.strict)
            run_id = self._run_id(ti)
            if not self.project:
                self.project = self._project_from_xcom(ti)
            outcome = self.predict(hook.store, settings, run_id)
        except Exception as exc:
            message = _describe(exc, self)
            ti.xcom_push(key=XCOM_SUMMARY, value={"status": "failed", "project": self.project, "error": message})
            if strict:
                raise PredictionError(message) from exc
            self.log.warning("Sync prediction skipped, the job keeps its current configuration: %s", message)
            return None
        ti.xcom_push(key=XCOM_PREDICTION_ID, value=outcome.prediction_id)
        ti.xcom_push(key=XCOM_SUMMARY, value=outcome.summary)
        self.log.info("%s", format_summary(outcome.summary))
        return outcome.prediction_id

    def _run_id(self, ti: Any) -> str:
        if self.run_id not in (None, ""):
            return str(self.run_id)
        value = ti.xcom_pull(task_ids=self.task_to_submit, key=XCOM_RUN_ID)
        if isinstance(value, list):  # mapped or multi-task pulls come back as lists
            value = next((v for v in value if v is not None), None)
        if value in (None, ""):
            raise PredictionError(
                f"no Databricks run_id in the XCom of task {self.task_to_submit!r}: set task_to_submit to the task "
                "id of your SyncDatabricksSubmitRunOperator / DatabricksSubmitRunOperator / DatabricksRunNowOperator "
                "(with do_xcom_push=True, the default), or pass run_id explicitly"
            )
        return str(value)

    def _project_from_xcom(self, ti: Any) -> str:
        value = ti.xcom_pull(task_ids=self.task_to_submit, key=XCOM_SYNC_PROJECT_ID)
        if not value:
            raise PredictionError(
                f"no project given and no {XCOM_SYNC_PROJECT_ID!r} in the XCom of task {self.task_to_submit!r}: "
                "pass project= (a Sync project name or id) or submit with SyncDatabricksSubmitRunOperator"
            )
        return str(value)

    # ------------------------------------------------------------------ the work, testable without Airflow

    def predict(self, store: SyncStore, settings: SyncSettings, run_id: str) -> PredictionOutcome:
        """Report, event log, cost, record, recommend, save: each step's failure is named in the error."""
        from airflow.providers.databricks.hooks.databricks import DatabricksHook

        from sync_provider.hooks.databricks_api import databricks_api

        project = self._project(store, settings)
        api = databricks_api(DatabricksHook(self.databricks_conn_id or settings.databricks_conn_id))
        return run_prediction(
            store,
            project,
            api,
            run_id,
            settings=settings,
            cost_model=settings.cost_model(),
            task_key=self.task_key,
            log_destination=self.log_destination,
            s3_client_factory=lambda: self._s3_client(settings),
            log=self.log,
        )

    def _project(self, store: SyncStore, settings: SyncSettings) -> ProjectRecord:
        if self.goals is None:
            return store.get_project(self.project)
        return store.get_or_create_project(
            self.project,
            goals=self.goals,
            constraints=self.constraints or Constraints(),
            apply_mode=settings.apply_mode,
        )

    def _s3_client(self, settings: SyncSettings) -> Any:
        from sync_provider.hooks.databricks_api import s3_client

        return s3_client(
            self.aws_conn_id or settings.aws_conn_id, endpoint_url=settings.aws_endpoint_url, region_name=None
        )


# ---------------------------------------------------------------------- the steps


def run_prediction(
    store: SyncStore,
    project: ProjectRecord,
    api: Any,
    run_id: str,
    *,
    settings: SyncSettings,
    cost_model: CostModel,
    task_key: str | None = None,
    log_destination: str | None = None,
    s3_client_factory: Any = None,
    log: Any = None,
) -> PredictionOutcome:
    """Record run `run_id` of `project` and save a recommendation; reuses both when this run was done before."""
    from sync_provider.engine.evidence.observe import build_observation
    from sync_provider.engine.recommend import recommend

    warnings: list[str] = []
    task_key = task_key or project.task_key
    existing = store.get_run(project.id, str(run_id))
    if existing is not None:
        previous = _prediction_for_run(store, project.id, existing.id)
        if previous is not None:
            _info(log, "Run %s of project %s was already recorded and predicted: reusing them", run_id, project.name)
            return PredictionOutcome(
                existing,
                previous.id,
                previous.prediction,
                summarize(project, existing, previous.id, previous.prediction),
                reused=True,
            )

    if existing is None:
        report, profile = _evidence(api, run_id, settings, task_key, log_destination, s3_client_factory, warnings)
        observation = build_observation(report, profile, cost_model)
        sla = project.goals.sla_seconds
        sla_met = observation.succeeded and (
            sla is None or (observation.runtime_s is not None and observation.runtime_s <= sla)
        )
        run = store.record_run(
            project.id,
            observation,
            external_run_id=str(run_id),
            report=report.model_dump(mode="json"),
            sla_met=sla_met,
        )
    else:
        run = existing

    history = store.history(project.id)
    try:
        prediction = recommend(history, project.goals, project.constraints, cost_model, current=run.observation.config)
    except Exception as exc:
        raise PredictionError(
            f"the engine could not recommend a configuration for project {project.name!r}: {_short(exc)} "
            f"(run {run_id} is recorded; the job keeps its current configuration)"
        ) from exc
    if warnings:
        prediction = prediction.model_copy(update={"warnings": [*prediction.warnings, *warnings]})
    for w in warnings:
        _warn(log, "%s", w)
    saved = store.save_prediction(project.id, prediction, run_id=run.id)
    return PredictionOutcome(run, saved.id, prediction, summarize(project, run, saved.id, prediction))


def _prediction_for_run(store: SyncStore, project_id: str, run_record_id: str) -> Any:
    matches = [p for p in store.list_predictions(project_id) if p.run_id == run_record_id]
    return matches[-1] if matches else None


def _reader(destination: str, api: Any, s3_client_factory: Any) -> Any:
    from sync_provider.engine.evidence.eventlog import reader_for

    s3 = s3_client_factory() if destination.startswith("s3://") and s3_client_factory else None
    return reader_for(destination, s3_client=s3, databricks_api=api)


def _profile(report: Any, destination: str, reader: Any, warnings: list[str]) -> Any:
    from sync_provider.engine.evidence.eventlog import find_eventlog, parse_eventlog

    cluster_id = getattr(report, "cluster_id", None)
    if not cluster_id:
        warnings.append("the run reports no cluster id, so its event log cannot be found: runtimes only")
        return None
    directory = find_eventlog(
        destination, cluster_id, reader=reader, spark_context_id=getattr(report, "spark_context_id", None)
    )
    if directory is None:
        warnings.append(
            f"no event log for cluster {cluster_id} under {destination} (not delivered yet? put a "
            "SyncPredictionSensor before this task): this run is recorded from its runtime only"
        )
        return None
    return parse_eventlog(directory, reader=reader)


def _evidence(
    api: Any,
    run_id: str,
    settings: SyncSettings,
    task_key: str | None,
    log_destination: str | None,
    s3_client_factory: Any,
    warnings: list[str],
) -> tuple[Any, Any]:
    """The run's cluster report and event-log profile. Only the report is required: without a readable log the
    run is still recorded (runtimes only) and the reason is added to `warnings`."""
    from sync_provider.engine.evidence.cluster_report import build_cluster_report
    from sync_provider.triggers.delivery import log_destination_of_run

    try:
        run = api("GET", "api/2.1/jobs/runs/get", {"run_id": run_id})
    except Exception as exc:
        raise PredictionError(
            f"could not read Databricks run {run_id} ({_short(exc)}); check the run id (task_to_submit) and that "
            "the Databricks connection may call jobs/runs/get"
        ) from exc
    destination = log_destination or log_destination_of_run(run, task_key=task_key) or settings.log_destination
    reader = None
    if destination is None:
        warnings.append(
            "the run's cluster has no cluster_log_conf and the sync connection has no log_destination: "
            "no event log, the engine works from runtimes only (set log_destination to enable it)"
        )
    else:
        try:
            reader = _reader(destination, api, s3_client_factory)
        except Exception as exc:
            warnings.append(_log_read_warning(destination, exc, settings))
    report = None
    if reader is not None:
        try:
            report = build_cluster_report(api, run_id, reader=reader, log_destination=destination, task_key=task_key)
        except Exception as exc:  # collector files unreadable: retry with the REST API alone
            warnings.append(_log_read_warning(destination or "", exc, settings))
            reader = None
    if report is None:
        try:
            report = build_cluster_report(api, run_id, task_key=task_key)
        except Exception as exc:
            raise PredictionError(
                f"could not build the cluster report of Databricks run {run_id} ({_short(exc)}); check that the "
                "Databricks connection may call jobs/runs/get, clusters/get and clusters/events"
            ) from exc
    profile = None
    if reader is not None:
        try:
            profile = _profile(report, destination or "", reader, warnings)
        except Exception as exc:
            warnings.append(_log_read_warning(destination or "", exc, settings))
    return report, profile


def _log_read_warning(destination: str, exc: Exception, settings: SyncSettings) -> str:
    text = _short(exc)
    if destination.startswith("s3://"):
        hint = f"give the AWS connection {settings.aws_conn_id!r} s3:ListBucket and s3:GetObject on {destination}" + (
            f" (endpoint {settings.aws_endpoint_url})" if settings.aws_endpoint_url else ""
        )
    else:
        hint = "give the Databricks connection's principal read access to DBFS at that path"
    return f"cannot read the cluster logs at {destination} ({text}); {hint}. Recorded from runtimes only"


# ---------------------------------------------------------------------- summary


def _config_json(config: ClusterConfig | None) -> dict[str, Any] | None:
    if config is None:
        return None
    return {**config.model_dump(mode="json"), "description": config.describe()}


def summarize(project: ProjectRecord, run: RunRecord, prediction_id: str, prediction: Prediction) -> dict[str, Any]:
    """The XCom summary: what ran, what the engine recommends for the project's preference, and why."""
    preference = project.goals.preference
    solution: Solution = prediction.for_preference(preference)
    obs = run.observation
    current = prediction.current or obs.config
    return {
        "status": "ok",
        "project": project.name,
        "project_id": project.id,
        "run_id": run.external_run_id,
        "prediction_id": prediction_id,
        "phase": prediction.phase.value,
        "preference": preference.value,
        "current": _config_json(current),
        "recommended": _config_json(solution.config),
        "change": solution.config != current,
        "predicted_runtime_s": round(solution.predicted_runtime_s, 1),
        "predicted_runtime_p90_s": round(solution.predicted_runtime_p90_s, 1),
        "predicted_cost_usd": round(solution.cost.total_usd, 4),
        "meets_sla": solution.meets_sla,
        "actual_runtime_s": obs.runtime_s,
        "actual_cost_usd": None if obs.cost is None else round(obs.cost.total_usd, 4),
        "succeeded": obs.succeeded,
        "sla_seconds": project.goals.sla_seconds,
        "sla_met": run.sla_met,
        "reason": solution.reason or prediction.reason,
        "warnings": list(prediction.warnings),
    }


def format_summary(summary: Mapping[str, Any]) -> str:
    """One readable paragraph for the task log."""
    cur = (summary.get("current") or {}).get("description", "?")
    rec = (summary.get("recommended") or {}).get("description", "?")
    change = f"{cur} -> {rec}" if summary.get("change") else f"keep {cur}"
    actual = summary.get("actual_cost_usd")
    return (
        f"Sync [{summary.get('project')}] run {summary.get('run_id')}: "
        f"{'succeeded' if summary.get('succeeded') else 'FAILED'} in {summary.get('actual_runtime_s')} s"
        + (f" for ${actual:.2f}" if actual is not None else "")
        + f"; phase {summary.get('phase')}; {summary.get('preference')}: {change}, predicted "
        f"{summary.get('predicted_runtime_s')} s (p90 {summary.get('predicted_runtime_p90_s')} s) for "
        f"${summary.get('predicted_cost_usd')}; {summary.get('reason')} (prediction {summary.get('prediction_id')})"
    )


# ---------------------------------------------------------------------- small helpers


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 400 else text[:400] + "..."


def _describe(exc: BaseException, op: SyncPredictionOperator) -> str:
    if isinstance(exc, PredictionError):
        return str(exc)
    return f"project {op.project!r}: {type(exc).__name__}: {_short(exc)}"


def _info(log: Any, msg: str, *args: Any) -> None:
    if log is not None:
        log.info(msg, *args)


def _warn(log: Any, msg: str, *args: Any) -> None:
    if log is not None:
        log.warning(msg, *args)
