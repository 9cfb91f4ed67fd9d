"""Spark event logs, as a Databricks driver writes them, for a simulated run.

JSON lines with Spark 3.x listener events and field names (the same JsonProtocol the History Server replays):
LogStart, ResourceProfileAdded, BlockManagerAdded, EnvironmentUpdate (with the Databricks cluster usage
tags), ApplicationStart/End, ExecutorAdded/Removed, JobStart/End, StageSubmitted/Completed, TaskStart/End
with full Task Metrics, and SQL execution start/end with a physical plan. Nothing here beyond what a real
Databricks event log shows: the workload file and the true cost stay in the emulator.
"""

from __future__ import annotations

import gc
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson

from sync_provider.emulator.physics import node
from sync_provider.emulator.simulator import FAILED, KILLED, SimulatedRun, StageRun

SQL_START = "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart"
SQL_END = "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd"
ROLL_INTERVAL_S = 3600  # Databricks rolls the driver's event log into gzipped parts about hourly

_PHOTON_NAMES = {
    "Scan parquet": "PhotonScan parquet",
    "Scan json": "PhotonScan json",
    "Filter": "PhotonFilter",
    "Project": "PhotonProject",
    "HashAggregate": "PhotonGroupingAgg",
    "Exchange": "PhotonShuffleExchangeSink",
    "SortMergeJoin": "PhotonShuffledHashJoin",
    "Sort": "PhotonSort",
    "Window": "PhotonWindow",
    "WriteFiles": "PhotonWriteStage",
}


# Apache Spark version inside each Databricks Runtime (LTS and recent releases).
_DBR_SPARK = {
    "10.4": "3.2.1",
    "11.3": "3.3.0",
    "12.2": "3.3.2",
    "13.3": "3.4.1",
    "14.3": "3.5.0",
    "15.4": "3.5.0",
    "16.4": "3.5.2",
}


def spark_version_for(runtime_version: str, default: str) -> str:
    """The Spark version a Databricks Runtime key like `13.3.x-photon-scala2.12` ships; `default` otherwise."""
    return _DBR_SPARK.get(".".join(runtime_version.split(".")[:2]), default)


@dataclass
class EventLogMeta:
    """Where and how the run happened, as the Databricks driver knows it."""

    cluster_id: str = "0000-000000-emulated"
    spark_context_id: str = "0"
    start_epoch_ms: int = 1_700_000_000_000
    cluster_name: str = "job-cluster"
    runtime_version: str = "13.3.x-scala2.12"
    custom_tags: dict[str, str] = field(default_factory=dict)
    workspace_id: str = "1234567890123456"
    job_id: str | None = None
    run_id: str | None = None
    availability: str = "ON_DEMAND"


def _ms(meta: EventLogMeta, seconds: float) -> int:
    return meta.start_epoch_ms + int(round(seconds * 1000))


def _app_id(meta: EventLogMeta) -> str:
    ts = datetime.fromtimestamp(meta.start_epoch_ms / 1000, UTC).strftime("%Y%m%d%H%M%S")
    return f"app-{ts}-0000"


def _stage_info(st: StageRun, meta: EventLogMeta, *, submitted: bool, completed: bool) -> dict:
    info: dict = {
        "Stage ID": st.stage_id,
        "Stage Attempt ID": 0,
        "Stage Name": f"{st.name} at NativeMethodAccessorImpl.java:0",
        "Number of Tasks": st.num_tasks,
        "RDD Info": [
            {
                "RDD ID": st.stage_id,
                "Name": "MapPartitionsRDD",
                "Scope": json.dumps({"id": str(st.stage_id), "name": "WholeStageCodegen"}),
                "Callsite": f"{st.name} at NativeMethodAccessorImpl.java:0",
                "Parent IDs": [],
                "Storage Level": {
                    "Use Disk": False,
                    "Use Memory": st.persisted,
                    "Use Off Heap": False,
                    "Deserialized": st.persisted,
                    "Replication": 1,
                },
                "Barrier": False,
                "DeterministicLevel": "DETERMINATE",
                "Number of Partitions": st.num_tasks,
                "Number of Cached Partitions": 0,
                "Memory Size": 0,
                "Disk Size": 0,
            }
        ],
        "Parent IDs": st.parent_ids,
        "Details": "",
        "Accumulables": [],
        "Resource Profile Id": 0,
        "Shuffle Push Enabled": False,
        "Shuffle Push Mergers Count": 0,
    }
    if submitted:
        info["Submission Time"] = _ms(meta, st.submitted_s)
    if completed:
        info["Completion Time"] = _ms(meta, st.completed_s)
        if st.failure_reason:
            info["Failure Reason"] = st.failure_reason
    return info


def _end_reason(status: int, reason: str | None) -> dict:
    if status == KILLED and reason and reason.startswith("ExecutorLostFailure"):
        executor = reason.split("executor ", 1)[1].split(" ", 1)[0]
        return {
            "Reason": "ExecutorLostFailure",
            "Executor ID": executor,
            "Exit Caused By App": False,
            "Loss Reason": "worker lost",
        }
    if status == KILLED:
        return {"Reason": "TaskKilled", "Kill Reason": reason or "Stage cancelled", "Accumulator Updates": []}
    if status == FAILED:
        text = (reason or "").removeprefix("ExceptionFailure ")
        cls, _, desc = text.partition(": ")
        return {
            "Reason": "ExceptionFailure",
            "Class Name": cls,
            "Description": desc,
            "Stack Trace": [],
            "Full Stack Trace": f"{text}\n",
            "Accumulator Updates": [],
        }
    return {"Reason": "Success"}


def _task_events(st: StageRun, meta: EventLogMeta, hosts: dict[str, str]) -> Iterator[tuple[int, int, dict]]:
    tt = st.tasks
    ms = meta.start_epoch_ms
    launch = (tt.launch_s * 1000).round().astype("int64") + ms
    finish = (tt.finish_s * 1000).round().astype("int64") + ms
    run_ms = (tt.run_s * 1000).round().astype("int64")
    cpu_ns = (tt.cpu_s * 1e9).astype("int64")
    gc_ms = (tt.gc_s * 1000).astype("int64")
    fetch_ms = (tt.fetch_wait_s * 1000).astype("int64")
    sw_ns = (tt.sw_time_s * 1e9).astype("int64")
    cols = [
        x.astype("int64").tolist()
        for x in (
            tt.input_bytes,
            tt.sr_remote_bytes,
            tt.sr_local_bytes,
            tt.sw_bytes,
            tt.output_bytes,
            tt.mem_spill,
            tt.disk_spill,
            tt.peak_mem,
        )
    ]
    inb, srr, srl, swb, outb, mspill, dspill, peak = cols
    task_ids, index, attempt, status = tt.task_id.tolist(), tt.index.tolist(), tt.attempt.tolist(), tt.status.tolist()
    launch, finish, run_ms, cpu_ns = launch.tolist(), finish.tolist(), run_ms.tolist(), cpu_ns.tolist()
    gc_ms, fetch_ms, sw_ns = gc_ms.tolist(), fetch_ms.tolist(), sw_ns.tolist()
    task_type = "ShuffleMapTask" if any(swb) else "ResultTask"
    for k in range(len(task_ids)):
        executor = tt.executor[k]
        info = {
            "Task ID": task_ids[k],
            "Index": index[k],
            "Attempt": attempt[k],
            "Partition ID": index[k],
            "Launch Time": launch[k],
            "Executor ID": executor,
            "Host": hosts.get(executor, "10.0.0.1"),
            "Locality": "PROCESS_LOCAL" if not inb[k] else "NODE_LOCAL",
            "Speculative": False,
            "Getting Result Time": 0,
            "Finish Time": 0,
            "Failed": False,
            "Killed": False,
            "Accumulables": [],
        }
        yield (
            launch[k],
            0,
            {"Event": "SparkListenerTaskStart", "Stage ID": st.stage_id, "Stage Attempt ID": 0, "Task Info": info},
        )
        end_info = dict(
            info, **{"Finish Time": finish[k], "Failed": status[k] == FAILED, "Killed": status[k] == KILLED}
        )
        records_in = inb[k] // 200
        sr_records = (srr[k] + srl[k]) // 100
        metrics = {
            "Executor Deserialize Time": 20,
            "Executor Deserialize CPU Time": 15_000_000,
            "Executor Run Time": run_ms[k],
            "Executor CPU Time": cpu_ns[k],
            "Peak Execution Memory": peak[k],
            "Peak On Heap Execution Memory": peak[k],
            "Peak Off Heap Execution Memory": 0,
            "Result Size": 2500,
            "JVM GC Time": gc_ms[k],
            "Result Serialization Time": 1,
            "Memory Bytes Spilled": mspill[k],
            "Disk Bytes Spilled": dspill[k],
            "Shuffle Read Metrics": {
                "Remote Blocks Fetched": 1 if srr[k] else 0,
                "Local Blocks Fetched": 1 if srl[k] else 0,
                "Fetch Wait Time": fetch_ms[k],
                "Remote Bytes Read": srr[k],
                "Remote Bytes Read To Disk": 0,
                "Local Bytes Read": srl[k],
                "Total Records Read": sr_records,
                "Remote Requests Duration": 0,
                "Push Based Shuffle": {
                    "Corrupt Merged Block Chunks": 0,
                    "Merged Fetch Fallback Count": 0,
                    "Merged Remote Blocks Fetched": 0,
                    "Merged Local Blocks Fetched": 0,
                    "Merged Remote Chunks Fetched": 0,
                    "Merged Local Chunks Fetched": 0,
                    "Merged Remote Bytes Read": 0,
                    "Merged Local Bytes Read": 0,
                    "Merged Remote Requests Duration": 0,
                },
            },
            "Shuffle Write Metrics": {
                "Shuffle Bytes Written": swb[k],
                "Shuffle Write Time": sw_ns[k],
                "Shuffle Records Written": swb[k] // 100,
            },
            "Input Metrics": {"Bytes Read": inb[k], "Records Read": records_in},
            "Output Metrics": {"Bytes Written": outb[k], "Records Written": outb[k] // 200},
            "Updated Blocks": [],
        }
        yield (
            finish[k],
            1,
            {
                "Event": "SparkListenerTaskEnd",
                "Stage ID": st.stage_id,
                "Stage Attempt ID": 0,
                "Task Type": task_type,
                "Task End Reason": _end_reason(status[k], tt.reason[k]),
                "Task Info": end_info,
                "Task Metrics": metrics,
            },
        )


def _plan(operators: list[str], photon: bool) -> tuple[str, dict]:
    names = [(_PHOTON_NAMES.get(o, o) if photon else o) for o in operators]
    if photon:
        names = ["ColumnarToRow", "PhotonResultStage"] + names
    names = ["AdaptiveSparkPlan isFinalPlan=true"] + names
    lines = ["== Physical Plan =="]
    for depth, n in enumerate(names):
        lines.append(("   " * max(depth - 1, 0)) + ("+- " if depth else "") + f"{n} ({depth + 1})")
    info: dict = {}
    for n in reversed(names):
        info = {
            "nodeName": n.split(" ")[0] if n.startswith("AdaptiveSparkPlan") else n,
            "simpleString": n,
            "children": [info] if info else [],
            "metadata": {},
            "metrics": [],
        }
    return "\n".join(lines) + "\n", info


def eventlog_events(sim: SimulatedRun, meta: EventLogMeta) -> list[tuple[int, dict]]:
    """Every listener event of the run with its timestamp (ms), in the order Spark would log them."""
    w, d = node(sim.cluster.instance_type), node(sim.cluster.driver)
    app_id = _app_id(meta)
    driver_ip = sim.driver_host
    hosts = {e.executor_id: e.host for e in sim.executors}
    hosts.setdefault("driver", driver_ip)
    t0 = meta.start_epoch_ms
    all_tags = [{"key": k, "value": v} for k, v in sorted(meta.custom_tags.items())]
    all_tags += [
        {"key": "Vendor", "value": "Databricks"},
        {"key": "ClusterId", "value": meta.cluster_id},
        {"key": "ClusterName", "value": meta.cluster_name},
    ]
    props = {
        "spark.app.name": sim.app_name,
        "spark.app.id": app_id,
        "spark.app.startTime": str(t0),
        "spark.master": f"spark://{driver_ip}:7077",
        "spark.driver.host": driver_ip,
        "spark.executor.id": "driver",
        "spark.executor.memory": f"{w.executor_heap_mb}m",
        "spark.driver.memory": f"{d.executor_heap_mb}m",
        "spark.eventLog.enabled": "false",
        "spark.sql.adaptive.enabled": "true",
        "spark.databricks.sparkContextId": meta.spark_context_id,
        "spark.databricks.clusterUsageTags.clusterId": meta.cluster_id,
        "spark.databricks.clusterUsageTags.clusterName": meta.cluster_name,
        "spark.databricks.clusterUsageTags.clusterNodeType": sim.cluster.instance_type,
        "spark.databricks.clusterUsageTags.driverNodeType": sim.cluster.driver,
        "spark.databricks.clusterUsageTags.clusterWorkers": str(sim.cluster.initial_workers),
        "spark.databricks.clusterUsageTags.clusterTargetWorkers": str(sim.cluster.initial_workers),
        "spark.databricks.clusterUsageTags.sparkVersion": meta.runtime_version,
        "spark.databricks.clusterUsageTags.effectiveSparkVersion": meta.runtime_version,
        "spark.databricks.clusterUsageTags.runtimeEngine": "PHOTON" if sim.cluster.photon else "STANDARD",
        "spark.databricks.clusterUsageTags.cloudProvider": "AWS",
        "spark.databricks.clusterUsageTags.clusterAvailability": meta.availability,
        "spark.databricks.clusterUsageTags.orgId": meta.workspace_id,
        "spark.databricks.clusterUsageTags.clusterAllTags": json.dumps(all_tags, separators=(",", ":")),
        "spark.databricks.clusterUsageTags.clusterPythonVersion": "3",
        "spark.databricks.photon.enabled": "true" if sim.cluster.photon else "false",
    }
    if sim.cluster.autoscale_min is not None:
        props["spark.databricks.clusterUsageTags.clusterMinWorkers"] = str(sim.cluster.autoscale_min)
        props["spark.databricks.clusterUsageTags.clusterMaxWorkers"] = str(sim.cluster.autoscale_max)
    if meta.job_id:
        props["spark.databricks.clusterUsageTags.jobId"] = str(meta.job_id)
    if meta.run_id:
        props["spark.databricks.clusterUsageTags.runId"] = str(meta.run_id)
        props["spark.databricks.job.runId"] = str(meta.run_id)

    ev: list[tuple[int, int, dict]] = []  # (ms, tie-break order, event)
    seq = 0

    def add(ts: int, e: dict, order: int = 5) -> None:
        nonlocal seq
        seq += 1
        ev.append((ts, order, seq, e))  # type: ignore[arg-type]

    spark_version = spark_version_for(meta.runtime_version, sim.spark_version)
    add(t0, {"Event": "SparkListenerLogStart", "Spark Version": spark_version}, 0)
    add(
        t0,
        {
            "Event": "SparkListenerResourceProfileAdded",
            "Resource Profile Id": 0,
            "Executor Resource Requests": {
                "cores": {"Resource Name": "cores", "Amount": w.cores, "Discovery Script": "", "Vendor": ""},
                "memory": {
                    "Resource Name": "memory",
                    "Amount": w.executor_heap_mb,
                    "Discovery Script": "",
                    "Vendor": "",
                },
                "offHeap": {"Resource Name": "offHeap", "Amount": 0, "Discovery Script": "", "Vendor": ""},
            },
            "Task Resource Requests": {"cpus": {"Resource Name": "cpus", "Amount": 1.0}},
        },
        0,
    )
    add(
        t0,
        {
            "Event": "SparkListenerBlockManagerAdded",
            "Block Manager ID": {"Executor ID": "driver", "Host": driver_ip, "Port": 40001},
            "Maximum Memory": int((d.executor_heap_mb - 300) * 0.6 * 2**20),
            "Timestamp": t0,
            "Maximum Onheap Memory": int((d.executor_heap_mb - 300) * 0.6 * 2**20),
            "Maximum Offheap Memory": 0,
        },
        0,
    )
    add(
        t0,
        {
            "Event": "SparkListenerEnvironmentUpdate",
            "JVM Information": {
                "Java Home": "/usr/lib/jvm/zulu8-ca-amd64/jre",
                "Java Version": "1.8.0_382 (Azul Systems, Inc.)",
                "Scala Version": "version 2.12.15",
            },
            "Spark Properties": props,
            "Hadoop Properties": {"fs.s3a.impl": "com.databricks.s3a.S3AFileSystem"},
            "System Properties": {"java.vm.name": "OpenJDK 64-Bit Server VM", "user.timezone": "Etc/UTC"},
            "Metrics Properties": {},
            "Classpath Entries": {"/databricks/jars/spark--core_2.12.jar": "System Classpath"},
            "Resource Profiles": [],
        },
        0,
    )
    add(
        t0,
        {
            "Event": "SparkListenerApplicationStart",
            "App Name": sim.app_name,
            "App ID": app_id,
            "Timestamp": t0,
            "User": "root",
        },
        0,
    )
    for e in sim.executors:
        if e.executor_id == "driver":
            continue
        ts = _ms(meta, e.added_s)
        add(
            ts,
            {
                "Event": "SparkListenerExecutorAdded",
                "Timestamp": ts,
                "Executor ID": e.executor_id,
                "Executor Info": {
                    "Host": e.host,
                    "Total Cores": e.cores,
                    "Log Urls": {
                        "stdout": f"http://{e.host}:40001/logPage/?appId={app_id}"
                        f"&executorId={e.executor_id}&logType=stdout"
                    },
                    "Attributes": {},
                    "Resources": {},
                    "Resource Profile Id": 0,
                    "Registration Time": ts,
                },
            },
            1,
        )
        add(
            ts,
            {
                "Event": "SparkListenerBlockManagerAdded",
                "Block Manager ID": {"Executor ID": e.executor_id, "Host": e.host, "Port": 40002},
                "Maximum Memory": int((w.executor_heap_mb - 300) * 0.6 * 2**20),
                "Timestamp": ts,
                "Maximum Onheap Memory": int((w.executor_heap_mb - 300) * 0.6 * 2**20),
                "Maximum Offheap Memory": 0,
            },
            1,
        )
        if e.removed_s is not None and e.removed_reason != "Application finished":
            tr = _ms(meta, e.removed_s)
            add(
                tr,
                {
                    "Event": "SparkListenerExecutorRemoved",
                    "Timestamp": tr,
                    "Executor ID": e.executor_id,
                    "Removed Reason": e.removed_reason,
                },
                1,
            )
            add(
                tr,
                {
                    "Event": "SparkListenerBlockManagerRemoved",
                    "Block Manager ID": {"Executor ID": e.executor_id, "Host": e.host, "Port": 40002},
                    "Timestamp": tr,
                },
                1,
            )

    stages_by_id = {s.stage_id: s for s in sim.stages}
    for job in sim.jobs:
        js = [stages_by_id[i] for i in job.stage_ids if i in stages_by_id]
        plan_text, plan_info = _plan([op for s in js for op in s.operators], any(s.photon_operators for s in js))
        t_start, t_end = _ms(meta, job.submitted_s), _ms(meta, job.completed_s)
        add(
            t_start,
            {
                "Event": SQL_START,
                "executionId": job.sql_execution_id,
                "rootExecutionId": job.sql_execution_id,
                "description": job.description,
                "details": "org.apache.spark.sql.Dataset.collect(Dataset.scala:3605)",
                "physicalPlanDescription": plan_text,
                "sparkPlanInfo": plan_info,
                "time": t_start,
                "modifiedConfigs": {},
                "jobTags": [],
            },
            2,
        )
        add(
            t_start,
            {
                "Event": "SparkListenerJobStart",
                "Job ID": job.job_id,
                "Submission Time": t_start,
                "Stage Infos": [_stage_info(s, meta, submitted=False, completed=False) for s in js],
                "Stage IDs": [s.stage_id for s in js],
                "Properties": {
                    "spark.sql.execution.id": str(job.sql_execution_id),
                    "spark.job.description": job.description,
                    "spark.databricks.job.id": str(meta.job_id or ""),
                    "spark.databricks.job.runId": str(meta.run_id or ""),
                },
            },
            3,
        )
        for s in js:
            add(
                _ms(meta, s.submitted_s),
                {
                    "Event": "SparkListenerStageSubmitted",
                    "Stage Info": _stage_info(s, meta, submitted=True, completed=False),
                    "Properties": {"spark.sql.execution.id": str(job.sql_execution_id)},
                },
                4,
            )
            for ts, order, e in _task_events(s, meta, hosts):
                add(ts, e, 5 + order)
            add(
                _ms(meta, s.completed_s),
                {
                    "Event": "SparkListenerStageCompleted",
                    "Stage Info": _stage_info(s, meta, submitted=True, completed=True),
                },
                7,
            )
        result = (
            {"Result": "JobSucceeded"}
            if job.succeeded
            else {"Result": "JobFailed", "Exception": {"Message": sim.failure or "Job failed", "Stack Trace": []}}
        )
        add(
            t_end,
            {"Event": "SparkListenerJobEnd", "Job ID": job.job_id, "Completion Time": t_end, "Job Result": result},
            8,
        )
        end = {"Event": SQL_END, "executionId": job.sql_execution_id, "time": t_end}
        if not job.succeeded:
            end["errorMessage"] = sim.failure or "Job failed"
        add(t_end, end, 9)
    t_app_end = _ms(meta, sim.runtime_s)
    add(t_app_end, {"Event": "SparkListenerApplicationEnd", "Timestamp": t_app_end}, 10)
    ev.sort(key=lambda x: (x[0], x[1], x[2]))  # type: ignore[index]
    return [(x[0], x[3]) for x in ev]  # type: ignore[index]


def render_eventlog(sim: SimulatedRun, meta: EventLogMeta) -> list[tuple[int, bytes]]:
    """Each event as one JSON line (bytes, newline-terminated) with its timestamp in ms."""
    # Tens of thousands of short-lived dicts would trigger the cyclic GC over and over; none form cycles.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return [(ts, orjson.dumps(e) + b"\n") for ts, e in eventlog_events(sim, meta)]
    finally:
        if was_enabled:
            gc.enable()


def roll_parts(lines: list[tuple[int, bytes]], roll_interval_s: int = ROLL_INTERVAL_S) -> list[tuple[str, bytes]]:
    """Split a log into Databricks' layout: gzipped `eventlog-YYYY-MM-DD--HH-MM.gz` parts, one per rolling
    window that has ended, and the plain `eventlog` holding the current (last) window.

    Each part is named after the time it was rolled (the end of its window), like the driver does.
    """
    if not lines:
        return [("eventlog", b"")]
    step = roll_interval_s * 1000
    first = lines[0][0]
    windows: dict[int, list[bytes]] = {}
    for ts, line in lines:
        windows.setdefault(max(0, ts - first) // step, []).append(line)
    keys = sorted(windows)
    out: list[tuple[str, bytes]] = []
    for k in keys[:-1]:
        rolled_at = datetime.fromtimestamp((first + (k + 1) * step) / 1000, UTC)
        out.append((f"eventlog-{rolled_at:%Y-%m-%d--%H-%M}.gz", gzip.compress(b"".join(windows[k]), compresslevel=1)))
    out.append(("eventlog", b"".join(windows[keys[-1]])))
    return out


def write_eventlog(
    sim: SimulatedRun,
    path: str | Path | None = None,
    *,
    meta: EventLogMeta | None = None,
    rolled: bool = False,
    roll_interval_s: int = ROLL_INTERVAL_S,
) -> list[tuple[str, bytes]]:
    """Render the run's event log; with `path`, write it there (a file, or with `rolled` a directory holding
    the Databricks parts). Returns [(file name, content)] (a single `eventlog` unless rolled)."""
    meta = meta or EventLogMeta()
    lines = render_eventlog(sim, meta)
    parts = roll_parts(lines, roll_interval_s) if rolled else [("eventlog", b"".join(line for _, line in lines))]
    if path is not None:
        target = Path(path)
        if rolled:
            target.mkdir(parents=True, exist_ok=True)
            for name, data in parts:
                (target / name).write_bytes(data)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(parts[0][1])
    return parts
