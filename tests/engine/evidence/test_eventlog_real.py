"""Real event logs from Apache Spark's own test resources, checked against counts made with a plain json loop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sync_provider.engine.evidence.eventlog import SUMMARY_KEYS, parse_eventlog, summarize


def independent_summary(files: list[Path]) -> dict:
    """Recount what the summary reports, the slow obvious way (every line fully decoded)."""
    jobs, stages, tasks = set(), set(), 0
    run_ms = cpu_ns = inp = sr = sw = ms = ds = 0
    start = end = None
    version = name = None
    live, peak, driver_tasks = set(), 0, 0
    for path in files:
        for line in path.read_text().splitlines():
            ev = json.loads(line)
            kind = ev["Event"]
            if kind == "SparkListenerLogStart":
                version = ev["Spark Version"]
            elif kind == "SparkListenerApplicationStart":
                start, name = ev["Timestamp"], ev["App Name"]
            elif kind == "SparkListenerApplicationEnd":
                end = ev["Timestamp"]
            elif kind == "SparkListenerJobStart":
                jobs.add(ev["Job ID"])
            elif kind == "SparkListenerStageSubmitted":
                stages.add(ev["Stage Info"]["Stage ID"])
            elif kind == "SparkListenerExecutorAdded" and ev["Executor ID"] != "driver":
                live.add(ev["Executor ID"])
                peak = max(peak, len(live))
            elif kind == "SparkListenerExecutorRemoved":
                live.discard(ev["Executor ID"])
            elif kind == "SparkListenerTaskEnd":
                tasks += 1
                driver_tasks += ev["Task Info"]["Executor ID"] == "driver"
                m = ev.get("Task Metrics") or {}
                run_ms += m.get("Executor Run Time", 0)
                cpu_ns += m.get("Executor CPU Time", 0)
                inp += m.get("Input Metrics", {}).get("Bytes Read", 0)
                r = m.get("Shuffle Read Metrics", {})
                sr += r.get("Remote Bytes Read", 0) + r.get("Local Bytes Read", 0)
                sw += m.get("Shuffle Write Metrics", {}).get("Shuffle Bytes Written", 0)
                ms += m.get("Memory Bytes Spilled", 0)
                ds += m.get("Disk Bytes Spilled", 0)
    return {
        "spark_version": version,
        "app_name": name,
        "num_jobs": len(jobs),
        "num_stages": len(stages),
        "num_tasks": tasks,
        "duration_s": round((end - start) / 1000, 3),
        "executor_run_time_s": round(run_ms / 1000, 3),
        "executor_cpu_time_s": round(cpu_ns / 1e9, 3),
        "input_bytes": inp,
        "shuffle_read_bytes": sr,
        "shuffle_write_bytes": sw,
        "memory_spilled_bytes": ms,
        "disk_spilled_bytes": ds,
        "max_executors": peak or (1 if driver_tasks else 0),
    }


@pytest.mark.parametrize("name", ["spark-3.0-yarn", "spark-4.2-rolling"])
def test_real_log_summary_matches_independent_count(real_logs, name):
    source = real_logs[name]
    files = sorted(p for p in ([source] if source.is_file() else source.iterdir()) if p.stat().st_size)
    profile = parse_eventlog(source)
    summary = summarize(profile)
    assert tuple(summary) == SUMMARY_KEYS
    assert summary == independent_summary(files)
    assert profile.warnings == []


def test_spark_30_yarn_profile_details(real_logs):
    p = parse_eventlog(real_logs["spark-3.0-yarn"])
    (stage,) = p.stages
    assert stage.name == "collect at <console>:29" and stage.num_tasks == 6 and stage.completed_tasks == 6
    # task durations from Launch/Finish Time: 654, 638, 19, 20, 17, 15 ms
    assert stage.task_duration.max == pytest.approx(0.654)
    assert stage.task_duration.min == pytest.approx(0.015)
    assert stage.task_duration.p50 == pytest.approx((0.019 + 0.020) / 2)
    assert stage.skew == pytest.approx(0.654 / 0.0195)
    assert stage.duration_s == pytest.approx((1578764770543 - 1578764765293) / 1000)
    assert stage.jvm_gc_time_s == pytest.approx(0.098)
    assert p.cluster.executor_cores == 4
    assert [(s.time_s, s.executors) for s in p.executors_over_time] == [
        (pytest.approx((1578764769706 - 1578764662851) / 1000), 1)
    ]
    # tasks ran from 1578764769858 to 1578764770542 only: everything else is driver-only time
    busy = (1578764770542 - 1578764769858) / 1000
    assert p.driver_only_s == pytest.approx(p.duration_s - busy, abs=0.25)
    assert p.structure_fingerprint and len(p.structure_fingerprint) == 16


def test_spark_42_rolling_directory_is_complete_and_local(real_logs):
    p = parse_eventlog(real_logs["spark-4.2-rolling"])
    assert p.app_id == "local-1766844910796"
    assert p.max_executors == 1  # local mode: the driver ran both tasks
    assert p.jobs[0].succeeded is True
    assert p.cluster.executor_memory_mb == 1024  # from the default resource profile


def test_profile_round_trips_through_json(real_logs):
    from sync_provider.engine.evidence.profile import Profile

    p = parse_eventlog(real_logs["spark-3.0-yarn"])
    assert Profile.model_validate_json(p.model_dump_json()) == p


def test_stages_that_keep_a_cached_relation_are_marked(real_logs):
    # The 2.4 log caches a DataFrame read from avro: the stage that computes it and the stage that joins on its
    # in-memory relation list an RDD with a storage level; the other cache() stage computes an uncached input.
    p = parse_eventlog(real_logs["spark-2.4-yarn"])
    persisted = {s.stage_id: s.persisted_rdds for s in p.stages}
    assert persisted[0] >= 1 and persisted[2] >= 1
    assert persisted[1] == 0
    assert parse_eventlog(real_logs["spark-3.0-yarn"]).stages[0].persisted_rdds == 0
