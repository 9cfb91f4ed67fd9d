"""The closed loop through real Airflow: `airflow dags test` subprocesses against the Databricks emulator.

One AIRFLOW_HOME is migrated once per session and shared; each test has its own Sync store. The recipe DAG (a)
runs a short loop on a job that starts oversized, whose data grows by half at run 2 and whose run 3 crashes;
the checks are the ones the closed loop promises: the configuration changed, cost fell, the SLA held after the
data growth, the failed run caused a revert. The run-now (b) and goal-group (c) examples run for real as well.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from sync_provider.store import SyncStore

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).parent / "airflow")
SLA_MINUTES = 15
GROWTH_RUN, CRASH_RUN, RUNS = 2, 3, 5


def _base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SYNC_"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags_examples"),
        AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
        PYTHONWARNINGS="ignore",
    )
    return env


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory) -> Path:
    """One migrated Airflow metadata database for every DAG test of the session."""
    home = tmp_path_factory.mktemp("airflow_home")
    proc = subprocess.run([AIRFLOW, "db", "migrate"], env=_base_env(home), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return home


class Emulator:
    """Test-side client of the emulator (workload upload, faults, ground truth): never used by the code under test."""

    def __init__(self, server: Any):
        self.server = server
        self.http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=30)

    def upload_workload(self, path: str, workload: dict) -> None:
        content = base64.b64encode(yaml.safe_dump(workload).encode()).decode()
        reply = self.http.post("/api/2.0/workspace/import", json={"path": path, "content": content, "overwrite": True})
        reply.raise_for_status()

    def crash_next_run(self) -> None:
        self.http.post("/emulator/v1/faults", json={"kind": "crash_run", "count": 1}).raise_for_status()

    def truth(self, run_id: str) -> dict:
        return self.http.get(f"/emulator/v1/runs/{run_id}").json()


@pytest.fixture
def emu(emulator) -> Emulator:
    return Emulator(emulator)


@pytest.fixture
def env(airflow_home, emulator, tmp_path) -> Iterator[dict[str, str]]:
    """Environment of the `airflow dags test` subprocesses: connections to the emulator and a fresh store."""
    host, port = emulator.url.removeprefix("http://").split(":")
    e = _base_env(airflow_home)
    e.update(
        AIRFLOW_CONN_DATABRICKS_DEFAULT=json.dumps(
            {"conn_type": "databricks", "host": host, "port": int(port), "schema": "http", "password": emulator.token}
        ),
        AIRFLOW_CONN_AWS_DEFAULT=json.dumps(
            {"conn_type": "aws", "login": "testing", "password": "testing", "extra": {"region_name": "us-east-1"}}
        ),
        AIRFLOW_CONN_SYNC_DEFAULT=json.dumps(
            {
                "conn_type": "sync",
                "extra": {
                    "store_url": f"sqlite:///{tmp_path / 'sync.db'}",
                    "log_destination": f"s3://sync-logs/{tmp_path.name}",
                    "aws_endpoint_url": emulator.s3_endpoint_url,
                },
            }
        ),
        SYNC_EXAMPLE_POLL_SECONDS="0.5",
        SYNC_RECIPE_SLA_MINUTES=str(SLA_MINUTES),
    )
    yield e


def dags_test(env: dict[str, str], dag_id: str, logical_date: str, conf: dict | None = None) -> str:
    cmd = [AIRFLOW, "dags", "test", dag_id, logical_date]
    if conf:
        cmd += ["-c", json.dumps(conf)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240, cwd=REPO)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    return out


def _store(env: dict[str, str]) -> SyncStore:
    return SyncStore(json.loads(env["AIRFLOW_CONN_SYNC_DEFAULT"])["extra"]["store_url"])


def _growing_workload(name: str) -> dict:
    """The built-in join_etl job, steady, whose input grows by half from run GROWTH_RUN on."""
    from sync_provider.emulator.workloads import load_workload

    wl = load_workload("join_etl").model_dump(mode="json")
    wl["name"] = name
    wl["scenario"] = {
        "growth_per_run": 0.0,
        "step_growth": [{"at_run": GROWTH_RUN, "factor": 1.5}],
        "spot_loss_probability": 0.0,
        "noise_sigma": 0.02,
    }
    return wl


def test_recipe_dag_closes_the_loop(env, emu):
    tag = uuid.uuid4().hex[:8]
    project, workload = f"loop-{tag}", f"/Shared/sync/tests/loop_{tag}"
    emu.upload_workload(workload + ".yaml", _growing_workload(f"loop_{tag}"))
    conf = {"project": project, "workload": workload, "node_type": "m5.4xlarge", "num_workers": 16}
    for i in range(RUNS):
        if i == CRASH_RUN:
            emu.crash_next_run()
        # Odd runs wait in the triggerer (deferrable sensor), even runs poke: both modes run for real.
        deferrable = "true" if i % 2 else "false"
        dags_test({**env, "SYNC_RECIPE_DEFERRABLE": deferrable}, "sync_recipe", f"2026-01-{i + 1:02d}", conf)

    store = _store(env)
    p = store.get_project(project)
    runs = store.list_runs(p.id)
    assert len(runs) == RUNS, [r.external_run_id for r in runs]
    truth = [emu.truth(r.external_run_id) for r in runs]
    configs = [r.observation.config for r in runs]
    sla = SLA_MINUTES * 60
    table = [(t["config"], t.get("runtime_s"), t.get("cost_usd"), t.get("succeeded")) for t in truth]
    for i, (r, t) in enumerate(zip(runs, truth, strict=True)):  # shown with -s, and in CI logs on failure
        print(
            f"run {i}: {r.observation.config.describe():>24} v{r.observation.config_version} "
            f"runtime {t.get('runtime_s') or 0:7.0f} s  true cost ${t.get('cost_usd') or 0:6.2f}  "
            f"ok={t.get('succeeded')}"
        )

    # The configuration changed after the first run, and the true cost of the job fell.
    assert configs[1] != configs[0], table
    first_cost = truth[0]["cost_usd"]
    later = [t["cost_usd"] for t in truth[1:] if t.get("succeeded")]
    assert min(later) < 0.8 * first_cost, table

    # The SLA held after the data grew (the growth run itself may be re-planned from; the runs after it hold).
    after = [(r, t) for r, t in zip(runs, truth, strict=True)][GROWTH_RUN + 1 :]
    for run, t in after:
        if t.get("succeeded"):
            assert run.observation.runtime_s <= sla and t["runtime_s"] <= sla, table

    # The crashed run is recorded as failed and caused a revert, carried out before the next run.
    assert runs[CRASH_RUN].observation.succeeded is False
    history = store.config_history(p.id)
    reverts = [c for c in history if c.reverted_from is not None or "rollback" in c.reason]
    assert reverts, [(c.version, c.status, c.reason) for c in history]
    assert reverts[-1].created_at >= runs[CRASH_RUN].recorded_at
    assert configs[CRASH_RUN + 1] == reverts[-1].config
    assert {c.actor for c in history} == {"airflow:sync_recipe.apply_recommendation"}
    assert all(c.reason for c in history)


def test_run_now_dag_updates_the_databricks_job_in_place(env, emu):
    tag = uuid.uuid4().hex[:8]
    env = {**env, "SYNC_RUN_NOW_PROJECT": f"run-now-{tag}", "SYNC_RUN_NOW_JOB_NAME": f"run-now-{tag}"}
    for day in (1, 2):
        dags_test(env, "sync_run_now", f"2026-02-{day:02d}")
    store = _store(env)
    p = store.get_project(f"run-now-{tag}")
    runs = store.list_runs(p.id)
    assert len(runs) == 2 and p.job_id
    active = store.active_config(p.id)
    assert active is not None and runs[0].observation.config != active.config
    job = emu.http.get("/api/2.1/jobs/get", params={"job_id": p.job_id}).json()
    (cluster,) = job["settings"]["job_clusters"]
    assert cluster["new_cluster"]["node_type_id"] == active.config.instance_type
    assert int(cluster["new_cluster"]["num_workers"]) == active.config.num_workers
    assert cluster["new_cluster"]["custom_tags"]["sync:project-id"] == p.id
    assert runs[1].observation.config == store.config_history(p.id)[1].config  # run 2 ran what was applied


def test_goal_groups_dag_optimises_each_job_for_its_own_goal(env):
    prefix = f"g{uuid.uuid4().hex[:6]}-"
    env = {**env, "SYNC_GROUPS_PREFIX": prefix, "SYNC_GROUPS_TAG": prefix}
    out = dags_test(env, "sync_goal_groups", "2026-03-01")
    store = _store(env)
    group = store.list_projects(tag=("group", prefix))
    assert sorted(p.name for p in group) == [f"{prefix}feature-build", f"{prefix}orders-etl"], out[-2000:]
    by_name = {p.name.removeprefix(prefix): p for p in group}
    assert by_name["orders-etl"].goals.sla_seconds == 1800 and by_name["orders-etl"].goals.preference == "economy"
    assert by_name["feature-build"].goals.cost_target_usd == 4.0
    assert by_name["feature-build"].goals.preference == "performance"
    for p in group:
        assert len(store.list_runs(p.id)) == 1 and store.list_predictions(p.id)
