"""The demo's scenario: an oversized start, data +50% on day 6, a code change on day 10, and the DAGs it runs."""

from __future__ import annotations

import pytest

from sync_provider.demo.dags import DAGS_FOLDER_ENV, RECIPE_NOTEBOOK, RECIPE_PROJECT, examples_folder, recipe_dag
from sync_provider.demo.errors import DemoError
from sync_provider.demo.scenario import (
    DEMO_CONSTRAINTS,
    DEMO_GOALS,
    OVERSIZED_START,
    baseline_cost,
    demo_workload,
    scenario_events,
)
from sync_provider.emulator.simulator import ClusterSpec, expected
from sync_provider.engine.models import ClusterConfig


def test_events_are_on_the_documented_days():
    assert scenario_events(demo_workload(), 15) == {6: ["data +50%"], 10: ["code change"]}
    assert scenario_events(demo_workload(fail_at=[12]), 15)[12] == ["injected failure"]
    assert scenario_events(demo_workload(), 5) == {}  # events after the last day are not shown


def test_growth_and_code_change_make_the_job_slower():
    w = demo_workload()
    spec = ClusterSpec(instance_type="m5.2xlarge", num_workers=12)
    day5, day6, day10 = (expected(w, spec, day - 1).runtime_s for day in (5, 6, 10))
    assert day6 > day5 * 1.3
    assert day10 > day6


def test_the_start_is_oversized_and_a_cheaper_config_meets_the_sla():
    w = demo_workload()
    start = expected(w, ClusterSpec(OVERSIZED_START.instance_type, OVERSIZED_START.num_workers), 0)
    assert start.succeeded and start.runtime_s < DEMO_GOALS.sla_seconds / 3
    cheaper = expected(w, ClusterSpec("m6i.xlarge", 8), 0)
    assert cheaper.succeeded and cheaper.runtime_s < DEMO_GOALS.sla_seconds
    assert cheaper.cost.total_usd < start.cost.total_usd / 3


@pytest.mark.parametrize("family", DEMO_CONSTRAINTS.instance_families)
def test_allowed_families_never_run_out_of_memory(family):
    w = demo_workload()
    for day in (1, 6, 10, 15):
        for workers in (2, 8, 32):
            assert expected(w, ClusterSpec(f"{family}.xlarge", workers), day - 1).succeeded


def test_baseline_is_the_original_cluster_on_that_day():
    w = demo_workload()
    assert baseline_cost(w, OVERSIZED_START, 6) == expected(w, ClusterSpec("r5.4xlarge", 24), 5).cost.total_usd
    assert baseline_cost(w, OVERSIZED_START, 6) > baseline_cost(w, OVERSIZED_START, 5)
    assert baseline_cost(w, ClusterConfig(instance_type="m5.xlarge", num_workers=4), 1) < baseline_cost(
        w, OVERSIZED_START, 1
    )


def test_recipe_dag_points_the_example_at_the_demo_workload():
    dag = recipe_dag()
    assert dag.file.name == "sync_recipe.py" and dag.dag_id == "sync_recipe"
    assert dag.conf == {
        "project": RECIPE_PROJECT,
        "workload": RECIPE_NOTEBOOK,
        "node_type": "r5.4xlarge",
        "num_workers": 24,
        "apply_mode": "auto",
    }
    assert dag.env["SYNC_EXAMPLE_POLL_SECONDS"] == "1"
    assert dag.goals[RECIPE_PROJECT] == DEMO_GOALS


def test_other_workload_with_injected_failure():
    dag = recipe_dag("join_etl", fail_at=[3])
    workload = dag.workloads[RECIPE_PROJECT]
    assert workload.name == "join_etl" and workload.scenario.fail_at_runs == [2]
    assert "injected failure on day 3" in dag.workload_note


def test_missing_examples_folder_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv(DAGS_FOLDER_ENV, str(tmp_path / "nope"))
    with pytest.raises(DemoError, match="example DAGs folder .*nope does not exist"):
        examples_folder()
