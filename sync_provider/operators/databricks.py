"""SyncDatabricksSubmitRunOperator: DatabricksSubmitRunOperator whose job clusters Sync configures and observes.

The Databricks provider (>= 7.17) merges the payload at execute time in `_prepare_submit_json()`, which both the
deferrable and the non-deferrable (resumable) paths call right before runs/submit; Sync's injection runs on that
final payload. The store is read in `execute()`, never at DAG parse time.

Non-strict by default: when the Sync store cannot be reached, or Databricks refuses the payload as Sync prepared it
(a 4xx from runs/submit: an instance type the workspace does not offer, say), the user's payload is submitted
unchanged with a warning, because optimisation must never stop a production job. `strict=True` (or `strict` on the
connection) fails the task instead. Bad input (malformed connection, payload without a job cluster, a literal
credential) is always an error, raised before anything is submitted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow.providers.databricks.operators.databricks import DatabricksSubmitRunOperator
from airflow.providers.databricks.utils.databricks import normalise_json_content
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from sync_provider.cluster_spec import PayloadError, SecretInPayloadError, inject_sync, validate_payload
from sync_provider.engine.models import ApplyMode, ClusterConfig, Constraints, Goals, Preference, SpotPolicy
from sync_provider.store import ProjectNotFound, SyncStoreError

if TYPE_CHECKING:
    from airflow.sdk import Context

    from sync_provider.hooks.sync import SyncHook
    from sync_provider.settings import SyncSettings

if not hasattr(DatabricksSubmitRunOperator, "_prepare_submit_json"):  # pragma: no cover - depends on the install
    raise ImportError(
        "SyncDatabricksSubmitRunOperator needs apache-airflow-providers-databricks >= 7.17 (payload prepared at "
        "execute time in DatabricksSubmitRunOperator._prepare_submit_json); upgrade the Databricks provider"
    )

XCOM_PROJECT_ID = "sync_project_id"
XCOM_CONFIG_VERSION = "sync_config_version"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class SyncUnavailableError(RuntimeError):
    """The Sync store could not be used and the operator runs in strict mode."""


@dataclass(frozen=True)
class SyncPlan:
    """What execute() resolved from the store for this try: the payload injection uses it."""

    project_id: str
    config_version: int | None
    active: ClusterConfig | None
    settings: SyncSettings
    dag_id: str | None
    dag_run_id: str | None
    cluster_key: str | None = None


class SyncDatabricksSubmitRunOperator(DatabricksSubmitRunOperator):
    """Submit a Databricks run whose job clusters use the Sync project's active configuration.

    Takes every argument of DatabricksSubmitRunOperator plus:

    :param project: Sync project id or name (templated). A name that does not exist yet is created with the
        goals and constraints below; an unknown id is an error.
    :param sync_conn_id: the `sync` connection (store URL, defaults, log destination, init script).
    :param sla_minutes: runtime goal of a new project, in minutes.
    :param cost_target: cost goal of a new project, in USD per run.
    :param preference: economy / balanced / performance (default: the connection's).
    :param constraints: Constraints (or a dict) for a new project; the shortcut arguments below override it.
    :param tags: grouping tags of a new project, e.g. {"team": "data"}.
    :param apply_mode: auto / approval / dry-run for a new project (default: the connection's).
    :param cluster_key: merge the configuration only into the cluster of this task/job cluster key (multi-task
        payloads); default: the project's job_cluster_key or task_key, else every new_cluster.
    :param strict: fail the task when Sync cannot prepare the run (default: the connection's `strict`, False).
    """

    template_fields: Sequence[str] = (*DatabricksSubmitRunOperator.template_fields, "project")

    def __init__(
        self,
        *,
        project: str,
        sync_conn_id: str = "sync_default",
        sla_minutes: float | None = None,
        cost_target: float | None = None,
        preference: Preference | str | None = None,
        constraints: Constraints | dict[str, Any] | None = None,
        instance_families: list[str] | None = None,
        instance_types: list[str] | None = None,
        min_workers: int | None = None,
        max_workers: int | None = None,
        photon_allowed: bool | None = None,
        spot_policy: SpotPolicy | str | None = None,
        driver_instance_type: str | None = None,
        tags: dict[str, str] | None = None,
        apply_mode: ApplyMode | str | None = None,
        cluster_key: str | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not project:
            raise ValueError("SyncDatabricksSubmitRunOperator needs project= (a Sync project name or id)")
        self.project = project
        self.sync_conn_id = sync_conn_id
        self.sla_minutes = sla_minutes
        self.cost_target = cost_target
        self.preference = Preference(preference) if preference is not None else None
        self.constraints = _constraints(
            constraints,
            instance_families=instance_families,
            instance_types=instance_types,
            min_workers=min_workers,
            max_workers=max_workers,
            photon_allowed=photon_allowed,
            spot_policy=spot_policy,
            driver_instance_type=driver_instance_type,
        )
        self.project_tags = dict(tags or {})
        self.apply_mode = ApplyMode(apply_mode) if apply_mode is not None else None
        self.cluster_key = cluster_key
        self.strict = strict
        self._sync_plan: SyncPlan | None = None
        self._goals(None)  # refuse bad goals (e.g. sla_minutes=0) when the DAG is parsed, not at run time

    # ------------------------------------------------------------------ execution

    def execute(self, context: Context) -> Any:
        """Resolve the project and its active configuration, then submit (deferring or polling as configured)."""
        validate_payload(self._get_merged_json())  # bad payloads fail before the store is touched
        self._sync_plan = self._resolve_plan(context)
        if self._sync_plan is not None and self.do_xcom_push:
            ti = context["ti"]
            ti.xcom_push(key=XCOM_PROJECT_ID, value=self._sync_plan.project_id)
            ti.xcom_push(key=XCOM_CONFIG_VERSION, value=self._sync_plan.config_version)
        try:
            return super().execute(context)
        except Exception as exc:
            if not self._may_run_unchanged(exc):
                raise
            # What Sync changed did not get the run started (Databricks refused the prepared payload, or the
            # project's cluster key is not in it): the job runs as the DAG wrote it, as when the store is down.
            self.log.warning(
                "The run as Sync prepared it could not be submitted (%s): submitting the payload unchanged; this run "
                "is not optimised",
                exc,
            )
            self._sync_plan = None
            if self.do_xcom_push:
                context["ti"].xcom_push(key=XCOM_CONFIG_VERSION, value=None)
            return super().execute(context)

    def _may_run_unchanged(self, exc: Exception) -> bool:
        """Not strict, Sync changed the payload, no run exists yet, and the failure was a refusal before one did:
        our own PayloadError, or a 4xx from runs/submit other than 429 (Databricks created nothing then; a
        timeout or 5xx may have created a run, which a second submission would duplicate)."""
        plan = self._sync_plan
        if plan is None or getattr(self, "run_id", None) is not None:
            return False
        if (self.strict if self.strict is not None else plan.settings.strict) or isinstance(exc, SecretInPayloadError):
            return False
        if isinstance(exc, PayloadError):
            return True
        status = getattr(exc, "http_status_code", None)  # the provider's DatabricksApiError carries it
        return isinstance(status, int) and 400 <= status < 500 and status != 429

    def _prepare_submit_json(self, context: Context) -> dict[str, Any]:
        """The provider's final payload (numbers as strings), with Sync's cluster configuration injected."""
        payload = super()._prepare_submit_json(context)
        plan = self._sync_plan
        if plan is None:
            validate_payload(payload)
            return payload
        injected = inject_sync(
            payload,
            project_id=plan.project_id,
            config_version=plan.config_version,
            active=plan.active,
            settings=plan.settings,
            dag_id=plan.dag_id,
            dag_run_id=plan.dag_run_id,
            cluster_key=plan.cluster_key,
        )
        return normalise_json_content(injected)  # type: ignore[return-value]

    # ------------------------------------------------------------------ store

    def _sync_hook(self) -> SyncHook:
        from sync_provider.hooks.sync import SyncHook

        return SyncHook(self.sync_conn_id)

    def _resolve_plan(self, context: Context) -> SyncPlan | None:
        hook = self._sync_hook()
        settings = hook.settings  # a malformed connection is bad input: always an error
        strict = settings.strict if self.strict is None else self.strict
        try:
            store = hook.store
            project = store.find_project(self.project)
            if project is None:
                if _UUID.match(str(self.project)):
                    raise ProjectNotFound(self.project, [p.name for p in store.list_projects()])
                project = store.get_or_create_project(
                    self.project,
                    goals=self._goals(settings),
                    constraints=self.constraints,
                    tags=self.project_tags,
                    apply_mode=self.apply_mode or settings.apply_mode,
                )
                self.log.info("Created Sync project %s (%s) with goals %s", project.name, project.id, project.goals)
            elif self._goals_given() and project.goals != self._goals(settings):
                self.log.info(
                    "Sync project %s keeps its stored goals (%s); the operator's goal arguments apply only when the "
                    "project is created (change goals with `sync-cli projects update`)",
                    project.name,
                    project.goals,
                )
            active = store.active_config(project.id)
        except ProjectNotFound:
            raise
        except (SyncStoreError, SQLAlchemyError, OSError, ValidationError) as exc:
            if strict:
                raise SyncUnavailableError(
                    f"Sync store unavailable ({exc}); strict mode stops the run. Fix the sync connection "
                    f"{self.sync_conn_id!r} or set strict=False to run unoptimised"
                ) from exc
            self.log.warning(
                "Sync store unavailable (%s): submitting the payload unchanged; this run is not optimised", exc
            )
            return None
        if active:
            self.log.info(
                "Sync project %s: running config version %d (%s)",
                project.name,
                active.version,
                active.config.describe(),
            )
        else:
            self.log.info("Sync project %s: no active configuration yet, running the payload's own", project.name)
        settings = self._with_collector(settings, strict)
        ti = context.get("ti")
        dag_run = context.get("dag_run")
        return SyncPlan(
            project_id=project.id,
            config_version=active.version if active else None,
            active=active.config if active else None,
            settings=settings,
            dag_id=getattr(ti, "dag_id", None) or self.dag_id,
            dag_run_id=context.get("run_id") or getattr(dag_run, "run_id", None) or getattr(ti, "run_id", None),
            cluster_key=self.cluster_key or project.job_cluster_key or project.task_key,
        )

    def _with_collector(self, settings: SyncSettings, strict: bool) -> SyncSettings:
        """Make sure the collector init script exists before a cluster is told to run it (a missing init script
        stops the cluster from starting); when it cannot be checked or uploaded, run without it."""
        if not settings.init_script_path:
            return settings
        from airflow.providers.databricks.hooks.databricks import DatabricksHook

        from sync_provider.collector import ensure_collector_script
        from sync_provider.hooks.databricks_api import databricks_api

        try:
            api = databricks_api(DatabricksHook(self.databricks_conn_id, retry_limit=self.databricks_retry_limit))
            location = ensure_collector_script(api, settings.init_script_path)
        except Exception as exc:
            if strict:
                raise SyncUnavailableError(
                    f"the collector init script {settings.init_script_path} is missing and could not be uploaded "
                    f"({exc}); upload it with `sync-cli aws-databricks upload-init-script` or set strict=False"
                ) from exc
            self.log.warning(
                "Sync collector init script %s is missing and could not be uploaded (%s): this run goes without it "
                "(its cluster report relies on Databricks' cluster events only). Upload it with "
                "`sync-cli aws-databricks upload-init-script`",
                settings.init_script_path,
                exc,
            )
            return settings.model_copy(update={"init_script_path": None})
        if location != settings.init_script_path:
            return settings.model_copy(update={"init_script_path": location})
        return settings

    def _goals_given(self) -> bool:
        return self.sla_minutes is not None or self.cost_target is not None or self.preference is not None

    def _goals(self, settings: SyncSettings | None) -> Goals:
        try:
            return Goals(
                sla_seconds=self.sla_minutes * 60 if self.sla_minutes is not None else None,
                cost_target_usd=self.cost_target,
                preference=self.preference or (settings.preference if settings else Preference.ECONOMY),
            )
        except ValidationError as exc:
            err = exc.errors()[0]
            arg = {"sla_seconds": "sla_minutes", "cost_target_usd": "cost_target"}.get(
                str(err["loc"][0]), err["loc"][0]
            )
            raise ValueError(f"{arg}: {err['msg']} (got {err.get('input')!r})") from None


def _constraints(base: Constraints | dict[str, Any] | None, **shortcuts: Any) -> Constraints | None:
    given = {k: v for k, v in shortcuts.items() if v is not None}
    if base is None and not given:
        return None
    data = base.model_dump() if isinstance(base, Constraints) else dict(base or {})
    data.update(given)
    return Constraints.model_validate(data)
