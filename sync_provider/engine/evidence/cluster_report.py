"""The cluster report of one Databricks run: what ran where, for how long, on which nodes.

Sources: jobs/runs/get (tasks, cluster_instance, timings), clusters/get (spec, node types, aws_attributes,
autoscale), every page of clusters/events (resizes, lost spot nodes) and the collector's `sync_data/` files from
the log destination (per-node instance type, lifecycle, start and stop). Each source may be missing (an expired
cluster, events older than Databricks keeps, no collector): the report says so in `missing` and derives what it
still can, because a run without its evidence is still worth recording.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel, Field

from sync_provider.engine.evidence.databricks_api import DatabricksApi, DatabricksApiError
from sync_provider.engine.evidence.eventlog_readers import LogReader
from sync_provider.engine.evidence.secrets import redact_secrets

MAX_EVENT_PAGES = 200  # 200 x 500 events: far beyond any job cluster's life
SPOT_AVAILABILITY = ("SPOT", "SPOT_WITH_FALLBACK")
TAG_CONFIG_VERSION = "sync:config-version"


class NodeRecord(BaseModel):
    """One cloud instance of the cluster (from the collector; times in epoch ms)."""

    instance_id: str
    instance_type: str | None = None
    is_driver: bool = False
    spot: bool | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    interrupted_ms: int | None = None


class WorkerSample(BaseModel):
    """From `time_ms` on, `workers` worker nodes were up (or being provisioned)."""

    time_ms: int
    workers: int


class ClusterReport(BaseModel):
    """A run's cluster evidence: raw sources plus the facts derived from them."""

    run_id: str
    run: dict[str, Any] = Field(default_factory=dict)
    cluster: dict[str, Any] = Field(default_factory=dict)
    events: list[dict[str, Any]] = Field(default_factory=list)
    instances: list[NodeRecord] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    # derived
    task_key: str | None = None
    cluster_id: str | None = None
    spark_context_id: str | None = None
    node_type_id: str | None = None
    driver_node_type_id: str | None = None
    num_workers: int | None = None
    autoscale_min: int | None = None
    autoscale_max: int | None = None
    photon: bool = False
    spot: bool = False
    first_on_demand: int = 1
    ebs_gb_per_node: float = 0.0
    workers_timeline: list[WorkerSample] = Field(default_factory=list)
    spot_lost_nodes: int = 0
    cluster_start_ms: int | None = None
    cluster_end_ms: int | None = None
    run_start_ms: int | None = None
    run_end_ms: int | None = None
    runtime_s: float | None = None
    succeeded: bool = False
    result_state: str | None = None
    custom_tags: dict[str, str] = Field(default_factory=dict)

    @property
    def config_version(self) -> int | None:
        value = self.custom_tags.get(TAG_CONFIG_VERSION, "")
        return int(value) if str(value).isdigit() else None

    @property
    def max_workers_seen(self) -> int:
        return max((s.workers for s in self.workers_timeline), default=self.num_workers or 0)


def _call(api: DatabricksApi, method: str, endpoint: str, body: dict, missing: list[str], what: str) -> dict | None:
    try:
        return api(method, endpoint, body)
    except DatabricksApiError as exc:
        missing.append(f"{what}: {exc}")
        return None


def _pick_task(run: dict, task_key: str | None) -> dict:
    tasks = run.get("tasks") or []
    if task_key:
        for t in tasks:
            if t.get("task_key") == task_key:
                return t
        known = ", ".join(str(t.get("task_key")) for t in tasks)
        raise ValueError(f"run {run.get('run_id')} has no task {task_key!r} (tasks: {known or 'none'})")
    with_cluster = [t for t in tasks if (t.get("cluster_instance") or {}).get("cluster_id")]
    if run.get("cluster_instance") or not with_cluster:
        return run
    return with_cluster[-1]


def fetch_events(api: DatabricksApi, cluster_id: str, missing: list[str]) -> list[dict]:
    """Every page of clusters/events, oldest first (following `next_page` as the API hands it out)."""
    body: dict[str, Any] = {"cluster_id": cluster_id, "order": "ASC", "limit": 500}
    events: list[dict] = []
    for _ in range(MAX_EVENT_PAGES):
        reply = _call(api, "POST", "api/2.0/clusters/events", body, missing, "clusters/events")
        if reply is None:
            break
        events.extend(reply.get("events") or [])
        nxt = reply.get("next_page")
        if not nxt:
            break
        body = dict(nxt)
    else:
        missing.append(f"clusters/events: stopped after {MAX_EVENT_PAGES} pages")
    events.sort(key=lambda e: int(e.get("timestamp") or 0))
    return events


def _epoch_ms(value: Any) -> int | None:
    """Collector times are epoch seconds; EC2-style records carry ms or ISO strings."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return int(value * 1000) if value < 1e11 else int(value)
    try:
        from datetime import datetime

        return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def parse_collector_file(name: str, data: bytes) -> list[NodeRecord]:
    """Node records from one collector file: the init script's per-node JSON, or an EC2-style instance list."""
    doc = orjson.loads(data)
    if isinstance(doc, dict) and "instance_id" in doc:  # sync_provider/resources/collector_init.sh
        lifecycle = doc.get("lifecycle")
        return [
            NodeRecord(
                instance_id=str(doc["instance_id"]),
                instance_type=doc.get("instance_type"),
                is_driver=bool(doc.get("is_driver")),
                spot=None if lifecycle is None else lifecycle == "spot",
                start_ms=_epoch_ms(doc.get("start_time")),
                end_ms=_epoch_ms(doc.get("stop_time") or doc.get("last_seen")),
                interrupted_ms=_epoch_ms(doc.get("spot_interruption_time")),
            )
        ]
    if isinstance(doc, dict) and "Reservations" in doc:
        doc = [i for r in doc["Reservations"] for i in r.get("Instances", [])]
    if isinstance(doc, list) and name.endswith("aws_instances.json"):
        return [
            NodeRecord(
                instance_id=str(i.get("InstanceId")),
                instance_type=i.get("InstanceType"),
                spot=(i.get("InstanceLifecycle") or "on-demand") == "spot",
                start_ms=_epoch_ms(i.get("LaunchTime")),
            )
            for i in doc
            if isinstance(i, dict)
        ]
    return []


def read_collector(reader: LogReader, log_destination: str, cluster_id: str, missing: list[str]) -> list[NodeRecord]:
    prefix = f"{log_destination.rstrip('/')}/{cluster_id}/sync_data"
    try:
        files = reader.list(prefix)
    except Exception as exc:  # noqa: BLE001 - any store error means: no collector data
        missing.append(f"collector files ({prefix}): {exc}")
        return []
    nodes: dict[str, NodeRecord] = {}
    for path, _size in files:
        if not path.endswith(".json"):
            continue
        try:
            with reader.open(path) as fh:
                records = parse_collector_file(path, fh.read())
        except (orjson.JSONDecodeError, OSError, ValueError) as exc:
            missing.append(f"collector file {path} is unreadable: {exc}")
            continue
        for rec in records:  # the newest heartbeat of a node wins
            old = nodes.get(rec.instance_id)
            if old is None or (rec.end_ms or 0) >= (old.end_ms or 0):
                nodes[rec.instance_id] = rec
    if not nodes:
        missing.append(f"collector files: none under {prefix} (collector init script not installed?)")
    return sorted(nodes.values(), key=lambda n: (not n.is_driver, n.start_ms or 0, n.instance_id))


def _timeline(report: ClusterReport) -> None:
    events, cluster = report.events, report.cluster
    w0 = report.num_workers if report.autoscale_min is None else report.autoscale_min
    start = report.cluster_start_ms
    samples: list[WorkerSample] = []
    if start is not None and w0 is not None:
        samples.append(WorkerSample(time_ms=start, workers=w0))
    for ev in events:
        ts = int(ev.get("timestamp") or 0)
        details = ev.get("details") or {}
        kind = ev.get("type")
        if kind == "CREATING":
            size = details.get("cluster_size") or {}
            n = size.get("num_workers", (size.get("autoscale") or {}).get("min_workers"))
            if n is not None:
                samples.append(WorkerSample(time_ms=ts, workers=int(n)))
        elif kind == "NODES_LOST":
            cur, target = details.get("current_num_workers"), details.get("target_num_workers")
            if cur is not None and target is not None:
                report.spot_lost_nodes += max(0, int(target) - int(cur))
            if cur is not None:
                samples.append(WorkerSample(time_ms=ts, workers=int(cur)))
        elif kind in ("TERMINATING", "TERMINATED"):
            samples.append(WorkerSample(time_ms=ts, workers=0))
        elif details.get("current_num_workers") is not None:
            samples.append(WorkerSample(time_ms=ts, workers=int(details["current_num_workers"])))
    samples.sort(key=lambda s: s.time_ms)
    merged: list[WorkerSample] = []
    for s in samples:
        if merged and merged[-1].time_ms == s.time_ms:
            merged[-1] = s
        elif not merged or merged[-1].workers != s.workers:
            merged.append(s)
    report.workers_timeline = merged
    if report.cluster_start_ms is None and events:
        report.cluster_start_ms = int(events[0].get("timestamp") or 0) or None
    if report.cluster_end_ms is None:
        ends = [int(e["timestamp"]) for e in events if e.get("type") == "TERMINATED"]
        report.cluster_end_ms = ends[-1] if ends else cluster.get("terminated_time") or report.run_end_ms


def build_cluster_report(
    api: DatabricksApi,
    run_id: int | str,
    *,
    reader: LogReader | None = None,
    log_destination: str | None = None,
    task_key: str | None = None,
) -> ClusterReport:
    """Gather a run's cluster evidence; raises only when runs/get itself fails (nothing to report then)."""
    run = api("GET", "api/2.1/jobs/runs/get", {"run_id": run_id})
    # The raw replies are kept as evidence, with any literal credential of the job's spec masked: the report is
    # stored with the run and printed by `sync-cli aws-databricks get-cluster-report`.
    report = ClusterReport(run_id=str(run_id), run=redact_secrets(run))
    missing = report.missing  # the helpers below append what they could not get
    task = _pick_task(run, task_key)
    report.task_key = task.get("task_key")
    instance = task.get("cluster_instance") or {}
    report.cluster_id = instance.get("cluster_id")
    ctx = instance.get("spark_context_id")
    report.spark_context_id = str(ctx) if ctx is not None else None
    state = task.get("state") or run.get("state") or {}
    report.result_state = state.get("result_state")
    report.succeeded = report.result_state == "SUCCESS"
    report.run_start_ms = task.get("start_time") or run.get("start_time") or None
    report.run_end_ms = task.get("end_time") or run.get("end_time") or None
    execution = task.get("execution_duration") or run.get("execution_duration")
    if execution:
        report.runtime_s = execution / 1000.0
    elif report.run_start_ms and report.run_end_ms:
        setup = task.get("setup_duration") or 0
        report.runtime_s = max(0.0, (report.run_end_ms - report.run_start_ms - setup) / 1000.0) or None
    spec = task.get("new_cluster") or {}
    if report.cluster_id:
        cluster = _call(api, "GET", "api/2.0/clusters/get", {"cluster_id": report.cluster_id}, missing, "clusters/get")
        report.cluster = redact_secrets(cluster or {})
        report.events = redact_secrets(fetch_events(api, report.cluster_id, missing))
        if not report.events:
            missing.append("clusters/events: no events (older than Databricks keeps?); resizes and spot losses unknown")
    else:
        missing.append("cluster id: runs/get names no cluster_instance (the run never got a cluster?)")
    _derive_spec(report, report.cluster or spec)
    if reader is not None and log_destination and report.cluster_id:
        report.instances = read_collector(reader, log_destination, report.cluster_id, missing)
    elif report.cluster_id:
        missing.append("collector files: no log destination to read them from")
    _timeline(report)
    return report


def _derive_spec(report: ClusterReport, spec: dict) -> None:
    report.node_type_id = spec.get("node_type_id")
    report.driver_node_type_id = spec.get("driver_node_type_id") or report.node_type_id
    autoscale = spec.get("autoscale") or {}
    if autoscale:
        report.autoscale_min = int(autoscale.get("min_workers") or 0)
        report.autoscale_max = int(autoscale.get("max_workers") or report.autoscale_min)
    workers = spec.get("num_workers")
    report.num_workers = int(workers) if workers is not None else report.autoscale_min
    report.photon = str(spec.get("runtime_engine") or "").upper() == "PHOTON" or "photon" in str(
        spec.get("spark_version") or ""
    )
    aws = spec.get("aws_attributes") or {}
    report.spot = str(aws.get("availability") or "ON_DEMAND").upper() in SPOT_AVAILABILITY
    report.first_on_demand = int(aws.get("first_on_demand", 1) or 0)
    report.ebs_gb_per_node = float(aws.get("ebs_volume_count") or 0) * float(aws.get("ebs_volume_size") or 0)
    report.custom_tags = {str(k): str(v) for k, v in (spec.get("custom_tags") or {}).items()}
    report.cluster_start_ms = spec.get("start_time") or None
    report.cluster_end_ms = spec.get("terminated_time") or None
    if not report.cluster:
        report.missing.append("clusters/get: no cluster spec; using the run's new_cluster")
