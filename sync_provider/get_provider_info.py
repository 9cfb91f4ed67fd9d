"""Provider metadata read by Airflow's ProvidersManager through the `apache_airflow_provider` entry point.

Declares the `sync` connection type with its own form fields (`conn-fields`, stored in the connection's extra)
and the standard fields it does not use hidden, following airflow/provider.yaml.schema.json (Airflow 3.2+).
Field names here are exactly the keys SyncSettings.from_extras accepts.
"""

from __future__ import annotations

from typing import Any

from sync_provider import __version__

_INTEGRATION = "Sync"


def _string(label: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": ["string", "null"], **schema}}


CONN_FIELDS: dict[str, dict[str, Any]] = {
    "store_url": _string(
        "Store URL",
        "SQLAlchemy URL of the Sync store. Empty: a SQLite file $AIRFLOW_HOME/sync_provider.db (one worker). "
        "Use PostgreSQL when several workers share it; put its password in the Password field.",
    ),
    "preference": _string(
        "Default preference",
        "Which solution projects follow unless they set their own.",
        default="economy",
        enum=["economy", "balanced", "performance"],
    ),
    "plan": _string(
        "Databricks plan", "Decides the $ per DBU.", default="premium", enum=["standard", "premium", "enterprise"]
    ),
    "compute_type": _string(
        "Compute type",
        "Jobs Compute, Jobs Light Compute or All-Purpose Compute (decides $ per DBU and the Photon multiplier).",
        default="jobs",
        enum=["jobs", "jobs_light", "all_purpose"],
    ),
    "log_destination": _string(
        "Cluster log destination",
        "Where clusters deliver event logs and the collector writes node records: s3://bucket/prefix or dbfs:/path.",
        pattern=r"^(s3://|dbfs:/).+",
    ),
    "log_region": _string("Log bucket AWS region", "Region of the S3 log bucket, e.g. us-east-1."),
    "init_script_path": _string(
        "Collector init script location",
        "Where the collector init script lives: workspace:/Shared/sync/collector_init.sh (uploaded with "
        "`sync-cli aws-databricks upload-init-script`), a /Volumes/... path, s3://... or dbfs:/....",
    ),
    "apply_mode": _string(
        "Apply mode",
        "auto: recommendations become the next configuration; approval: they wait for a human; dry-run: recorded only.",
        default="auto",
        enum=["auto", "approval", "dry-run"],
    ),
    "catalog_override": {
        "label": "Catalog override",
        "description": "Negotiated prices: a path to a CSV/JSON file or inline JSON rows "
        '[{"instance_type": "m5.xlarge", "hourly_usd": 0.15}].',
        "schema": {"type": ["string", "null"], "format": "multiline"},
    },
    "dbu_usd": {
        "label": "Negotiated $ per DBU",
        "description": "Overrides the list price of the plan and compute type.",
        "schema": {"type": ["number", "null"], "exclusiveMinimum": 0},
    },
    "photon_dbu_multiplier": {
        "label": "Photon DBU multiplier",
        "description": "DBUs of a Photon cluster over the same cluster without Photon. Empty: Databricks' list "
        "multiplier for the compute type.",
        "schema": {"type": ["number", "null"], "exclusiveMinimum": 0},
    },
    "spot_discount": {
        "label": "Spot discount",
        "description": "Share of the on-demand price saved on spot workers (0-1). Empty: 0.65, the packaged default.",
        "schema": {"type": ["number", "null"], "minimum": 0, "exclusiveMaximum": 1},
    },
    "aws_endpoint_url": _string(
        "S3 endpoint URL",
        "S3-compatible endpoint for reading logs (a VPC endpoint, a local S3). Empty: AWS's own.",
    ),
    "strict": {
        "label": "Strict",
        "description": "Fail tasks when Sync cannot prepare or learn from a run (default: warn and run unoptimised).",
        "schema": {"type": ["boolean", "null"], "default": False},
    },
    "databricks_conn_id": _string(
        "Databricks connection id", "Connection used to read run evidence.", default="databricks_default"
    ),
    "aws_conn_id": _string("AWS connection id", "Connection used to read S3 logs.", default="aws_default"),
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-sync",
        "name": "Sync",
        "description": "Closed-loop cluster optimisation for recurring Spark jobs on Databricks, with an embedded "
        "recommendation engine.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": _INTEGRATION,
                "external-doc-url": "https://example.invalid/sync_provider/docs",
                "tags": ["service"],
            }
        ],
        "operators": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": [
                    "sync_provider.operators.databricks",
                    "sync_provider.operators.prediction",
                    "sync_provider.operators.apply",
                ],
            }
        ],
        "sensors": [{"integration-name": _INTEGRATION, "python-modules": ["sync_provider.sensors.prediction"]}],
        "hooks": [{"integration-name": _INTEGRATION, "python-modules": ["sync_provider.hooks.sync"]}],
        "triggers": [{"integration-name": _INTEGRATION, "python-modules": ["sync_provider.triggers"]}],
        "connection-types": [
            {
                "hook-class-name": "sync_provider.hooks.sync.SyncHook",
                "hook-name": "Sync",
                "connection-type": "sync",
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": {
                    "hidden-fields": ["host", "port", "login", "schema", "extra"],
                    "relabeling": {"password": "Store password (optional)"},
                    "placeholders": {
                        "description": "Sync store and defaults for closed-loop cluster optimisation",
                        "password": "password of the PostgreSQL store user, if the Store URL has none",
                        "store_url": "postgresql+psycopg2://sync@db.internal:5432/sync (empty: SQLite)",
                        "log_destination": "s3://my-log-bucket/databricks or dbfs:/cluster-logs",
                        "log_region": "us-east-1",
                        "init_script_path": "workspace:/Shared/sync/collector_init.sh",
                        "catalog_override": '[{"instance_type": "m5.xlarge", "hourly_usd": 0.15}]',
                    },
                },
            }
        ],
    }
