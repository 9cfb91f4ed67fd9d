"""Event logs as Spark writes them: every line parses, every event carries the fields Spark's JsonProtocol
writes (Spark 3.x/4.x names, as in apache/spark core/src/test/resources/spark-events), and the numbers agree
with the simulated run."""

from __future__ import annotations

import gzip
import json
from collections import Counter

import pytest

from sync_provider.emulator.eventlog_writer import EventLogMeta, render_eventlog, roll_parts, write_eventlog
from sync_provider.emulator.simulator import ClusterSpec, simulate
from sync_provider.emulator.workloads import load_workload, parse_workload

MANDATORY = {
    "SparkListenerLogStart": {"Spark Version"},
    "SparkListenerResourceProfileAdded": {
        "Resource Profile Id",
        "Executor Resource Requests",
        "Task Resource Requests",
    },
    "SparkListenerApplicationStart": {"App Name", "App ID", "Timestamp", "User"},
    "SparkListenerApplicationEnd": {"Timestamp"},
    "SparkListenerEnvironmentUpdate": {
        "JVM Information",
        "Spark Properties",
        "Hadoop Properties",
        "System Properties",
        "Classpath Entries",
    },
    "SparkListenerExecutorAdded": {"Timestamp", "Executor ID", "Executor Info"},
    "SparkListenerExecutorRemoved": {"Timestamp", "Executor ID", "Removed Reason"},
    "SparkListenerBlockManagerAdded": {"Block Manager ID", "Maximum Memory", "Timestamp"},
    "SparkListenerBlockManagerRemoved": {"Block Manager ID", "Timestamp"},
    "SparkListenerJobStart": {"Job ID", "Submission Time", "Stage Infos", "Stage IDs", "Properties"},
    "SparkListenerJobEnd": {"Job ID", "Completion Time", "Job Result"},
    "SparkListenerStageSubmitted": {"Stage Info", "Properties"},
    "SparkListenerStageCompleted": {"Stage Info"},
    "SparkListenerTaskStart": {"Stage ID", "Stage Attempt ID", "Task Info"},
    "SparkListenerTaskEnd": {
        "Stage ID",
        "Stage Attempt ID",
        "Task Type",
        "Task End Reason",
        "Task Info",
        "Task Metrics",
    },
    "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart": {
        "executionId",
        "description",
        "details",
        "physicalPlanDescription",
        "sparkPlanInfo",
        "time",
    },
    "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd": {"executionId", "time"},
}
STAGE_INFO = {
    "Stage ID",
    "Stage Attempt ID",
    "Stage Name",
    "Number of Tasks",
    "RDD Info",
    "Parent IDs",
    "Details",
    "Accumulables",
    "Resource Profile Id",
}
TASK_INFO = {
    "Task ID",
    "Index",
    "Attempt",
    "Partition ID",
    "Launch Time",
    "Executor ID",
    "Host",
    "Locality",
    "Speculative",
    "Getting Result Time",
    "Finish Time",
    "Failed",
    "Killed",
    "Accumulables",
}
TASK_METRICS = {
    "Executor Deserialize Time",
    "Executor Deserialize CPU Time",
    "Executor Run Time",
    "Executor CPU Time",
    "Peak Execution Memory",
    "Result Size",
    "JVM GC Time",
    "Result Serialization Time",
    "Memory Bytes Spilled",
    "Disk Bytes Spilled",
    "Shuffle Read Metrics",
    "Shuffle Write Metrics",
    "Input Metrics",
    "Output Metrics",
    "Updated Blocks",
}
SHUFFLE_READ = {
    "Remote Blocks Fetched",
    "Local Blocks Fetched",
    "Fetch Wait Time",
    "Remote Bytes Read",
    "Remote Bytes Read To Disk",
    "Local Bytes Read",
    "Total Records Read",
}
SHUFFLE_WRITE = {"Shuffle Bytes Written", "Shuffle Write Time", "Shuffle Records Written"}


def _events(sim, meta=None):
    data = write_eventlog(sim, meta=meta or EventLogMeta(cluster_id="0101-010101-abcdefgh"))[0][1]
    lines = data.decode().splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def spot_run():
    doc = """
name: el
stages:
  - {name: scan, tasks: 300, cpu_s_per_task: 4, input_bytes: 30e9, shuffle_write_bytes: 5e9, memory_per_task_mb: 3000}
  - {name: agg, tasks: 50, cpu_s_per_task: 2, shuffle_read_bytes: 5e9, output_bytes: 1e9}
scenario: {spot_loss_probability: 1.0}
"""
    return simulate(parse_workload(doc, "el.yaml"), ClusterSpec("m5.xlarge", 4, spot=True), 0, seed=11)


def test_every_line_parses_and_has_mandatory_fields(spot_run):
    events = _events(spot_run)
    kinds = Counter(e["Event"] for e in events)
    assert set(MANDATORY) - {"SparkListenerBlockManagerRemoved"} <= set(kinds)
    for e in events:
        missing = MANDATORY[e["Event"]] - set(e)
        assert not missing, f"{e['Event']} lacks {missing}"
        if e["Event"] in ("SparkListenerStageSubmitted", "SparkListenerStageCompleted"):
            assert STAGE_INFO <= set(e["Stage Info"])
            assert "Submission Time" in e["Stage Info"]
        if e["Event"] == "SparkListenerStageCompleted":
            assert "Completion Time" in e["Stage Info"]
        if e["Event"] == "SparkListenerJobStart":
            for si in e["Stage Infos"]:
                assert STAGE_INFO <= set(si)
        if e["Event"] in ("SparkListenerTaskStart", "SparkListenerTaskEnd"):
            assert TASK_INFO <= set(e["Task Info"])
        if e["Event"] == "SparkListenerTaskEnd":
            m = e["Task Metrics"]
            assert TASK_METRICS <= set(m)
            assert SHUFFLE_READ <= set(m["Shuffle Read Metrics"])
            assert SHUFFLE_WRITE <= set(m["Shuffle Write Metrics"])
            assert {"Bytes Read", "Records Read"} <= set(m["Input Metrics"])
            assert "Reason" in e["Task End Reason"]
    assert events[0]["Event"] == "SparkListenerLogStart"
    assert events[-1]["Event"] == "SparkListenerApplicationEnd"


def test_structure_is_consistent(spot_run):
    events = _events(spot_run)
    started, ended = set(), set()
    for e in events:
        if e["Event"] == "SparkListenerTaskStart":
            started.add(e["Task Info"]["Task ID"])
        elif e["Event"] == "SparkListenerTaskEnd":
            tid = e["Task Info"]["Task ID"]
            assert tid in started, "TaskEnd before its TaskStart"
            ended.add(tid)
            assert e["Task Info"]["Finish Time"] >= e["Task Info"]["Launch Time"]
    assert started == ended
    assert len(ended) == spot_run.num_tasks
    stamps = [
        e.get("Timestamp") or e.get("time") or e.get("Submission Time") or e.get("Completion Time") for e in events
    ]
    stamps = [s for s in stamps if s]
    assert stamps == sorted(stamps)
    # spot loss shows as executors removed, killed tasks and new executors
    removed = [e for e in events if e["Event"] == "SparkListenerExecutorRemoved"]
    assert removed and all("spot" in e["Removed Reason"] for e in removed)
    reasons = Counter(e["Task End Reason"]["Reason"] for e in events if e["Event"] == "SparkListenerTaskEnd")
    assert reasons["Success"] > 0 and reasons["ExecutorLostFailure"] >= 1


def test_metrics_agree_with_the_simulation(spot_run):
    events = _events(spot_run)
    ends = [e for e in events if e["Event"] == "SparkListenerTaskEnd"]
    inp = sum(e["Task Metrics"]["Input Metrics"]["Bytes Read"] for e in ends)
    assert inp == pytest.approx(spot_run.input_bytes, rel=1e-6)
    spilled = sum(e["Task Metrics"]["Memory Bytes Spilled"] for e in ends)
    assert spilled > 0  # 3 GB per task on an m5.xlarge slot spills
    cpu = sum(e["Task Metrics"]["Executor CPU Time"] for e in ends) / 1e9
    run = sum(e["Task Metrics"]["Executor Run Time"] for e in ends) / 1e3
    assert 0 < cpu <= run * 1.01
    start = next(e for e in events if e["Event"] == "SparkListenerApplicationStart")["Timestamp"]
    end = events[-1]["Timestamp"]
    assert (end - start) / 1000 == pytest.approx(spot_run.runtime_s, abs=0.01)


def test_databricks_tags_and_photon_plan():
    sim = simulate(load_workload("aggregation"), ClusterSpec("m6gd.2xlarge", 3, photon=True), 0, seed=1)
    meta = EventLogMeta(cluster_id="0101-010101-abcdefgh", spark_context_id="77", custom_tags={"sync:project-id": "p1"})
    events = _events(sim, meta)
    env = next(e for e in events if e["Event"] == "SparkListenerEnvironmentUpdate")["Spark Properties"]
    assert env["spark.databricks.clusterUsageTags.clusterId"] == "0101-010101-abcdefgh"
    assert env["spark.databricks.clusterUsageTags.clusterNodeType"] == "m6gd.2xlarge"
    assert env["spark.databricks.clusterUsageTags.driverNodeType"] == "m6gd.2xlarge"
    assert env["spark.databricks.clusterUsageTags.clusterWorkers"] == "3"
    assert env["spark.databricks.sparkContextId"] == "77"
    tags = json.loads(env["spark.databricks.clusterUsageTags.clusterAllTags"])
    assert {"key": "sync:project-id", "value": "p1"} in tags
    sql = [e for e in events if e["Event"].endswith("SparkListenerSQLExecutionStart")]
    assert sql and "PhotonGroupingAgg" in sql[0]["physicalPlanDescription"]
    assert sql[0]["physicalPlanDescription"].startswith("== Physical Plan ==")
    added = [e for e in events if e["Event"] == "SparkListenerExecutorAdded"]
    assert len(added) == 3 and all(e["Executor Info"]["Total Cores"] == 8 for e in added)


def test_a_loop_over_cached_data_keeps_its_rdd_with_a_storage_level():
    # As Spark logs a cached RDD: every pass of the loop lists it with a storage level, the stages around it do not.
    sim = simulate(load_workload("iterative_ml"), ClusterSpec("i3.2xlarge", 4), 0, seed=1)
    completed = [e for e in _events(sim, EventLogMeta()) if e["Event"] == "SparkListenerStageCompleted"]
    kept = {
        e["Stage Info"]["Stage Name"].split(" at ")[0]: e["Stage Info"]["RDD Info"][0]["Storage Level"]["Use Memory"]
        for e in completed
    }
    assert kept == {"load features": False, "gradient pass": True}


def test_event_log_reveals_no_ground_truth():
    sim = simulate(load_workload("join_etl"), ClusterSpec("m5.xlarge", 2), 0, seed=1)
    text = write_eventlog(sim)[0][1].decode()
    for secret in ("join_etl.yaml", "cpu_s_per_task", "photon_fraction", "cost_usd", "run_index", "hot_keys"):
        assert secret not in text


def test_failed_run_logs_the_failure():
    doc = "name: f\nstages: [{name: a, tasks: 20, cpu_s_per_task: 1}]\nscenario: {fail_at_runs: [0]}"
    sim = simulate(parse_workload(doc, "f.yaml"), ClusterSpec("m5.xlarge", 2), 0, seed=1)
    events = _events(sim)
    job_end = next(e for e in events if e["Event"] == "SparkListenerJobEnd")
    assert job_end["Job Result"]["Result"] == "JobFailed"
    stage = next(e for e in events if e["Event"] == "SparkListenerStageCompleted")
    assert "failed 4 times" in stage["Stage Info"]["Failure Reason"]
    failed = [
        e
        for e in events
        if e["Event"] == "SparkListenerTaskEnd" and e["Task End Reason"]["Reason"] == "ExceptionFailure"
    ]
    assert len(failed) == 4


def test_rolled_parts(tmp_path):
    sim = simulate(load_workload("iterative_ml"), ClusterSpec("m5.xlarge", 2), 0, seed=1)
    assert sim.runtime_s > 3600  # long enough to roll
    lines = render_eventlog(sim, EventLogMeta())
    parts = write_eventlog(sim, tmp_path / "ctx", rolled=True)
    names = [n for n, _ in parts]
    assert names[-1] == "eventlog" and all(n.startswith("eventlog-") and n.endswith(".gz") for n in names[:-1])
    assert len(names) >= 2
    joined = b"".join(gzip.decompress(d) if n.endswith(".gz") else d for n, d in parts)
    assert joined == b"".join(line for _, line in lines)
    assert sorted(p.name for p in (tmp_path / "ctx").iterdir()) == sorted(names)
    assert roll_parts([]) == [("eventlog", b"")]


def test_spark_version_follows_the_databricks_runtime():
    sim = simulate(load_workload("generic"), ClusterSpec("m5.xlarge", 1), 0, seed=1)
    events = _events(sim, EventLogMeta(runtime_version="13.3.x-photon-scala2.12"))
    assert events[0] == {"Event": "SparkListenerLogStart", "Spark Version": "3.4.1"}
    unknown = _events(sim, EventLogMeta(runtime_version="99.1.x-scala2.12"))
    assert unknown[0]["Spark Version"] == sim.spark_version
