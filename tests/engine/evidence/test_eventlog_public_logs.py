"""Real event logs from public repositories, checked against facts read from the raw files with plain json.

The two Spark 2.x logs (apache/spark's history-server test data, see tests/data/eventlogs/SOURCE.md) are the
oldest Spark the parser is asked to read: 2.4 on YARN with dynamic allocation and SQL, and 2.3 in standalone
mode with failed tasks and a blacklisted executor. Two independent references are used: the raw TaskEnd lines,
and the per-stage totals Spark itself wrote into each StageCompleted event's accumulables.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import zstandard

from sync_provider.engine.evidence.eventlog import parse_eventlog, summarize

SPARK_2 = ["spark-2.3-standalone-failures", "spark-2.4-yarn"]
ALL_REAL = [*SPARK_2, "spark-3.0-yarn", "spark-4.2-rolling"]


def _events(source: Path) -> list[dict]:
    files = [source] if source.is_file() else sorted(p for p in source.iterdir() if p.stat().st_size)
    return [json.loads(line) for path in files for line in path.read_text().splitlines() if line]


def _of(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["Event"] == kind]


def _accumulator_totals(stage_info: dict) -> dict[str, int]:
    """Spark's own per-stage totals: the final value of each internal.metrics.* accumulator."""
    return {
        a["Name"].removeprefix("internal.metrics."): int(a["Value"])
        for a in stage_info.get("Accumulables", [])
        if a["Name"].startswith("internal.metrics.")
    }


def _raw_summary(events: list[dict]) -> dict:
    """The summary keys recomputed from fully decoded lines (no executor is ever removed in these logs)."""
    metrics = [e["Task Metrics"] for e in _of(events, "SparkListenerTaskEnd")]
    reads = [m["Shuffle Read Metrics"] for m in metrics]
    start = _of(events, "SparkListenerApplicationStart")[0]
    end = _of(events, "SparkListenerApplicationEnd")[0]
    assert not _of(events, "SparkListenerExecutorRemoved")
    return {
        "spark_version": events[0]["Spark Version"],
        "app_name": start["App Name"],
        "num_jobs": len(_of(events, "SparkListenerJobStart")),
        "num_stages": len({e["Stage Info"]["Stage ID"] for e in _of(events, "SparkListenerStageSubmitted")}),
        "num_tasks": len(metrics),
        "duration_s": round((end["Timestamp"] - start["Timestamp"]) / 1000, 3),
        "executor_run_time_s": round(sum(m["Executor Run Time"] for m in metrics) / 1000, 3),
        "executor_cpu_time_s": round(sum(m["Executor CPU Time"] for m in metrics) / 1e9, 3),
        "input_bytes": sum(m["Input Metrics"]["Bytes Read"] for m in metrics),
        "shuffle_read_bytes": sum(r["Remote Bytes Read"] + r["Local Bytes Read"] for r in reads),
        "shuffle_write_bytes": sum(m["Shuffle Write Metrics"]["Shuffle Bytes Written"] for m in metrics),
        "memory_spilled_bytes": sum(m["Memory Bytes Spilled"] for m in metrics),
        "disk_spilled_bytes": sum(m["Disk Bytes Spilled"] for m in metrics),
        "max_executors": len(_of(events, "SparkListenerExecutorAdded")),
    }


@pytest.mark.parametrize(
    ("name", "version", "tasks", "stages", "executors"),
    [("spark-2.3-standalone-failures", "2.3.0-SNAPSHOT", 22, 2, 2), ("spark-2.4-yarn", "2.4.0-SNAPSHOT", 9, 3, 7)],
)
def test_spark2_summary_matches_the_raw_file(real_logs, name, version, tasks, stages, executors):
    raw = _raw_summary(_events(real_logs[name]))
    assert (raw["spark_version"], raw["num_tasks"], raw["num_stages"], raw["max_executors"]) == (
        version,
        tasks,
        stages,
        executors,
    )
    profile = parse_eventlog(real_logs[name])
    assert summarize(profile) == raw
    assert profile.warnings == []


@pytest.mark.parametrize("name", ALL_REAL)
def test_stages_match_sparks_own_stage_totals(real_logs, name):
    """Each stage's sums equal what Spark accumulated for it (StageCompleted accumulables), stage by stage."""
    events = _events(real_logs[name])
    completed = {e["Stage Info"]["Stage ID"]: e["Stage Info"] for e in _of(events, "SparkListenerStageCompleted")}
    reasons: dict[int, list[str]] = {}
    for e in _of(events, "SparkListenerTaskEnd"):
        reasons.setdefault(e["Stage ID"], []).append(e["Task End Reason"]["Reason"])
    stages = parse_eventlog(real_logs[name]).stages
    assert {s.stage_id for s in stages} == set(completed)
    for stage in stages:
        info = completed[stage.stage_id]
        spark = _accumulator_totals(info)
        assert stage.name == info["Stage Name"]
        assert stage.num_tasks == info["Number of Tasks"]
        assert stage.completed_tasks == reasons[stage.stage_id].count("Success")
        assert stage.failed_tasks == len(reasons[stage.stage_id]) - stage.completed_tasks
        assert stage.executor_run_time_s == pytest.approx(spark["executorRunTime"] / 1000)
        assert stage.executor_cpu_time_s == pytest.approx(spark["executorCpuTime"] / 1e9)
        assert stage.executor_deserialize_time_s == pytest.approx(spark["executorDeserializeTime"] / 1000)
        assert stage.jvm_gc_time_s == pytest.approx(spark.get("jvmGCTime", 0) / 1000)
        assert stage.input_bytes == spark.get("input.bytesRead", 0)
        assert stage.shuffle_write_bytes == spark.get("shuffle.write.bytesWritten", 0)
        remote = spark.get("shuffle.read.remoteBytesRead", 0)
        assert stage.shuffle_remote_read_bytes == remote
        assert stage.shuffle_read_bytes == remote + spark.get("shuffle.read.localBytesRead", 0)
        assert stage.duration_s == pytest.approx((info["Completion Time"] - info["Submission Time"]) / 1000)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("spark-2.3-standalone-failures", {0: 912, 1: 944}), ("spark-2.4-yarn", {0: 0, 1: 41943040, 2: 67698688})],
)
def test_spark2_peak_execution_memory_comes_from_the_task_accumulators(real_logs, name, expected):
    """Regression: Spark 2.x has no "Peak Execution Memory" in Task Metrics, only the accumulator update.

    The parser used to drop the accumulators and report 0 for every Spark 2.x stage.
    """
    peaks = dict.fromkeys(expected, 0)
    for e in _of(_events(real_logs[name]), "SparkListenerTaskEnd"):
        assert "Peak Execution Memory" not in e["Task Metrics"]
        for acc in e["Task Info"]["Accumulables"]:
            if acc["Name"] == "internal.metrics.peakExecutionMemory":
                peaks[e["Stage ID"]] = max(peaks[e["Stage ID"]], int(acc["Update"]))
    assert peaks == expected
    assert {s.stage_id: s.peak_execution_memory_max_bytes for s in parse_eventlog(real_logs[name]).stages} == peaks


def test_spark23_failed_tasks_and_blacklisting(real_logs):
    """Two attempts failed on executor 0 (then blacklisted for the stage) and were retried on executor 1."""
    source = real_logs["spark-2.3-standalone-failures"]
    failed = [e for e in _of(_events(source), "SparkListenerTaskEnd") if e["Task End Reason"]["Reason"] != "Success"]
    assert [(e["Task End Reason"]["Reason"], e["Task Info"]["Executor ID"]) for e in failed] == [
        ("ExceptionFailure", "0"),
        ("ExceptionFailure", "0"),
    ]
    p = parse_eventlog(source)
    stage0 = next(s for s in p.stages if s.stage_id == 0)
    assert (stage0.num_tasks, stage0.completed_tasks, stage0.failed_tasks, stage0.killed_tasks) == (10, 10, 2, 0)
    assert p.jobs[0].succeeded is True
    assert p.warnings == []  # the blacklisting event is known and skipped, not an "unknown event"


def test_spark24_cluster_facts_and_executor_timeline(real_logs):
    source = real_logs["spark-2.4-yarn"]
    events = _events(source)
    props = _of(events, "SparkListenerEnvironmentUpdate")[0]["Spark Properties"]
    start_ms = _of(events, "SparkListenerApplicationStart")[0]["Timestamp"]
    added = [e["Timestamp"] for e in _of(events, "SparkListenerExecutorAdded")]

    p = parse_eventlog(source)

    assert p.app_id == props["spark.app.id"] == "application_1506645932520_24630151"
    assert p.cluster.executor_cores == int(props["spark.executor.cores"]) == 1
    assert p.cluster.executor_memory_mb == 2048 and props["spark.executor.memory"] == "2G"
    assert p.cluster.databricks_runtime is None and p.cluster.cluster_id is None  # plain YARN, not Databricks
    # Regression: with dynamic allocation spark.executor.instances (4) is only the initial request; 7 executors ran.
    assert props["spark.dynamicAllocation.enabled"] == "true" and props["spark.executor.instances"] == "4"
    assert p.cluster.num_workers == len(added) == 7
    assert [(s.time_s, s.executors) for s in p.executors_over_time] == [
        (pytest.approx((ts - start_ms) / 1000), n) for n, ts in enumerate(added, start=1)
    ]
    (job,) = p.jobs
    assert job.succeeded is True and job.stage_ids == [0, 1, 2] and job.sql_execution_id == 2
    sql = {q.execution_id: q for q in p.sql_executions}
    assert set(sql) == {0, 1, 2}
    assert sql[2].operators["InMemoryTableScan"] == 1 and sql[2].photon_operators == 0


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_spark24_log_reads_the_same_compressed(real_logs, tmp_path, codec):
    source = real_logs["spark-2.4-yarn"]
    raw = source.read_bytes()
    packed = gzip.compress(raw) if codec == "gzip" else zstandard.ZstdCompressor().compress(raw)
    target = tmp_path / f"{source.name}.{'gz' if codec == 'gzip' else 'zstd'}"
    target.write_bytes(packed)
    assert summarize(parse_eventlog(target)) == summarize(parse_eventlog(source))
