"""SyncPredictionOperator against the Databricks emulator (the HTTP boundary) and a real store and engine.

Runs are submitted straight to the emulator's REST API once per module; each test then executes the operator
with a task instance whose XCom holds the run id, as the submit task would have left it.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from airflow.sdk import DAG

from sync_provider.engine.models import Constraints, Goals, Phase
from sync_provider.operators.prediction import PredictionError, SyncPredictionOperator
from sync_provider.settings import SyncSettings
from tests.triggers.fakes import FakeTI, context_for

DEST = "s3://sync-logs/prediction-tests"


class Emu:
    """Thin client for the emulator's REST API (test setup only)."""

    def __init__(self, server: Any):
        self.server = server
        self.http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=30)

    def submit(self, *, workers: int = 8, node: str = "m5.2xlarge", workload: str = "join_etl") -> str:
        body = {
            "run_name": "prediction-test",
            "new_cluster": {
                "spark_version": "14.3.x-scala2.12",
                "node_type_id": node,
                "num_workers": workers,
                "cluster_log_conf": {"s3": {"destination": DEST, "endpoint": self.server.s3_endpoint_url}},
                "custom_tags": {"sync:config-version": "3"},
            },
            "notebook_task": {"notebook_path": f"/Shared/{workload}"},
        }
        reply = self.http.post("/api/2.1/jobs/runs/submit", json=body)
        reply.raise_for_status()
        return str(reply.json()["run_id"])

    def wait(self, run_id: str, *, deliver: bool = True) -> dict:
        deadline = time.time() + 60
        while time.time() < deadline:
            run = self.http.get("/api/2.1/jobs/runs/get", params={"run_id": run_id}).json()
            if run["state"]["life_cycle_state"] in ("TERMINATED", "INTERNAL_ERROR", "SKIPPED"):
                if deliver:
                    for _ in range(20):  # delivery lags termination a little, as on Databricks
                        self.http.post("/emulator/v1/deliver")
                        time.sleep(0.1)
                return run
            time.sleep(0.2)
        raise TimeoutError(f"emulator run {run_id} did not finish")

    def crash_next(self) -> None:
        self.http.post("/emulator/v1/faults", json={"kind": "crash_run", "count": 1}).raise_for_status()


@pytest.fixture(scope="module")
def emu(emulator) -> Emu:
    return Emu(emulator)


@pytest.fixture(scope="module")
def good_run(emu) -> str:
    run_id = emu.submit()
    emu.wait(run_id)
    return run_id


@pytest.fixture(scope="module")
def failed_run(emu) -> str:
    emu.crash_next()
    run_id = emu.submit(workers=2)
    run = emu.wait(run_id)
    assert run["state"].get("result_state") != "SUCCESS"
    return run_id


@pytest.fixture
def conns(monkeypatch, tmp_path, emulator):
    """The `databricks_default`, `aws_default` and `sync_default` connections, pointed at the emulator."""
    host, port = emulator.url.removeprefix("http://").split(":")
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.setenv(
        "AIRFLOW_CONN_DATABRICKS_DEFAULT",
        json.dumps(
            {"conn_type": "databricks", "host": host, "port": int(port), "schema": "http", "password": emulator.token}
        ),
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps(
            {"conn_type": "aws", "login": "testing", "password": "testing", "extra": {"region_name": "us-east-1"}}
        ),
    )
    url = f"sqlite:///{tmp_path / 'sync.db'}"
    extra = {"store_url": url, "aws_endpoint_url": emulator.s3_endpoint_url}
    monkeypatch.setenv("AIRFLOW_CONN_SYNC_DEFAULT", json.dumps({"conn_type": "sync", "extra": extra}))
    return SyncSettings(**extra)


@pytest.fixture
def store(conns):
    s = conns.open_store()
    s.create_project("etl", goals=Goals(sla_seconds=3600), constraints=Constraints(max_workers=16))
    return s


def _predict(run_id: str | None, **kwargs) -> tuple[Any, FakeTI]:
    with DAG("test_predict", schedule=None):
        op = SyncPredictionOperator(task_id="sync_prediction", project="etl", task_to_submit="submit", **kwargs)
    ti = FakeTI({("submit", "run_id"): run_id} if run_id else {}, task_id="sync_prediction")
    return op.execute(context_for(ti)), ti


def test_records_the_run_and_saves_a_prediction(store, good_run):
    prediction_id, ti = _predict(good_run)
    summary = ti.xcom_pull("sync_prediction", key="summary")
    assert prediction_id and ti.xcom_pull("sync_prediction", key="prediction_id") == prediction_id
    (run,) = store.list_runs(store.get_project("etl").id)
    obs = run.observation
    assert run.external_run_id == good_run and obs.succeeded and obs.runtime_s > 0
    assert obs.profile is not None, summary["warnings"]  # the delivered event log was parsed
    assert obs.cost.total_usd > 0 and obs.config.num_workers == 8 and obs.config.instance_type == "m5.2xlarge"
    assert obs.config_version == 3  # from the cluster's sync:config-version tag
    assert run.sla_met is True and run.report  # the cluster report is kept with the run
    saved = store.get_prediction(prediction_id)
    assert saved.run_id == run.id
    assert summary["status"] == "ok" and summary["run_id"] == good_run
    assert summary["current"]["num_workers"] == 8
    assert summary["recommended"] == {
        **saved.prediction.for_preference("economy").config.model_dump(mode="json"),
        "description": saved.prediction.for_preference("economy").config.describe(),
    }
    assert summary["phase"] in {p.value for p in Phase}
    assert summary["predicted_cost_usd"] > 0 and summary["actual_cost_usd"] == round(obs.cost.total_usd, 4)


def test_a_second_call_for_the_same_run_adds_nothing(store, good_run):
    first, _ = _predict(good_run)
    second, ti = _predict(good_run)
    project = store.get_project("etl")
    assert first == second
    assert len(store.list_runs(project.id)) == 1 and len(store.list_predictions(project.id)) == 1
    assert ti.xcom_pull("sync_prediction", key="summary")["prediction_id"] == first


def test_missing_run_id_is_one_clear_warning_and_strict_fails(store):
    result, ti = _predict(None)
    assert result is None
    summary = ti.xcom_pull("sync_prediction", key="summary")
    assert summary["status"] == "failed"
    assert "no Databricks run_id in the XCom of task 'submit'" in summary["error"]
    with pytest.raises(PredictionError, match="set task_to_submit to the task id"):
        _predict(None, strict=True)


def test_a_failed_run_is_recorded_so_the_controller_can_react(store, failed_run):
    prediction_id, ti = _predict(failed_run)
    (run,) = store.list_runs(store.get_project("etl").id)
    assert run.observation.succeeded is False and run.sla_met is False
    assert prediction_id is not None
    assert ti.xcom_pull("sync_prediction", key="summary")["succeeded"] is False


def test_unreadable_log_destination_records_the_run_from_its_runtime(store, good_run):
    prediction_id, ti = _predict(good_run, log_destination="s3://bucket-that-does-not-exist/logs")
    (run,) = store.list_runs(store.get_project("etl").id)
    assert run.observation.profile is None and run.observation.runtime_s > 0
    warnings = ti.xcom_pull("sync_prediction", key="summary")["warnings"]
    assert any("bucket-that-does-not-exist" in w and "'aws_default'" in w for w in warnings), warnings
    assert prediction_id is not None


def test_an_event_log_that_never_arrived_is_named(store, emu):
    run_id = emu.submit(workers=4)
    emu.wait(run_id, deliver=False)
    _, ti = _predict(run_id, log_destination="s3://sync-logs/nothing-delivered-here")
    warnings = ti.xcom_pull("sync_prediction", key="summary")["warnings"]
    assert any("no event log for cluster" in w and "SyncPredictionSensor" in w for w in warnings), warnings


def test_constraints_that_exclude_everything_keep_the_run(store, good_run):
    store.update_project("etl", constraints=Constraints(instance_types=["x9.imaginary"]))
    result, ti = _predict(good_run)
    assert result is None
    error = ti.xcom_pull("sync_prediction", key="summary")["error"]
    assert "could not recommend" in error and "x9.imaginary" in error and f"run {good_run} is recorded" in error
    assert len(store.list_runs(store.get_project("etl").id)) == 1  # nothing recorded is lost


def test_project_from_the_submit_tasks_xcom(store, good_run):
    with DAG("test_predict", schedule=None):
        op = SyncPredictionOperator(task_id="sync_prediction", task_to_submit="submit")
    project = store.get_project("etl")
    ti = FakeTI({("submit", "run_id"): good_run, ("submit", "sync_project_id"): project.id}, task_id="sync_prediction")
    assert op.execute(context_for(ti)) is not None
    # No project argument: the run and its prediction land on the project the submit task named.
    (run,) = store.list_runs(project.id)
    assert run.external_run_id == str(good_run)
    assert ti.xcom_pull("sync_prediction", key="summary")["project_id"] == project.id
