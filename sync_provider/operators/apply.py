"""ApplyRecommendationOperator: turn the engine's recommendation into the configuration the next run uses.

Two ways a job gets its cluster, two ways to apply:

- Jobs submitted from Airflow (SyncDatabricksSubmitRunOperator): the project's active config version in the
  Sync store is what the submit operator merges into the payload, so applying = appending a new version
  (auto: active at once; approval: a pending version until `sync-cli projects approve`; dry-run: recorded as
  "dry-run" and logged, nothing changes).
- Jobs defined in Databricks (DatabricksRunNowOperator): additionally the job definition is updated in place
  (jobs/get, then jobs/update with the cluster keyed by job cluster key or task key). Every execution reconciles
  the job with the store's active version, so an approval given later from the CLI reaches the job on the next
  DAG run.

The controller decides reverts (phase ROLLBACK: its solution is the last good configuration); this operator
carries them out at once in every mode but dry-run, because returning to a known good configuration is the
safe direction. Guardrails (the project's constraints, a limit on how far the worker count may move in one
step, no change predicted to miss the SLA) stop a change, never a revert. Every apply, revert and refusal is
recorded with who and why.

Like the prediction operator it is non-strict by default: a failure is a warning and the job keeps its last
good configuration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from sync_provider.engine.models import ApplyMode, ClusterConfig, Phase, Prediction, SpotPolicy

if TYPE_CHECKING:
    from airflow.sdk import Context

    from sync_provider.engine.evidence.catalog import Catalog
    from sync_provider.store import ConfigVersionRecord, ProjectRecord, SyncStore

XCOM_APPLY = "apply"
MAX_CONCURRENT_RETRIES = 3


class ApplyError(Exception):
    """Applying a recommendation failed; the message names what and what to do."""


@dataclass(frozen=True)
class Guardrails:
    """Safety limits on one automatic change (not on reverts).

    max_worker_step: the new worker count may be at most this factor above or below the current one.
    require_meets_sla: refuse a change the engine itself predicts to miss the SLA.
    """

    max_worker_step: float | None = 4.0
    require_meets_sla: bool = True

    def violations(
        self, new: ClusterConfig, current: ClusterConfig | None, project: ProjectRecord, catalog: Catalog | None
    ) -> list[str]:
        """Why `new` may not replace `current` (empty: it may)."""
        c = project.constraints
        out: list[str] = []
        if not c.min_workers <= new.num_workers <= c.max_workers:
            out.append(f"{new.num_workers} workers is outside the project's bounds [{c.min_workers}, {c.max_workers}]")
        if c.instance_types is not None and new.instance_type not in c.instance_types:
            out.append(f"{new.instance_type} is not in the allowed instance types {c.instance_types}")
        if catalog is not None and (c.instance_families is not None or c.architectures is not None):
            if new.instance_type not in catalog:
                out.append(f"{new.instance_type} is not in the instance catalog")
            else:
                node = catalog.get(new.instance_type)
                if c.instance_families is not None and node.family not in c.instance_families:
                    out.append(f"family {node.family} is not in the allowed families {c.instance_families}")
                if c.architectures is not None and node.arch not in c.architectures:
                    out.append(f"architecture {node.arch} is not in the allowed architectures {c.architectures}")
        if new.photon and not c.photon_allowed:
            out.append("Photon is not allowed for this project")
        if new.spot and c.spot_policy == SpotPolicy.NEVER:
            out.append("spot workers are not allowed for this project (spot_policy=never)")
        if c.driver_instance_type and new.driver != c.driver_instance_type:
            out.append(f"the driver must be {c.driver_instance_type}, not {new.driver}")
        if self.max_worker_step and current is not None and current.num_workers > 0 and new.num_workers > 0:
            ratio = new.num_workers / current.num_workers
            if ratio > self.max_worker_step or ratio < 1 / self.max_worker_step:
                out.append(
                    f"moving from {current.num_workers} to {new.num_workers} workers exceeds the step limit "
                    f"(x{self.max_worker_step:g}); raise max_worker_step to allow bigger moves"
                )
        return out


@dataclass
class ApplyOutcome:
    """What the operator did, for XCom and the task log."""

    action: str  # applied | pending | dry-run | reverted | unchanged | blocked | skipped
    project: str
    message: str
    version: int | None = None
    config: ClusterConfig | None = None
    previous: ClusterConfig | None = None
    prediction_id: str | None = None
    phase: str | None = None
    job_updated: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    def to_xcom(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "project": self.project,
            "message": self.message,
            "version": self.version,
            "config": None if self.config is None else self.config.model_dump(mode="json"),
            "previous": None if self.previous is None else self.previous.model_dump(mode="json"),
            "prediction_id": self.prediction_id,
            "phase": self.phase,
            "job_updated": self.job_updated,
            "reverted": self.action == "reverted",
            **self.details,
        }


class ApplyRecommendationOperator(BaseOperator):
    """Make a prediction's solution (for the project's preference) the project's next configuration.

    :param project: Sync project name or id; default: the project named in the prediction task's XCom summary.
    :param prediction_id: the prediction to apply (templated); default: XCom `prediction_id` of `task_to_predict`.
    :param task_to_predict: the SyncPredictionOperator's task id.
    :param apply_mode: auto | approval | dry-run; default: the project's apply mode.
    :param job_id: a Databricks job to update in place (default: the project's `job_id`); with it, the job's
        cluster is found by `job_cluster_key` or `task_key` (defaults: the project's).
    :param max_worker_step / require_meets_sla: guardrails, see `Guardrails`.
    :param actor: who the change is recorded as (default: airflow:<dag_id>.<task_id>).
    :param strict: fail the task on any error (default: the sync connection's `strict`).
    """

    template_fields: Sequence[str] = (
        "project",
        "prediction_id",
        "task_to_predict",
        "apply_mode",
        "job_id",
        "job_cluster_key",
        "task_key",
    )
    ui_color = "#e6ffe6"

    def __init__(
        self,
        *,
        project: str | None = None,
        prediction_id: str | None = None,
        task_to_predict: str = "sync_prediction",
        sync_conn_id: str = "sync_default",
        apply_mode: ApplyMode | str | None = None,
        job_id: str | int | None = None,
        job_cluster_key: str | None = None,
        task_key: str | None = None,
        databricks_conn_id: str | None = None,
        max_worker_step: float | None = 4.0,
        require_meets_sla: bool = True,
        actor: str | None = None,
        strict: bool | None = None,
        trigger_rule: str = "all_done",
        **kwargs: Any,
    ) -> None:
        # all_done: a revert after a failed Databricks run must still happen.
        super().__init__(trigger_rule=trigger_rule, **kwargs)
        self.project = project
        self.prediction_id = prediction_id
        self.task_to_predict = task_to_predict
        self.sync_conn_id = sync_conn_id
        self.apply_mode = apply_mode
        self.job_id = job_id
        self.job_cluster_key = job_cluster_key
        self.task_key = task_key
        self.databricks_conn_id = databricks_conn_id
        self.guardrails = Guardrails(max_worker_step=max_worker_step, require_meets_sla=require_meets_sla)
        self.actor = actor
        self.strict = strict

    def execute(self, context: Context) -> dict[str, Any]:
        from sync_provider.cluster_spec import log_conf
        from sync_provider.hooks.sync import SyncHook

        ti = context["ti"]
        strict = bool(self.strict)
        try:
            hook = SyncHook(self.sync_conn_id)
            settings = hook.settings
            strict = settings.strict if self.strict is None else bool(self.strict)
            store = hook.store
            project = store.get_project(self.project or self._project_from_xcom(ti))
            prediction_id = self._prediction_id(ti)
            actor = self.actor or f"airflow:{self.dag_id}.{self.task_id}"
            mode = ApplyMode(self.apply_mode) if self.apply_mode else project.apply_mode
            job_id = self.job_id or project.job_id
            api = None
            if job_id:
                from airflow.providers.databricks.hooks.databricks import DatabricksHook

                from sync_provider.hooks.databricks_api import databricks_api

                api = databricks_api(DatabricksHook(self.databricks_conn_id or settings.databricks_conn_id))
            outcome = apply_recommendation(
                store,
                project,
                prediction_id,
                mode=mode,
                actor=actor,
                guardrails=self.guardrails,
                catalog=settings.catalog(),
                api=api,
                job_id=str(job_id) if job_id else None,
                job_cluster_key=self.job_cluster_key or project.job_cluster_key,
                task_key=self.task_key or project.task_key,
                cluster_log_conf=log_conf(settings),
                why=self._why_missing(ti) if prediction_id is None else None,
            )
        except Exception as exc:
            message = (
                f"project {self.project!r}: {exc}"
                if isinstance(exc, ApplyError)
                else (f"project {self.project!r}: {type(exc).__name__}: {exc}")
            )
            if strict:
                raise ApplyError(message) from exc
            self.log.warning("Sync apply skipped, the job keeps its current configuration: %s", message)
            return {"action": "skipped", "project": self.project, "message": message, "reverted": False}
        failed_update = "job_update_error" in outcome.details
        log = self.log.warning if outcome.action in ("blocked", "skipped") or failed_update else self.log.info
        log("Sync [%s] %s: %s", outcome.project, outcome.action, outcome.message)
        if strict and (outcome.action == "skipped" or failed_update):
            raise ApplyError(outcome.message)
        return outcome.to_xcom()

    def _project_from_xcom(self, ti: Any) -> str:
        from sync_provider.operators.prediction import XCOM_SUMMARY

        summary = ti.xcom_pull(task_ids=self.task_to_predict, key=XCOM_SUMMARY)
        if isinstance(summary, Mapping) and (summary.get("project_id") or summary.get("project")):
            return str(summary.get("project_id") or summary.get("project"))
        raise ApplyError(
            f"no project given and none in the XCom summary of task {self.task_to_predict!r}: pass project="
        )

    def _prediction_id(self, ti: Any) -> str | None:
        if self.prediction_id:
            return str(self.prediction_id)
        from sync_provider.operators.prediction import XCOM_PREDICTION_ID

        value = ti.xcom_pull(task_ids=self.task_to_predict, key=XCOM_PREDICTION_ID)
        return str(value) if value else None

    def _why_missing(self, ti: Any) -> str:
        from sync_provider.operators.prediction import XCOM_SUMMARY

        summary = ti.xcom_pull(task_ids=self.task_to_predict, key=XCOM_SUMMARY)
        if isinstance(summary, Mapping) and summary.get("error"):
            return f"the prediction task {self.task_to_predict!r} failed: {summary['error']}"
        return (
            f"no prediction_id in the XCom of task {self.task_to_predict!r}: set task_to_predict to the task id of "
            "the SyncPredictionOperator, or pass prediction_id"
        )


# ---------------------------------------------------------------------- the decision, testable without Airflow


def apply_recommendation(
    store: SyncStore,
    project: ProjectRecord,
    prediction_id: str | None,
    *,
    mode: ApplyMode,
    actor: str,
    guardrails: Guardrails | None = None,
    catalog: Catalog | None = None,
    api: Any = None,
    job_id: str | None = None,
    job_cluster_key: str | None = None,
    task_key: str | None = None,
    cluster_log_conf: Mapping[str, Any] | None = None,
    why: str | None = None,
) -> ApplyOutcome:
    """Apply (or stage, or log) the prediction's solution; then bring a Databricks job in line with the store."""
    guardrails = guardrails or Guardrails()
    reconcile = api is not None and bool(job_id) and mode != ApplyMode.DRY_RUN
    if reconcile:
        check_job_cluster(api, str(job_id), job_cluster_key, task_key)
    if prediction_id is None:
        active = store.active_config(project.id)
        outcome = ApplyOutcome(
            "skipped",
            project.name,
            f"{why or 'no prediction to apply'}; the job keeps "
            + (f"config version {active.version} ({active.config.describe()})" if active else "its own configuration"),
            version=active.version if active else None,
            config=active.config if active else None,
        )
    else:
        outcome = _decide_with_retries(store, project, prediction_id, mode, actor, guardrails, catalog)
    _note_waiting_approval(store, project, outcome)
    if reconcile:
        try:
            _reconcile_job(store, project, api, job_id, job_cluster_key, task_key, outcome, cluster_log_conf)
        except Exception as exc:
            # The store's decision stands (it may have made a new version active); only the job was not told.
            # Reporting the whole apply as skipped would hide that the two now differ until the next apply.
            outcome.details["job_update_error"] = f"{type(exc).__name__}: {exc}"
            outcome.message += (
                f"; but Databricks job {job_id} could not be updated ({type(exc).__name__}: {exc}): it keeps its "
                "current cluster until the next apply reconciles it"
            )
    return outcome


def _decide_with_retries(
    store: SyncStore,
    project: ProjectRecord,
    prediction_id: str,
    mode: ApplyMode,
    actor: str,
    guardrails: Guardrails,
    catalog: Catalog | None,
) -> ApplyOutcome:
    from sync_provider.store import ConcurrentUpdateError

    for attempt in range(MAX_CONCURRENT_RETRIES):
        try:
            return _decide(store, project, prediction_id, mode, actor, guardrails, catalog)
        except ConcurrentUpdateError:
            if attempt == MAX_CONCURRENT_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _decide(
    store: SyncStore,
    project: ProjectRecord,
    prediction_id: str,
    mode: ApplyMode,
    actor: str,
    guardrails: Guardrails,
    catalog: Catalog | None,
) -> ApplyOutcome:
    record = store.get_prediction(prediction_id)
    if record.project_id != project.id:
        raise ApplyError(
            f"prediction {prediction_id} belongs to another project ({record.project_id}); pass the prediction "
            f"of project {project.name!r}"
        )
    prediction: Prediction = record.prediction
    solution = prediction.for_preference(project.goals.preference)
    history = store.config_history(project.id)
    latest = history[-1] if history else None
    active = store.active_config(project.id)
    current = active.config if active else prediction.current
    new = solution.config
    base = dict(prediction_id=prediction_id, phase=prediction.phase.value, previous=current, config=new)
    predicted = (
        f"predicted {solution.predicted_runtime_s:.0f} s (p90 {solution.predicted_runtime_p90_s:.0f} s), "
        f"${solution.cost.total_usd:.2f}"
    )

    if prediction.phase == Phase.ROLLBACK:
        return _revert(store, project, record.id, prediction, new, current, active, latest, mode, actor, base)

    if current is not None and new == current:
        store.set_prediction_status(prediction_id, "unchanged")
        return ApplyOutcome(
            "unchanged",
            project.name,
            f"keep {current.describe()} (phase {prediction.phase.value}: {solution.reason or prediction.reason})",
            version=active.version if active else None,
            **base,
        )

    problems = guardrails.violations(new, current, project, catalog)
    if guardrails.require_meets_sla and project.goals.sla_seconds and not solution.meets_sla:
        problems.append(
            f"the engine predicts it misses the {project.goals.sla_seconds:.0f} s SLA "
            f"(p90 {solution.predicted_runtime_p90_s:.0f} s)"
        )
    if problems:
        store.set_prediction_status(prediction_id, "blocked")
        return ApplyOutcome(
            "blocked",
            project.name,
            f"guardrails refused {new.describe()}: {'; '.join(problems)}; the job keeps "
            f"{current.describe() if current else 'its own configuration'}",
            version=active.version if active else None,
            details={"guardrails": problems},
            **base,
        )

    reason = (
        f"{prediction.phase.value}: {solution.reason or prediction.reason}; {predicted} (prediction {prediction_id})"
    )
    if mode == ApplyMode.APPROVAL:
        waiting = _pending_same(history, active, new)
        if waiting is not None:
            return ApplyOutcome(
                "pending",
                project.name,
                f"{new.describe()} already awaits approval as version {waiting.version}: "
                f"`sync-cli projects approve {project.name} {waiting.version}`",
                version=waiting.version,
                **base,
            )

    # In auto mode the configuration the job ran with before Sync's first change becomes version 1, so the
    # timeline starts where the job did and `sync-cli projects rollback --to 1` can return to it.
    if mode == ApplyMode.AUTO and latest is None and current is not None:
        latest = store.append_config(
            project.id,
            current,
            expected_version=None,
            status="active",
            actor=actor,
            reason="baseline: the configuration the job ran with before Sync changed it",
        )
        active = latest

    status = {ApplyMode.AUTO: "active", ApplyMode.APPROVAL: "pending", ApplyMode.DRY_RUN: "dry-run"}[mode]
    rec = store.append_config(
        project.id,
        new,
        expected_version=latest.version if latest else None,
        status=status,
        actor=actor,
        reason=reason,
        prediction_id=prediction_id,
    )
    if mode == ApplyMode.AUTO:
        store.set_prediction_status(prediction_id, "applied")
        msg = f"version {rec.version} active: {_change(current, new)}; {reason}"
        return ApplyOutcome("applied", project.name, msg, version=rec.version, **base)
    if mode == ApplyMode.APPROVAL:
        store.set_prediction_status(prediction_id, "pending")
        msg = (
            f"version {rec.version} ({_change(current, new)}) awaits approval: "
            f"`sync-cli projects approve {project.name} {rec.version}`; until then the job keeps "
            f"{current.describe() if current else 'its own configuration'}"
        )
        return ApplyOutcome("pending", project.name, msg, version=rec.version, **base)
    store.set_prediction_status(prediction_id, "dry-run")
    msg = f"dry-run: would change {_change(current, new)}; recorded as version {rec.version} (not active); {reason}"
    return ApplyOutcome("dry-run", project.name, msg, version=rec.version, **base)


def _revert(
    store: SyncStore,
    project: ProjectRecord,
    prediction_id: str,
    prediction: Prediction,
    target: ClusterConfig,
    current: ClusterConfig | None,
    active: ConfigVersionRecord | None,
    latest: ConfigVersionRecord | None,
    mode: ApplyMode,
    actor: str,
    base: dict[str, Any],
) -> ApplyOutcome:
    why = f"rollback: {prediction.reason}"
    if current is not None and target == current:
        store.set_prediction_status(prediction_id, "unchanged")
        return ApplyOutcome(
            "unchanged",
            project.name,
            f"already on the last good configuration {target.describe()} ({why})",
            version=active.version if active else None,
            **base,
        )
    if mode == ApplyMode.DRY_RUN:
        store.set_prediction_status(prediction_id, "dry-run")
        return ApplyOutcome(
            "dry-run", project.name, f"dry-run: would revert {_change(current, target)} ({why})", **base
        )
    good = next(
        (c for c in reversed(store.config_history(project.id)) if c.status == "active" and c.config == target), None
    )
    if good is not None:
        rec = store.rollback(project.id, to_version=good.version, actor=actor, reason=why)
    else:  # the controller's last good configuration never had a version of its own (it predates Sync)
        rec = store.append_config(
            project.id,
            target,
            expected_version=latest.version if latest else None,
            status="active",
            actor=actor,
            reason=why,
            prediction_id=prediction_id,
        )
    store.set_prediction_status(prediction_id, "applied")
    source = f" (back to version {good.version})" if good is not None else ""
    return ApplyOutcome(
        "reverted",
        project.name,
        f"version {rec.version} active: reverted {_change(current, target)}{source}; {why}",
        version=rec.version,
        **base,
    )


def _pending_same(
    history: list[ConfigVersionRecord], active: ConfigVersionRecord | None, config: ClusterConfig
) -> ConfigVersionRecord | None:
    """A pending version of the same config, newer than the active one and not yet approved."""
    approved = {c.approved_from for c in history if c.approved_from is not None}
    floor = active.version if active else 0
    for c in reversed(history):
        if c.version > floor and c.status == "pending" and c.config == config and c.version not in approved:
            return c
    return None


def _note_waiting_approval(store: SyncStore, project: ProjectRecord, outcome: ApplyOutcome) -> None:
    """Say in the outcome how long earlier changes have been waiting for an approval that has not come."""
    history = store.config_history(project.id)
    active = next((c for c in reversed(history) if c.status == "active"), None)
    approved = {c.approved_from for c in history if c.approved_from is not None}
    floor = active.version if active else 0
    waiting = [c for c in history if c.status == "pending" and c.version > floor and c.version not in approved]
    if waiting:
        oldest = waiting[0]
        outcome.details["awaiting_approval"] = [c.version for c in waiting]
        if outcome.action != "pending" or len(waiting) > 1:
            outcome.message += (
                f"; {len(waiting)} version(s) await approval since {oldest.created_at:%Y-%m-%d %H:%M} UTC "
                f"(oldest: version {oldest.version}), the job keeps running on "
                + (f"version {active.version}" if active else "its own configuration")
            )


def _change(old: ClusterConfig | None, new: ClusterConfig) -> str:
    return f"{old.describe() if old else 'the job definition'} -> {new.describe()}"


# ---------------------------------------------------------------------- Databricks-defined jobs


def _reconcile_job(
    store: SyncStore,
    project: ProjectRecord,
    api: Any,
    job_id: str,
    job_cluster_key: str | None,
    task_key: str | None,
    outcome: ApplyOutcome,
    cluster_log_conf: Mapping[str, Any] | None = None,
) -> None:
    """Make the Databricks job's cluster match the store's active version (no call when it already does)."""
    active = store.active_config(project.id)
    if active is None:
        return
    from sync_provider.cluster_spec import TAG_CONFIG_VERSION, TAG_PROJECT_ID

    changed = update_job_cluster(
        api,
        job_id,
        active.config,
        job_cluster_key=job_cluster_key,
        task_key=task_key,
        tags={TAG_PROJECT_ID: project.id, TAG_CONFIG_VERSION: str(active.version)},
        cluster_log_conf=cluster_log_conf,
    )
    outcome.job_updated = changed
    if changed:
        outcome.message += f"; Databricks job {job_id} updated to version {active.version} ({active.config.describe()})"


def update_job_cluster(
    api: Any,
    job_id: str,
    config: ClusterConfig,
    *,
    job_cluster_key: str | None = None,
    task_key: str | None = None,
    tags: Mapping[str, str] | None = None,
    cluster_log_conf: Mapping[str, Any] | None = None,
) -> bool:
    """jobs/get, merge `config` into the keyed cluster, jobs/update with the whole keyed list replaced.

    The cluster is the job cluster `job_cluster_key`, else the `new_cluster` of task `task_key` (or the job
    cluster that task uses), else the job's only cluster. Returns False (and calls nothing) when the job already
    has this configuration. `tags` are added to the cluster's custom_tags; `cluster_log_conf` is set when the
    cluster has none (so its event logs reach Sync).
    """
    from sync_provider.cluster_spec import merge_config

    job = api("GET", "api/2.1/jobs/get", {"job_id": job_id})
    settings = job.get("settings") or {}
    job_clusters = [dict(jc) for jc in settings.get("job_clusters") or []]
    tasks = [dict(t) for t in settings.get("tasks") or []]

    key_kind, index = locate_cluster(job_id, job_clusters, tasks, job_cluster_key, task_key)
    entries = job_clusters if key_kind == "job_clusters" else tasks
    before = entries[index].get("new_cluster") or {}
    after = merge_config(dict(before), config)
    if tags:
        after = {**after, "custom_tags": {**(after.get("custom_tags") or {}), **tags}}
    if cluster_log_conf and not after.get("cluster_log_conf"):
        after = {**after, "cluster_log_conf": dict(cluster_log_conf)}
    if after == before:
        return False
    entries[index] = {**entries[index], "new_cluster": after}
    api("POST", "api/2.1/jobs/update", {"job_id": _job_id_value(job_id), "new_settings": {key_kind: entries}})
    return True


def check_job_cluster(api: Any, job_id: str, job_cluster_key: str | None, task_key: str | None) -> None:
    """Find the job's cluster before anything is recorded, so a wrong key changes neither the store nor the job."""
    settings = api("GET", "api/2.1/jobs/get", {"job_id": job_id}).get("settings") or {}
    locate_cluster(job_id, settings.get("job_clusters") or [], settings.get("tasks") or [], job_cluster_key, task_key)


def locate_cluster(
    job_id: str,
    job_clusters: list[dict],
    tasks: list[dict],
    job_cluster_key: str | None,
    task_key: str | None,
) -> tuple[str, int]:
    """Which entry of the job's settings holds the cluster to tune: ("job_clusters" | "tasks", index)."""
    keys = [jc.get("job_cluster_key") for jc in job_clusters]
    task_keys = [t.get("task_key") for t in tasks]
    if job_cluster_key:
        if job_cluster_key in keys:
            return "job_clusters", keys.index(job_cluster_key)
        raise ApplyError(
            f"Databricks job {job_id} has no job cluster {job_cluster_key!r} (job clusters: {keys}); set "
            "job_cluster_key to one of them"
        )
    if task_key:
        if task_key not in task_keys:
            raise ApplyError(f"Databricks job {job_id} has no task {task_key!r} (tasks: {task_keys}); fix task_key")
        task = tasks[task_keys.index(task_key)]
        if task.get("new_cluster"):
            return "tasks", task_keys.index(task_key)
        if task.get("job_cluster_key") in keys:
            return "job_clusters", keys.index(task["job_cluster_key"])
        raise ApplyError(
            f"task {task_key!r} of Databricks job {job_id} runs on an existing cluster or serverless compute; "
            "Sync can only tune a new_cluster or a job cluster"
        )
    if len(job_clusters) == 1:
        return "job_clusters", 0
    with_cluster = [i for i, t in enumerate(tasks) if t.get("new_cluster")]
    if not job_clusters and len(with_cluster) == 1:
        return "tasks", with_cluster[0]
    raise ApplyError(
        f"Databricks job {job_id} has several clusters (job clusters: {keys}, tasks: {task_keys}); set "
        "job_cluster_key or task_key on the operator or the project"
    )


def _job_id_value(job_id: str) -> int | str:
    return int(job_id) if str(job_id).isdigit() else job_id
