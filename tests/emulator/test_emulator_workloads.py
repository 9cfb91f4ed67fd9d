"""Workload files: the built-ins load, scenario knobs work, and bad files are rejected with file, field, reason."""

from __future__ import annotations

import pytest

from sync_provider.emulator.workloads import BUILTIN_WORKLOADS, WorkloadError, load_workload, parse_workload

REQUIRED = {"join_etl", "aggregation", "io_scan", "iterative_ml", "skewed", "memory_hungry", "generic"}


def test_builtins_present_and_valid():
    assert REQUIRED <= set(BUILTIN_WORKLOADS)
    for name in BUILTIN_WORKLOADS:
        wl = load_workload(name)
        assert wl.name == name
        assert wl.stages


def test_load_by_suffix_and_path(tmp_path):
    assert load_workload("join_etl.yaml").name == "join_etl"
    path = tmp_path / "mine.yaml"
    path.write_text("stages: [{name: s, tasks: 10, cpu_s_per_task: 1}]\n")
    wl = load_workload(path)
    assert wl.name == "mine"
    assert wl.stages[0].tasks == 10


def test_unknown_workload_names_the_builtins():
    with pytest.raises(WorkloadError, match="join_etl"):
        load_workload("no_such_workload")


@pytest.mark.parametrize(
    ("doc", "field", "reason"),
    [
        ("name: x\nstages: [{name: s, cpu_s_per_task: 1}]", "stages.0.tasks", "Field required"),
        ("name: x\nstages: [{name: s, tasks: -3, cpu_s_per_task: 1}]", "stages.0.tasks", "greater than or equal to 1"),
        ("name: x\nstages: [{name: s, tasks: 3, cpu_s_per_task: -1}]", "stages.0.cpu_s_per_task", "greater than"),
        ("name: x\nstages: []", "stages", "at least 1"),
        ("name: x\nstages: [{name: s, tasks: 3, cpu_s_per_task: 1, bogus: 2}]", "stages.0.bogus", "Extra inputs"),
        (
            "name: x\nstages: [{name: s, tasks: 3, cpu_s_per_task: 1}]\nscenario: {spot_loss_probability: 2}",
            "scenario.spot_loss_probability",
            "less than or equal",
        ),
    ],
)
def test_invalid_file_names_file_field_reason(doc, field, reason):
    with pytest.raises(WorkloadError) as err:
        parse_workload(doc, "/Workspace/jobs/bad.yaml")
    msg = str(err.value)
    assert "/Workspace/jobs/bad.yaml" in msg
    assert f"'{field}'" in msg
    assert reason in msg


def test_not_a_mapping_and_bad_yaml():
    with pytest.raises(WorkloadError, match="expected a mapping"):
        parse_workload("- 1\n- 2\n", "w.yaml")
    with pytest.raises(WorkloadError, match="not valid YAML"):
        parse_workload("stages: [unclosed", "w.yaml")


def test_parent_must_be_earlier_stage():
    doc = "name: x\nstages: [{name: a, tasks: 1, cpu_s_per_task: 1, parents: [0]}]"
    with pytest.raises(WorkloadError, match="parents"):
        parse_workload(doc, "w.yaml")


def test_growth_step_and_code_change():
    doc = """
name: x
stages: [{name: old, tasks: 4, cpu_s_per_task: 1, input_bytes: 1e9}]
scenario:
  growth_per_run: 0.1
  step_growth: [{at_run: 6, factor: 1.5}]
  code_change:
    at_run: 3
    stages: [{name: new1, tasks: 2, cpu_s_per_task: 1}, {name: new2, tasks: 2, cpu_s_per_task: 1}]
"""
    wl = parse_workload(doc, "w.yaml")
    assert wl.growth_factor(0) == 1.0
    assert wl.growth_factor(5) == pytest.approx(1.1**5)
    assert wl.growth_factor(6) == pytest.approx(1.1**6 * 1.5)
    assert [s.name for s in wl.stages_for(2)[0]] == ["old"]
    assert [s.name for s in wl.stages_for(3)[0]] == ["new1", "new2"]
