"""What the example-DAG tests share: Airflow subprocess environments, the emulator's test-side client, workloads."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml

from sync_provider.store import SyncStore

REPO = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).parent / "airflow")


def base_env(home: Path) -> dict[str, str]:
    """An Airflow environment of its own: this process's AIRFLOW_*/SYNC_* settings left out."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SYNC_"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags_examples"),
        AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
        PYTHONWARNINGS="ignore",
    )
    return env


def airflow(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the `airflow` CLI in `env`; a non-zero exit fails the test with the command and the end of its output."""
    proc = subprocess.run([AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    assert proc.returncode == 0, f"airflow {' '.join(args)}:\n{(proc.stdout + proc.stderr)[-5000:]}"
    return proc


def migrate(env: dict[str, str]) -> None:
    airflow(env, "db", "migrate", timeout=300)


def with_connections(env: dict[str, str], emulator: Any, store_dir: Path) -> dict[str, str]:
    """`env` plus the connections a user configures: the workspace (emulator), its S3, and Sync's own store."""
    host, port = emulator.url.removeprefix("http://").split(":")
    return {
        **env,
        "AIRFLOW_CONN_DATABRICKS_DEFAULT": json.dumps(
            {"conn_type": "databricks", "host": host, "port": int(port), "schema": "http", "password": emulator.token}
        ),
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
            {"conn_type": "aws", "login": "testing", "password": "testing", "extra": {"region_name": "us-east-1"}}
        ),
        "AIRFLOW_CONN_SYNC_DEFAULT": json.dumps(
            {
                "conn_type": "sync",
                "extra": {
                    "store_url": f"sqlite:///{store_dir / 'sync.db'}",
                    "log_destination": f"s3://sync-logs/{store_dir.name}",
                    "aws_endpoint_url": emulator.s3_endpoint_url,
                },
            }
        ),
        "SYNC_EXAMPLE_POLL_SECONDS": "0.5",
    }


def store_of(env: dict[str, str]) -> SyncStore:
    return SyncStore(json.loads(env["AIRFLOW_CONN_SYNC_DEFAULT"])["extra"]["store_url"])


def dags_test(env: dict[str, str], dag_id: str, logical_date: str, conf: dict | None = None) -> str:
    proc = airflow(env, "dags", "test", dag_id, logical_date, *(["-c", json.dumps(conf)] if conf else []), timeout=240)
    return proc.stdout + proc.stderr


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


def growing_workload(name: str, growth_run: int) -> dict:
    """The built-in join_etl job, steady, whose input grows by half from run `growth_run` on."""
    from sync_provider.emulator.workloads import load_workload

    wl = load_workload("join_etl").model_dump(mode="json")
    wl["name"] = name
    wl["scenario"] = {
        "growth_per_run": 0.0,
        "step_growth": [{"at_run": growth_run, "factor": 1.5}],
        "spot_loss_probability": 0.0,
        "noise_sigma": 0.02,
    }
    return wl
