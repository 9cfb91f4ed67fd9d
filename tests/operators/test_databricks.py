"""SyncDatabricksSubmitRunOperator against a Databricks workspace mocked at the HTTP boundary (`responses`)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import responses
import structlog.testing
from airflow.providers.databricks.triggers.databricks import DatabricksExecutionTrigger
from airflow.sdk.exceptions import TaskDeferred

from sync_provider.cluster_spec import PayloadError, SecretInPayloadError
from sync_provider.engine.models import ClusterConfig, Goals, Preference
from sync_provider.operators.databricks import SyncDatabricksSubmitRunOperator, SyncUnavailableError
from sync_provider.settings import SettingsError
from sync_provider.store import ProjectNotFound, SyncStore

HOST = "https://dbc.example.com"
TOKEN = "dapi0123456789abcdef0123456789abcdef"
CLUSTER = {"spark_version": "14.3.x-scala2.12", "node_type_id": "m5.xlarge", "num_workers": 2}


class FakeTI:
    """The slice of a RuntimeTaskInstance the operator touches."""

    dag_id = "etl_dag"
    run_id = "scheduled__2026-11-28T00:00:00+00:00"

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}
        self.stats_tags: dict[str, str] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


@pytest.fixture
def store_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'sync.db'}"


@pytest.fixture
def conns(monkeypatch, store_url, tmp_path):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.setenv(
        "AIRFLOW_CONN_DATABRICKS_DEFAULT",
        json.dumps({"conn_type": "databricks", "host": HOST, "password": TOKEN}),
    )

    def set_sync(**extra: Any) -> None:
        monkeypatch.setenv("AIRFLOW_CONN_SYNC_DEFAULT", json.dumps({"conn_type": "sync", "extra": extra}))

    set_sync(
        store_url=store_url,
        log_destination="s3://sync-logs/dbx",
        log_region="us-east-1",
        init_script_path="workspace:/Shared/sync/collector_init.sh",
    )
    return set_sync


def _jobs_api(rsps: responses.RequestsMock, refusals: int = 0, status: int = 400) -> list[dict]:
    """runs/submit and runs/get on a mocked workspace; returns the list every submitted payload goes to. The first
    `refusals` submissions are answered with `status`."""
    submitted: list[dict] = []

    def submit(request):
        submitted.append(json.loads(request.body))
        if len(submitted) <= refusals:
            return status, {}, json.dumps({"error_code": "INVALID_PARAMETER_VALUE", "message": "no r5 here"})
        return 200, {}, json.dumps({"run_id": 4242})

    rsps.add_callback(responses.POST, f"{HOST}/api/2.2/jobs/runs/submit", callback=submit)
    rsps.get(
        f"{HOST}/api/2.2/jobs/runs/get",
        json={
            "run_id": 4242,
            "job_id": 7,
            "run_page_url": f"{HOST}/#job/7/run/4242",
            "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS", "state_message": ""},
        },
    )
    return submitted


@pytest.fixture
def workspace():
    """A workspace answering runs/submit and runs/get, with the collector uploaded; remembers every payload."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(f"{HOST}/api/2.0/workspace/get-status", json={"object_type": "FILE"})
        yield _jobs_api(rsps)


MISSING = {"error_code": "RESOURCE_DOES_NOT_EXIST"}


def _op(**kwargs: Any) -> SyncDatabricksSubmitRunOperator:
    defaults: dict[str, Any] = {
        "task_id": "submit",
        "project": "nightly-etl",
        "new_cluster": dict(CLUSTER),
        "spark_python_task": {"python_file": "dbfs:/jobs/etl.py"},
        "polling_period_seconds": 0,
        "databricks_retry_limit": 1,
    }
    return SyncDatabricksSubmitRunOperator(**{**defaults, **kwargs})


def _ctx() -> dict[str, Any]:
    ti = FakeTI()
    return {"ti": ti, "run_id": ti.run_id}


def test_first_run_creates_project_and_injects(conns, workspace, store_url) -> None:
    ctx = _ctx()
    _op(sla_minutes=30, preference="balanced", max_workers=16, tags={"team": "data"}).execute(ctx)
    project = SyncStore(store_url).get_project("nightly-etl")
    assert project.goals == Goals(sla_seconds=1800, preference=Preference.BALANCED)
    assert project.constraints.max_workers == 16 and project.tags == {"team": "data"}

    (payload,) = workspace
    cluster = payload["new_cluster"]
    assert cluster["node_type_id"] == "m5.xlarge" and cluster["num_workers"] == "2"  # no config yet; numbers as str
    assert cluster["custom_tags"]["sync:project-id"] == project.id
    assert cluster["custom_tags"]["sync:airflow-dag-id"] == "etl_dag"
    assert cluster["custom_tags"]["sync:airflow-run-id"] == "scheduled__2026-11-28T00:00:00+00:00"
    assert "sync:config-version" not in cluster["custom_tags"]
    assert cluster["cluster_log_conf"]["s3"]["canned_acl"] == "bucket-owner-full-control"
    assert cluster["init_scripts"] == [{"workspace": {"destination": "/Shared/sync/collector_init.sh"}}]
    assert cluster["spark_env_vars"]["SYNC_PROJECT_ID"] == project.id
    assert payload["run_name"] == "submit"
    assert ctx["ti"].xcom == {
        "sync_project_id": project.id,
        "sync_config_version": None,
        "run_id": 4242,
        "run_page_url": f"{HOST}/#job/7/run/4242",
    }


def test_active_config_merged_into_multi_task_payload(conns, workspace, store_url) -> None:
    store = SyncStore(store_url)
    p = store.create_project("nightly-etl", goals=Goals(sla_seconds=600))
    store.append_config(
        p.id,
        ClusterConfig(instance_type="r5.2xlarge", num_workers=6, photon=True),
        expected_version=None,
        actor="test",
        reason="seed",
    )
    tasks = [
        {
            "task_key": "ingest",
            "new_cluster": {**CLUSTER, "autoscale": {"min_workers": 1, "max_workers": 4}},
            "spark_python_task": {"python_file": "dbfs:/a.py"},
        },
        {"task_key": "score", "new_cluster": dict(CLUSTER), "notebook_task": {"notebook_path": "/x"}},
    ]
    ctx = _ctx()
    _op(new_cluster=None, spark_python_task=None, tasks=tasks).execute(ctx)
    (payload,) = workspace
    for task in payload["tasks"]:
        c = task["new_cluster"]
        assert (c["node_type_id"], c["num_workers"], c["runtime_engine"]) == ("r5.2xlarge", "6", "PHOTON")
        assert "autoscale" not in c and c["custom_tags"]["sync:config-version"] == "1"
        assert c["spark_version"] == "14.3.x-scala2.12"
    assert ctx["ti"].xcom["sync_config_version"] == 1
    assert tasks[0]["new_cluster"]["autoscale"] == {"min_workers": 1, "max_workers": 4}  # user args untouched


def _seed_config(store_url: str, **project: Any) -> None:
    store = SyncStore(store_url)
    p = store.create_project("nightly-etl", goals=Goals(sla_seconds=600))
    if project:
        store.update_project(p.id, **project)
    config = ClusterConfig(instance_type="r5.2xlarge", num_workers=6)
    store.append_config(p.id, config, expected_version=None, actor="test", reason="seed")


def _refusing_workspace(rsps: responses.RequestsMock, refusals: int, status: int = 400) -> list[dict]:
    rsps.get(f"{HOST}/api/2.0/workspace/get-status", json={"object_type": "FILE"})
    return _jobs_api(rsps, refusals, status)


def test_a_refused_sync_payload_falls_back_to_the_users_own(conns, store_url) -> None:
    _seed_config(store_url)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        submitted = _refusing_workspace(rsps, refusals=1)
        ctx = _ctx()
        _op().execute(ctx)
    prepared, unchanged = submitted
    assert prepared["new_cluster"]["node_type_id"] == "r5.2xlarge"
    assert unchanged["new_cluster"] == {k: str(v) if isinstance(v, int) else v for k, v in CLUSTER.items()}
    assert ctx["ti"].xcom["run_id"] == 4242 and ctx["ti"].xcom["sync_config_version"] is None


def test_a_refused_sync_payload_fails_the_task_when_strict(conns, store_url) -> None:
    _seed_config(store_url)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        submitted = _refusing_workspace(rsps, refusals=1)
        with pytest.raises(Exception, match="400"):
            _op(strict=True).execute(_ctx())
    assert len(submitted) == 1


def test_a_server_error_is_not_resubmitted(conns, store_url) -> None:
    # A 5xx may have created the run: a second submission could start the job twice.
    _seed_config(store_url)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        submitted = _refusing_workspace(rsps, refusals=5, status=500)
        with pytest.raises(Exception, match="Databricks"):
            _op().execute(_ctx())
    assert len(submitted) == 1


def test_a_project_cluster_key_missing_from_the_payload_runs_it_unchanged(conns, workspace, store_url) -> None:
    # The key was set on the project (`sync-cli projects update --task-key`), not in the DAG.
    _seed_config(store_url, task_key="etl")
    ctx = _ctx()
    _op().execute(ctx)
    (payload,) = workspace
    assert payload["new_cluster"]["node_type_id"] == "m5.xlarge"
    assert "custom_tags" not in payload["new_cluster"]
    assert ctx["ti"].xcom["run_id"] == 4242


def test_retry_is_idempotent(conns, workspace) -> None:
    op = _op(
        new_cluster={
            **CLUSTER,
            "custom_tags": {"team": "x"},
            "init_scripts": [{"volumes": {"destination": "/Volumes/a.sh"}}],
        }
    )
    op.execute(_ctx())
    op.execute(_ctx())  # a retry of the same task instance
    first, second = workspace
    assert first == second
    assert len(second["new_cluster"]["init_scripts"]) == 2
    assert op.new_cluster.get("cluster_log_conf") is None


def test_literal_secret_refused_before_submit(conns, workspace) -> None:
    op = _op(new_cluster={**CLUSTER, "spark_env_vars": {"DATABRICKS_TOKEN": TOKEN}})
    with pytest.raises(SecretInPayloadError, match="new_cluster.spark_env_vars.DATABRICKS_TOKEN") as info:
        op.execute(_ctx())
    assert TOKEN not in str(info.value) and workspace == []


def test_payload_without_cluster_refused(conns, workspace, store_url) -> None:
    with pytest.raises(PayloadError, match="no new_cluster"):
        _op(new_cluster=None).execute(_ctx())
    assert workspace == []
    assert SyncStore(store_url).list_projects() == []  # refused before the store was touched


def test_existing_cluster_runs_unchanged(conns, workspace, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="sync_provider.cluster_spec"):
        _op(new_cluster=None, existing_cluster_id="0101-shared").execute(_ctx())
    (payload,) = workspace
    assert payload == {
        "existing_cluster_id": "0101-shared",
        "spark_python_task": {"python_file": "dbfs:/jobs/etl.py"},
        "run_name": "submit",
    }
    assert "Sync manages only job clusters" in caplog.text


def test_unknown_project_id_is_an_error(conns, workspace) -> None:
    with pytest.raises(ProjectNotFound, match="0f0e0d0c-0000-4000-8000-000000000000"):
        _op(project="0f0e0d0c-0000-4000-8000-000000000000").execute(_ctx())


def test_store_down_non_strict_submits_unchanged(conns, workspace) -> None:
    conns(store_url="postgresql+psycopg2://u:pw@127.0.0.1:1/none?connect_timeout=1")
    ctx = _ctx()
    _op().execute(ctx)
    (payload,) = workspace
    assert payload["new_cluster"] == {k: str(v) if isinstance(v, int) else v for k, v in CLUSTER.items()}
    assert "sync_project_id" not in ctx["ti"].xcom and ctx["ti"].xcom["run_id"] == 4242


def test_store_down_strict_fails_without_leaking_password(conns, workspace) -> None:
    conns(store_url="postgresql+psycopg2://u:pw-secret@127.0.0.1:1/none?connect_timeout=1")
    with pytest.raises(SyncUnavailableError, match="strict mode") as info:
        _op(strict=True).execute(_ctx())
    assert "pw-secret" not in str(info.value) and workspace == []


def test_malformed_connection_fails_even_when_not_strict(conns, workspace) -> None:
    conns(preference="cheapest")
    with pytest.raises(SettingsError, match="'preference'"):
        _op().execute(_ctx())
    assert workspace == []


def test_bad_goals_refused_at_parse_time() -> None:
    with pytest.raises(ValueError, match="sla_minutes"):
        _op(sla_minutes=0)


def test_deferrable_defers_with_injected_payload(conns, store_url) -> None:
    with responses.RequestsMock() as rsps:
        rsps.get(f"{HOST}/api/2.0/workspace/get-status", json={"object_type": "FILE"})
        rsps.post(f"{HOST}/api/2.2/jobs/runs/submit", json={"run_id": 77})
        rsps.get(
            f"{HOST}/api/2.2/jobs/runs/get",
            json={
                "run_id": 77,
                "job_id": 9,
                "run_page_url": f"{HOST}/run/77",
                "state": {"life_cycle_state": "RUNNING", "state_message": ""},
            },
        )
        ctx = _ctx()
        with pytest.raises(TaskDeferred) as deferred:
            _op(deferrable=True, polling_period_seconds=5).execute(ctx)
        body = json.loads(rsps.calls[1].request.body)
    trigger = deferred.value.trigger
    assert isinstance(trigger, DatabricksExecutionTrigger)
    assert trigger.run_id == 77 and trigger.polling_period_seconds == 5
    assert deferred.value.method_name == "execute_complete"
    project = SyncStore(store_url).get_project("nightly-etl")
    assert body["new_cluster"]["custom_tags"]["sync:project-id"] == project.id
    assert ctx["ti"].xcom["sync_project_id"] == project.id and ctx["ti"].xcom["run_id"] == 77


def test_a_missing_collector_is_uploaded_before_a_cluster_is_told_to_run_it(conns, store_url) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(f"{HOST}/api/2.0/workspace/get-status", status=404, json=MISSING)
        rsps.post(f"{HOST}/api/2.0/workspace/mkdirs", json={})
        imported = rsps.post(f"{HOST}/api/2.0/workspace/import", json={})
        submitted = _jobs_api(rsps)
        _op().execute(_ctx())
    body = json.loads(imported.calls[0].request.body)
    assert body["path"] == "/Shared/sync/collector_init.sh" and body["overwrite"] is True
    assert submitted[0]["new_cluster"]["init_scripts"] == [
        {"workspace": {"destination": "/Shared/sync/collector_init.sh"}}
    ]


def test_a_collector_that_cannot_be_uploaded_is_left_out_with_a_warning(conns, store_url) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(f"{HOST}/api/2.0/workspace/get-status", status=404, json=MISSING)
        rsps.post(f"{HOST}/api/2.0/workspace/mkdirs", status=403, json={"error_code": "PERMISSION_DENIED"})
        submitted = _jobs_api(rsps)
        # Task loggers are structlog's; capture_logs sees them whatever another test configured.
        with structlog.testing.capture_logs() as logged:
            _op().execute(_ctx())
        assert "init_scripts" not in submitted[0]["new_cluster"]  # the cluster still starts
        warnings = [e for e in logged if e["log_level"] == "warning"]
        assert any("upload-init-script" in str(e) for e in warnings)  # the task log says how to fix it
        with pytest.raises(SyncUnavailableError, match="collector init script"):
            _op(strict=True).execute(_ctx())
