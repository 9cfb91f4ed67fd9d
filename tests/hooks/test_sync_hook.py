"""SyncHook: settings from a `sync` connection, the store behind it, and the collector script upload."""

from __future__ import annotations

import base64
import json

import pytest
import responses
import structlog.testing
from airflow.sdk.exceptions import AirflowNotFoundException

from sync_provider.collector import collector_script
from sync_provider.engine.models import ClusterConfig, Goals, Preference
from sync_provider.hooks.sync import SyncHook
from sync_provider.settings import SettingsError


def test_settings_and_store_from_env_connection(set_conn, tmp_path) -> None:
    db = tmp_path / "store.db"
    set_conn(
        "sync_team",
        conn_type="sync",
        extra={"extra__sync__store_url": f"sqlite:///{db}", "preference": "performance", "plan": "Standard"},
    )
    hook = SyncHook("sync_team")
    assert hook.settings.preference is Preference.PERFORMANCE
    p = hook.create_project("etl", goals=Goals(sla_seconds=60))
    hook.append_config(
        p.id,
        ClusterConfig(instance_type="m5.xlarge", num_workers=2),
        expected_version=None,
        actor="test",
        reason="seed",
    )
    assert SyncHook("sync_team").active_config("etl").version == 1
    assert db.exists()
    assert hook.test_connection() == (True, "Sync store reachable (1 projects)")
    with pytest.raises(AttributeError, match="no attribute 'frobnicate'"):
        hook.frobnicate()  # noqa: B018


def test_missing_default_connection_means_defaults(tmp_path) -> None:
    hook = SyncHook()
    assert hook.settings.preference is Preference.ECONOMY
    assert hook.store_url() == f"sqlite:///{tmp_path / 'airflow' / 'sync_provider.db'}"
    with pytest.raises(AirflowNotFoundException):
        SyncHook("sync_missing").settings  # noqa: B018


@pytest.mark.parametrize(
    ("executor", "warned"),
    [("CeleryExecutor", True), ("LocalExecutor", False), ("LocalExecutor,KubernetesExecutor", True)],
)
def test_a_sqlite_store_under_a_distributed_executor_is_warned_about(monkeypatch, executor, warned) -> None:
    # Each Celery or Kubernetes worker would keep its own SQLite file: projects made on one are unknown elsewhere.
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", executor)
    with structlog.testing.capture_logs() as logged:
        SyncHook().store  # noqa: B018
    warnings = [str(e) for e in logged if e["log_level"] == "warning"]
    assert any("SQLite file on this worker" in w and "PostgreSQL" in w for w in warnings) is warned


def test_bad_extra_is_a_settings_error(set_conn) -> None:
    set_conn("sync_bad", conn_type="sync", extra={"plan": "platinum"})
    with pytest.raises(SettingsError, match="'plan'.*accepted: standard, premium, enterprise"):
        SyncHook("sync_bad").settings  # noqa: B018
    ok, message = SyncHook("sync_bad").test_connection()
    assert not ok and "platinum" in message


def test_password_field_completes_the_store_url(set_conn) -> None:
    set_conn(
        "sync_pg",
        conn_type="sync",
        password="s3cr3t",
        extra={"store_url": "postgresql+psycopg2://sync@db.internal:5432/sync"},
    )
    hook = SyncHook("sync_pg")
    assert hook.store_url() == "postgresql+psycopg2://sync:s3cr3t@db.internal:5432/sync"
    assert "s3cr3t" not in repr(hook.settings)


@responses.activate
def test_upload_init_script_to_workspace(set_conn) -> None:
    set_conn("databricks_default", conn_type="databricks", host="https://dbc.example.com", password="dapiTOKEN")
    responses.post("https://dbc.example.com/api/2.0/workspace/mkdirs", json={})
    responses.post("https://dbc.example.com/api/2.0/workspace/import", json={})
    location = SyncHook().upload_init_script()
    assert location == "workspace:/Shared/sync/collector_init.sh"
    mkdirs, imported = (json.loads(c.request.body) for c in responses.calls)
    assert mkdirs == {"path": "/Shared/sync"}
    assert imported["path"] == "/Shared/sync/collector_init.sh" and imported["overwrite"] is True
    assert base64.b64decode(imported["content"]) == collector_script()
    assert collector_script().startswith(b"#!/bin/bash")


@responses.activate
def test_upload_init_script_to_dbfs(set_conn) -> None:
    set_conn("dbx", conn_type="databricks", host="https://dbc.example.com", password="dapiTOKEN")
    responses.post("https://dbc.example.com/api/2.0/dbfs/put", json={})
    assert SyncHook().upload_init_script("dbx", "dbfs:/sync/collector.sh") == "dbfs:/sync/collector.sh"
    body = json.loads(responses.calls[0].request.body)
    assert body["path"] == "/sync/collector.sh" and base64.b64decode(body["contents"]) == collector_script()


def test_upload_init_script_to_s3_endpoint(set_conn) -> None:
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{server._server.server_port}"
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="scripts")
        set_conn("aws_default", conn_type="aws", extra={"region_name": "us-east-1"})
        set_conn("sync_default", conn_type="sync", extra={"aws_endpoint_url": endpoint})
        assert SyncHook().upload_init_script(path="s3://scripts/sync/collector.sh") == "s3://scripts/sync/collector.sh"
        body = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").get_object(
            Bucket="scripts", Key="sync/collector.sh"
        )["Body"]
        assert body.read() == collector_script()
    finally:
        server.stop()
