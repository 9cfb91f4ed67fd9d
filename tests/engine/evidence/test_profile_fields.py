"""Profile fields computed while streaming: quantiles, skew, driver-only time, fingerprint, Databricks facts."""

from __future__ import annotations

import numpy as np
import pytest
from eventlog_factory import Totals, generate_events, render

from sync_provider.engine.evidence.eventlog import parse_eventlog
from sync_provider.engine.evidence.sketch import TaskTimeSketch


def _parse(tmp_path, name="app.log", **kwargs):
    totals = Totals()
    path = tmp_path / name
    path.write_bytes(render(generate_events(totals=totals, **kwargs)))
    return parse_eventlog(path), totals


def test_stage_quantiles_and_skew_match_exact_values(tmp_path):
    p, totals = _parse(tmp_path, jobs=1, stages_per_job=2, tasks_per_stage=5000)
    for stage in p.stages:
        exact = np.array(totals.task_durations[stage.stage_id]) / 1000.0
        assert stage.task_duration.max == pytest.approx(exact.max())
        assert stage.task_duration.mean == pytest.approx(exact.mean())
        for q, got in ((0.5, stage.task_duration.p50), (0.9, stage.task_duration.p90)):
            rank = (exact < got).mean()  # reservoir of 2048 out of 5000: rank error within a few percent
            assert abs(rank - q) < 0.04
        assert stage.skew == pytest.approx(exact.max() / stage.task_duration.p50)
        assert stage.task_duration_sum_s == pytest.approx(exact.sum())


def test_sketch_memory_is_bounded():
    sketch = TaskTimeSketch(capacity=100)
    for _ in range(50):
        sketch.add_many(np.random.default_rng(1).random(1000))
    assert sketch.count == 50_000 and len(sketch._sample) == 100


def test_driver_only_time_is_the_gaps_without_tasks(tmp_path):
    p, totals = _parse(tmp_path, jobs=3, gap_ms=4000)
    # between jobs nothing runs for >= 4 s each, plus 1 s before executors and 1.5 s after the last job
    assert 3 * 4.0 + 2.5 - 0.5 <= p.driver_only_s <= 3 * 4.0 + 2.5 + 1.5
    assert p.driver_only_s < p.duration_s


def test_fingerprint_ignores_data_size_and_follows_code(tmp_path):
    small, _ = _parse(tmp_path, "a.log", jobs=2, tasks_per_stage=10)
    large, _ = _parse(tmp_path, "b.log", jobs=2, tasks_per_stage=300, seed=99)
    changed, _ = _parse(tmp_path, "c.log", jobs=2, tasks_per_stage=10, stage_name="save at NewJob.scala:{line}")
    assert small.structure_fingerprint == large.structure_fingerprint
    assert small.structure_fingerprint != changed.structure_fingerprint


def test_failed_tasks_are_counted(tmp_path):
    p, totals = _parse(tmp_path, fail_every=10)
    assert sum(s.failed_tasks for s in p.stages) == totals.failed_tasks
    assert sum(s.completed_tasks for s in p.stages) == totals.num_tasks - totals.failed_tasks


def test_databricks_facts_and_sql_operators(tmp_path):
    p, _ = _parse(tmp_path, databricks=True)
    assert p.cluster.photon is True and p.cluster.databricks_runtime == "13.3.x-photon-scala2.12"
    assert p.cluster.tags["clusterId"] == p.cluster.cluster_id
    assert p.sql_executions[0].operators == {"WholeStageCodegen": 1, "HashAggregate": 1, "Scan parquet": 1}
    assert p.executors_over_time[0].executors == 4 and p.max_executors == 4
