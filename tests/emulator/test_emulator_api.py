"""The REST surface: Databricks-style errors, faults, lifecycle outcomes, workload selection, persistence."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest

from sync_provider.emulator import EmulatorServer
from sync_provider.emulator.simulator import ClusterSpec, expected
from sync_provider.emulator.workloads import load_workload
from tests.emulator.emulator_helpers import new_cluster, task, wait_for, wait_terminated

pytestmark = pytest.mark.integration


def submit(api: httpx.Client, *tasks: dict, **extra) -> int:
    r = api.post("/api/2.1/jobs/runs/submit", json={"run_name": "t", "tasks": list(tasks), **extra})
    assert r.status_code == 200, r.text
    return r.json()["run_id"]


def upload(api: httpx.Client, path: str, text: str) -> httpx.Response:
    return api.post(
        "/api/2.0/workspace/import",
        json={"path": path, "format": "AUTO", "overwrite": True, "content": base64.b64encode(text.encode()).decode()},
    )


def delivered(api: httpx.Client, cluster_id: str) -> bool:
    """The final log delivery is done: cluster_log_status.last_attempted reached the termination time."""
    c = api.get("/api/2.1/clusters/get", params={"cluster_id": cluster_id}).json()
    return (
        bool(c.get("terminated_time"))
        and c.get("cluster_log_status", {}).get("last_attempted", 0) >= c["terminated_time"]
    )


# ---------------------------------------------------------------------------------------------- auth and errors
def test_auth(emulator):
    url = f"{emulator.url}/api/2.1/jobs/runs/list"
    r = httpx.get(url)
    assert r.status_code == 401 and r.json()["error_code"] == "UNAUTHENTICATED"
    r = httpx.get(url, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 403 and r.json() == {"error_code": "PERMISSION_DENIED", "message": "Invalid access token."}
    assert httpx.get(f"{emulator.url}/emulator/v1/workloads", headers={"Authorization": "Bearer x"}).status_code == 403


@pytest.mark.parametrize(
    ("payload", "code", "needle"),
    [
        (b"{not json", "MALFORMED_REQUEST", "invalid JSON"),
        (b"[1, 2]", "MALFORMED_REQUEST", "JSON object"),
        ({"tasks": [task("a", "generic", new_cluster("m9.huge"))]}, "INVALID_PARAMETER_VALUE", "m9.huge"),
        ({"tasks": [task("a", "generic", new_cluster("m5.xlarge", -2))]}, "INVALID_PARAMETER_VALUE", "num_workers"),
        ({"tasks": [task("a", "generic", new_cluster("m5.xlarge", "two"))]}, "INVALID_PARAMETER_VALUE", "integer"),
        ({"tasks": [task("a", "generic")]}, "INVALID_PARAMETER_VALUE", "new_cluster"),
        (
            {"tasks": [task("a", "generic", new_cluster()), task("a", "generic", new_cluster())]},
            "INVALID_PARAMETER_VALUE",
            "Duplicate",
        ),
        (
            {"tasks": [task("a", "generic", new_cluster(), depends_on=[{"task_key": "zz"}])]},
            "INVALID_PARAMETER_VALUE",
            "zz",
        ),
        ({"run_name": "x"}, "INVALID_PARAMETER_VALUE", "tasks"),
    ],
)
def test_submit_errors(api, payload, code, needle):
    if isinstance(payload, bytes):
        r = api.post("/api/2.1/jobs/runs/submit", content=payload, headers={"Content-Type": "application/json"})
    else:
        r = api.post("/api/2.1/jobs/runs/submit", json=payload)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error_code"] == code and needle in body["message"]


def test_unknown_ids(api):
    for path, params in (
        ("/api/2.1/jobs/runs/get", {"run_id": 987654321}),
        ("/api/2.1/jobs/get", {"job_id": 4242}),
        ("/api/2.1/clusters/get", {"cluster_id": "0000-000000-nope"}),
    ):
        r = api.get(path, params=params)
        assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE", path
        assert "does not exist" in r.json()["message"]
    r = api.get("/api/2.1/jobs/runs/get", params={"run_id": "abc"})
    assert r.status_code == 400 and "integer" in r.json()["message"]
    r = api.get("/api/2.0/dbfs/get-status", params={"path": "/nope"})
    assert r.status_code == 404 and r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert api.post("/api/2.1/jobs/runs/cancel", json={"run_id": 1}).status_code == 400
    r = api.get("/api/2.1/jobs/runs/get")
    assert r.status_code == 400 and "run_id" in r.json()["message"]


# ---------------------------------------------------------------------------------------------- faults
def test_faults_429_500_slow_for_n_requests(api):
    prefix = "/api/2.1/clusters/list-node-types"
    api.post("/emulator/v1/faults", json={"kind": "429", "path_prefix": prefix, "count": 2, "retry_after": 7})
    for _ in range(2):
        r = api.get(prefix)
        assert r.status_code == 429 and r.headers["Retry-After"] == "7"
        assert r.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert api.get(prefix).status_code == 200
    api.post("/emulator/v1/faults", json={"kind": "500", "path_prefix": prefix, "count": 1})
    assert api.get("/api/2.1/clusters/spark-versions").status_code == 200  # other paths unaffected
    r = api.get(prefix)
    assert r.status_code == 500 and r.json()["error_code"] == "INTERNAL_ERROR"
    api.post("/emulator/v1/faults", json={"kind": "slow", "path_prefix": prefix, "count": 1, "delay_s": 0.4})
    t0 = time.monotonic()
    assert api.get(prefix).status_code == 200
    assert time.monotonic() - t0 >= 0.4
    assert api.post("/emulator/v1/faults", json={"kind": "teapot"}).status_code == 400


def test_crashed_simulation_fails_only_that_run(api):
    api.post("/emulator/v1/faults", json={"kind": "crash_run", "count": 1})
    crashed = wait_terminated(api, submit(api, task("a", "generic", new_cluster())))
    assert crashed["state"]["life_cycle_state"] == "INTERNAL_ERROR"
    assert crashed["state"]["result_state"] == "FAILED"
    ok = wait_terminated(api, submit(api, task("a", "generic", new_cluster())))
    assert ok["state"]["result_state"] == "SUCCESS"


# ---------------------------------------------------------------------------------------------- lifecycle
def test_lifecycle_goes_through_states_on_the_simulated_clock(api):
    run_id = submit(api, task("a", "aggregation", new_cluster("m5.2xlarge", 4)))
    states = []

    def step():
        s = api.get("/api/2.1/jobs/runs/get", params={"run_id": run_id}).json()["state"]["life_cycle_state"]
        if not states or states[-1] != s:
            states.append(s)
        return s == "TERMINATED"

    wait_for(step, interval=0.01)
    assert states[0] == "PENDING" and "RUNNING" in states and states[-1] == "TERMINATED"
    run = api.get("/api/2.1/jobs/runs/get", params={"run_id": run_id}).json()
    # the truth runtime is the execution duration the API reports
    truth = api.get(f"/emulator/v1/runs/{run_id}").json()
    assert run["execution_duration"] == pytest.approx(truth["runtime_s"] * 1000, abs=2)
    assert run["end_time"] - run["start_time"] >= run["setup_duration"] + run["execution_duration"]
    out = api.get("/api/2.1/jobs/runs/get-output", params={"run_id": run["tasks"][0]["run_id"]}).json()
    assert out["metadata"]["state"]["result_state"] == "SUCCESS"


def test_api_responses_reveal_no_ground_truth(api):
    run_id = submit(api, task("a", "generic", new_cluster("m5.xlarge", 2)))
    run = wait_terminated(api, run_id)
    cluster = api.get("/api/2.1/clusters/get", params={"cluster_id": run["tasks"][0]["cluster_instance"]["cluster_id"]})
    text = json.dumps(run) + cluster.text
    for secret in ("cost", "dbu_usd", "run_index", "workload", "cpu_s_per_task", "truth", "seed"):
        assert secret not in text


def test_cancel_timeout_failure_and_upstream(api):
    long_run = submit(api, task("a", "iterative_ml", new_cluster("m5.xlarge", 2, "dbfs:/logs/cancel")))
    wait_for(
        lambda: (
            api.get("/api/2.1/jobs/runs/get", params={"run_id": long_run}).json()["state"]["life_cycle_state"]
            == "RUNNING"
        ),
        interval=0.01,
    )
    assert api.post("/api/2.1/jobs/runs/cancel", json={"run_id": long_run}).json() == {}
    cancelled = wait_terminated(api, long_run)
    assert cancelled["state"]["result_state"] == "CANCELED"
    assert cancelled["state"]["user_cancelled_or_timedout"] is True

    timed = wait_terminated(api, submit(api, task("a", "join_etl", new_cluster()), timeout_seconds=400))
    assert timed["state"]["result_state"] == "TIMEDOUT"

    upload(
        api,
        "/Shared/wl/fails_on_first.yaml",
        "stages: [{name: a, tasks: 8, cpu_s_per_task: 1}]\nscenario: {fail_at_runs: [0]}\n",
    )
    run = wait_terminated(
        api,
        submit(
            api,
            task("a", "fails_on_first.yaml", new_cluster())
            | {"notebook_task": {"notebook_path": "/Shared/wl/fails_on_first.yaml"}},
            task("b", "generic", new_cluster(), depends_on=[{"task_key": "a"}]),
        ),
    )
    assert run["state"]["result_state"] == "FAILED"
    a, b = run["tasks"]
    assert a["state"]["result_state"] == "FAILED" and "failed 4 times" in a["state"]["state_message"]
    assert b["state"]["result_state"] == "UPSTREAM_FAILED"
    out = api.get("/api/2.1/jobs/runs/get-output", params={"run_id": a["run_id"]}).json()
    assert "failed 4 times" in out["error"]
    r = api.get("/api/2.1/jobs/runs/get-output", params={"run_id": run["run_id"]})
    assert r.status_code == 400 and "multiple tasks" in r.json()["message"]

    # the cancelled run's delivered log stops where the driver stopped (no ApplicationEnd)
    cid = cancelled["tasks"][0]["cluster_instance"]["cluster_id"]
    wait_for(lambda: delivered(api, cid), timeout=30)
    files = api.get("/api/2.0/dbfs/list", params={"path": f"/logs/cancel/{cid}/eventlog"}).json()["files"]
    ctx_dir = api.get("/api/2.0/dbfs/list", params={"path": files[0]["path"]}).json()["files"][0]["path"]
    log_path = f"{ctx_dir}/eventlog"
    size = api.get("/api/2.0/dbfs/get-status", params={"path": log_path}).json()["file_size"]
    chunks, offset = [], 0
    while offset < size:
        part = api.get("/api/2.0/dbfs/read", params={"path": log_path, "offset": offset, "length": 1 << 20}).json()
        chunks.append(base64.b64decode(part["data"]))
        offset += part["bytes_read"]
    text = b"".join(chunks).decode()
    assert len(text.encode()) == size
    assert "SparkListenerApplicationStart" in text and "SparkListenerApplicationEnd" not in text


def test_autoscale_and_spot_loss_events(api):
    upload(
        api,
        "/Shared/wl/spotty.yaml",
        "stages: [{name: s, tasks: 400, cpu_s_per_task: 20}]\nscenario: {spot_loss_probability: 1.0}\n",
    )
    spot = wait_terminated(
        api,
        submit(
            api,
            {
                "task_key": "s",
                "spark_python_task": {"python_file": "/Shared/wl/spotty.yaml"},
                "new_cluster": new_cluster(
                    "m5.xlarge", 4, aws_attributes={"availability": "SPOT_WITH_FALLBACK", "first_on_demand": 1}
                ),
            },
        ),
    )
    cid = spot["tasks"][0]["cluster_instance"]["cluster_id"]
    types = [
        e["type"] for e in api.post("/api/2.1/clusters/events", json={"cluster_id": cid, "limit": 500}).json()["events"]
    ]
    assert "NODES_LOST" in types
    assert api.get(f"/emulator/v1/runs/{spot['run_id']}").json()["spot_nodes_lost"] >= 1

    auto = wait_terminated(
        api,
        submit(
            api,
            task(
                "a",
                "aggregation",
                new_cluster("m5.xlarge", 0, autoscale={"min_workers": 1, "max_workers": 6}) | {"num_workers": None},
            ),
        ),
    )
    cid = auto["tasks"][0]["cluster_instance"]["cluster_id"]
    events = api.post("/api/2.1/clusters/events", json={"cluster_id": cid, "order": "ASC", "limit": 500}).json()
    resize = next(e for e in events["events"] if e["type"] == "RESIZING")
    assert resize["details"]["target_num_workers"] == 6
    assert "UPSIZE_COMPLETED" in [e["type"] for e in events["events"]]


# ---------------------------------------------------------------------------------------------- workloads and truth
def test_uploaded_workload_is_validated_and_used(api):
    r = upload(api, "/Shared/wl/bad.yaml", "stages: [{name: a, tasks: -1, cpu_s_per_task: 1}]\n")
    assert r.status_code == 400
    assert "/Shared/wl/bad.yaml" in r.json()["message"] and "'stages.0.tasks'" in r.json()["message"]
    upload(api, "/Shared/wl/tiny.yaml", "stages: [{name: only, tasks: 3, cpu_s_per_task: 2}]\n")
    status = api.get("/api/2.0/workspace/get-status", params={"path": "/Shared/wl/tiny.yaml"}).json()
    assert status["object_type"] == "FILE"
    first = submit(
        api, {"task_key": "t", "notebook_task": {"notebook_path": "/Shared/wl/tiny.yaml"}, "new_cluster": new_cluster()}
    )
    second = submit(
        api, {"task_key": "t", "notebook_task": {"notebook_path": "/Shared/wl/tiny.yaml"}, "new_cluster": new_cluster()}
    )
    t1 = wait_for(lambda: (x := api.get(f"/emulator/v1/runs/{first}").json())["runtime_s"] and x)
    t2 = wait_for(lambda: (x := api.get(f"/emulator/v1/runs/{second}").json())["runtime_s"] and x)
    assert t1["workload"] == "tiny" and t1["run_index"] + 1 == t2["run_index"]
    other = submit(api, task("t", "not_a_known_workload", new_cluster()))
    assert wait_for(lambda: api.get(f"/emulator/v1/runs/{other}").json()["workload"]) == "generic"


def test_truth_endpoint_matches_the_simulator(api):
    body = {
        "workload": "memory_hungry",
        "instance_type": "r5.2xlarge",
        "num_workers": 6,
        "photon": False,
        "spot": False,
        "run_index": 2,
    }
    r = api.post("/emulator/v1/truth", json=body).json()
    sim = expected(load_workload("memory_hungry"), ClusterSpec("r5.2xlarge", 6), 2)
    assert r["runtime_s"] == pytest.approx(sim.runtime_s)
    assert r["cost_usd"] == pytest.approx(r["cloud_usd"] + r["dbu_usd"])
    assert r["succeeded"] is True
    oom = api.post("/emulator/v1/truth", json=body | {"instance_type": "c5.2xlarge"}).json()
    assert oom["succeeded"] is False and "OutOfMemoryError" in oom["failure"]
    assert api.post("/emulator/v1/truth", json=body | {"instance_type": "m9.huge"}).status_code == 400
    names = [w["name"] for w in api.get("/emulator/v1/workloads").json()["workloads"]]
    assert {"join_etl", "skewed", "memory_hungry"} <= set(names)


def test_jobs_crud_and_runs_list(api):
    settings = {"name": "crud", "tasks": [task("a", "generic", new_cluster())]}
    job_id = api.post("/api/2.1/jobs/create", json=settings).json()["job_id"]
    bad = api.post(
        "/api/2.1/jobs/reset",
        json={
            "job_id": job_id,
            "new_settings": {"name": "crud", "tasks": [task("a", "generic", new_cluster("m9.huge"))]},
        },
    )
    assert bad.status_code == 400
    assert (
        api.post(
            "/api/2.1/jobs/reset", json={"job_id": job_id, "new_settings": settings | {"name": "crud2"}}
        ).status_code
        == 200
    )
    assert api.get("/api/2.1/jobs/get", params={"job_id": job_id}).json()["settings"]["name"] == "crud2"
    run_id = api.post("/api/2.1/jobs/run-now", json={"job_id": job_id}).json()["run_id"]
    runs = api.get("/api/2.1/jobs/runs/list", params={"job_id": job_id}).json()["runs"]
    assert [r["run_id"] for r in runs] == [run_id]
    assert api.post("/api/2.1/jobs/delete", json={"job_id": job_id}).json() == {}
    assert api.get("/api/2.1/jobs/get", params={"job_id": job_id}).status_code == 400


def test_state_and_run_index_survive_a_restart(tmp_path, emulator_s3):
    with EmulatorServer(data_dir=tmp_path, s3_endpoint=emulator_s3) as srv:
        c = httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {srv.token}"})
        first = submit(c, task("a", "skewed", new_cluster("r5.xlarge", 2)))
        wait_terminated(c, first)
    with EmulatorServer(data_dir=tmp_path, s3_endpoint=emulator_s3, token="another") as srv:
        c = httpx.Client(base_url=srv.url, headers={"Authorization": "Bearer another"})
        assert c.get("/api/2.1/jobs/runs/get", params={"run_id": first}).json()["state"]["result_state"] == "SUCCESS"
        second = submit(c, task("a", "skewed", new_cluster("r5.xlarge", 2)))
        assert wait_for(lambda: c.get(f"/emulator/v1/runs/{second}").json()["runtime_s"])
        assert c.get(f"/emulator/v1/runs/{second}").json()["run_index"] == 1


def test_failed_delivery_is_reported_not_retried_forever(api):
    run = wait_terminated(api, submit(api, task("a", "generic", new_cluster(log_dest="s3://x/logs"))))
    cid = run["tasks"][0]["cluster_instance"]["cluster_id"]
    status = wait_for(
        lambda: (
            api.get("/api/2.1/clusters/get", params={"cluster_id": cid})
            .json()["cluster_log_status"]
            .get("last_exception")
        ),
        timeout=30,
    )
    assert "InvalidBucketName" in status
    assert api.get("/api/2.1/clusters/list-node-types").status_code == 200  # the server carries on


def test_workspace_and_dbfs_file_operations(api):
    assert api.post("/api/2.0/workspace/mkdirs", json={"path": "/Shared/sync"}).json() == {}
    assert upload(api, "/Shared/sync/collector_init.sh", "#!/bin/bash\necho hi\n").status_code == 200
    listed = api.get("/api/2.0/workspace/list", params={"path": "/Shared/sync"}).json()["objects"]
    assert {"path": "/Shared/sync/collector_init.sh", "object_type": "FILE"} in listed
    exported = api.get("/api/2.0/workspace/export", params={"path": "/Shared/sync/collector_init.sh"}).json()
    assert base64.b64decode(exported["content"]).startswith(b"#!/bin/bash")
    r = api.post("/api/2.0/workspace/delete", json={"path": "/Shared/sync"})
    assert r.status_code == 400 and r.json()["error_code"] == "DIRECTORY_NOT_EMPTY"
    assert api.post("/api/2.0/workspace/delete", json={"path": "/Shared/sync", "recursive": True}).json() == {}
    assert api.get("/api/2.0/workspace/get-status", params={"path": "/Shared/sync"}).status_code == 404

    assert api.post("/api/2.0/dbfs/mkdirs", json={"path": "/tmp/x"}).json() == {}
    payload = base64.b64encode(b"0123456789").decode()
    assert api.post("/api/2.0/dbfs/put", json={"path": "dbfs:/tmp/x/f", "contents": payload}).json() == {}
    r = api.post("/api/2.0/dbfs/put", json={"path": "/tmp/x/f", "contents": payload})
    assert r.status_code == 400 and r.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    part = api.get("/api/2.0/dbfs/read", params={"path": "/tmp/x/f", "offset": 3, "length": 4}).json()
    assert part == {"bytes_read": 4, "data": base64.b64encode(b"3456").decode()}
    assert api.get("/api/2.0/dbfs/read", params={"path": "/tmp/x/f", "length": 2 << 20}).status_code == 400
    assert api.post("/api/2.0/dbfs/delete", json={"path": "/tmp/x", "recursive": True}).json() == {}
    assert api.get("/api/2.0/dbfs/get-status", params={"path": "/tmp/x/f"}).status_code == 404


def test_admin_deliver_writes_due_logs_before_answering(api):
    run = wait_terminated(api, submit(api, task("a", "generic", new_cluster(log_dest="dbfs:/logs/admin-deliver"))))
    cid = run["tasks"][0]["cluster_instance"]["cluster_id"]
    health = api.get("/emulator/v1/health").json()
    assert health["status"] == "ok" and health["time_scale"] > 0
    wait_for(lambda: api.post("/emulator/v1/deliver").status_code == 200 and delivered(api, cid), timeout=30)
    status = api.get("/api/2.0/dbfs/get-status", params={"path": f"/logs/admin-deliver/{cid}/driver/stdout"})
    assert status.status_code == 200


def test_corrupt_state_file_is_reported(tmp_path, emulator_s3):
    (tmp_path / "state.json").write_text("{not json")
    with pytest.raises(RuntimeError, match="state.json cannot be read"):
        EmulatorServer(data_dir=tmp_path, s3_endpoint=emulator_s3).start()
