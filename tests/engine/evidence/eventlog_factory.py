"""Generates Spark 3.x-style event logs (the same JSON shapes JsonProtocol writes) for tests and benchmarks.

The generator also returns the totals it wrote, so tests compare the parser against numbers computed
independently of it. Lines follow Spark's field order ("Event" first, Task Info's Accumulables last in it).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

import orjson


@dataclass
class Totals:
    num_jobs: int = 0
    num_stages: int = 0
    num_tasks: int = 0
    run_ms: int = 0
    cpu_ns: int = 0
    input_bytes: int = 0
    shuffle_read: int = 0
    shuffle_write: int = 0
    mem_spill: int = 0
    disk_spill: int = 0
    max_executors: int = 0
    failed_tasks: int = 0
    start_ms: int = 0
    end_ms: int = 0
    task_durations: dict[int, list[int]] = field(default_factory=dict)


def _accumulables(rng: random.Random, n: int) -> list[dict]:
    return [
        {
            "ID": 1000 + i,
            "Name": f"internal.metrics.metric{i}",
            "Update": rng.randint(0, 10**6),
            "Value": rng.randint(0, 10**9),
            "Internal": True,
            "Count Failed Values": True,
        }
        for i in range(n)
    ]


def generate_events(
    *,
    jobs: int = 2,
    stages_per_job: int = 2,
    tasks_per_stage: int = 50,
    executors: int = 4,
    cores: int = 4,
    seed: int = 7,
    databricks: bool = False,
    with_app_end: bool = True,
    fail_every: int = 0,
    accumulables: int = 12,
    totals: Totals | None = None,
    app_name: str = "factory-app",
    stage_name: str = "count at Job.scala:{line}",
    gap_ms: int = 2000,
) -> Iterator[dict]:
    """Yield events of a synthetic application; fill `totals` with what was written."""
    rng = random.Random(seed)
    t = totals if totals is not None else Totals()
    now = 1_700_000_000_000
    t.start_ms = now
    if databricks:
        yield {
            "Event": "DBCEventLoggingListenerMetadata",
            "Spark Version": "3.5.0",
            "Timestamp": now,
            "Rollover Number": 0,
            "SparkContext Id": 4242,
        }
    yield {"Event": "SparkListenerLogStart", "Spark Version": "3.5.0"}
    props = {"spark.app.name": app_name, "spark.executor.cores": str(cores), "spark.executor.memory": "8g"}
    if databricks:
        prefix = "spark.databricks.clusterUsageTags."
        props.update(
            {
                prefix + "clusterId": "0101-000000-abcd1234",
                prefix + "clusterNodeType": "m5.xlarge",
                prefix + "driverNodeType": "m5.2xlarge",
                prefix + "clusterWorkers": str(executors),
                prefix + "sparkVersion": "13.3.x-photon-scala2.12",
                prefix + "cloudProvider": "AWS",
                prefix + "runtimeEngine": "PHOTON",
            }
        )
    yield {
        "Event": "SparkListenerEnvironmentUpdate",
        "JVM Information": {"Java Version": "17"},
        "Spark Properties": props,
        "Hadoop Properties": {},
        "System Properties": {},
        "Metrics Properties": {},
        "Classpath Entries": {},
    }
    yield {"Event": "SparkListenerApplicationStart", "App Name": app_name, "App ID": "app-1", "Timestamp": now,
           "User": "test"}  # fmt: skip
    now += 1000
    for e in range(executors):
        yield {"Event": "SparkListenerExecutorAdded", "Timestamp": now, "Executor ID": str(e + 1),
               "Executor Info": {"Host": f"10.0.0.{e}", "Total Cores": cores, "Log Urls": {}}}  # fmt: skip
    t.max_executors = max(t.max_executors, executors)
    stage_id = 0
    task_id = 0
    for job in range(jobs):
        now += gap_ms
        ids = list(range(stage_id, stage_id + stages_per_job))
        infos = [
            {"Stage ID": s, "Stage Attempt ID": 0, "Stage Name": stage_name.format(line=10 + s % 7),
             "Number of Tasks": tasks_per_stage, "RDD Info": [], "Parent IDs": [s - 1] if s > ids[0] else [],
             "Details": "", "Accumulables": []}
            for s in ids
        ]  # fmt: skip
        yield {"Event": "SparkListenerJobStart", "Job ID": job, "Submission Time": now, "Stage Infos": infos,
               "Stage IDs": ids, "Properties": {"spark.sql.execution.id": str(job)}}  # fmt: skip
        yield {
            "Event": "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart",
            "executionId": job,
            "description": f"query {job}",
            "details": "",
            "physicalPlanDescription": "== Physical Plan ==",
            "sparkPlanInfo": {
                "nodeName": "WholeStageCodegen (1)",
                "simpleString": "",
                "children": [
                    {"nodeName": "HashAggregate", "simpleString": "", "children": [
                        {"nodeName": "Scan parquet db.t", "simpleString": "", "children": [], "metadata": {},
                         "metrics": []}], "metadata": {}, "metrics": []}
                ],
                "metadata": {},
                "metrics": [],
            },
            "time": now,
        }  # fmt: skip
        t.num_jobs += 1
        for s in ids:
            info = dict(infos[s - ids[0]])
            info["Submission Time"] = now
            yield {"Event": "SparkListenerStageSubmitted", "Stage Info": info, "Properties": {}}
            t.num_stages += 1
            slots = executors * cores
            free = [now] * slots
            durations = []
            for i in range(tasks_per_stage):
                slot = min(range(slots), key=free.__getitem__)
                launch = free[slot]
                dur = int(rng.lognormvariate(6.5, 0.6)) + 5
                finish = launch + dur
                free[slot] = finish
                failed = bool(fail_every) and i % fail_every == fail_every - 1
                run = max(1, dur - rng.randint(0, 4))
                cpu = run * 1_000_000 * rng.randint(50, 95) // 100
                inp = rng.randint(10**5, 10**7) if s == ids[0] else 0
                sr_remote = 0 if s == ids[0] else rng.randint(10**4, 10**6)
                sr_local = 0 if s == ids[0] else rng.randint(10**3, 10**5)
                sw = rng.randint(10**4, 10**6) if s != ids[-1] else 0
                mspill = rng.choice([0, 0, 0, rng.randint(10**6, 10**8)])
                dspill = mspill // 3
                metrics = {
                    "Executor Deserialize Time": 3, "Executor Deserialize CPU Time": 2_000_000,
                    "Executor Run Time": run, "Executor CPU Time": cpu, "Peak Execution Memory": rng.randint(0, 10**8),
                    "Result Size": 2000, "JVM GC Time": rng.randint(0, 20), "Result Serialization Time": 1,
                    "Memory Bytes Spilled": mspill, "Disk Bytes Spilled": dspill,
                    "Shuffle Read Metrics": {"Remote Blocks Fetched": 3, "Local Blocks Fetched": 1,
                                             "Fetch Wait Time": rng.randint(0, 5), "Remote Bytes Read": sr_remote,
                                             "Remote Bytes Read To Disk": 0, "Local Bytes Read": sr_local,
                                             "Total Records Read": 100},
                    "Shuffle Write Metrics": {"Shuffle Bytes Written": sw, "Shuffle Write Time": 100000,
                                              "Shuffle Records Written": 10},
                    "Input Metrics": {"Bytes Read": inp, "Records Read": inp // 100},
                    "Output Metrics": {"Bytes Written": 0, "Records Written": 0},
                    "Updated Blocks": [],
                }  # fmt: skip
                reason = (
                    {"Reason": "ExceptionFailure", "Class Name": "java.lang.RuntimeException", "Description": "boom",
                     "Stack Trace": [], "Full Stack Trace": "", "Accumulator Updates": []}
                    if failed else {"Reason": "Success"}
                )  # fmt: skip
                yield {
                    "Event": "SparkListenerTaskStart",
                    "Stage ID": s,
                    "Stage Attempt ID": 0,
                    "Task Info": {"Task ID": task_id, "Launch Time": launch},
                }
                yield {
                    "Event": "SparkListenerTaskEnd",
                    "Stage ID": s,
                    "Stage Attempt ID": 0,
                    "Task Type": "ResultTask" if s == ids[-1] else "ShuffleMapTask",
                    "Task End Reason": reason,
                    "Task Info": {"Task ID": task_id, "Index": i, "Attempt": 0, "Partition ID": i,
                                  "Launch Time": launch, "Executor ID": str(slot % executors + 1),
                                  "Host": "10.0.0.1", "Locality": "PROCESS_LOCAL", "Speculative": False,
                                  "Getting Result Time": 0, "Finish Time": finish, "Failed": failed,
                                  "Killed": False, "Accumulables": _accumulables(rng, accumulables)},
                    "Task Executor Metrics": {"JVMHeapMemory": 0, "OnHeapExecutionMemory": 0},
                    "Task Metrics": metrics,
                }  # fmt: skip
                task_id += 1
                t.num_tasks += 1
                t.failed_tasks += int(failed)
                t.run_ms += run
                t.cpu_ns += cpu
                t.input_bytes += inp
                t.shuffle_read += sr_remote + sr_local
                t.shuffle_write += sw
                t.mem_spill += mspill
                t.disk_spill += dspill
                durations.append(dur)
            t.task_durations[s] = durations
            now = max(free) + 50
            info = dict(info)
            info["Completion Time"] = now
            yield {"Event": "SparkListenerStageCompleted", "Stage Info": info}
        stage_id += stages_per_job
        yield {"Event": "SparkListenerJobEnd", "Job ID": job, "Completion Time": now,
               "Job Result": {"Result": "JobSucceeded"}}  # fmt: skip
        yield {"Event": "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd", "executionId": job,
               "time": now}  # fmt: skip
    now += 1500
    t.end_ms = now
    if with_app_end:
        yield {"Event": "SparkListenerApplicationEnd", "Timestamp": now}


def render(events: Iterator[dict]) -> bytes:
    """JSON lines exactly as Spark writes them (compact, one event per line, trailing newline)."""
    return b"".join(orjson.dumps(e) + b"\n" for e in events)


def write_log(path, **kwargs) -> Totals:
    totals = Totals()
    with open(path, "wb") as fh:
        for event in generate_events(totals=totals, **kwargs):
            fh.write(orjson.dumps(event) + b"\n")
    return totals
