"""`sync-cli aws-databricks ...` against the Databricks workspace emulator (REST API + S3 log delivery).

The tutorial's flow end to end (create a project, run a job, predict, apply, run with the prediction), the
cluster report and access report, and the error paths: unknown run, unfinished run, missing event log, refused
token, guardrails, a job without the keyed cluster.
"""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from sync_provider.engine.models import (
    ClusterConfig,
    CostBreakdown,
    Phase,
    Prediction,
    Preference,
    Solution,
)
from sync_provider.store import SyncStore
from tests.cli.helpers import json_of

pytestmark = pytest.mark.integration
POLL = "0.2"


class Workspace:
    """The emulator as the CLI sees it, plus direct REST calls for test setup and checks."""

    def __init__(self, emulator, bucket: str):
        self.emulator = emulator
        self.bucket = bucket
        self.http = httpx.Client(base_url=emulator.url, headers={"Authorization": f"Bearer {emulator.token}"})

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        if method == "GET":
            r = self.http.get(path, params=body)
        else:
            r = self.http.post(path, json=body or {})
        r.raise_for_status()
        return r.json()

    def create_job(
        self, *, workers: int = 8, node: str = "m5.xlarge", logs: bool = True, workload: str = "generic"
    ) -> str:
        cluster = {"spark_version": "14.3.x-scala2.12", "node_type_id": node, "num_workers": workers}
        if logs:
            cluster["cluster_log_conf"] = {"s3": {"destination": f"s3://{self.bucket}/logs", "region": "us-east-1"}}
        task = {"task_key": "etl", "job_cluster_key": "main", "notebook_task": {"notebook_path": f"/Shared/{workload}"}}
        body = {
            "name": f"cli-{uuid.uuid4().hex[:6]}",
            "job_clusters": [{"job_cluster_key": "main", "new_cluster": cluster}],
            "tasks": [task],
        }
        return str(self.api("POST", "/api/2.1/jobs/create", body)["job_id"])

    def job_cluster(self, job_id: str) -> dict:
        return self.api("GET", "/api/2.1/jobs/get", {"job_id": job_id})["settings"]["job_clusters"][0]["new_cluster"]


@pytest.fixture
def ws(emulator, monkeypatch, store_url) -> Workspace:
    bucket = f"cli-logs-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("DATABRICKS_HOST", emulator.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", emulator.token)
    monkeypatch.setenv("SYNC_AWS_ENDPOINT_URL", emulator.s3_endpoint_url)
    monkeypatch.setenv("SYNC_LOG_DESTINATION", f"s3://{bucket}/logs")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    import boto3

    boto3.client("s3", endpoint_url=emulator.s3_endpoint_url, region_name="us-east-1").create_bucket(Bucket=bucket)
    return Workspace(emulator, bucket)


def test_tutorial_flow_run_predict_apply_run(cli, ws, store_url):
    job_id = ws.create_job(workers=8)
    cli("projects", "create", "tutorial", "--sla-minutes", "60")

    first = json_of(cli("aws-databricks", "run-job", job_id, "--project", "tutorial", "--poll-seconds", POLL, "--json"))
    store = SyncStore(store_url)
    project = store.get_project("tutorial")
    assert project.job_id == job_id  # run-job links the project to its job
    runs = store.list_runs(project.id)
    assert [r.external_run_id for r in runs] == [first["run_id"]]
    assert runs[0].observation.profile is not None, "the delivered event log was parsed"
    assert runs[0].observation.config.num_workers == 8 and runs[0].observation.runtime_s > 0
    assert first["prediction_id"] and first["reused"] is False

    again = json_of(cli("aws-databricks", "create-prediction", first["run_id"], "--project", "tutorial",
                        "--poll-seconds", POLL, "--json"))  # fmt: skip
    assert again["prediction_id"] == first["prediction_id"] and again["reused"] is True
    assert len(store.list_runs(project.id)) == 1

    solution = json_of(cli("predictions", "get", first["prediction_id"], "--preference", "economy", "--json"))
    applied = json_of(cli("aws-databricks", "apply-prediction", job_id, first["prediction_id"], "--json"))
    assert applied["action"] in ("applied", "unchanged")
    active = store.active_config(project.id)
    assert active is not None and active.config == ClusterConfig.model_validate(solution["config"])
    cluster = ws.job_cluster(job_id)
    assert cluster["node_type_id"] == active.config.instance_type
    assert cluster["num_workers"] == active.config.num_workers
    assert cluster["custom_tags"]["sync:project-id"] == project.id

    res = json_of(
        cli("aws-databricks", "run-prediction", job_id, first["prediction_id"], "--poll-seconds", POLL, "--json")
    )
    assert res["state"]["result_state"] == "SUCCESS"
    run = ws.api("GET", "/api/2.1/jobs/runs/get", {"run_id": res["run_id"]})
    assert run["job_id"] == int(job_id)

    report = json_of(cli("aws-databricks", "get-cluster-report", first["run_id"], "--json"))
    assert report["cluster_id"] and report["run"]["run_id"] == int(first["run_id"])
    text = cli("aws-databricks", "get-cluster-report", first["run_id"]).stdout
    assert report["cluster_id"] in text

    access = json_of(cli("aws-databricks", "access-report", "--json"))
    status = {c["name"]: c["status"] for c in access["checks"]}
    assert status["token"] == "ok" and status["log destination"] == "ok" and status["jobs/get"] == "ok"
    assert status["clusters/events"] == "ok"
    history = json_of(cli("projects", "history", "tutorial", "--json"))
    assert [r["external_run_id"] for r in history] == [first["run_id"]]  # run-prediction only runs the job


def test_missing_event_log_needs_allow_incomplete(cli, ws, store_url, monkeypatch):
    monkeypatch.delenv("SYNC_LOG_DESTINATION")
    job_id = ws.create_job(logs=False, workers=4)
    cli("projects", "create", "nolog", "--job-id", job_id)
    run_id = str(ws.api("POST", "/api/2.1/jobs/run-now", {"job_id": int(job_id)})["run_id"])

    early = cli("aws-databricks", "create-prediction", run_id, "--project", "nolog", code=1)
    assert "is PENDING" in early.stderr or "is RUNNING" in early.stderr or "no cluster_log_conf" in early.stderr

    res = cli("aws-databricks", "run-job", job_id, "--project", "nolog", "--poll-seconds", POLL, code=1)
    assert "no cluster_log_conf" in res.stderr and "--allow-incomplete-cluster-report" in res.stderr
    ok = json_of(cli("aws-databricks", "run-job", job_id, "--project", "nolog", "--poll-seconds", POLL,
                     "--allow-incomplete-cluster-report", "--json"))  # fmt: skip
    assert ok["prediction_id"]
    runs = SyncStore(store_url).list_runs(SyncStore(store_url).get_project("nolog").id)
    assert runs[-1].observation.profile is None and runs[-1].observation.runtime_s > 0


def test_unknown_run_and_refused_token(cli, ws, monkeypatch):
    cli("projects", "create", "p")
    res = cli("aws-databricks", "create-prediction", "987654321", "--project", "p", code=1)
    assert "reading run 987654321 failed" in res.stderr and "Traceback" not in res.output

    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-wrong-token-value")
    res = cli("aws-databricks", "get-cluster-report", "1", code=1)
    assert "token was refused" in res.stderr and "dapi-wrong-token-value" not in res.output
    access = cli("aws-databricks", "access-report", "--json", code=1)
    checks = {c["name"]: c for c in json_of(access)["checks"]}
    assert checks["token"]["status"] == "failed" and "personal access token" in checks["token"]["detail"]
    assert checks["jobs/list"]["status"] == "skipped"
    assert "dapi-wrong-token-value" not in access.output


def test_no_workspace_configured(cli, monkeypatch):
    res = cli("aws-databricks", "get-cluster-report", "1", code=1)
    assert "no Databricks workspace is configured" in res.stderr and "sync-cli configure" in res.stderr


def _manual_prediction(current: ClusterConfig, workers: int) -> Prediction:
    solution = Solution(
        preference=Preference.ECONOMY,
        config=ClusterConfig(instance_type="m5.xlarge", num_workers=workers),
        predicted_runtime_s=600,
        predicted_runtime_p90_s=700,
        cost=CostBreakdown(cloud_usd=1, dbu_usd=1),
        cost_low_usd=1.8,
        cost_high_usd=2.2,
    )
    solutions = {p: solution.model_copy(update={"preference": p}) for p in Preference}
    return Prediction(current=current, solutions=solutions, phase=Phase.OPTIMIZING, reason="test")


def test_apply_prediction_guardrails_and_unknown_cluster_key(cli, ws, store_url):
    job_id = ws.create_job(workers=4)
    store = SyncStore(store_url)
    project = store.create_project("guarded", goals={"sla_seconds": 3600}, job_id=job_id)
    current = ClusterConfig(instance_type="m5.xlarge", num_workers=4)
    store.append_config(project.id, current, expected_version=None, actor="test", reason="baseline")
    too_big = store.save_prediction(project.id, _manual_prediction(current, 40))
    res = cli("aws-databricks", "apply-prediction", job_id, too_big.id, code=1)
    assert "step limit" in res.stderr and "projects update" in res.stderr
    assert ws.job_cluster(job_id)["num_workers"] == 4 and store.active_config(project.id).version == 1

    fine = store.save_prediction(project.id, _manual_prediction(current, 6))
    res = cli("aws-databricks", "apply-prediction", job_id, fine.id, "--job-cluster-key", "nope", code=1)
    assert "no job cluster 'nope'" in res.stderr
    assert store.active_config(project.id).version == 1, "a wrong key changes nothing"
    out = json_of(cli("aws-databricks", "apply-prediction", job_id, fine.id, "--preference", "balanced", "--json"))
    assert out["job_updated"] is True and ws.job_cluster(job_id)["num_workers"] == 6
    assert store.get_prediction(fine.id).status == "applied"
    assert "not found" in cli("aws-databricks", "apply-prediction", job_id, "missing-id", code=1).stderr


def test_airflow_connection_instead_of_host_and_token(cli, ws, monkeypatch):
    import json
    from urllib.parse import urlsplit

    url = urlsplit(ws.emulator.url)
    monkeypatch.delenv("DATABRICKS_HOST")
    monkeypatch.delenv("DATABRICKS_TOKEN")
    conn = {"conn_type": "databricks", "host": url.hostname, "port": url.port, "schema": "http",
            "password": ws.emulator.token}  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_DBX_EMULATOR", json.dumps(conn))
    cli("configure", "--conn-id", "dbx_emulator")
    report = json_of(cli("aws-databricks", "access-report", "--json", code=None))
    assert report["workspace"] == "Airflow connection 'dbx_emulator'"
    assert {c["name"]: c["status"] for c in report["checks"]}["token"] == "ok"
    assert ws.emulator.token not in json.dumps(report)


def test_access_report_reads_a_dbfs_destination_and_names_a_missing_bucket(cli, ws, monkeypatch):
    monkeypatch.setenv("SYNC_LOG_DESTINATION", "dbfs:/cluster-logs/sync")
    checks = {c["name"]: c for c in json_of(cli("aws-databricks", "access-report", "--json"))["checks"]}
    assert (
        checks["log destination"]["status"] == "ok" and "dbfs:/cluster-logs/sync" in checks["log destination"]["detail"]
    )

    monkeypatch.setenv("SYNC_LOG_DESTINATION", f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/logs")
    res = cli("aws-databricks", "access-report", code=1)
    assert "does not exist" in res.stdout and "log destination" in res.stderr


def test_a_failed_run_is_recorded_and_exits_1(cli, ws, store_url):
    job_id = ws.create_job(workers=4)
    cli("projects", "create", "crashy", "--job-id", job_id, "--sla-minutes", "60")
    ws.http.post("/emulator/v1/faults", json={"kind": "crash_run", "count": 1}).raise_for_status()
    res = cli("aws-databricks", "run-job", job_id, "--project", "crashy", "--poll-seconds", POLL,
              "--allow-incomplete-cluster-report", "--json", code=1)  # fmt: skip
    assert re.search(r"run \d+ ended (TERMINATED|INTERNAL_ERROR) FAILED", res.stderr) and "is recorded" in res.stderr
    summary = json_of(res)
    assert summary["succeeded"] is False and summary["prediction_id"]
    store = SyncStore(store_url)
    runs = store.list_runs(store.get_project("crashy").id)
    assert len(runs) == 1 and runs[0].observation.succeeded is False


def test_log_delivery_timeout_names_the_wait_and_the_way_out(cli, ws, store_url):
    job_id = ws.create_job(workers=4)
    cli("projects", "create", "impatient", "--job-id", job_id)
    res = cli("aws-databricks", "run-job", job_id, "--project", "impatient", "--poll-seconds", POLL,
              "--log-timeout", "0", code=1)  # fmt: skip
    assert "not completely delivered within 0 s" in res.stderr and "--allow-incomplete-cluster-report" in res.stderr
    store = SyncStore(store_url)
    assert store.list_runs(store.get_project("impatient").id) == [], "nothing is recorded when the wait gives up"


def test_upload_init_script_to_the_workspace_and_dbfs(cli, ws):
    from sync_provider.collector import collector_script

    out = json_of(cli("aws-databricks", "upload-init-script", "--json"))
    assert out == {"location": "workspace:/Shared/sync/collector_init.sh"}
    status = ws.api("GET", "/api/2.0/workspace/get-status", {"path": "/Shared/sync/collector_init.sh"})
    assert status["object_type"] == "FILE"
    access = {c["name"]: c for c in json_of(cli("aws-databricks", "access-report", "--json"))["checks"]}
    assert "collector init script present" in access["workspace/get-status"]["detail"]

    res = cli("aws-databricks", "upload-init-script", "--path", "dbfs:/sync/collector_init.sh")
    assert "uploaded to dbfs:/sync/collector_init.sh" in res.stdout
    import base64

    read = ws.api("GET", "/api/2.0/dbfs/read", {"path": "/sync/collector_init.sh"})
    assert base64.b64decode(read["data"]) == collector_script()

    res = cli("aws-databricks", "upload-init-script", "--path", "/Volumes/main/sync/collector_init.sh", code=1)
    assert "cannot upload the collector to /Volumes/" in res.stderr
