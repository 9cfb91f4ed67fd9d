"""The optimizer's choice per preference, on hand-made predictions."""

from __future__ import annotations

import numpy as np
import pytest

from sync_provider.engine.decision.candidates import enumerate_candidates, hourly_prices, within_constraints
from sync_provider.engine.decision.optimizer import choose
from sync_provider.engine.errors import TooManyCandidatesError
from sync_provider.engine.evidence.cost import CostModel
from sync_provider.engine.models import ClusterConfig, Constraints, Goals, Preference, SpotPolicy

P50 = np.array([100.0, 200.0, 400.0, 800.0])
P90 = P50 * 1.2
COST = np.array([4.0, 2.5, 2.0, 1.8])


def test_economy_is_the_cheapest_whose_p90_meets_the_sla():
    ch = choose(P50, P90, COST, Goals(sla_seconds=500))
    assert ch[Preference.ECONOMY].index == 2  # 800 s would have a p90 of 960 s


def test_performance_is_the_fastest_within_the_cost_target():
    ch = choose(P50, P90, COST, Goals(sla_seconds=1000, cost_target_usd=3.0))
    assert ch[Preference.PERFORMANCE].index == 1
    assert ch[Preference.ECONOMY].index == 3


def test_performance_without_cost_target_is_capped_relative_to_economy():
    ch = choose(P50, P90, COST, Goals(sla_seconds=1000))
    # 1.5 x the economy cost (1.8) = 2.7: the 4.0 candidate is out.
    assert ch[Preference.PERFORMANCE].index == 1


def test_balanced_minimises_cost_times_runtime():
    ch = choose(P50, P90, COST, Goals(sla_seconds=1000))
    prod = COST * P50
    allowed = COST <= 1.5 * COST.min()
    assert ch[Preference.BALANCED].index == int(np.argmin(np.where(allowed, prod, np.inf)))


def test_no_candidate_meets_the_sla():
    ch = choose(P50, P90, COST, Goals(sla_seconds=10))
    assert all(c.index == 0 and not c.meets_sla for c in ch.values())


def test_enumeration_respects_constraints():
    cm = CostModel()
    cons = Constraints(instance_families=["r5"], architectures=["x86_64"], min_workers=2, max_workers=5,
                       photon_allowed=False, spot_policy=SpotPolicy.ALLOWED)  # fmt: skip
    cands = enumerate_candidates(cons, cm)
    assert {c.instance_type.split(".")[0] for c in cands} == {"r5"}
    assert {c.num_workers for c in cands} == {2, 3, 4, 5}
    assert not any(c.photon for c in cands) and any(c.spot for c in cands)
    assert within_constraints(ClusterConfig(instance_type="r5.xlarge", num_workers=3), cons, cm)
    assert not within_constraints(ClusterConfig(instance_type="m5.xlarge", num_workers=3), cons, cm)


def test_a_search_space_too_large_to_score_is_refused_before_it_is_built():
    cm = CostModel()
    # Every catalog type with up to 700 workers, Photon and spot both ways: the largest space scored.
    assert len(enumerate_candidates(Constraints(instance_types=["m5.xlarge"], max_workers=700), cm)) == 2 * 700
    with pytest.raises(TooManyCandidatesError, match="narrow the worker range"):
        enumerate_candidates(Constraints(max_workers=100_000_000, spot_policy=SpotPolicy.ALLOWED), cm)


def test_vectorised_hourly_prices_match_the_cost_model():
    cm = CostModel()
    configs = [
        ClusterConfig(instance_type="m5.xlarge", num_workers=4),
        ClusterConfig(
            instance_type="r5.2xlarge", num_workers=7, photon=True, spot=True, driver_instance_type="m5.xlarge"
        ),
    ]
    got = hourly_prices(configs, cm).total
    want = [cm.hourly(c).total_usd for c in configs]
    assert np.allclose(got, want)
