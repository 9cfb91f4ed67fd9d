"""Example (a): the Sync recipe, a closed loop for one recurring Databricks job.

    submit_run  ->  wait_for_eventlog  ->  sync_prediction  ->  apply_recommendation

1. SyncDatabricksSubmitRunOperator runs the job on the project's active cluster configuration (the payload's
   own on the first run) with log delivery and Sync's tags injected, and pushes `run_id` to XCom.
2. SyncPredictionSensor waits until the run has ended and its event log has been delivered completely.
3. SyncPredictionOperator records the run (report, event-log profile, actual cost) and asks the engine for the
   next configuration.
4. ApplyRecommendationOperator makes it the active configuration for the next DAG run (auto / approval /
   dry-run, with guardrails), or reverts to the last good one after a failed run or a blown SLA.

The last three tasks use trigger rule all_done, so a failed Databricks run is still recorded and reverted, and
none of them ever breaks the pipeline (non-strict): the job always runs on its last good configuration.

Runtime parameters (trigger with `airflow dags test sync_recipe -c '{"project": ...}'` or the UI):
project, workload (the job's notebook path; on the emulator a built-in or uploaded workload), node_type and
num_workers (the starting cluster), apply_mode. Parse-time settings come from the environment so the demo and
the integration tests can point the DAG at a workload: SYNC_RECIPE_SLA_MINUTES (goal of a new project),
SYNC_EXAMPLE_POLL_SECONDS (how often the submit task and the sensor look; 30 by default, 1 against the emulator),
SYNC_RECIPE_DEFERRABLE=true (the sensor waits in the triggerer).

Connections: `databricks_default` (the workspace) and `sync_default` (store, log destination, apply mode).
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, Param

from sync_provider.operators.apply import ApplyRecommendationOperator
from sync_provider.operators.databricks import SyncDatabricksSubmitRunOperator
from sync_provider.operators.prediction import SyncPredictionOperator
from sync_provider.sensors.prediction import SyncPredictionSensor

POLL_SECONDS = float(os.environ.get("SYNC_EXAMPLE_POLL_SECONDS", "30"))
SLA_MINUTES = float(os.environ.get("SYNC_RECIPE_SLA_MINUTES", "45"))
MAX_WORKERS = int(os.environ.get("SYNC_RECIPE_MAX_WORKERS", "32"))

# The run's day; manual runs in Airflow 3 have no logical date (no `ds`), so fall back to when the run was due.
RUN_DAY = "{{ ds if ds is defined else dag_run.run_after | ds }}"

with DAG(
    dag_id="sync_recipe",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,  # each run learns from the previous one
    tags=["sync", "example"],
    doc_md=__doc__,
    params={
        "project": Param(os.environ.get("SYNC_RECIPE_PROJECT", "sync-recipe"), type="string"),
        "workload": Param(os.environ.get("SYNC_RECIPE_WORKLOAD", "/Shared/sync/workloads/join_etl"), type="string"),
        "node_type": Param(os.environ.get("SYNC_RECIPE_NODE_TYPE", "m5.4xlarge"), type="string"),
        "num_workers": Param(int(os.environ.get("SYNC_RECIPE_NUM_WORKERS", "16")), type="integer", minimum=0),
        "apply_mode": Param(os.environ.get("SYNC_RECIPE_APPLY_MODE", "auto"), enum=["auto", "approval", "dry-run"]),
    },
):
    submit = SyncDatabricksSubmitRunOperator(
        task_id="submit_run",
        project="{{ params.project }}",
        sla_minutes=SLA_MINUTES,
        preference="economy",
        max_workers=MAX_WORKERS,
        tags={"example": "sync_recipe"},
        run_name="sync-recipe {{ params.project }} " + RUN_DAY,
        new_cluster={
            "spark_version": "14.3.x-scala2.12",
            "node_type_id": "{{ params.node_type }}",
            "num_workers": "{{ params.num_workers }}",
            "aws_attributes": {"availability": "ON_DEMAND", "zone_id": "auto"},
        },
        notebook_task={"notebook_path": "{{ params.workload }}", "base_parameters": {"date": RUN_DAY}},
        polling_period_seconds=max(1, int(POLL_SECONDS)),
    )

    wait = SyncPredictionSensor(
        task_id="wait_for_eventlog",
        task_to_submit="submit_run",
        poke_interval=POLL_SECONDS,
        timeout=max(60.0, 40 * POLL_SECONDS),
        deferrable=os.environ.get("SYNC_RECIPE_DEFERRABLE", "").lower() in ("1", "true", "yes"),
    )

    predict = SyncPredictionOperator(
        task_id="sync_prediction",
        project="{{ params.project }}",
        task_to_submit="submit_run",
    )

    apply = ApplyRecommendationOperator(
        task_id="apply_recommendation",
        project="{{ params.project }}",
        task_to_predict="sync_prediction",
        apply_mode="{{ params.apply_mode }}",
    )

    submit >> wait >> predict >> apply
