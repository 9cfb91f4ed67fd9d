"""Example: a recurring Spark job on Databricks whose job cluster Sync sizes.

Swap DatabricksSubmitRunOperator for SyncDatabricksSubmitRunOperator and name a project: on the first run the
project is created with the goals below, and every run uses the project's active cluster configuration (merged
into `new_cluster`), delivers its logs to the `sync` connection's log destination and is tagged for Sync.
Add SyncPredictionOperator and ApplyRecommendationOperator after it to close the loop
(see dags_examples/ for the full pattern).

Connections: `databricks_default` (workspace) and `sync_default` (store, log destination, init script).
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from sync_provider.operators.databricks import SyncDatabricksSubmitRunOperator

PROJECT = os.environ.get("SYNC_EXAMPLE_PROJECT", "example-nightly-etl")

# The run's day; manual runs in Airflow 3 have no logical date (no `ds`), so fall back to when the run was due.
RUN_DAY = "{{ ds if ds is defined else dag_run.run_after | ds }}"

with DAG(
    dag_id="sync_submit_basic",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["sync", "example"],
    doc_md=__doc__,
):
    SyncDatabricksSubmitRunOperator(
        task_id="submit",
        project=PROJECT,
        sla_minutes=60,
        preference="economy",
        max_workers=32,
        tags={"team": "data-platform"},
        run_name="nightly-etl",
        new_cluster={
            "spark_version": "14.3.x-scala2.12",
            "node_type_id": "m5.xlarge",
            "autoscale": {"min_workers": 2, "max_workers": 8},
            "aws_attributes": {"availability": "ON_DEMAND", "zone_id": "auto"},
            "spark_conf": {"spark.sql.shuffle.partitions": "auto"},
            # Credentials only as Databricks secret references; Jinja would read {{...}} itself, hence the escape.
            "spark_env_vars": {"WAREHOUSE_PASSWORD": "{{ '{{secrets/etl/warehouse-password}}' }}"},
        },
        spark_python_task={"python_file": "dbfs:/jobs/nightly_etl.py", "parameters": ["--date", RUN_DAY]},
        polling_period_seconds=float(os.environ.get("SYNC_EXAMPLE_POLL_SECONDS", "30")),  # type: ignore[arg-type]
    )
