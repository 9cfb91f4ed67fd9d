"""Helpers for emulator tests: payload builders and polling (imported by the test modules)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx


def new_cluster(node: str = "m5.xlarge", workers: int | str = 2, log_dest: str | None = None, **extra) -> dict:
    nc = {"spark_version": "13.3.x-scala2.12", "node_type_id": node, "num_workers": workers, **extra}
    if log_dest:
        kind = "s3" if log_dest.startswith("s3://") else "dbfs"
        nc["cluster_log_conf"] = {kind: {"destination": log_dest, **({"region": "us-east-1"} if kind == "s3" else {})}}
    return nc


def task(key: str, workload: str, cluster: dict | None = None, **extra) -> dict:
    t = {"task_key": key, "notebook_task": {"notebook_path": f"/Repos/team/jobs/{workload}"}, **extra}
    if cluster is not None:
        t["new_cluster"] = cluster
    return t


def wait_for(predicate: Callable[[], object], timeout: float = 30.0, interval: float = 0.05):
    """Poll until predicate() returns something truthy; fail with a clear message otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def wait_terminated(api: httpx.Client, run_id: int, timeout: float = 30.0) -> dict:
    def done():
        run = api.get("/api/2.1/jobs/runs/get", params={"run_id": run_id}).json()
        return run if run["state"]["life_cycle_state"] in ("TERMINATED", "INTERNAL_ERROR", "SKIPPED") else None

    return wait_for(done, timeout)
