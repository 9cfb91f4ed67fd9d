"""Joining a recorded run with the emulator's ground truth into a demo row, on a real (SQLite) store."""

from __future__ import annotations

import pytest

from sync_provider.demo.collect import build_row, new_runs
from sync_provider.demo.emulator import GroundTruth, parse_truth
from sync_provider.engine.models import (
    ClusterConfig,
    CostBreakdown,
    Goals,
    Phase,
    Prediction,
    Preference,
    RunObservation,
    Solution,
)
from sync_provider.store import SyncStore

BIG = ClusterConfig(instance_type="r5.4xlarge", num_workers=24)
SMALL = ClusterConfig(instance_type="m5.2xlarge", num_workers=8)


@pytest.fixture
def store(tmp_path) -> SyncStore:
    return SyncStore(f"sqlite:///{tmp_path / 'sync.db'}")


def _prediction(config: ClusterConfig, phase: Phase = Phase.OPTIMIZING) -> Prediction:
    solution = Solution(
        preference=Preference.ECONOMY,
        config=config,
        predicted_runtime_s=1200,
        predicted_runtime_p90_s=1400,
        cost=CostBreakdown(cloud_usd=1.0, dbu_usd=0.5),
        cost_low_usd=1.3,
        cost_high_usd=1.7,
    )
    return Prediction(
        solutions={p: solution.model_copy(update={"preference": p}) for p in Preference}, phase=phase, reason="test"
    )


def _record(store, project, external_id, config, version, *, succeeded=True, phase=Phase.OPTIMIZING):
    obs = RunObservation(
        config=config,
        runtime_s=900.0 if succeeded else None,
        succeeded=succeeded,
        config_version=version,
        cost=CostBreakdown(cloud_usd=2.0, dbu_usd=1.0),
    )
    run = store.record_run(project.id, obs, external_run_id=external_id, sla_met=succeeded)
    store.save_prediction(project.id, _prediction(SMALL, phase), run_id=run.id)
    return run


def _truth(runtime: float | None, cost: float, succeeded: bool = True):
    return lambda run_id: GroundTruth(runtime_s=runtime, cost_usd=cost, succeeded=succeeded)


def test_rows_join_store_prediction_and_truth(store):
    project = store.create_project("etl", goals=Goals(sla_seconds=1800))
    first = _record(store, project, "101", BIG, None, phase=Phase.LEARNING)
    row1 = build_row(store, project, first, day=1, truth=_truth(300.0, 5.3), previous=None, events=[], dag_seconds=12.0)
    assert row1.contract() == {
        "run": 1,
        "instance_type": "r5.4xlarge",
        "num_workers": 24,
        "photon": False,
        "spot": False,
        "runtime_s": 300.0,
        "true_cost_usd": 5.3,
        "sla_seconds": 1800.0,
        "sla_met": True,
        "phase": "learning",
        "config_version": None,
        "reverted": False,
    }
    assert row1.next_config == "8 x m5.2xlarge" and row1.observed_cost_usd == 3.0
    store.append_config(project.id, SMALL, expected_version=None, actor="test", reason="cheaper")
    second = _record(store, project, "102", SMALL, 1)
    assert [r.id for r in new_runs(store, project, {first.id})] == [second.id]
    row2 = build_row(
        store, project, second, day=2, truth=_truth(1900.0, 2.1), previous=row1, events=["data +50%"], dag_seconds=11.0
    )
    assert (row2.config_version, row2.sla_met, row2.reverted) == (1, False, False)
    assert row2.changed == "r5.4xlarge → m5.2xlarge, workers 24 → 8"
    assert row2.events == ["data +50%"]


def test_failed_run_and_revert(store):
    project = store.create_project("etl", goals=Goals(sla_seconds=1800))
    store.append_config(project.id, BIG, expected_version=None, actor="test", reason="start")
    store.append_config(project.id, SMALL, expected_version=1, actor="test", reason="shrink")
    good = _record(store, project, "201", BIG, 1)
    row1 = build_row(store, project, good, day=1, truth=_truth(300.0, 5.3), previous=None, events=[], dag_seconds=1)
    bad = _record(store, project, "202", SMALL, 2, succeeded=False, phase=Phase.ROLLBACK)
    row2 = build_row(
        store,
        project,
        bad,
        day=2,
        truth=_truth(50.0, 0.4, succeeded=False),
        previous=row1,
        events=["injected failure"],
        dag_seconds=1,
    )
    assert (row2.succeeded, row2.runtime_s, row2.sla_met, row2.phase) == (False, None, False, "rollback")
    store.rollback(project.id, to_version=1, actor="test", reason="failed run")
    back = _record(store, project, "203", BIG, 3)
    row3 = build_row(store, project, back, day=3, truth=_truth(310.0, 5.4), previous=row2, events=[], dag_seconds=1)
    assert row3.reverted and row3.config_version == 3
    assert row3.changed.startswith("reverted to v1")


def test_parse_truth_sums_tasks_of_a_multi_task_run():
    data = {
        "run_id": 7,
        "runtime_s": 100.0,
        "cost_usd": 1.0,
        "tasks": [
            {"task_key": "a", "runtime_s": 100.0, "cost_usd": 1.0, "succeeded": True, "startup_s": 150.0},
            {"task_key": "b", "runtime_s": 400.0, "cost_usd": 2.5, "succeeded": False, "failure": "OOM"},
        ],
    }
    truth = parse_truth(data)
    assert (truth.runtime_s, truth.cost_usd, truth.succeeded, truth.failure) == (400.0, 3.5, False, "OOM")
    single = parse_truth({"tasks": [{"runtime_s": 12.5, "cost_usd": 0.2, "succeeded": True, "workload": "x"}]})
    assert (single.runtime_s, single.cost_usd, single.succeeded) == (12.5, 0.2, True)
