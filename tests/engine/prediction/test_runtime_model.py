"""The runtime model: black-box priors from one run, anchoring on observed runs, noise, xgboost, p50 <= p90."""

from __future__ import annotations

import numpy as np
import pytest

from sync_provider.engine.evidence.catalog import Catalog
from sync_provider.engine.models import ClusterConfig, RunObservation
from sync_provider.engine.prediction.model import RuntimeModel, job_spill_disk_ratio
from sync_provider.engine.prediction.resources import ResourceTable
from sync_provider.engine.prediction.synthetic import make_profile

TABLE = ResourceTable(Catalog.default())


def cfg(n: int, t: str = "m5.xlarge", **kw) -> ClusterConfig:
    return ClusterConfig(instance_type=t, num_workers=n, **kw)


def run(n: int, runtime: float, t: str = "m5.xlarge", **kw) -> RunObservation:
    return RunObservation(config=cfg(n, t), runtime_s=runtime, **kw)


def hot_key_profile():
    """A stage whose biggest tasks (a hot key, 30x the mean) need several times an m5.xlarge slot and spill there."""
    return make_profile(
        slots=16, stages=1, tasks=400, skew=30.0, cpu_share=0.5,
        peak_memory_bytes=int(1.7 * 2**30), spilled_bytes=40 * 2**30, input_bytes=10 * 2**30,
    )  # fmt: skip


def predict(runs, configs, input_bytes=None):
    model = RuntimeModel(TABLE).fit(runs)
    return model, model.predict(TABLE.arrays(configs), input_bytes)


def test_blackbox_first_move_from_a_single_run_is_sensible():
    _, est = predict([run(8, 1000)], [cfg(4), cfg(8), cfg(16)])
    half, same, double = est.p50
    assert same == pytest.approx(1000, rel=0.05)
    # Halving the cluster is slower, but less than twice as slow (serial part); doubling is faster.
    assert 1.5 * same < half < 2.0 * same
    assert 0.5 * same < double < 0.75 * same
    assert (est.p90 > est.p50).all()
    # Far from the run the band is wider than at the run itself.
    assert est.sigma[0] > est.sigma[1] and est.sigma[2] > est.sigma[1]


@pytest.mark.parametrize("profiled", [False, True])
def test_photon_toggled_without_a_profile_is_far_less_certain(monkeypatch, profiled):
    # Without a profile nothing says how much of the job Photon runs (1x to about 3x): a first move must not turn
    # Photon off on the strength of one prior. With one, the replay estimates the job's own gain.
    import sync_provider.engine.prediction.model as model_module

    profile = make_profile(slots=32) if profiled else None
    runs = [RunObservation(config=cfg(8, photon=True), runtime_s=1000 + d, profile=profile) for d in (0, 15, -10)]
    model = RuntimeModel(TABLE).fit(runs)
    configs = TABLE.arrays([cfg(8, photon=True), cfg(8)])
    est = model.predict(configs)
    spread = model_module.UNSEEN_PHOTON_SPREAD[model.mode]
    monkeypatch.setattr(model_module, "UNSEEN_PHOTON_SPREAD", {"profile": 0.0, "blackbox": 0.0})
    flat = model.predict(configs)
    assert est.sigma[0] == pytest.approx(flat.sigma[0])
    assert est.sigma[1] ** 2 - flat.sigma[1] ** 2 == pytest.approx(spread**2)
    if not profiled:
        # The p90 of Photon off reaches past a 2x slowdown of the run with Photon on.
        assert est.p90[1] > 2.0 * 1000


def test_observed_configurations_are_predicted_from_their_own_runs():
    runs = [run(8, 1000), run(4, 1500), run(16, 800)]  # scales much worse than the prior assumes
    _, est = predict(runs, [cfg(8), cfg(4), cfg(16)])
    assert est.p50 == pytest.approx([1000, 1500, 800], rel=0.08)


def test_one_slow_run_moves_the_estimate_a_little():
    steady = [run(8, 1000 + d) for d in (-10, 5, 0, 12, -6)]
    _, before = predict(steady, [cfg(8)])
    _, after = predict([*steady, run(8, 1600)], [cfg(8)])
    assert after.p50[0] < 1.1 * before.p50[0]
    assert after.p90[0] > before.p90[0]


def test_input_growth_scales_the_prediction():
    runs = [run(8, 1000, input_bytes=10 * 2**30)]
    model, est = predict(runs, [cfg(8)], input_bytes=20 * 2**30)
    assert est.p50[0] > 1.6 * 1000


def test_profile_mode_uses_the_replay():
    prof = make_profile(slots=32, driver_s=60)
    runs = [run(8, prof.duration_s + 100, profile=prof)]
    model, est = predict(runs, [cfg(8), cfg(16), cfg(4)])
    assert model.mode == "profile"
    same, double, half = est.p50
    assert same == pytest.approx(prof.duration_s + 100, rel=0.05)
    assert double < same < half


def test_xgboost_correction_once_history_is_long():
    rng = np.random.default_rng(3)
    runs = []
    for _ in range(30):
        n = int(rng.choice([2, 4, 8, 16]))
        t = str(rng.choice(["m5.xlarge", "r5.xlarge"]))
        truth = 100 + 40000 / (4 * n) * (1.4 if t == "r5.xlarge" else 1.0)  # r5 is slower than the prior says
        runs.append(run(n, truth * float(rng.lognormal(0, 0.03)), t))
    model, est = predict(runs, [cfg(4, "r5.xlarge"), cfg(4, "m5.xlarge")])
    assert model._correction.booster is not None
    assert est.p50[0] == pytest.approx(100 + 40000 / 16 * 1.4, rel=0.12)
    assert est.p50[1] == pytest.approx(100 + 40000 / 16, rel=0.12)


def test_fit_needs_a_successful_run():
    with pytest.raises(ValueError, match="no successful run"):
        RuntimeModel(TABLE).fit([RunObservation(config=cfg(4), runtime_s=None, succeeded=False)])


def test_the_jobs_own_repeats_outweigh_the_noise_prior_from_the_second_run():
    from sync_provider.engine.prediction.correction import NOISE_PRIOR, Correction

    arrays = TABLE.arrays([cfg(8), cfg(8)])
    residuals = np.array([0.0, 0.2])  # a noisy job: two runs of one configuration 20% apart
    own = float(np.std(residuals, ddof=1))
    corr = Correction.fit(arrays, np.ones(2), residuals, np.ones(2), base_spread=0.1)
    assert (NOISE_PRIOR + own) / 2 < corr.noise < own


def test_a_slow_run_among_tight_repeats_counts_in_full_towards_the_noise():
    from sync_provider.engine.prediction.correction import NOISE_PRIOR, NOISE_PRIOR_WEIGHT, Correction

    # Four repeats within 1% and one 9% slower: a median-based spread would call that a 1-2% job.
    residuals = np.array([0.0, 0.01, -0.01, 0.0, 0.09])
    arrays = TABLE.arrays([cfg(8)] * len(residuals))
    corr = Correction.fit(arrays, np.ones(5), residuals, np.ones(5), base_spread=0.1)
    squares = float(((residuals - residuals.mean()) ** 2).sum())
    expected = np.sqrt((NOISE_PRIOR_WEIGHT * NOISE_PRIOR**2 + squares) / (NOISE_PRIOR_WEIGHT + 4))
    assert corr.noise == pytest.approx(expected)


@pytest.mark.parametrize("profiled", [True, False])
def test_photon_on_a_family_the_job_has_not_run_with_photon_is_less_certain(monkeypatch, profiled):
    import sync_provider.engine.prediction.model as model_module

    profile = make_profile(slots=32) if profiled else None
    runs = [RunObservation(config=cfg(8, photon=True), runtime_s=1000 + d, profile=profile) for d in (0, 15, -10)]
    configs = [cfg(8, photon=True), cfg(8, "r5.xlarge", photon=True), cfg(8, "r5.xlarge")]
    model = RuntimeModel(TABLE).fit(runs)
    assert model.mode == ("profile" if profiled else "blackbox")
    est = model.predict(TABLE.arrays(configs))
    spread = model_module.UNSEEN_PHOTON_FAMILY_SPREAD
    assert spread > 0
    monkeypatch.setattr(model_module, "UNSEEN_PHOTON_FAMILY_SPREAD", 0.0)
    flat = model.predict(TABLE.arrays(configs))
    # Only Photon on r5 (a family never run with Photon) widens, by the family spread in quadrature, and only
    # where the Photon gain comes from replaying a profile.
    assert est.sigma[0] == pytest.approx(flat.sigma[0])
    assert est.sigma[2] == pytest.approx(flat.sigma[2])
    widened = est.sigma[1] ** 2 - flat.sigma[1] ** 2
    assert widened == pytest.approx(spread**2 if profiled else 0.0, abs=1e-12)
    assert est.p50 == pytest.approx(flat.p50)


def test_memory_per_core_just_below_what_carried_the_input_is_not_a_memory_risk():
    # Tasks that need ~12 GiB at the biggest: an r5.xlarge (8 GiB per core) carried them; an i3.2xlarge (7.6 GiB
    # per core) is the same bet, an m5.xlarge (4 GiB per core) is not.
    profile = make_profile(slots=16, peak_memory_bytes=6 * 2**30, skew=2.0, input_bytes=10 * 2**30)
    runs = [run(4, 1000, "r5.xlarge", profile=profile, input_bytes=10 * 2**30)]
    model = RuntimeModel(TABLE).fit(runs)
    risky = model.memory_risk(TABLE.arrays([cfg(4, "r5.xlarge"), cfg(4, "i3.2xlarge"), cfg(8, "m5.xlarge")]))
    assert risky.tolist() == [False, False, True]


def test_a_photon_run_whose_plan_stayed_on_spark_predicts_no_photon_gain():
    ops = {"Scan json": 2, "Project": 1, "Filter": 1}
    cpu_bound = make_profile(slots=16, cpu_share=0.9, gc_share=0.0, shuffle_share=0.05, sql_operators=ops)
    photon_cfg, plain_cfg = cfg(4, photon=True), cfg(4)
    # The same evidence from a run without Photon: the operator names promise a large gain.
    _, est = predict([RunObservation(config=plain_cfg, runtime_s=1000, profile=cpu_bound)], [plain_cfg, photon_cfg])
    assert est.p50[1] < 0.7 * est.p50[0]
    # From a Photon run whose plan has no Photon operator: turning Photon off costs (nearly) nothing, and the
    # evidence holds for the job's other references too.
    runs = [
        RunObservation(config=plain_cfg, runtime_s=1000, profile=cpu_bound),
        RunObservation(config=photon_cfg, runtime_s=1000, profile=cpu_bound),
    ]
    _, est = predict(runs, [plain_cfg, photon_cfg])
    assert est.p50[0] == pytest.approx(est.p50[1], rel=0.05)


def test_the_newest_spilling_run_gives_the_job_its_spill_compression():
    spilled = make_profile(slots=16, peak_memory_bytes=int(0.9 * 2**30), spilled_bytes=40 * 2**30)
    # Wider rows compress better: a quarter of the memory spilled reaches the disk.
    stages = [s.model_copy(update={"memory_spilled_bytes": 4 * s.disk_spilled_bytes}) for s in spilled.stages]
    wide = spilled.model_copy(update={"stages": stages})
    held = make_profile(slots=16, peak_memory_bytes=3 * 2**30)
    runs = [
        RunObservation(config=cfg(4, "c5.xlarge"), runtime_s=1200, profile=spilled),
        RunObservation(config=cfg(4, "c5.xlarge"), runtime_s=1200, profile=wide),
        RunObservation(config=cfg(4, "r5.xlarge"), runtime_s=900, profile=held),
    ]
    assert job_spill_disk_ratio(list(enumerate(runs))) == pytest.approx(0.25)
    assert job_spill_disk_ratio(list(enumerate(runs[:1]))) == pytest.approx(0.5)
    assert job_spill_disk_ratio(list(enumerate(runs[2:]))) is None


def test_memory_that_carried_the_input_only_by_luck_proves_nothing():
    # A stage whose biggest tasks (a hot key, 30x the mean) needed several times an m5.xlarge slot and spilled
    # there: the run finished, but one whose skew is a little worse dies of OutOfMemoryError (the benchmark's
    # skewed job did, on its heavier days). So the m5.xlarge is not proven by it; an r5.xlarge (twice the memory
    # per core) is no risk.
    hot = hot_key_profile()
    model = RuntimeModel(TABLE).fit([run(4, 1000, profile=hot, input_bytes=10 * 2**30)])
    assert model.memory_risk(TABLE.arrays([cfg(4), cfg(4, "r5.xlarge")])).tolist() == [True, False]


def test_a_lucky_run_older_than_the_references_still_makes_its_memory_a_risk():
    # The m5.xlarge carried the hot key only by luck; three clean r5.xlarge runs later it is no longer a reference
    # and their profiles show no big task, but going back to 4 GiB per core (or less) is the same bet as before.
    hot = hot_key_profile()
    clean = make_profile(slots=16, stages=1, tasks=400, peak_memory_bytes=2**30, input_bytes=10 * 2**30)
    runs = [run(4, 1000, profile=hot, input_bytes=10 * 2**30)]
    runs += [run(4, 900, "r5.xlarge", profile=clean, input_bytes=10 * 2**30) for _ in range(3)]
    model = RuntimeModel(TABLE).fit(runs)
    candidates = TABLE.arrays([cfg(4), cfg(8, "c5.xlarge"), cfg(4, "r5.xlarge")])
    assert model.memory_risk(candidates).tolist() == [True, True, False]
    # Without the lucky run nothing says the smaller memory is a risk.
    assert not RuntimeModel(TABLE).fit(runs[1:]).memory_risk(candidates).any()
