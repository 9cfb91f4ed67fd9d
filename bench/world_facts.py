"""What the world knows about an episode beyond its runs: the misses a policy could have avoided, the ceiling of a
policy that keeps a p90 margin, and the best first move within the step limit.

Each needs the noise-free runtime of many candidates at the episode's run indices. They are worked out per episode
in the process that ran it, whose world has simulated those candidates already, so that pooling seeds run in
other processes re-simulates nothing; the pooled figures then come from these facts alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median

import numpy as np
from emulator_world import EmulatorWorld

from sync_provider.engine.decision.controller import ControllerSettings
from sync_provider.engine.evidence.catalog import Catalog
from sync_provider.engine.offline.episodes import Episode, oracle
from sync_provider.engine.offline.metrics import CHECKPOINTS, EXPECTED_TOLERANCE, is_improvable, within_sla
from sync_provider.engine.prediction.model import Z90

#: The controller's step limit: a first move changes task slots at most this many times either way.
MAX_STEP = ControllerSettings().max_step


@dataclass(frozen=True)
class WorldFacts:
    """One episode's facts from its world (see the module docstring)."""

    runs: int
    avoidable_misses: int
    # run index -> a p90-safe clairvoyant policy is within 10% of the oracle's cost there (absent: no such run)
    p90_safe: dict[int, bool] = field(default_factory=dict)
    # improvable episodes only: cost change of the best first move within the step limit, and of the oracle's
    step_best_change: float | None = None
    oracle_change: float | None = None


def world_facts(e: Episode, world: EmulatorWorld, catalog: Catalog) -> WorldFacts:
    improvable = is_improvable(e)
    return WorldFacts(
        runs=len(e.runs) - 1,
        avoidable_misses=_avoidable_misses(e, world),
        p90_safe={
            k: _p90_safe_hit(e, world, k) for k in CHECKPOINTS if len(e.oracle_costs) > k and e.sla_seconds is not None
        },
        step_best_change=_step_best_change(e, world, catalog) if improvable else None,
        oracle_change=e.oracle_costs[1] / e.expected_costs[0] - 1.0 if improvable else None,
    )


def _avoidable_misses(e: Episode, world: EmulatorWorld) -> int:
    """Runs that failed or missed the SLA although some candidate meets it in expectation at that run."""
    bad = 0
    for k, r in enumerate(e.runs[1:], start=1):
        if within_sla(r.runtime_s, e.sla_seconds):
            continue
        best, _ = oracle(world, k, e.sla_seconds)
        bad += within_sla(world.expected(best, k)[0], e.sla_seconds, EXPECTED_TOLERANCE)
    return bad


def _p90_safe_hit(e: Episode, world: EmulatorWorld, k: int) -> bool:
    """A clairvoyant policy keeping a 90% chance of meeting the SLA under the run noise (expected runtime x
    exp(1.28 sigma) within the SLA) is within 10% of the oracle's cost at run k."""
    limit = e.sla_seconds / float(np.exp(Z90 * world.workload.scenario.noise_sigma))
    costs = [cost for c in world.candidates for rt, cost in [world.expected(c, k)] if rt is not None and rt <= limit]
    return bool(costs) and min(costs) <= 1.10 * e.oracle_costs[k]


def _step_best_change(e: Episode, world: EmulatorWorld, catalog: Catalog) -> float:
    """Cost change of the cheapest candidate within the step limit (task slots) that meets the SLA at run 1."""
    slots0 = e.start.num_workers * catalog.get(e.start.instance_type).vcpus
    costs = [
        cost
        for c in world.candidates
        if 1 / MAX_STEP - 1e-9 <= c.num_workers * catalog.get(c.instance_type).vcpus / slots0 <= MAX_STEP + 1e-9
        for rt, cost in [world.expected(c, 1)]
        if rt is not None and (e.sla_seconds is None or rt <= e.sla_seconds)
    ]
    return min(costs, default=e.expected_costs[0]) / e.expected_costs[0] - 1.0


def feasible_violation_rate(facts: Sequence[WorldFacts]) -> float | None:
    """Share of runs (after the start) that failed or missed the SLA although some candidate meets it in
    expectation at that run: the misses a policy could have avoided, without those the world makes inevitable
    (after a data step no configuration in the space may be fast enough)."""
    runs = sum(f.runs for f in facts)
    return sum(f.avoidable_misses for f in facts) / runs if runs else None


def p90_safe_within(facts: Sequence[WorldFacts], k: int) -> float | None:
    """The ceiling of "@k within 10%" for any policy with a p90 margin (the engine's rule), over the episodes
    that reached run k."""
    hits = [f.p90_safe[k] for f in facts if k in f.p90_safe]
    return sum(hits) / len(hits) if hits else None


def step_limited_saving(facts: Sequence[WorldFacts]) -> float | None:
    """Median first-move saving of the best candidate within the step limit over the oracle's median saving:
    the most a first recommendation can save under the controller's step rule."""
    pairs = [(f.step_best_change, f.oracle_change) for f in facts if f.step_best_change is not None]
    if not pairs:
        return None
    orc = median(o for _, o in pairs)
    return median(b for b, _ in pairs) / orc if orc else None
