"""Example (b): a job defined in Databricks, started with DatabricksRunNowOperator, tuned in place.

    ensure_job  ->  run_job  ->  wait_for_eventlog  ->  sync_prediction  ->  apply_recommendation

Here Airflow does not hold the cluster definition: the Databricks job does. ApplyRecommendationOperator therefore
updates the job itself (jobs/get, then jobs/update of the job cluster `main` with the whole job_clusters list
replaced), tagging the cluster with the Sync project and config version, so the next run-now uses the new
configuration. The Sync store keeps the same versioned history as in the submit recipe, so reverts and
`sync-cli projects rollback` work the same way.

`ensure_job` only makes the example self-contained (it creates the job on a fresh workspace, such as the
emulator, and links the Sync project to it); with a real job, set the project's job_id and job_cluster_key once
(`sync-cli projects create ... --job-id ... --job-cluster-key ...`) and start from `run_job`.

Environment: SYNC_RUN_NOW_PROJECT, SYNC_RUN_NOW_JOB_NAME, SYNC_RUN_NOW_WORKLOAD (notebook path),
SYNC_EXAMPLE_POLL_SECONDS. Connections: `databricks_default`, `sync_default`.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.providers.databricks.operators.databricks import DatabricksRunNowOperator
from airflow.sdk import DAG, task

from sync_provider.operators.apply import ApplyRecommendationOperator
from sync_provider.operators.prediction import SyncPredictionOperator
from sync_provider.sensors.prediction import SyncPredictionSensor

POLL_SECONDS = float(os.environ.get("SYNC_EXAMPLE_POLL_SECONDS", "30"))
PROJECT = os.environ.get("SYNC_RUN_NOW_PROJECT", "sync-run-now")
JOB_NAME = os.environ.get("SYNC_RUN_NOW_JOB_NAME", "sync-run-now-example")
WORKLOAD = os.environ.get("SYNC_RUN_NOW_WORKLOAD", "/Shared/sync/workloads/aggregation")
CLUSTER_KEY = "main"
TASK_KEY = "aggregate"


def job_settings(log_conf: dict | None) -> dict:
    """The Databricks job this example runs: one task on one job cluster, sized generously to start with."""
    cluster = {
        "spark_version": "14.3.x-scala2.12",
        "node_type_id": "r5.4xlarge",
        "num_workers": 12,
        "aws_attributes": {"availability": "ON_DEMAND", "zone_id": "auto"},
        "custom_tags": {"team": "analytics"},
    }
    if log_conf:
        cluster["cluster_log_conf"] = log_conf
    return {
        "name": JOB_NAME,
        "job_clusters": [{"job_cluster_key": CLUSTER_KEY, "new_cluster": cluster}],
        "tasks": [{"task_key": TASK_KEY, "job_cluster_key": CLUSTER_KEY, "notebook_task": {"notebook_path": WORKLOAD}}],
        "max_concurrent_runs": 1,
    }


with DAG(
    dag_id="sync_run_now",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["sync", "example"],
    doc_md=__doc__,
):

    @task
    def ensure_job() -> int:
        """Create the Databricks job if it does not exist, and link the Sync project to it."""
        from airflow.providers.databricks.hooks.databricks import DatabricksHook

        from sync_provider.cluster_spec import log_conf
        from sync_provider.engine.models import Constraints, Goals, Preference
        from sync_provider.hooks.sync import SyncHook

        sync = SyncHook()
        databricks = DatabricksHook(sync.settings.databricks_conn_id)
        job_id = databricks.find_job_id_by_name(JOB_NAME)
        if job_id is None:
            job_id = databricks.create_job(job_settings(log_conf(sync.settings)))
        project = sync.store.get_or_create_project(
            PROJECT,
            goals=Goals(sla_seconds=40 * 60, preference=Preference.ECONOMY),
            constraints=Constraints(max_workers=24),
            tags={"example": "sync_run_now"},
            job_id=str(job_id),
            job_cluster_key=CLUSTER_KEY,
            task_key=TASK_KEY,
        )
        if project.job_id != str(job_id):
            sync.store.update_project(project.id, job_id=str(job_id), job_cluster_key=CLUSTER_KEY, task_key=TASK_KEY)
        return int(job_id)

    run_job = DatabricksRunNowOperator(
        task_id="run_job",
        job_name=JOB_NAME,
        polling_period_seconds=max(1, int(POLL_SECONDS)),
    )

    wait = SyncPredictionSensor(
        task_id="wait_for_eventlog",
        task_to_submit="run_job",
        task_key=TASK_KEY,
        poke_interval=POLL_SECONDS,
        timeout=max(60.0, 40 * POLL_SECONDS),
    )

    predict = SyncPredictionOperator(
        task_id="sync_prediction", project=PROJECT, task_to_submit="run_job", task_key=TASK_KEY
    )

    # job_id, job_cluster_key and task_key come from the project (set by ensure_job).
    apply = ApplyRecommendationOperator(task_id="apply_recommendation", project=PROJECT)

    ensure_job() >> run_job >> wait >> predict >> apply
