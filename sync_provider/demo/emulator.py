"""The demo's Databricks workspace: the emulator (REST API + its S3) running in this process, plus its ground truth.

Ground truth (what a run really took and cost) comes only from the emulator's admin API, which the product
never calls: the demo uses it to show how the runs really went, next to what Sync measured and decided.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from pydantic import BaseModel

from sync_provider.demo.errors import DemoError
from sync_provider.emulator.workloads import Workload

#: The demo's log bucket in the emulator's S3 (moto): where clusters deliver their logs.
LOG_BUCKET = "sync-demo-logs"
LOG_DESTINATION = f"s3://{LOG_BUCKET}/cluster-logs"
REGION = "us-east-1"


class GroundTruth(BaseModel):
    """How a run really went, from the emulator's admin API (never from the Databricks API paths)."""

    runtime_s: float | None = None
    startup_s: float | None = None
    succeeded: bool | None = None
    failure: str | None = None
    cost_usd: float | None = None
    cloud_usd: float | None = None
    dbu_usd: float | None = None
    input_bytes: int | None = None
    growth_factor: float | None = None


class DemoWorkspace:
    """Starts the emulator in a background thread of this process and stops it on exit."""

    def __init__(self, data_dir: Path, *, time_scale: float, token: str = "dapi-sync-demo", seed: int | None = None):
        self.data_dir = data_dir.resolve()
        self.time_scale = time_scale
        self.seed = seed
        self._token = token
        self._server: Any = None
        self._http: httpx.Client | None = None

    def __enter__(self) -> DemoWorkspace:
        from sync_provider.emulator import EmulatorServer

        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._server = EmulatorServer(
                host="127.0.0.1",
                port=0,
                data_dir=self.data_dir,
                time_scale=self.time_scale,
                token=self._token,
                seed=self.seed,
            )
            self._server.start()
        except Exception as exc:
            raise DemoError(
                f"the Databricks emulator did not start: {type(exc).__name__}: {exc}",
                hint="check that local ports are free and that moto[server] is installed (bash scripts/setup.sh)",
            ) from exc
        self._http = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30)
        self._create_log_bucket()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._http is not None:
            self._http.close()
        if self._server is not None:
            self._server.stop()

    @property
    def url(self) -> str:
        return str(self._server.url).rstrip("/")

    @property
    def token(self) -> str:
        return str(self._server.token)

    @property
    def s3_endpoint_url(self) -> str:
        return str(self._server.s3_endpoint_url)

    def _create_log_bucket(self) -> None:
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=self.s3_endpoint_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        if LOG_BUCKET not in existing:
            s3.create_bucket(Bucket=LOG_BUCKET)

    def install_workload(self, notebook_path: str, workload: Workload) -> None:
        """Put the workload file where the emulator looks for the task's notebook: `<notebook path>.yaml`."""
        import base64

        from sync_provider.emulator.workloads import workload_to_json

        body = {
            "path": f"{notebook_path}.yaml",
            "format": "AUTO",
            "overwrite": True,
            "content": base64.b64encode(workload_to_json(workload).encode()).decode(),
        }
        self._call("POST", "/api/2.0/workspace/import", json=body, what=f"uploading the workload to {notebook_path}")

    def ground_truth(self, run_id: str | int) -> GroundTruth:
        """The admin API's truth for a run (a multi-task run: the sum over its tasks)."""
        data = self._call("GET", f"/emulator/v1/runs/{run_id}", what=f"reading the ground truth of run {run_id}")
        return parse_truth(data)

    def _call(self, method: str, path: str, *, what: str, json: dict | None = None) -> dict[str, Any]:
        assert self._http is not None, "the workspace is not started"
        try:
            response = self._http.request(method, path, json=json)
        except httpx.HTTPError as exc:
            raise DemoError(f"{what} failed: the emulator at {self.url} did not answer ({exc})") from exc
        if response.status_code >= 400:
            raise DemoError(f"{what} failed: HTTP {response.status_code} {response.text[:300]}")
        return response.json() if response.content else {}


def parse_truth(data: dict[str, Any]) -> GroundTruth:
    """The admin answer for a run: per-task truths summed over the run's tasks (the run's cost is all of them)."""
    tasks = [t for t in data.get("tasks") or [] if isinstance(t, dict)]
    if not tasks:
        return GroundTruth.model_validate({k: v for k, v in data.items() if k in GroundTruth.model_fields})
    parts = [parse_truth({k: v for k, v in t.items() if k != "tasks"}) for t in tasks]
    if len(parts) == 1:
        return parts[0]
    return GroundTruth(
        runtime_s=max((p.runtime_s or 0.0) for p in parts) or None,
        startup_s=max((p.startup_s or 0.0) for p in parts) or None,
        succeeded=None if any(p.succeeded is None for p in parts) else all(p.succeeded for p in parts),
        failure=next((p.failure for p in parts if p.failure), None),
        cost_usd=sum(p.cost_usd or 0.0 for p in parts),
        cloud_usd=sum(p.cloud_usd or 0.0 for p in parts),
        dbu_usd=sum(p.dbu_usd or 0.0 for p in parts),
        input_bytes=sum(p.input_bytes or 0 for p in parts),
        growth_factor=parts[0].growth_factor,
    )
