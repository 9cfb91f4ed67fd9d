"""The demo's Airflow connections: valid JSON that Airflow and the sync settings accept, pointing at the emulator."""

from __future__ import annotations

import json

import pytest

from sync_provider.demo.connections import connection_env
from sync_provider.settings import SettingsError, SyncSettings


def _env(**changes):
    kwargs = dict(
        workspace_url="http://127.0.0.1:8765",
        token="dapi-demo-secret",
        s3_endpoint_url="http://127.0.0.1:9000",
        store_url="sqlite:////tmp/demo/sync.db",
        log_destination="s3://sync-demo-logs/cluster-logs",
    )
    kwargs.update(changes)
    return connection_env(**kwargs)


def test_three_connections_as_env_json():
    env = _env()
    assert set(env) == {"AIRFLOW_CONN_SYNC_DEFAULT", "AIRFLOW_CONN_DATABRICKS_DEFAULT", "AIRFLOW_CONN_AWS_DEFAULT"}
    databricks = json.loads(env["AIRFLOW_CONN_DATABRICKS_DEFAULT"])
    assert databricks == {
        "conn_type": "databricks",
        "host": "127.0.0.1",
        "schema": "http",
        "port": 8765,
        "password": "dapi-demo-secret",
    }
    aws = json.loads(env["AIRFLOW_CONN_AWS_DEFAULT"])
    assert aws["extra"] == {"endpoint_url": "http://127.0.0.1:9000", "region_name": "us-east-1"}


def test_sync_extra_round_trips_through_settings():
    sync = json.loads(_env()["AIRFLOW_CONN_SYNC_DEFAULT"])
    assert sync["conn_type"] == "sync"
    settings = SyncSettings.from_extras(sync["extra"])
    assert settings.resolved_store_url() == "sqlite:////tmp/demo/sync.db"
    assert settings.log_destination == "s3://sync-demo-logs/cluster-logs"
    assert settings.aws_endpoint_url == "http://127.0.0.1:9000"
    assert settings.databricks_conn_id == "databricks_default"


def test_airflow_parses_the_databricks_connection_uri():
    from airflow.sdk import Connection

    conn = Connection.from_json(_env()["AIRFLOW_CONN_DATABRICKS_DEFAULT"], conn_id="databricks_default")
    assert (conn.host, conn.port, conn.schema, conn.password) == ("127.0.0.1", 8765, "http", "dapi-demo-secret")


def test_bad_setting_fails_early_with_field_name():
    with pytest.raises(SettingsError, match="log_destination"):
        _env(log_destination="s3://Bad_Bucket")


def test_workspace_url_without_host_is_refused():
    with pytest.raises(ValueError, match="has no host"):
        _env(workspace_url="not-a-url")
