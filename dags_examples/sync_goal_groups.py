"""Example (c): several jobs with different business goals, grouped by a tag.

One DAG runs two recurring jobs of the same team, each with its own Sync project and its own goal:

- `orders-etl` is SLA-driven: it must finish within 30 minutes; Sync picks the cheapest cluster that does
  (preference economy).
- `feature-build` is cost-driven: it must cost at most $4 a run; Sync picks the fastest cluster within that
  budget (preference performance).

Both projects carry the tag group=nightly-analytics, so the platform team sees and manages them together
(`sync-cli projects list --tag group=nightly-analytics`, the HTML report's cost vs runtime scatter coloured by
goal). Each job has its own closed loop (submit -> sensor -> prediction -> apply, in a task group);
`group_status` then summarises the group against its goals.

Environment: SYNC_GROUPS_PREFIX (project name prefix), SYNC_GROUPS_TAG, SYNC_EXAMPLE_POLL_SECONDS.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import Any

from airflow.sdk import DAG, TaskGroup, task

from sync_provider.operators.apply import ApplyRecommendationOperator
from sync_provider.operators.databricks import SyncDatabricksSubmitRunOperator
from sync_provider.operators.prediction import SyncPredictionOperator
from sync_provider.sensors.prediction import SyncPredictionSensor

log = logging.getLogger(__name__)
POLL_SECONDS = float(os.environ.get("SYNC_EXAMPLE_POLL_SECONDS", "30"))
PREFIX = os.environ.get("SYNC_GROUPS_PREFIX", "")
GROUP_TAG = ("group", os.environ.get("SYNC_GROUPS_TAG", "nightly-analytics"))

JOBS: list[dict[str, Any]] = [
    {
        "name": "orders-etl",
        "goal": {"sla_minutes": 30, "preference": "economy"},
        "workload": "/Shared/sync/workloads/join_etl",
        "node_type": "m5.4xlarge",
        "num_workers": 16,
    },
    {
        "name": "feature-build",
        "goal": {"cost_target": 4.0, "preference": "performance"},
        "workload": "/Shared/sync/workloads/iterative_ml",
        "node_type": "c5.2xlarge",
        "num_workers": 4,
    },
]

# The run's day; manual runs in Airflow 3 have no logical date (no `ds`), so fall back to when the run was due.
RUN_DAY = "{{ ds if ds is defined else dag_run.run_after | ds }}"

with DAG(
    dag_id="sync_goal_groups",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["sync", "example"],
    doc_md=__doc__,
):
    loops = []
    for job in JOBS:
        project = f"{PREFIX}{job['name']}"
        group_id = job["name"].replace("-", "_")
        with TaskGroup(group_id=group_id) as loop:
            submit = SyncDatabricksSubmitRunOperator(
                task_id="submit_run",
                project=project,
                **job["goal"],
                max_workers=32,
                tags={GROUP_TAG[0]: GROUP_TAG[1], "goal": "sla" if "sla_minutes" in job["goal"] else "cost"},
                run_name=f"{project} {RUN_DAY}",
                new_cluster={
                    "spark_version": "14.3.x-scala2.12",
                    "node_type_id": job["node_type"],
                    "num_workers": job["num_workers"],
                    "aws_attributes": {"availability": "ON_DEMAND", "zone_id": "auto"},
                },
                notebook_task={"notebook_path": job["workload"]},
                polling_period_seconds=max(1, int(POLL_SECONDS)),
            )
            wait = SyncPredictionSensor(
                task_id="wait_for_eventlog",
                task_to_submit=f"{group_id}.submit_run",
                poke_interval=POLL_SECONDS,
                timeout=max(60.0, 40 * POLL_SECONDS),
            )
            predict = SyncPredictionOperator(
                task_id="sync_prediction", project=project, task_to_submit=f"{group_id}.submit_run"
            )
            apply = ApplyRecommendationOperator(
                task_id="apply_recommendation", project=project, task_to_predict=f"{group_id}.sync_prediction"
            )
            submit >> wait >> predict >> apply
        loops.append(loop)

    @task(trigger_rule="all_done")
    def group_status() -> list[dict[str, Any]]:
        """Each project of the group against its goal: last run's runtime and cost, active configuration."""
        from sync_provider.hooks.sync import SyncHook

        store = SyncHook().store
        rows = []
        for project in store.list_projects(tag=GROUP_TAG):
            runs = store.list_runs(project.id)
            last = runs[-1].observation if runs else None
            active = store.active_config(project.id)
            goals = project.goals
            rows.append(
                {
                    "project": project.name,
                    "goal": "sla" if goals.sla_seconds else "cost",
                    "sla_seconds": goals.sla_seconds,
                    "cost_target_usd": goals.cost_target_usd,
                    "runs": len(runs),
                    "last_runtime_s": last.runtime_s if last else None,
                    "last_cost_usd": round(last.cost.total_usd, 4) if last and last.cost else None,
                    "sla_met": runs[-1].sla_met if runs else None,
                    "active_config": active.config.describe() if active else None,
                }
            )
        for row in rows:
            log.info(
                "%s goal=%s runs=%s last=%s s $%s config=%s",
                row["project"],
                row["goal"],
                row["runs"],
                row["last_runtime_s"],
                row["last_cost_usd"],
                row["active_config"],
            )
        return rows

    loops >> group_status()
