"""The example DAGs on a real Airflow deployment: scheduler, LocalExecutor workers, API server, DAG processor and
triggerer as separate processes, the way a user runs Airflow.

`airflow dags test` runs tasks in its own process, where a task may reach Airflow's metadata database; a real
worker may not (it talks to the API server's execution API only). This test triggers two recipe runs and lets
the scheduler run the run-now and goal-group examples, and checks, in the Sync store and the workspace, that every
task did its work there: both recipe runs were recorded with a profile, a prediction was made and applied, the
second run used the configuration the first one applied, and the Databricks job was updated in place.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sync_provider.emulator.server import free_port
from tests.dags_examples.airflow_helpers import (
    AIRFLOW,
    airflow,
    base_env,
    migrate,
    store_of,
    with_connections,
)

pytestmark = pytest.mark.integration

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
DAG_ID = "sync_recipe"
TASKS = ("submit_run", "wait_for_eventlog", "sync_prediction", "apply_recommendation")


def _logs(home: Path, dag_id: str = "", run_id: str = "", tasks: tuple[str, ...] = ()) -> str:
    """The components' and tasks' logs, for the assertion message when something did not finish. The named tasks'
    logs come first and nearly whole, with the components' lines about them: they are the ones that failed, and
    the tail of everything else would cut them off."""
    first = []
    for task in tasks:
        for path in sorted(home.glob(f"logs/dag_id={dag_id}/run_id={run_id}/task_id={task}/*.log")):
            first.append(f"--- {path.relative_to(home)}\n{path.read_text(errors='replace')[-10000:]}")
    # What the scheduler and the triggerer said about those tasks: why a task that ran was marked failed is there,
    # often minutes before the tail.
    for path in sorted(home.glob("*.log")) if run_id and tasks else ():
        lines = path.read_text(errors="replace").splitlines()
        about = [line for line in lines if run_id in line and any(task in line for task in tasks)]
        if about:
            first.append(f"--- {path.relative_to(home)}, lines about {', '.join(tasks)}\n" + "\n".join(about)[-6000:])
    parts = []
    for path in sorted(home.rglob("*.log")):
        text = path.read_text(errors="replace")
        parts.append(f"--- {path.relative_to(home)}\n{text[-2500:]}")
    return "\n".join([*first, "\n".join(parts)[-12000:]])


@pytest.fixture
def deployment(emulator, tmp_path) -> Iterator[dict[str, str]]:
    """A running Airflow (its own home and SQLite database) with the connections to the emulator and a store."""
    home = tmp_path / "airflow"
    home.mkdir()
    port, tag = free_port("127.0.0.1"), uuid.uuid4().hex[:8]
    env = with_connections(base_env(home), emulator, tmp_path)
    env.update(
        AIRFLOW__CORE__EXECUTOR="LocalExecutor",
        AIRFLOW__CORE__PARALLELISM="2",
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__API__BASE_URL=f"http://127.0.0.1:{port}",
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{port}/execution/",
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_hex(16),
        AIRFLOW__API__WORKERS="1",
        AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="1",
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
        SYNC_EXAMPLE_POLL_SECONDS="1",
        SYNC_RECIPE_DEFERRABLE="true",  # the sensor waits in the triggerer, as it would in production
        SYNC_RECIPE_SLA_MINUTES="15",
        SYNC_RUN_NOW_PROJECT=f"worker-run-now-{tag}",
        SYNC_RUN_NOW_JOB_NAME=f"worker-run-now-{tag}",
        SYNC_GROUPS_PREFIX=f"worker-{tag}-",
        SYNC_GROUPS_TAG=f"worker-{tag}",
    )
    migrate(env)
    procs = []
    for name in COMPONENTS:
        log = open(home / f"{name}.log", "w")  # noqa: SIM115 - closed with the process below
        proc = subprocess.Popen([AIRFLOW, name], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        procs.append((proc, log))
    try:
        _wait_until(lambda: _api_up(port), 120, "the API server did not answer", home)
        yield env
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc, log in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
            log.close()


def _api_up(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_until(check, timeout: float, what: str, home: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(1)
    pytest.fail(f"{what} within {timeout:.0f} s\n{_logs(home)}")


def _json(out: str) -> list[dict]:
    """The JSON table of an `airflow ... -o json` command; Airflow may print warnings on stdout before it."""
    return json.loads(next((line for line in out.splitlines() if line.startswith("[")), "[]"))


def _runs(env: dict[str, str], dag_id: str) -> dict[str, dict]:
    return {r["run_id"]: r for r in _json(airflow(env, "dags", "list-runs", dag_id, "-o", "json").stdout)}


def _task_states(env: dict[str, str], dag_id: str, run_id: str) -> dict[str, str]:
    states = _json(airflow(env, "tasks", "states-for-dag-run", dag_id, run_id, "-o", "json").stdout)
    return {s["task_id"]: s["state"] for s in states}


def test_example_dags_run_on_real_workers(deployment, emu):
    """The recipe twice (triggered by hand, as a user would from the UI), the run-now and goal-group examples once
    each (the run that unpausing schedules, as in production)."""
    env = deployment
    home = Path(env["AIRFLOW_HOME"])
    project = f"worker-{uuid.uuid4().hex[:8]}"
    conf = json.dumps({"project": project, "workload": "/Shared/sync/workloads/join_etl", "num_workers": 16})

    dags = (DAG_ID, "sync_run_now", "sync_goal_groups")
    _wait_until(
        lambda: all(d in airflow(env, "dags", "list", "-o", "plain").stdout for d in dags), 180, "DAGs not parsed", home
    )
    for dag_id in dags:
        airflow(env, "dags", "unpause", dag_id)
    run_ids = [f"sync-test-{project}-{i}" for i in (1, 2)]
    for run_id in run_ids:  # max_active_runs=1: the second run starts after the first applied its recommendation
        airflow(env, "dags", "trigger", DAG_ID, "-c", conf, "--run-id", run_id)

    def ours() -> dict[str, list[dict]]:
        recipe = _runs(env, DAG_ID)
        scheduled = {d: [r for r in _runs(env, d).values() if r["run_id"].startswith("scheduled__")] for d in dags[1:]}
        return {DAG_ID: [recipe[i] for i in run_ids if i in recipe], **scheduled}

    def finished() -> bool:
        runs = ours()
        return len(runs[DAG_ID]) == 2 and all(
            r and all(x["state"] in ("success", "failed") for x in r) for r in runs.values()
        )

    _wait_until(finished, 480, "the DAG runs did not finish", home)
    runs = ours()
    for dag_id, dag_runs in runs.items():
        assert [r["state"] for r in dag_runs] == ["success"] * len(dag_runs), (dag_id, _logs(home))
        for run in dag_runs:
            states = _task_states(env, dag_id, run["run_id"])
            if set(states.values()) != {"success"}:  # pytest.fail: an assert's message would be cut short
                failed = tuple(t for t, state in states.items() if state != "success")
                pytest.fail(f"{dag_id} {run['run_id']}: {states}\n{_logs(home, dag_id, run['run_id'], failed)}")
    assert _task_states(env, DAG_ID, run_ids[0]).keys() == set(TASKS)
    recipe = runs[DAG_ID]
    assert recipe[0]["end_date"] <= recipe[1]["start_date"]  # one after the other, in trigger order

    # Non-strict tasks turn their failures into warnings, so the store is what shows they did their work.
    store = store_of(env)
    p = store.get_project(project)
    recorded = store.list_runs(p.id)
    assert len(recorded) == 2, _logs(home)
    assert all(r.observation.profile is not None and r.observation.cost for r in recorded)
    assert len(store.list_predictions(p.id)) == 2
    history = store.config_history(p.id)
    assert {c.actor for c in history} == {f"airflow:{DAG_ID}.apply_recommendation"}
    # Run 2 ran the version that run 1's apply task wrote, and it differs from what run 1 ran.
    ran = next(c for c in history if c.version == recorded[1].observation.config_version)
    assert ran.created_at >= recorded[0].recorded_at and ran.config == recorded[1].observation.config
    assert recorded[1].observation.config != recorded[0].observation.config

    # Run-now: the Databricks job itself now carries the applied configuration.
    run_now = store.get_project(env["SYNC_RUN_NOW_PROJECT"])
    active = store.active_config(run_now.id)
    assert len(store.list_runs(run_now.id)) == 1 and store.list_predictions(run_now.id) and active
    job = emu.http.get("/api/2.1/jobs/get", params={"job_id": run_now.job_id}).json()
    (cluster,) = job["settings"]["job_clusters"]
    assert cluster["new_cluster"]["node_type_id"] == active.config.instance_type
    # Goal groups: each job of the group was recorded and predicted for its own goal.
    group = store.list_projects(tag=("group", env["SYNC_GROUPS_TAG"]))
    assert len(group) == 2 and all(len(store.list_runs(g.id)) == 1 and store.list_predictions(g.id) for g in group)
