"""The emulator as a benchmark world: runs are simulated, profiles come from the emulator's own event logs.

Ground truth (expected runtime and true cost of every candidate at every run index) comes from the emulator's
noise-free simulation; the engine only ever sees what a real workspace shows: the run's wall time, success,
input bytes and the profile parsed from its event log.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from sync_provider.emulator.eventlog_writer import write_eventlog
from sync_provider.emulator.simulator import ClusterSpec, expected, simulate
from sync_provider.emulator.workloads import Workload
from sync_provider.engine.evidence.cost import CostModel, PricingSettings
from sync_provider.engine.evidence.eventlog import parse_eventlog
from sync_provider.engine.evidence.profile import data_input_bytes
from sync_provider.engine.models import ClusterConfig, CostBreakdown, RunObservation
from sync_provider.engine.offline.episodes import Outcome

#: The benchmark's search space: common general, compute, memory, storage and Graviton types.
BENCH_TYPES = (
    "m5.xlarge", "m5.2xlarge", "m6i.2xlarge", "c5.2xlarge", "c6g.2xlarge",
    "r5.xlarge", "r5.2xlarge", "r6g.2xlarge", "i3.2xlarge", "m7g.2xlarge",
)  # fmt: skip
BENCH_WORKERS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48)


def bench_candidates(photon: bool = True) -> list[ClusterConfig]:
    return [
        ClusterConfig(instance_type=t, num_workers=n, photon=p)
        for t in BENCH_TYPES
        for n in BENCH_WORKERS
        for p in ((False, True) if photon else (False,))
    ]


def bench_cost_model() -> CostModel:
    """What the engine is told about pricing: list prices, about 3 minutes of paid start-up."""
    return CostModel(pricing=PricingSettings(startup_seconds=190.0))


def _spec(c: ClusterConfig) -> ClusterSpec:
    return ClusterSpec(c.instance_type, c.num_workers, c.driver_instance_type, c.photon, c.spot)


class EmulatorWorld:
    """One workload in the emulator; `profiles=False` hides the event logs (black-box mode)."""

    def __init__(
        self,
        workload: Workload,
        candidates: Sequence[ClusterConfig] | None = None,
        *,
        profiles: bool = True,
        cost_model: CostModel | None = None,
    ):
        self.workload = workload
        self.candidates = list(candidates or bench_candidates())
        self.cost_model = cost_model or bench_cost_model()
        self.profiles = profiles
        self._tmp = Path(tempfile.mkdtemp(prefix="bench-eventlogs-"))
        self._expected = lru_cache(maxsize=None)(self._expected_uncached)

    def _expected_uncached(self, key: tuple, run_index: int) -> tuple[float | None, float]:
        c = ClusterConfig(instance_type=key[0], num_workers=key[1], photon=key[3], spot=key[4])
        sim = expected(self.workload, _spec(c), run_index)
        return (sim.runtime_s if sim.succeeded else None), sim.cost.total_usd

    def expected(self, config: ClusterConfig, run_index: int) -> tuple[float | None, float]:
        return self._expected(config.key(), run_index)

    def run(self, config: ClusterConfig, run_index: int, rng: np.random.Generator) -> Outcome:
        sim = simulate(self.workload, _spec(config), run_index, seed=int(rng.integers(1 << 30)))
        profile = None
        if self.profiles:
            path = self._tmp / f"run-{rng.integers(1 << 62)}"
            write_eventlog(sim, path)
            profile = parse_eventlog(path)
            path.unlink()
        obs = RunObservation(
            config=config,
            runtime_s=sim.runtime_s if sim.succeeded else None,
            succeeded=sim.succeeded,
            # As the product measures it (from the event log) when there is one.
            input_bytes=(data_input_bytes(profile) if profile is not None else sim.input_bytes) or None,
            cost=CostBreakdown(cloud_usd=sim.cost.cloud_usd, dbu_usd=sim.cost.dbu_usd),
            profile=profile,
            run_id=str(run_index),
        )
        return Outcome(config, obs.runtime_s, sim.cost.total_usd, obs)
