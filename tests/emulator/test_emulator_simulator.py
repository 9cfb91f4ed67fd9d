"""The simulator's physics: workloads respond differently to families, worker counts, Photon, spot and memory."""

from __future__ import annotations

import pytest

from sync_provider.emulator.physics import UnknownNodeType
from sync_provider.emulator.simulator import ClusterSpec, expected, expected_runtime, simulate
from sync_provider.emulator.workloads import load_workload, parse_workload


def rt(name: str, it: str, n: int, **kw) -> float:
    return expected_runtime(load_workload(name), ClusterSpec(it, n, **kw))


def test_deterministic_for_a_seed_and_noisy_across_seeds():
    wl = load_workload("join_etl")
    spec = ClusterSpec("m5.2xlarge", 6)
    a = simulate(wl, spec, 0, seed=1)
    b = simulate(wl, spec, 0, seed=1)
    c = simulate(wl, spec, 0, seed=2)
    assert a.runtime_s == b.runtime_s
    assert a.runtime_s != c.runtime_s
    assert abs(a.runtime_s / c.runtime_s - 1) < 0.25  # a few percent of noise, not chaos
    assert expected(wl, spec, 0).runtime_s == simulate(wl, spec, 0, seed=5, noise=False, spot_loss=False).runtime_s


def test_memory_hungry_needs_memory_optimised_nodes():
    wl = load_workload("memory_hungry")
    c5 = expected(wl, ClusterSpec("c5.2xlarge", 8), 0)
    assert not c5.succeeded and c5.failure_kind == "oom"
    assert "OutOfMemoryError" in (c5.failure or "")
    m5 = expected(wl, ClusterSpec("m5.2xlarge", 8), 0)
    r5 = expected(wl, ClusterSpec("r5.2xlarge", 8), 0)
    assert m5.succeeded and r5.succeeded
    assert r5.runtime_s < 0.75 * m5.runtime_s
    spilled = sum(float(s.tasks.disk_spill.sum()) for s in m5.stages)
    assert spilled > 0


def test_photon_helps_sql_not_ml():
    agg = rt("aggregation", "m5.2xlarge", 8) / rt("aggregation", "m5.2xlarge", 8, photon=True)
    ml = rt("iterative_ml", "m5.2xlarge", 8) / rt("iterative_ml", "m5.2xlarge", 8, photon=True)
    assert agg > 1.6
    assert ml < 1.05


def test_scaling_differs_skew_and_amdahl():
    agg = rt("aggregation", "m5.2xlarge", 4) / rt("aggregation", "m5.2xlarge", 16)
    skew = rt("skewed", "r5.2xlarge", 4) / rt("skewed", "r5.2xlarge", 16)
    ml = rt("iterative_ml", "m5.2xlarge", 4) / rt("iterative_ml", "m5.2xlarge", 32)
    assert agg > 3.0  # nearly linear
    assert skew < 1.5  # the straggler does not shrink with more workers
    assert ml < 5.0  # driver-bound: far from the 8x more cores


def test_network_and_graviton():
    # I/O-bound scan: sustained 10 Gbit (r5) beats "up to 10 Gbit" (m5) at the same size
    assert rt("io_scan", "r5.2xlarge", 8) < 0.8 * rt("io_scan", "m5.2xlarge", 8)
    # CPU-bound aggregation: Graviton3 is faster and cheaper than m5
    wl = load_workload("aggregation")
    g = expected(wl, ClusterSpec("m7g.2xlarge", 8), 0)
    m = expected(wl, ClusterSpec("m5.2xlarge", 8), 0)
    assert g.runtime_s < m.runtime_s and g.cost.total_usd < m.cost.total_usd


def test_spot_loss_costs_time_and_saves_money():
    doc = """
name: spotty
stages: [{name: s, tasks: 400, cpu_s_per_task: 20}]
scenario: {spot_loss_probability: 1.0, noise_sigma: 0}
"""
    wl = parse_workload(doc, "spotty.yaml")
    on_demand = simulate(wl, ClusterSpec("m5.xlarge", 8), 0, seed=3)
    spot = simulate(wl, ClusterSpec("m5.xlarge", 8, spot=True), 0, seed=3)
    assert on_demand.spot_nodes_lost == 0
    assert spot.spot_nodes_lost >= 1
    assert spot.runtime_s > on_demand.runtime_s
    assert any(e.removed_reason and "spot" in e.removed_reason for e in spot.executors)
    killed = sum(int((s.tasks.status == 2).sum()) for s in spot.stages)
    assert killed >= 1
    assert spot.cost.cloud_usd < on_demand.cost.cloud_usd


def test_autoscaling_sits_between_min_and_max():
    wl = load_workload("aggregation")
    lo = expected(wl, ClusterSpec("m5.2xlarge", 2), 0).runtime_s
    hi = expected(wl, ClusterSpec("m5.2xlarge", 8), 0).runtime_s
    auto = expected(wl, ClusterSpec("m5.2xlarge", 8, autoscale_min=2, autoscale_max=8), 0)
    assert hi < auto.runtime_s < lo
    assert max(n for _, n in auto.worker_timeline) == 8


def test_forced_failure_and_growth():
    wl = load_workload("memory_hungry")
    grown = expected(wl, ClusterSpec("r5.2xlarge", 8), 6)
    base = expected(wl, ClusterSpec("r5.2xlarge", 8), 0)
    assert grown.input_bytes > 1.5 * base.input_bytes
    assert grown.runtime_s > base.runtime_s
    doc = (
        "name: f\nstages: [{name: a, tasks: 20, cpu_s_per_task: 1}, {name: b, tasks: 20, cpu_s_per_task: 1}]\n"
        "scenario: {fail_at_runs: [2]}"
    )
    f = parse_workload(doc, "f.yaml")
    assert expected(f, ClusterSpec("m5.xlarge", 2), 1).succeeded
    failed = expected(f, ClusterSpec("m5.xlarge", 2), 2)
    assert not failed.succeeded and failed.failure_kind == "forced"
    assert failed.jobs[-1].succeeded is False


def test_code_change_changes_stage_structure():
    doc = """
name: cc
stages: [{name: a, tasks: 10, cpu_s_per_task: 1}]
scenario:
  code_change:
    at_run: 2
    stages: [{name: x, tasks: 10, cpu_s_per_task: 1}, {name: y, tasks: 5, cpu_s_per_task: 2}]
"""
    wl = parse_workload(doc, "cc.yaml")
    before = expected(wl, ClusterSpec("m5.xlarge", 2), 1)
    after = expected(wl, ClusterSpec("m5.xlarge", 2), 2)
    assert [s.name for s in before.stages] == ["a"]
    assert [s.name for s in after.stages] == ["x", "y"]


def test_cost_parts_and_photon_dbus():
    wl = load_workload("generic")
    plain = expected(wl, ClusterSpec("m5.xlarge", 2), 0)
    photon = expected(wl, ClusterSpec("m5.xlarge", 2, photon=True), 0)
    assert plain.cost.cloud_usd > 0 and plain.cost.dbu_usd > 0
    per_s_plain = plain.cost.dbu_usd / (plain.startup_s + plain.runtime_s)
    per_s_photon = photon.cost.dbu_usd / (photon.startup_s + photon.runtime_s)
    assert per_s_photon > 2 * per_s_plain


def test_single_node_and_bad_specs():
    wl = load_workload("generic")
    single = expected(wl, ClusterSpec("m5.2xlarge", 0), 0)
    assert single.succeeded and {t for s in single.stages for t in s.tasks.executor} == {"driver"}
    with pytest.raises(UnknownNodeType):
        expected(wl, ClusterSpec("m9.huge", 2), 0)
    with pytest.raises(ValueError):
        expected(wl, ClusterSpec("m5.xlarge", -1), 0)


def test_cheapest_configuration_under_sla_differs_between_workloads():
    from sync_provider.emulator.truth_table import cheapest_under_sla

    grid = {
        "instance_types": ("m5.2xlarge", "c6i.2xlarge", "r5.2xlarge", "m7g.2xlarge", "i3.2xlarge"),
        "workers": (2, 4, 8, 16),
    }
    picks = {name: cheapest_under_sla(name, sla_s=900, **grid) for name in ("memory_hungry", "aggregation", "io_scan")}
    assert all(p is not None for p in picks.values())
    families = {p["instance_type"].split(".")[0] for p in picks.values()}
    photons = {p["photon"] for p in picks.values()}
    assert len(families) > 1 or len(photons) > 1
