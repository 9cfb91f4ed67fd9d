"""Cluster log delivery, laid out as Databricks does it, to S3 (through a real S3 API) or to the emulator's DBFS.

<destination>/<cluster_id>/eventlog/<cluster_id>_<driver_ip>/<spark_context_id>/eventlog (+ rolled .gz parts)
<destination>/<cluster_id>/driver/{stdout,stderr,log4j-active.log}
<collector destination>/<cluster_id>/sync_data/<instance_id>.json   (the project's collector init script)
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

from sync_provider.emulator.eventlog_writer import EventLogMeta, render_eventlog, roll_parts, spark_version_for
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
    version = spark_version_for(meta.runtime_version, sim.spark_version)
    files[f"{cid}/driver/log4j-active.log"] = (
        f"{started} INFO SparkContext: Running Spark version {version}\n"
        f"{started} INFO SparkContext: Submitted application: {sim.app_name}\n"
    ).encode()
    return files


def collector_destination(cluster: dict) -> str | None:
    """Where the project's collector init script writes node records: its SYNC_LOG_DESTINATION, when the
    cluster runs init scripts (without that variable the script does nothing)."""
    nc = cluster["new_cluster"]
    dest = (nc.get("spark_env_vars") or {}).get("SYNC_LOG_DESTINATION")
    return str(dest).rstrip("/") if nc.get("init_scripts") and dest else None


def collector_records(sim: SimulatedRun, cluster: dict, run_start_ms: int) -> dict[str, bytes]:
    """What sync_provider/resources/collector_init.sh writes on every node of the cluster:
    `<cluster_id>/sync_data/<instance_id>.json` with the documented record (times in epoch seconds)."""
    cid = cluster["cluster_id"]
    spec = cluster["spec"]
    env = cluster["new_cluster"].get("spark_env_vars") or {}
    zone = (cluster["new_cluster"].get("aws_attributes") or {}).get("zone_id") or "us-east-1a"
    created_s = cluster["create_ms"] / 1000
    end_s = (cluster.get("terminated_ms") or run_start_ms) / 1000
    nodes = [
        (
            "driver",
            cluster["driver_ip"],
            spec["driver_instance_type"] or spec["instance_type"],
            True,
            False,
            created_s + 30,
            end_s,
            False,
        )
    ]
    for k, e in enumerate(x for x in sim.executors if x.executor_id != "driver"):
        lost = bool(e.removed_reason and "spot" in e.removed_reason)
        start = created_s + 30 if e.added_s <= 1.0 else run_start_ms / 1000 + e.added_s - 60
        stop = run_start_ms / 1000 + e.removed_s if lost and e.removed_s is not None else end_s
        nodes.append((f"w{k}", e.host, spec["instance_type"], False, bool(spec["spot"]), start, stop, lost))
    files: dict[str, bytes] = {}
    for key, ip, itype, is_driver, spot, start, stop, lost in nodes:
        # the same instance ids clusters/get shows for the driver and the executors
        instance_id = f"i-0{cid[-8:]}d0000" if is_driver else f"i-0{cid[-8:]}{int(key[1:]):05d}"
        record = {
            "collector_version": 1,
            "cluster_id": cid,
            "project_id": env.get("SYNC_PROJECT_ID"),
            "instance_id": instance_id,
            "instance_type": itype,
            "lifecycle": "spot" if spot else "on-demand",
            "availability_zone": zone,
            "region": zone[:-1],
            "private_ip": ip,
            "is_driver": is_driver,
            "metadata_available": True,
            "start_time": int(start),
            "last_seen": int(stop),
            # a reclaimed spot node gets the interruption notice and dies without a shutdown signal
            "stop_time": None if lost else int(stop),
            "spot_interruption_time": int(stop) - 120 if lost else None,
        }
        files[f"{cid}/sync_data/{instance_id}.json"] = json.dumps(record).encode()
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
