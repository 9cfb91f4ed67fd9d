"""The example DAG, run for real with `airflow dags test` against a tiny fake Databricks workspace (HTTP).

The fake answers only what the submit operator calls (jobs/runs/submit, jobs/runs/get) and records the payloads,
so the test checks what a real workspace would have received. The full emulator lives in sync_provider/emulator.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest

from sync_provider.engine.models import ClusterConfig
from sync_provider.store import SyncStore

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DAG_FILE = REPO / "dags_examples" / "sync_submit_basic.py"
AIRFLOW = str(Path(sys.executable).parent / "airflow")


class FakeWorkspace(ThreadingHTTPServer):
    """runs/submit returns a run id; runs/get says the run finished successfully; workspace files are kept."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.submitted: list[dict] = []
        self.auth: list[str | None] = []
        self.files: dict[str, str] = {}  # workspace path -> base64 content (workspace/import)

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.server_port}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeWorkspace

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        self.server.auth.append(self.headers.get("Authorization"))
        if self.path.startswith("/api/2.2/jobs/runs/submit"):
            self.server.submitted.append(body)
            return self._json({"run_id": 1000 + len(self.server.submitted)})
        if self.path.startswith("/api/2.0/workspace/mkdirs"):
            return self._json({})
        if self.path.startswith("/api/2.0/workspace/import"):
            self.server.files[body["path"]] = body["content"]
            return self._json({})
        self._json({"error_code": "ENDPOINT_NOT_FOUND", "message": self.path}, 404)

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/api/2.2/jobs/runs/get"):
            run_id = int(self.path.split("run_id=")[1].split("&")[0])
            return self._json(
                {
                    "run_id": run_id,
                    "job_id": 1,
                    "run_page_url": f"http://{self.server.url}/#job/1/run/{run_id}",
                    "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS", "state_message": ""},
                }
            )
        if self.path.startswith("/api/2.0/workspace/get-status"):
            path = unquote(self.path.split("path=")[1].split("&")[0])
            if path in self.server.files:
                return self._json({"path": path, "object_type": "FILE"})
            return self._json({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"{path} does not exist"}, 404)
        self._json({"error_code": "ENDPOINT_NOT_FOUND", "message": self.path}, 404)

    def _json(self, data: dict, code: int = 200) -> None:
        raw = json.dumps(data).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory) -> Path:
    """One migrated Airflow home for the session (`airflow db migrate` takes seconds)."""
    home = tmp_path_factory.mktemp("airflow_home")
    (home / "dags").mkdir()
    shutil.copy(DAG_FILE, home / "dags" / DAG_FILE.name)
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    proc = subprocess.run([AIRFLOW, "db", "migrate"], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return home


@pytest.fixture
def workspace() -> Iterator[FakeWorkspace]:
    server = FakeWorkspace()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _dags_test(home: Path, workspace: FakeWorkspace, store_url: str, date: str) -> subprocess.CompletedProcess:
    host, port = workspace.url.split(":")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_DATABRICKS_DEFAULT": json.dumps(
            {
                "conn_type": "databricks",
                "host": host,
                "port": int(port),
                "schema": "http",
                "password": "dapi0123456789abcdef0123456789abcdef",
            }
        ),
        "AIRFLOW_CONN_SYNC_DEFAULT": json.dumps(
            {
                "conn_type": "sync",
                "extra": {
                    "store_url": store_url,
                    "log_destination": "s3://sync-logs/databricks",
                    "log_region": "us-east-1",
                    "init_script_path": "workspace:/Shared/sync/collector_init.sh",
                },
            }
        ),
        "SYNC_EXAMPLE_POLL_SECONDS": "0.5",
    }
    return subprocess.run(
        [AIRFLOW, "dags", "test", "sync_submit_basic", date], env=env, capture_output=True, text=True, timeout=300
    )


def _xcom(home: Path, key: str) -> list:
    with sqlite3.connect(home / "airflow.db") as db:
        rows = db.execute("SELECT value FROM xcom WHERE dag_id = 'sync_submit_basic' AND key = ?", (key,)).fetchall()
    return [json.loads(v) if isinstance(v, str | bytes) else v for (v,) in rows]


def test_example_dag_runs_green_and_uses_the_active_config(airflow_home, workspace, tmp_path) -> None:
    store_url = f"sqlite:///{tmp_path / 'sync.db'}"
    first = _dags_test(airflow_home, workspace, store_url, "2026-11-01")
    assert first.returncode == 0, (first.stdout + first.stderr)[-4000:]
    assert "dapi0123456789abcdef0123456789abcdef" not in first.stdout + first.stderr

    store = SyncStore(store_url)
    project = store.get_project("example-nightly-etl")
    assert project.goals.sla_seconds == 3600 and project.constraints.max_workers == 32
    (payload,) = workspace.submitted
    cluster = payload["new_cluster"]
    assert cluster["custom_tags"]["sync:project-id"] == project.id
    assert cluster["custom_tags"]["sync:airflow-dag-id"] == "sync_submit_basic"
    assert cluster["spark_env_vars"]["WAREHOUSE_PASSWORD"] == "{{secrets/etl/warehouse-password}}"
    assert cluster["cluster_log_conf"]["s3"]["destination"] == "s3://sync-logs/databricks"
    # The collector was missing from the workspace: uploaded before the cluster was told to run it.
    assert list(workspace.files) == ["/Shared/sync/collector_init.sh"]
    assert cluster["init_scripts"] == [{"workspace": {"destination": "/Shared/sync/collector_init.sh"}}]
    assert cluster["autoscale"] == {"min_workers": "2", "max_workers": "8"}
    assert payload["spark_python_task"]["parameters"] == ["--date", "2026-11-01"]
    assert workspace.auth[0] == "Bearer dapi0123456789abcdef0123456789abcdef"
    assert 1001 in _xcom(airflow_home, "run_id") and project.id in _xcom(airflow_home, "sync_project_id")

    # The next run picks up the project's new active configuration.
    store.append_config(
        project.id,
        ClusterConfig(instance_type="r5.xlarge", num_workers=3),
        expected_version=None,
        actor="test",
        reason="recommendation",
    )
    second = _dags_test(airflow_home, workspace, store_url, "2026-11-02")
    assert second.returncode == 0, (second.stdout + second.stderr)[-4000:]
    cluster = workspace.submitted[1]["new_cluster"]
    assert (cluster["node_type_id"], cluster["num_workers"]) == ("r5.xlarge", "3") and "autoscale" not in cluster
    assert cluster["custom_tags"]["sync:config-version"] == "1"
