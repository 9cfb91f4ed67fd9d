"""The controller's rules on small deterministic histories."""

from __future__ import annotations

import pytest

from sync_provider.engine import InvalidHistoryError, NoCandidateError
from sync_provider.engine.decision.controller import ControllerSettings
from sync_provider.engine.evidence.cost import CostModel
from sync_provider.engine.models import ClusterConfig, Constraints, Goals, Phase, Preference, RunObservation
from sync_provider.engine.prediction.synthetic import make_profile
from sync_provider.engine.recommend import recommend

CM = CostModel()
M5 = Constraints(instance_families=["m5"], photon_allowed=False)


def cfg(n: int, t: str = "m5.xlarge") -> ClusterConfig:
    return ClusterConfig(instance_type=t, num_workers=n)


def truth(n: int, vcpus: int = 4, input_scale: float = 1.0) -> float:
    """A job with 60 s of serial time and 40,000 core-seconds of parallel work."""
    return 60 + 40000 * input_scale / (n * vcpus)


def run(n: int, runtime: float | None = None, *, ok: bool = True, input_bytes: int | None = None, profile=None):
    return RunObservation(
        config=cfg(n),
        runtime_s=(runtime if runtime is not None else truth(n)) if ok else None,
        succeeded=ok,
        input_bytes=input_bytes,
        profile=profile,
    )


def economy(pred):
    return pred.for_preference(Preference.ECONOMY)


def test_step_limit_at_most_halves_the_workers_per_run():
    history = [run(32), run(32), run(32)]
    pred = recommend(history, Goals(sla_seconds=5000), M5, CM)
    sol = economy(pred)
    assert sol.config.num_workers < 32
    assert sol.config.num_workers >= 16
    # Without the step limit the same history goes further down.
    free = recommend(history, Goals(sla_seconds=5000), M5, CM, settings=ControllerSettings(max_step=100))
    assert economy(free).config.num_workers < 16


def test_rollback_after_a_failed_run_of_a_changed_configuration():
    history = [run(16), run(16), run(8, ok=False)]
    pred = recommend(history, Goals(sla_seconds=2000), M5, CM)
    assert pred.phase is Phase.ROLLBACK
    assert all(s.config == cfg(16) for s in pred.solutions.values())
    assert "back to the last good" in pred.reason


def test_rollback_after_an_sla_breach_of_a_changed_configuration():
    history = [run(16), run(16), run(8, runtime=2500)]
    pred = recommend(history, Goals(sla_seconds=2000), M5, CM)
    assert pred.phase is Phase.ROLLBACK
    assert economy(pred).config == cfg(16)


def test_a_failed_configuration_is_never_retried_blindly():
    history = [run(16), run(16), run(8, ok=False), run(16)]
    pred = recommend(history, Goals(sla_seconds=4000), M5, CM)
    assert pred.phase is not Phase.ROLLBACK
    for sol in pred.solutions.values():
        # Nothing with no more memory than the failed 8 x m5.xlarge.
        assert sol.config.num_workers > 8


def test_hysteresis_keeps_the_current_config_for_a_small_gain():
    # 10 workers meet the SLA; 9 would save ~2% at most: not worth a change.
    history = [run(10), run(10), run(10), run(9), run(10)]
    sla = truth(9) * 1.02
    pred = recommend(history, Goals(sla_seconds=sla), M5, CM, settings=ControllerSettings(min_gain=0.15))
    assert economy(pred).config == cfg(10)
    assert pred.phase is Phase.STABLE
    assert "keep" in economy(pred).reason


def test_converges_and_then_stays_put():
    config = cfg(32)
    history: list[RunObservation] = []
    seen = []
    for _ in range(10):
        history.append(run(config.num_workers))
        pred = recommend(history, Goals(sla_seconds=1500), M5, CM)
        config = economy(pred).config
        seen.append(config.num_workers)
    assert seen[-1] == seen[-2] == seen[-3], seen
    assert truth(seen[-1]) <= 1500
    assert pred.phase is Phase.STABLE


def test_input_growth_replans_before_the_sla_breaks():
    gib = 2**30
    # Runtime grows with the input, 15% per run; the SLA is still met by the last run.
    history = [run(8, runtime=truth(8, input_scale=1.15**i), input_bytes=int(100 * gib * 1.15**i)) for i in range(5)]
    sla = truth(8, input_scale=1.15**4) * 1.15
    assert history[-1].runtime_s < sla
    pred = recommend(history, Goals(sla_seconds=sla), M5, CM)
    sol = economy(pred)
    assert sol.config.num_workers > 8
    assert "input growing" in pred.reason


def test_flat_input_does_not_replan():
    gib = 2**30
    history = [run(8, input_bytes=100 * gib + i) for i in range(5)]
    pred = recommend(history, Goals(sla_seconds=truth(8) * 1.15), M5, CM)
    assert "input growing" not in pred.reason
    assert economy(pred).config.num_workers <= 8


def test_code_change_starts_relearning():
    old = make_profile(slots=32, fingerprint="v1")
    new = make_profile(slots=32, fingerprint="v2", stages=9)
    history = [run(8, profile=old) for _ in range(4)] + [run(8, runtime=new.duration_s + 60, profile=new)]
    pred = recommend(history, Goals(sla_seconds=5000), M5, CM)
    assert pred.phase is Phase.RELEARNING
    assert "structure changed" in pred.reason
    # Two runs of the new code later, the controller is optimizing again.
    history += [run(8, runtime=new.duration_s + 60, profile=new) for _ in range(3)]
    assert recommend(history, Goals(sla_seconds=5000), M5, CM).phase in (Phase.OPTIMIZING, Phase.STABLE)


def test_unmeetable_sla_answers_the_fastest_candidate_flagged():
    pred = recommend([run(8)], Goals(sla_seconds=1), M5, CM)
    for sol in pred.solutions.values():
        assert sol.meets_sla is False
    assert pred.warnings
    fastest = economy(pred)
    # The step limit is lifted while the SLA is at risk: the fastest allowed is far bigger than now.
    assert fastest.config.num_workers > 16


def test_contradictory_goals_keep_the_sla_and_flag_the_cost_target():
    pred = recommend([run(8), run(8), run(8)], Goals(sla_seconds=2000, cost_target_usd=0.0001), M5, CM)
    sol = economy(pred)
    assert sol.meets_sla and not sol.meets_cost_target
    assert any("cost target" in w for w in pred.warnings)


def test_one_solution_per_preference_with_bands():
    pred = recommend([run(16), run(16), run(16)], Goals(sla_seconds=3000), M5, CM)
    assert set(pred.solutions) == set(Preference)
    for sol in pred.solutions.values():
        assert sol.predicted_runtime_p90_s >= sol.predicted_runtime_s
        assert sol.cost_low_usd <= sol.cost.total_usd <= sol.cost_high_usd
    perf, eco = pred.for_preference("performance"), economy(pred)
    assert perf.predicted_runtime_s <= eco.predicted_runtime_s
    assert eco.cost.total_usd <= perf.cost.total_usd


def test_bad_input_raises_clear_errors():
    with pytest.raises(InvalidHistoryError, match="history is empty"):
        recommend([], Goals(), M5, CM)
    with pytest.raises(InvalidHistoryError, match="no positive runtime"):
        recommend([RunObservation(config=cfg(4), runtime_s=None, succeeded=True)], Goals(), M5, CM)
    with pytest.raises(InvalidHistoryError, match="catalog"):
        recommend([RunObservation(config=cfg(4, "x9.huge"), runtime_s=10)], Goals(), M5, CM)
    with pytest.raises(NoCandidateError, match="widen the constraints"):
        recommend([run(4)], Goals(), Constraints(instance_families=["nope"]), CM)
    with pytest.raises(ValueError):
        RunObservation(config=cfg(4), runtime_s=-3)


def test_every_run_failed_asks_for_more_memory():
    pred = recommend([run(4, ok=False)], Goals(sla_seconds=1000), M5, CM)
    new = economy(pred).config
    node, old = CM.catalog.get(new.instance_type), CM.catalog.get("m5.xlarge")
    assert new.num_workers * node.memory_gib > 4 * old.memory_gib
    assert pred.warnings


def test_a_step_in_the_input_is_a_new_level_not_a_trend():
    from sync_provider.engine.decision.drift import input_trend

    gib = 2**30
    runs = [run(8, input_bytes=100 * gib) for _ in range(5)] + [run(8, input_bytes=200 * gib) for _ in range(3)]
    trend = input_trend(runs)
    assert not trend.growing
    assert trend.projected_bytes == 200 * gib
    steady = [run(8, input_bytes=int(100 * gib * 1.05**i)) for i in range(6)]
    assert input_trend(steady).growing


def test_a_miss_on_much_more_input_is_drift_not_a_reason_to_roll_back():
    gib = 2**30
    history = [run(16, input_bytes=100 * gib), run(16, input_bytes=100 * gib)]
    history.append(run(12, runtime=truth(12, input_scale=2.0), input_bytes=200 * gib))
    sla = truth(16) * 1.2
    pred = recommend(history, Goals(sla_seconds=sla), M5, CM)
    assert pred.phase is not Phase.ROLLBACK
    assert economy(pred).config.num_workers > 16  # re-planned for the doubled input


def test_a_new_configuration_that_failed_once_is_not_retried_but_a_proven_one_is():
    proven = [run(16) for _ in range(4)] + [run(16, ok=False)]
    pred = recommend(proven, Goals(sla_seconds=4000), M5, CM)
    assert pred.phase is not Phase.ROLLBACK
    # One failure after four successes: a transient; 16 workers stay allowed (the choice may move anyway).
    assert any(s.config.num_workers <= 16 for s in pred.solutions.values())


def test_a_proven_configuration_that_failed_on_more_input_than_it_ever_carried_is_not_retried():
    from sync_provider.engine.decision.controller import Controller

    gib = 2**30
    carried = [run(16, input_bytes=100 * gib) for _ in range(4)]
    goals = Goals(sla_seconds=4000)
    ctl = Controller(CM)
    # On the data it has carried, a failure is a transient: one retry. On more data than ever, it is most likely
    # memory: no blind retry, and the next run gets more memory per core.
    assert ctl._context([*carried, run(16, ok=False, input_bytes=100 * gib)], goals, None).bad == set()
    more = [*carried, run(16, ok=False, input_bytes=103 * gib)]
    assert ctl._context(more, goals, None).bad == {cfg(16).key()}
    pred = recommend(more, goals, Constraints(instance_families=["m5", "r5"], photon_allowed=False), CM)
    assert economy(pred).config.instance_type.startswith("r5")


def test_no_rollback_to_a_configuration_the_data_has_since_outgrown():
    # 6 x m5.xlarge met the SLA, then failed on the same configuration (the data, not a move); the next run, on
    # 10 x r5.xlarge, missed the SLA. Going back to the last run within the SLA would retry the configuration
    # that just failed, or 8 x m5.xlarge with no more memory per core: neither is a good place to go back to, so
    # the controller re-plans, with more memory per core than the failure had.
    sla = truth(6) * 1.05
    history = [run(8), run(6), run(6, ok=False), run(10, runtime=sla * 1.1)]
    history[-1] = history[-1].model_copy(update={"config": cfg(10, "r5.xlarge")})
    pred = recommend(
        history, Goals(sla_seconds=sla), Constraints(instance_families=["m5", "r5"], photon_allowed=False), CM
    )
    assert pred.phase is not Phase.ROLLBACK
    assert all(s.config.instance_type.startswith("r5") for s in pred.solutions.values())
    # A move that failed is still undone: the configuration it left had never failed.
    moved = [run(8), run(6), run(4, ok=False)]
    assert recommend(moved, Goals(sla_seconds=sla * 2), M5, CM).phase is Phase.ROLLBACK


def _exploration(photon_workers: int, p50: list[float], sigma: list[float], economy_index: int):
    """A controller two runs into a job, its candidates m5.xlarge x8, x6 and x`photon_workers` with Photon, and
    `explore(cost, sla_runtime=None, segment=None)`: the economy index after the exploration rule."""
    import numpy as np

    from sync_provider.engine.decision.controller import Controller, _Context
    from sync_provider.engine.decision.optimizer import Choice
    from sync_provider.engine.prediction.model import RuntimeEstimate

    ctl = Controller(CM)
    configs = [cfg(8), cfg(6), ClusterConfig(instance_type="m5.xlarge", num_workers=photon_workers, photon=True)]
    arrays = ctl.resources.arrays(configs)
    history = [run(8), run(8)]
    ctx = _Context(history, history, False, cfg(8), cfg(8), set(), set(), Phase.OPTIMIZING, [])
    p50_ = np.array(p50)
    est = RuntimeEstimate(p50=p50_, p90=p50_ * 1.1, sigma=np.array(sigma))
    choices = {p: Choice(economy_index, True, True) for p in Preference}

    def explore(cost, sla_runtime=None, segment=None):
        ctx.segment = segment or history
        runtime = p50_ * 1.1 if sla_runtime is None else np.asarray(sla_runtime)
        out = ctl._explore(
            ctx, choices, 0, est, np.array(cost), Goals(sla_seconds=5000), np.ones(3, bool), runtime, arrays
        )
        return out[Preference.ECONOMY].index

    return configs, ctx, explore


def test_exploration_prefers_an_uncertain_candidate_with_a_large_upside():
    _, ctx, explore = _exploration(8, [1000.0, 1300.0, 1000.0], [0.03, 0.05, 0.6], economy_index=0)
    assert explore([1.0, 0.99, 1.02]) == 2  # Photon: a bit dearer by the median, but very uncertain
    assert any("exploring" in n for n in ctx.notes)
    # Past the exploration window (5 runs of this code) the controller exploits.
    assert explore([1.0, 0.99, 1.02], segment=[run(8)] * 5) == 0


def test_exploration_tries_photon_the_other_way_once_when_it_may_pay():
    # Expected improvement favours the sure small saving; Photon is dearer by its median, within one sigma.
    configs, ctx, explore = _exploration(6, [1000.0, 1300.0, 900.0], [0.03, 0.03, 0.25], economy_index=1)
    assert explore([1.0, 0.9, 1.15]) == 2
    assert any("Photon the other way" in n for n in ctx.notes)
    # Not when Photon is predicted to cost more than one sigma above the best so far, nor when it is unsafe.
    assert explore([1.0, 0.9, 1.5]) == 1
    assert explore([1.0, 0.9, 1.15], sla_runtime=[1100.0, 1430.0, 9900.0]) == 1
    # Once a run of this code has used Photon, expected improvement decides alone.
    photon_run = RunObservation(config=configs[2], runtime_s=900.0)
    assert explore([1.0, 0.9, 1.15], segment=[run(8), photon_run]) == 1


def test_when_every_candidate_is_a_memory_risk_the_most_memory_per_core_is_kept():
    # The job's hot key outgrew an m5.xlarge slot several times over and survived by luck; the constraints offer
    # nothing with more memory per core, so every candidate is a risk: the c5s (half the memory per core) are the
    # bigger one, however cheap.
    hot = make_profile(
        slots=16, stages=1, tasks=400, skew=30.0, cpu_share=0.5,
        peak_memory_bytes=int(1.7 * 2**30), spilled_bytes=40 * 2**30, input_bytes=10 * 2**30,
    )  # fmt: skip
    history = [run(4, 1000, input_bytes=10 * 2**30, profile=hot) for _ in range(3)]
    constraints = Constraints(instance_families=["m5", "c5"], photon_allowed=False)
    pred = recommend(history, Goals(sla_seconds=4000), constraints, CM)
    assert all(s.config.instance_type.startswith("m5") for s in pred.solutions.values())
