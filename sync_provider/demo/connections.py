"""The demo's Airflow connections, given to every Airflow subprocess as AIRFLOW_CONN_* JSON variables.

Environment-variable connections need no `airflow connections add` round trip per connection (each costs an
Airflow start-up), are never written to the metadata database, and vanish with the demo's processes.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from sync_provider.settings import SyncSettings

SYNC_CONN_ID = "sync_default"
DATABRICKS_CONN_ID = "databricks_default"
AWS_CONN_ID = "aws_default"


def _env_name(conn_id: str) -> str:
    return "AIRFLOW_CONN_" + conn_id.upper()


def connection_env(
    *,
    workspace_url: str,
    token: str,
    s3_endpoint_url: str,
    store_url: str,
    log_destination: str,
    region: str = "us-east-1",
    extra_settings: dict[str, object] | None = None,
) -> dict[str, str]:
    """AIRFLOW_CONN_* variables for the `sync`, `databricks_default` and `aws_default` connections.

    The sync connection's fields are validated with SyncSettings first, so a bad value fails here with the
    field's name rather than inside a task minutes later.
    """
    sync_extra: dict[str, object] = {
        "store_url": store_url,
        "log_destination": log_destination,
        "log_region": region,
        "aws_endpoint_url": s3_endpoint_url,
        "databricks_conn_id": DATABRICKS_CONN_ID,
        "aws_conn_id": AWS_CONN_ID,
        **(extra_settings or {}),
    }
    SyncSettings.from_extras(sync_extra)
    parts = urlsplit(workspace_url)
    if not parts.hostname:
        raise ValueError(f"workspace URL {workspace_url!r} has no host; expected e.g. http://127.0.0.1:8765")
    databricks: dict[str, object] = {
        "conn_type": "databricks",
        "host": parts.hostname,
        "schema": parts.scheme or "https",
        "password": token,
    }
    if parts.port:
        databricks["port"] = parts.port
    aws = {
        "conn_type": "aws",
        # moto accepts any key pair; these are the conventional dummies, not credentials.
        "login": "testing",
        "password": "testing",
        "extra": {"endpoint_url": s3_endpoint_url, "region_name": region},
    }
    sync = {"conn_type": "sync", "extra": sync_extra}
    return {
        _env_name(SYNC_CONN_ID): json.dumps(sync),
        _env_name(DATABRICKS_CONN_ID): json.dumps(databricks),
        _env_name(AWS_CONN_ID): json.dumps(aws),
    }
