"""Cluster log delivery, laid out as Databricks does it, to S3 (through a real S3 API) or to the emulator's DBFS.

<destination>/<cluster_id>/eventlog/<cluster_id>_<driver_ip>/<spark_context_id>/eventlog (+ rolled .gz parts)
<destination>/<cluster_id>/driver/{stdout,stderr,log4j-active.log}
<destination>/<cluster_id>/sync_data/<spark_context_id>/{aws_cluster_info.json,aws_instances.json} (collector)
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

from sync_provider.emulator.eventlog_writer import EventLogMeta, render_eventlog, roll_parts
from sync_provider.emulator.simulator import SimulatedRun

log = logging.getLogger(__name__)


def eventlog_dir(dest: str, cluster_id: str, driver_ip: str, spark_context_id: str) -> str:
    return f"{dest}/{cluster_id}/eventlog/{cluster_id}_{driver_ip.replace('.', '_')}/{spark_context_id}"


def build_files(
    sim: SimulatedRun, cluster: dict, task: dict, view: dict, cut_ms: int | None, run_start_ms: int
) -> dict[str, bytes]:
    """Every file a cluster delivers for one task (paths relative to the destination)."""
    cid = cluster["cluster_id"]
    meta = EventLogMeta(
        cluster_id=cid,
        spark_context_id=task["spark_context_id"],
        start_epoch_ms=run_start_ms,
        cluster_name=view.get("cluster_name", "job-cluster"),
        runtime_version=str(cluster["new_cluster"].get("spark_version") or "13.3.x-scala2.12"),
        custom_tags={str(k): str(v) for k, v in (cluster["new_cluster"].get("custom_tags") or {}).items()},
        job_id=str(cluster.get("job_id") or ""),
        run_id=str(task["run_id"]),
        availability=str((cluster["new_cluster"].get("aws_attributes") or {}).get("availability") or "ON_DEMAND"),
    )
    sim.driver_host = cluster["driver_ip"]
    lines = render_eventlog(sim, meta)
    if cut_ms is not None:  # cancelled or timed out: the driver stopped writing there
        lines = [x for x in lines if x[0] <= run_start_ms + cut_ms]
    files: dict[str, bytes] = {}
    if cut_ms is not None and cut_ms <= 0:
        lines = []  # cancelled before Spark started: no event log
    ev_dir = eventlog_dir("", cid, cluster["driver_ip"], task["spark_context_id"]).lstrip("/")
    for name, data in roll_parts(lines) if lines else []:
        files[f"{ev_dir}/{name}"] = data
    started = datetime.fromtimestamp(run_start_ms / 1000, UTC).strftime("%y/%m/%d %H:%M:%S")
    files[f"{cid}/driver/stdout"] = f"{started} Starting driver for {sim.app_name}\n".encode()
    files[f"{cid}/driver/stderr"] = b""
    files[f"{cid}/driver/log4j-active.log"] = (
        f"{started} INFO SparkContext: Running Spark version {sim.spark_version}\n"
        f"{started} INFO SparkContext: Submitted application: {sim.app_name}\n"
    ).encode()
    if cluster["new_cluster"].get("init_scripts"):
        spot = bool(cluster["spec"]["spot"])
        instances = [
            {
                "InstanceId": e["instance_id"],
                "InstanceType": cluster["spec"]["instance_type"],
                "PrivateIpAddress": e["private_ip"],
                "LaunchTime": e["start_timestamp"],
                "InstanceLifecycle": "spot" if spot else "on-demand",
                "State": {"Name": "terminated"},
            }
            for e in view.get("executors", [])
        ]
        if view.get("driver"):
            d = view["driver"]
            instances.insert(
                0,
                {
                    "InstanceId": d["instance_id"],
                    "InstanceType": view["driver_node_type_id"],
                    "PrivateIpAddress": d["private_ip"],
                    "LaunchTime": d["start_timestamp"],
                    "InstanceLifecycle": "on-demand",
                    "State": {"Name": "terminated"},
                },
            )
        base = f"{cid}/sync_data/{task['spark_context_id']}"
        files[f"{base}/aws_cluster_info.json"] = json.dumps(view).encode()
        files[f"{base}/aws_instances.json"] = json.dumps(instances).encode()
    return files


class S3Sink:
    """Writes delivered files with boto3 to an S3 endpoint (moto's server by default), creating buckets."""

    def __init__(self, endpoint_url: str | None):
        self.endpoint_url = endpoint_url
        self._client = None
        self._buckets: set[str] = set()
        self._lock = threading.Lock()

    def client(self):
        with self._lock:
            if self._client is None:
                self._client = boto3.client(
                    "s3",
                    endpoint_url=self.endpoint_url,
                    region_name="us-east-1",
                    aws_access_key_id="testing",
                    aws_secret_access_key="testing",
                    config=Config(retries={"max_attempts": 3}),
                )
            return self._client

    def write(self, dest: str, files: dict[str, bytes]) -> None:
        parts = urlsplit(dest)
        bucket, prefix = parts.netloc, parts.path.strip("/")
        client = self.client()
        if bucket not in self._buckets:
            try:
                client.head_bucket(Bucket=bucket)
            except Exception:  # noqa: BLE001 - missing bucket: create it, as the workspace's bucket would exist
                client.create_bucket(Bucket=bucket)
            self._buckets.add(bucket)
        for rel, data in files.items():
            key = f"{prefix}/{rel}" if prefix else rel
            client.put_object(Bucket=bucket, Key=key, Body=data)


def write_dbfs(root: Path, dest: str, files: dict[str, bytes]) -> None:
    base = dest[len("dbfs:") :] if dest.startswith("dbfs:") else dest
    base = base.strip("/")
    for rel, data in files.items():
        path = root / base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)


class DeliveryLoop(threading.Thread):
    """Background thread: delivers each terminated cluster's logs when its simulated delivery time comes."""

    def __init__(self, tick: Callable[[], None], interval_s: float = 0.05):
        super().__init__(name="emulator-delivery", daemon=True)
        self._tick = tick
        self._interval = interval_s
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self._interval):
            try:
                self._tick()
            except Exception:  # noqa: BLE001 - keep delivering other clusters' logs
                log.exception("log delivery failed")

    def stop(self) -> None:
        self._stop_event.set()
