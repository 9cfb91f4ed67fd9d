"""cluster_spec: merging an active configuration and injecting Sync's evidence collection into payloads."""

from __future__ import annotations

import copy
import logging

import pytest

from sync_provider.cluster_spec import (
    PayloadError,
    SecretInPayloadError,
    config_from_cluster,
    init_script_entry,
    inject_sync,
    merge_config,
    sanitize_tag_value,
)
from sync_provider.engine.models import ClusterConfig
from sync_provider.settings import SyncSettings

S3 = SyncSettings(
    log_destination="s3://logs-bucket/dbx",
    log_region="us-west-2",
    init_script_path="workspace:/Shared/sync/collector_init.sh",
)
USER_CLUSTER = {
    "spark_version": "14.3.x-scala2.12",
    "node_type_id": "m5.xlarge",
    "autoscale": {"min_workers": 2, "max_workers": 8},
    "aws_attributes": {"zone_id": "us-west-2a", "instance_profile_arn": "arn:aws:iam::1:instance-profile/x"},
    "spark_conf": {"spark.sql.shuffle.partitions": "200"},
    "custom_tags": {"team": "data"},
    "spark_env_vars": {"DB_PASSWORD": "{{secrets/etl/db-password}}"},
}


def _inject(payload, *, active=None, version=None, settings=S3, **kw):
    return inject_sync(
        payload,
        project_id="p-123",
        config_version=version,
        active=active,
        settings=settings,
        dag_id="etl",
        dag_run_id="manual__2026-11-28T14:00:00+00:00",
        **kw,
    )


def test_merge_replaces_what_sync_manages_and_keeps_the_rest() -> None:
    merged = merge_config(
        USER_CLUSTER, ClusterConfig(instance_type="r5.2xlarge", num_workers=6, photon=True, spot=True)
    )
    assert merged["node_type_id"] == merged["driver_node_type_id"] == "r5.2xlarge"
    assert merged["num_workers"] == 6 and "autoscale" not in merged
    assert merged["runtime_engine"] == "PHOTON"
    assert merged["aws_attributes"] == {
        "zone_id": "us-west-2a",
        "instance_profile_arn": "arn:aws:iam::1:instance-profile/x",
        "availability": "SPOT_WITH_FALLBACK",
        "first_on_demand": 1,
    }
    assert merged["spark_conf"] == USER_CLUSTER["spark_conf"] and merged["spark_version"] == "14.3.x-scala2.12"
    assert "num_workers" not in USER_CLUSTER  # the input is not mutated

    on_demand = merge_config(
        merged, ClusterConfig(instance_type="m5.large", num_workers=2, driver_instance_type="m5.xlarge")
    )
    assert (on_demand["node_type_id"], on_demand["driver_node_type_id"]) == ("m5.large", "m5.xlarge")
    assert on_demand["aws_attributes"]["availability"] == "ON_DEMAND" and on_demand["runtime_engine"] == "STANDARD"


def test_config_from_cluster_round_trip() -> None:
    cfg = ClusterConfig(instance_type="c5.xlarge", num_workers=3, photon=True, spot=True)
    assert config_from_cluster(merge_config({"spark_version": "x"}, cfg)) == cfg
    assert config_from_cluster(USER_CLUSTER) == ClusterConfig(instance_type="m5.xlarge", num_workers=8)
    assert config_from_cluster({"num_workers": "2"}) is None


def test_single_task_payload_gets_everything() -> None:
    payload = {"run_name": "etl", "new_cluster": USER_CLUSTER, "spark_python_task": {"python_file": "dbfs:/a.py"}}
    active = ClusterConfig(instance_type="m5.2xlarge", num_workers=4)
    out = _inject(payload, active=active, version=3)
    c = out["new_cluster"]
    assert c["node_type_id"] == "m5.2xlarge" and c["num_workers"] == 4
    assert c["cluster_log_conf"] == {
        "s3": {
            "destination": "s3://logs-bucket/dbx",
            "region": "us-west-2",
            "enable_encryption": True,
            "canned_acl": "bucket-owner-full-control",
        }
    }
    assert c["custom_tags"] == {
        "team": "data",
        "sync:project-id": "p-123",
        "sync:config-version": "3",
        "sync:airflow-dag-id": "etl",
        "sync:airflow-run-id": "manual__2026-11-28T14:00:00+00:00",
    }
    assert c["init_scripts"] == [{"workspace": {"destination": "/Shared/sync/collector_init.sh"}}]
    assert c["spark_env_vars"] == {
        "DB_PASSWORD": "{{secrets/etl/db-password}}",
        "SYNC_PROJECT_ID": "p-123",
        "SYNC_CONFIG_VERSION": "3",
        "SYNC_LOG_DESTINATION": "s3://logs-bucket/dbx",
        "SYNC_LOG_REGION": "us-west-2",
    }
    assert payload["new_cluster"] is USER_CLUSTER and "cluster_log_conf" not in USER_CLUSTER


def test_multi_task_payload_every_cluster_and_only_keyed_ones_merged(caplog) -> None:
    payload = {
        "tasks": [
            {"task_key": "ingest", "new_cluster": copy.deepcopy(USER_CLUSTER), "notebook_task": {}},
            {"task_key": "report", "existing_cluster_id": "0101-shared", "notebook_task": {}},
            {"task_key": "train", "new_cluster": {"spark_version": "x", "node_type_id": "m5.large", "num_workers": 1}},
        ],
        "job_clusters": [{"job_cluster_key": "jc", "new_cluster": {"spark_version": "x", "num_workers": 2}}],
    }
    active = ClusterConfig(instance_type="r5.xlarge", num_workers=5)
    with caplog.at_level(logging.WARNING, logger="sync_provider.cluster_spec"):
        out = _inject(payload, active=active, version=1)
    assert "tasks[1].existing_cluster_id: Sync manages only job clusters" in caplog.text
    assert out["tasks"][1] == payload["tasks"][1]
    for c in (out["tasks"][0]["new_cluster"], out["tasks"][2]["new_cluster"], out["job_clusters"][0]["new_cluster"]):
        assert c["node_type_id"] == "r5.xlarge" and c["num_workers"] == 5
        assert c["custom_tags"]["sync:project-id"] == "p-123" and "cluster_log_conf" in c

    keyed = _inject(payload, active=active, version=1, cluster_key="train")
    assert keyed["tasks"][2]["new_cluster"]["node_type_id"] == "r5.xlarge"
    assert keyed["tasks"][0]["new_cluster"]["node_type_id"] == "m5.xlarge"
    assert keyed["tasks"][0]["new_cluster"]["custom_tags"]["sync:project-id"] == "p-123"
    with pytest.raises(PayloadError, match="no new_cluster belongs to task/job cluster key 'nope'"):
        _inject(payload, active=active, cluster_key="nope")


def test_idempotent_on_its_own_output() -> None:
    payload = {"new_cluster": USER_CLUSTER, "tasks": [{"task_key": "a", "new_cluster": copy.deepcopy(USER_CLUSTER)}]}
    active = ClusterConfig(instance_type="m5.2xlarge", num_workers=4, spot=True)
    once = _inject(payload, active=active, version=2)
    assert _inject(once, active=active, version=2) == once


def test_dbfs_destination_s3_init_script_and_endpoint() -> None:
    settings = SyncSettings(
        log_destination="dbfs:/cluster-logs", init_script_path="s3://scripts/sync/collector.sh", log_region="eu-west-1"
    )
    c = _inject({"new_cluster": {"num_workers": 1}}, settings=settings)["new_cluster"]
    assert c["cluster_log_conf"] == {"dbfs": {"destination": "dbfs:/cluster-logs"}}
    assert c["init_scripts"] == [{"s3": {"destination": "s3://scripts/sync/collector.sh", "region": "eu-west-1"}}]
    assert "sync:config-version" not in c["custom_tags"] and "num_workers" in c

    emu = SyncSettings(log_destination="s3://bkt/p", aws_endpoint_url="http://127.0.0.1:5000")
    c = _inject({"new_cluster": {}}, settings=emu)["new_cluster"]
    assert c["cluster_log_conf"]["s3"]["endpoint"] == "http://127.0.0.1:5000"
    assert c["spark_env_vars"]["SYNC_S3_ENDPOINT_URL"] == "http://127.0.0.1:5000"
    assert init_script_entry("/Volumes/main/sync/collector.sh") == {
        "volumes": {"destination": "/Volumes/main/sync/collector.sh"}
    }


def test_user_log_conf_wins_and_is_read(caplog) -> None:
    user = {"new_cluster": {"cluster_log_conf": {"dbfs": {"destination": "dbfs:/mine"}}}}
    with caplog.at_level(logging.WARNING):
        c = _inject(user)["new_cluster"]
    assert c["cluster_log_conf"] == {"dbfs": {"destination": "dbfs:/mine"}}
    assert c["spark_env_vars"]["SYNC_LOG_DESTINATION"] == "dbfs:/mine" and "Sync reads them there" in caplog.text


@pytest.mark.parametrize(
    ("field", "name", "value"),
    [
        ("spark_env_vars", "AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ("spark_env_vars", "DATABRICKS_TOKEN", "dapi0123456789abcdef0123456789abcdef"),
        ("spark_env_vars", "SOME_VAR", "dapi0123456789abcdef0123456789abcdef"),
        ("spark_conf", "spark.hadoop.fs.s3a.secret.key", "plain"),
        ("spark_env_vars", "DB_PASSWORD", "hunter2"),
        ("spark_env_vars", "DB_PASS", "hunter2"),
        ("spark_conf", "spark.hadoop.fs.azure.account.key.acct.dfs.core.windows.net", "abc=="),
        ("spark_conf", "spark.hadoop.javax.jdo.option.ConnectionURL", "jdbc:mysql://h/db?user=u&password=hunter2"),
    ],
)
def test_literal_secrets_are_refused_without_echoing_them(field, name, value) -> None:
    payload = {"tasks": [{"task_key": "a", "new_cluster": {"num_workers": 1, field: {name: value}}}]}
    with pytest.raises(SecretInPayloadError, match=rf"tasks\[0\]\.new_cluster\.{field}\.{name}") as info:
        _inject(payload)
    assert value not in str(info.value)
    ok = {"new_cluster": {field: {name: "{{secrets/scope/key}}"}}}
    assert _inject(ok)["new_cluster"][field][name] == "{{secrets/scope/key}}"


def test_settings_named_like_credentials_that_hold_none_go_through() -> None:
    conf = {
        "spark.hadoop.fs.s3a.aws.credentials.provider": "com.amazonaws.auth.InstanceProfileCredentialsProvider",
        "spark.hadoop.fs.azure.sas.token.provider.type": "org.apache.hadoop.fs.azurebfs.sas.FixedSASTokenProvider",
        "spark.databricks.passthrough.enabled": "true",
    }
    assert _inject({"new_cluster": {"spark_conf": conf}})["new_cluster"]["spark_conf"] == conf
    env = {"SECRET_SCOPE": "etl", "TOKEN_URL": "https://login.example.com/oauth2/token", "PASSWORD_FILE": "/dbfs/x"}
    assert {k: v for k, v in _inject({"new_cluster": {"spark_env_vars": env}})["new_cluster"]["spark_env_vars"].items()
            if k in env} == env  # fmt: skip


def test_payloads_sync_cannot_manage() -> None:
    with pytest.raises(PayloadError, match="no new_cluster.*use the plain DatabricksSubmitRunOperator"):
        _inject({"spark_python_task": {"python_file": "x"}})
    existing = {"existing_cluster_id": "0101-x", "notebook_task": {}}
    assert _inject(existing) == existing


def test_tag_sanitising() -> None:
    assert sanitize_tag_value("scheduled__2026-01-01T00:00:00+00:00") == "scheduled__2026-01-01T00:00:00+00:00"
    assert sanitize_tag_value("dag#1<x>") == "dag_1_x_"
    assert len(sanitize_tag_value("x" * 400)) == 255
