"""The real clients against the running emulator: Airflow's DatabricksHook and S3Hook, and databricks-sdk."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.providers.databricks.hooks.databricks import DatabricksHook, RunState
from databricks.sdk import WorkspaceClient

from tests.emulator.emulator_helpers import new_cluster, task, wait_for

pytestmark = pytest.mark.integration


def _hook(conn_id: str) -> DatabricksHook:
    return DatabricksHook(databricks_conn_id=conn_id, retry_limit=3, retry_delay=0.1)


def _poll(hook: DatabricksHook, run_id: int, timeout: float = 30) -> RunState:
    return wait_for(lambda: (s := hook.get_run_state(run_id)).is_terminal and s, timeout)


def test_hook_submit_poll_cluster_events_and_s3_eventlog(emulator, airflow_conns):
    db_conn, aws_conn = airflow_conns
    hook = _hook(db_conn)
    cluster = new_cluster(
        "m5.2xlarge",
        "3",
        "s3://emu-logs/jobs",
        custom_tags={"sync:project-id": "p-1"},
        init_scripts=[{"workspace": {"destination": "/Shared/sync/collector_init.sh"}}],
        spark_env_vars={"SYNC_LOG_DESTINATION": "s3://emu-logs/jobs", "SYNC_PROJECT_ID": "p-1"},
        aws_attributes={"availability": "SPOT_WITH_FALLBACK", "first_on_demand": 1, "zone_id": "us-east-1b"},
    )
    run_id = hook.submit_run({"run_name": "hook", "tasks": [task("etl", "join_etl", cluster)]})
    seen = set()
    state = wait_for(lambda: (seen.add((s := hook.get_run_state(run_id)).life_cycle_state) or s.is_terminal) and s)
    assert state.is_successful and state.result_state == "SUCCESS"
    assert "RUNNING" in seen
    run = hook.get_run(run_id)
    assert run["setup_duration"] > 0 and run["execution_duration"] > 0
    inst = run["tasks"][0]["cluster_instance"]
    cid, ctx = inst["cluster_id"], inst["spark_context_id"]
    cluster_info = hook._do_api_call(("GET", "2.1/clusters/get"), {"cluster_id": cid})
    assert cluster_info["node_type_id"] == "m5.2xlarge" and cluster_info["num_workers"] == 3
    assert cluster_info["custom_tags"] == {"sync:project-id": "p-1"}
    assert cluster_info["cluster_log_conf"]["s3"]["destination"] == "s3://emu-logs/jobs"
    assert cluster_info["state"] in ("TERMINATING", "TERMINATED")
    events = hook._do_api_call(("POST", "2.1/clusters/events"), {"cluster_id": cid, "order": "ASC", "limit": 3})
    assert [e["type"] for e in events["events"]][:2] == ["CREATING", "STARTING"]
    assert events["total_count"] > 3 and events["next_page"]["offset"] == 3
    types = [e["type"] for e in events["events"]]
    page = events
    while "next_page" in page:
        page = hook._do_api_call(("POST", "2.1/clusters/events"), page["next_page"])
        types += [e["type"] for e in page["events"]]
    assert len(types) == events["total_count"]
    assert types[-1] == "TERMINATING" and "RUNNING" in types and "INIT_SCRIPTS_STARTED" in types

    # the final delivery is done once cluster_log_status.last_attempted reaches the termination time
    after = wait_for(lambda: _delivered(hook, cid), timeout=30)
    assert after["cluster_log_status"]["last_attempted"] >= after["terminated_time"]
    s3 = S3Hook(aws_conn_id=aws_conn)
    ev_dir = f"jobs/{cid}/eventlog/{cid}_{cluster_info['driver']['private_ip'].replace('.', '_')}/{ctx}/"
    keys = s3.list_keys("emu-logs", prefix=ev_dir)
    assert f"{ev_dir}eventlog" in keys
    text = s3.read_key(f"{ev_dir}eventlog", "emu-logs")
    assert text.startswith('{"Event":"SparkListenerLogStart"')
    assert text.rstrip().endswith("}") and "SparkListenerApplicationEnd" in text.splitlines()[-1]
    assert s3.list_keys("emu-logs", prefix=f"jobs/{cid}/driver/")
    # the collector init script's node records (one per node, the documented format)
    records = [
        json.loads(s3.read_key(k, "emu-logs")) for k in s3.list_keys("emu-logs", prefix=f"jobs/{cid}/sync_data/")
    ]
    assert len(records) >= 4
    driver = [r for r in records if r["is_driver"]]
    assert len(driver) == 1 and driver[0]["lifecycle"] == "on-demand"
    assert driver[0]["instance_id"] == after["driver"]["instance_id"]
    workers = [r for r in records if not r["is_driver"]]
    assert {r["lifecycle"] for r in workers} == {"spot"} and {r["instance_type"] for r in workers} == {"m5.2xlarge"}
    for r in records:
        assert r["cluster_id"] == cid and r["project_id"] == "p-1" and r["region"] == "us-east-1"
        assert r["start_time"] <= r["last_seen"]


def _delivered(hook: DatabricksHook, cid: str) -> dict | None:
    info = hook._do_api_call(("GET", "2.1/clusters/get"), {"cluster_id": cid})
    last = info.get("cluster_log_status", {}).get("last_attempted", 0)
    return info if info.get("terminated_time") and last >= info["terminated_time"] else None


def test_sdk_submit_and_dbfs_delivery(emulator):
    w = WorkspaceClient(host=emulator.url, token=emulator.token)
    from databricks.sdk.service import compute, jobs

    waiter = w.jobs.submit(
        run_name="sdk",
        tasks=[
            jobs.SubmitTask(
                task_key="agg",
                spark_python_task=jobs.SparkPythonTask(python_file="dbfs:/jobs/aggregation.py"),
                new_cluster=compute.ClusterSpec(
                    spark_version="14.3.x-photon-scala2.12",
                    node_type_id="c6i.2xlarge",
                    num_workers=2,
                    cluster_log_conf=compute.ClusterLogConf(
                        dbfs=compute.DbfsStorageInfo(destination="dbfs:/cluster-logs")
                    ),
                ),
            )
        ],
    )
    run = wait_for(lambda: (r := w.jobs.get_run(waiter.run_id)).state.life_cycle_state.value == "TERMINATED" and r)
    assert run.state.result_state.value == "SUCCESS"
    cid = run.tasks[0].cluster_instance.cluster_id
    cluster = w.clusters.get(cid)
    assert cluster.runtime_engine.value == "PHOTON" and cluster.node_type_id == "c6i.2xlarge"
    types = [e.type.value for e in w.clusters.events(cid)]
    assert {"CREATING", "RUNNING", "TERMINATING"} <= set(types)
    base = f"dbfs:/cluster-logs/{cid}/eventlog"

    def delivered() -> bool:
        c = w.clusters.get(cid)
        return bool(
            c.terminated_time and c.cluster_log_status and c.cluster_log_status.last_attempted >= c.terminated_time
        )

    wait_for(delivered, timeout=30)
    assert _exists(w, base)
    files = [f for f in w.dbfs.list(base, recursive=True) if not f.is_dir]
    eventlog = next(f for f in files if f.path.endswith("/eventlog"))
    with w.dbfs.download(eventlog.path) as fh:
        data = fh.read()
    assert len(data) == eventlog.file_size
    assert b"spark.databricks.clusterUsageTags.clusterNodeType" in data
    truth = w.api_client.do("GET", f"/emulator/v1/runs/{waiter.run_id}")
    assert truth["workload"] == "aggregation" and truth["config"]["photon"] is True
    assert truth["cost_usd"] == pytest.approx(truth["cloud_usd"] + truth["dbu_usd"], rel=1e-4)


def _exists(w: WorkspaceClient, path: str) -> bool:
    try:
        w.dbfs.get_status(path)
        return True
    except Exception:  # noqa: BLE001 - not delivered yet
        return False


def test_hook_retries_through_injected_429_and_500(emulator, api, airflow_conns):
    hook = _hook(airflow_conns[0])
    run_id = hook.submit_run({"run_name": "retry", "tasks": [task("g", "generic", new_cluster())]})
    prefix = "/api/2.2/jobs/runs/get"
    assert (
        api.post(
            "/emulator/v1/faults", json={"kind": "429", "path_prefix": prefix, "count": 1, "retry_after": 0}
        ).status_code
        == 200
    )
    assert api.post("/emulator/v1/faults", json={"kind": "500", "path_prefix": prefix, "count": 1}).status_code == 200
    t0 = time.monotonic()
    assert hook.get_run_state(run_id).life_cycle_state in ("PENDING", "RUNNING", "TERMINATING", "TERMINATED")
    assert time.monotonic() - t0 < 10
    assert _poll(hook, run_id).is_successful


def test_hook_run_now_and_job_update(emulator, airflow_conns):
    hook = _hook(airflow_conns[0])
    job_id = hook.create_job(
        {
            "name": "nightly",
            "job_clusters": [{"job_cluster_key": "main", "new_cluster": new_cluster("r5.xlarge", 2)}],
            "tasks": [
                task("a", "skewed", job_cluster_key="main"),
                task("b", "generic", job_cluster_key="main", depends_on=[{"task_key": "a"}]),
            ],
        }
    )
    hook._do_api_call(
        ("POST", "2.2/jobs/update"),
        {
            "job_id": job_id,
            "new_settings": {
                "job_clusters": [{"job_cluster_key": "main", "new_cluster": new_cluster("r5.2xlarge", 3)}]
            },
        },
    )
    settings = hook._do_api_call(("GET", "2.2/jobs/get"), {"job_id": job_id})["settings"]
    assert settings["job_clusters"][0]["new_cluster"]["node_type_id"] == "r5.2xlarge"
    assert [t["task_key"] for t in settings["tasks"]] == ["a", "b"]
    run_id = hook.run_now({"job_id": job_id})
    assert _poll(hook, run_id).is_successful
    run = hook.get_run(run_id)
    assert run["job_id"] == job_id and run["number_in_job"] == 1
    a, b = run["tasks"]
    assert a["cluster_instance"]["cluster_id"] == b["cluster_instance"]["cluster_id"]  # one job cluster
    assert b["start_time"] >= a["end_time"] - 1  # b waited for a
    truth = httpx.get(
        f"{emulator.url}/emulator/v1/runs/{run_id}", headers={"Authorization": f"Bearer {emulator.token}"}
    ).json()["tasks"]
    assert truth[0]["startup_s"] > 0 and truth[1]["startup_s"] == 0  # one start-up for the shared job cluster
    assert hook.get_job_id(run_id) == job_id
    assert any(j["job_id"] == job_id for j in hook.list_jobs(job_name="nightly"))
