"""Closed-loop episodes against a known world, and the policies compared in them.

A world answers "what happens if this job runs on this configuration" (a measured table in `backtest`, the
emulator in `bench/`) and knows the truth (expected runtime and cost of every candidate), so that each policy's
choices can be scored against the oracle: the cheapest candidate whose expected runtime meets the SLA.

Policies: the engine (`recommend`), and baselines: stay, random, a scaling heuristic, and CherryPick-style
Bayesian optimisation (a Gaussian process on log cost and one on log runtime, constrained expected improvement).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from sync_provider.engine.decision.controller import DEFAULT_SETTINGS, ControllerSettings
from sync_provider.engine.evidence.cost import CostModel
from sync_provider.engine.models import ClusterConfig, Constraints, Goals, RunObservation
from sync_provider.engine.prediction.correction import distance_features
from sync_provider.engine.prediction.resources import ResourceTable
from sync_provider.engine.recommend import recommend


@dataclass
class Outcome:
    """One run as the policy sees it (runtime None = failed) plus its true cost for scoring."""

    config: ClusterConfig
    runtime_s: float | None
    cost_usd: float
    observation: RunObservation


class World(Protocol):
    """What an episode runs against."""

    candidates: list[ClusterConfig]
    cost_model: CostModel

    def run(self, config: ClusterConfig, run_index: int, rng: np.random.Generator) -> Outcome: ...

    def expected(self, config: ClusterConfig, run_index: int) -> tuple[float | None, float]:
        """Expected (runtime or None if it fails, cost) of `config` at `run_index`."""
        ...


class Policy(Protocol):
    name: str

    def next(
        self, history: list[RunObservation], goals: Goals, world: World, rng: np.random.Generator
    ) -> ClusterConfig: ...


# ---------------------------------------------------------------------------------------------------- policies
class EnginePolicy:
    """The recommendation engine, restricted to the world's candidates."""

    name = "engine"

    def __init__(
        self,
        constraints: Constraints | None = None,
        settings: ControllerSettings | None = None,
        name: str | None = None,
    ):
        self.constraints = constraints or Constraints()
        self.settings = settings or DEFAULT_SETTINGS
        self.name = name or self.name

    def next(self, history, goals, world, rng):
        pred = recommend(
            history, goals, self.constraints, world.cost_model, candidates=world.candidates, settings=self.settings
        )
        return pred.for_preference(goals.preference).config


class StayPolicy:
    """Never changes anything: what an open-loop job does."""

    name = "stay"

    def next(self, history, goals, world, rng):
        return history[-1].config


class RandomPolicy:
    """A uniformly random candidate each run: a sanity floor."""

    name = "random"

    def next(self, history, goals, world, rng):
        return world.candidates[int(rng.integers(len(world.candidates)))]


class ScalingHeuristicPolicy:
    """Linear-scaling rule of thumb: resize the worker count so the runtime lands at 80% of the SLA.

    Keeps the instance type; after a failure it doubles the workers; without an SLA it stays.
    """

    name = "heuristic"
    target = 0.8

    def next(self, history, goals, world, rng):
        last = history[-1]
        same = [
            c
            for c in world.candidates
            if c.instance_type == last.config.instance_type and c.photon == last.config.photon
        ]
        same = same or world.candidates
        if not last.succeeded or last.runtime_s is None:
            want = last.config.num_workers * 2
        elif goals.sla_seconds is None:
            return last.config
        else:
            want = last.config.num_workers * last.runtime_s / (self.target * goals.sla_seconds)
        return min(same, key=lambda c: (abs(math.log(max(c.num_workers, 0.5) / max(want, 0.5))), c.num_workers))


class BayesOptPolicy:
    """CherryPick-style Bayesian optimisation over the candidates.

    Gaussian processes (Matern 5/2 + noise, scikit-learn) model log cost and log runtime over configuration
    features; the next run maximises expected improvement on cost times the probability of meeting the SLA.
    It stops exploring (and keeps the best feasible run so far) once the best EI is below 10% of the best
    cost and it has at least 4 runs, as CherryPick does; failed runs count as infeasible.
    """

    name = "bayesopt"
    stop_ei = 0.1
    min_runs = 4

    def __init__(self) -> None:
        self._tables: dict[int, ResourceTable] = {}

    def next(self, history, goals, world, rng):
        import warnings

        from scipy.stats import norm
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        table = self._tables.setdefault(id(world), ResourceTable(world.cost_model.catalog))
        cands = world.candidates
        X = distance_features(table.arrays(cands))
        index = {c.key(): i for i, c in enumerate(cands)}
        ok = [(index[r.config.key()], r.runtime_s) for r in history if r.succeeded and r.runtime_s]
        failed = {index[r.config.key()] for r in history if not r.succeeded and r.config.key() in index}
        tried = {index[r.config.key()] for r in history if r.config.key() in index}
        sla = goals.sla_seconds or math.inf
        hourly = _hourly(world)
        if not ok:
            return cands[int(rng.integers(len(cands)))]
        xi = np.array([i for i, _ in ok])
        t = np.array([rt for _, rt in ok], dtype=float)
        cost = hourly[xi] * t / 3600.0
        feasible = t <= sla
        best = float(cost[feasible].min()) if feasible.any() else math.inf
        kernel = ConstantKernel(1.0) * Matern(length_scale=1.0, nu=2.5) + WhiteKernel(0.01)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # hyper-parameters at their bounds on tiny samples are expected
            gp_t = GaussianProcessRegressor(kernel, normalize_y=True, random_state=0).fit(X[xi], np.log(t))
            mu_t, sd_t = gp_t.predict(X, return_std=True)
        mu_c = mu_t + np.log(hourly / 3600.0)
        sd_c = sd_t
        p_feasible = norm.cdf((math.log(sla) - mu_t) / np.maximum(sd_t, 1e-6)) if math.isfinite(sla) else 1.0
        if math.isfinite(best):
            z = (math.log(best) - mu_c) / np.maximum(sd_c, 1e-6)
            # EI on cost in dollars, from the lognormal predictive distribution.
            ei = best * norm.cdf(z) - np.exp(mu_c + sd_c**2 / 2) * norm.cdf(z - sd_c)
            ei = np.maximum(ei, 0.0)
        else:
            ei = np.ones(len(cands))
        score = ei * p_feasible
        score[list(failed)] = -1.0
        if math.isfinite(best) and len(history) >= self.min_runs and score.max() < self.stop_ei * best:
            return cands[int(xi[feasible][np.argmin(cost[feasible])])]
        untried = np.array([i not in tried for i in range(len(cands))])
        score = np.where(untried, score, -1.0)
        if score.max() <= 0:
            if math.isfinite(best):
                return cands[int(xi[feasible][np.argmin(cost[feasible])])]
            return cands[int(np.argmin(np.where(untried, mu_t, np.inf)))] if untried.any() else history[-1].config
        return cands[int(np.argmax(score))]


def _hourly(world: World) -> np.ndarray:
    cache = getattr(world, "_hourly_cache", None)
    if cache is None:
        cache = np.array([world.cost_model.hourly(c).total_usd for c in world.candidates])
        try:
            world._hourly_cache = cache  # type: ignore[attr-defined]
        except AttributeError:
            pass
    return cache


BASELINES: dict[str, Callable[[], Policy]] = {
    "stay": StayPolicy,
    "random": RandomPolicy,
    "heuristic": ScalingHeuristicPolicy,
    "bayesopt": BayesOptPolicy,
}


# ---------------------------------------------------------------------------------------------------- episodes
@dataclass
class Episode:
    """One policy's runs from one start configuration, with the oracle's cost for each run index."""

    policy: str
    workload: str
    start: ClusterConfig
    sla_seconds: float | None
    runs: list[Outcome] = field(default_factory=list)
    oracle_costs: list[float] = field(default_factory=list)
    expected_costs: list[float] = field(default_factory=list)
    expected_runtimes: list[float | None] = field(default_factory=list)
    sla_met_after_change: list[bool] = field(default_factory=list)


def oracle(world: World, run_index: int, sla: float | None) -> tuple[ClusterConfig, float]:
    """Cheapest candidate whose expected runtime meets the SLA (the fastest when none does)."""
    best: tuple[float, ClusterConfig] | None = None
    fastest: tuple[float, ClusterConfig, float] | None = None
    for c in world.candidates:
        rt, cost = world.expected(c, run_index)
        if rt is None:
            continue
        if fastest is None or rt < fastest[0]:
            fastest = (rt, c, cost)
        if (sla is None or rt <= sla) and (best is None or cost < best[0]):
            best = (cost, c)
    if best is not None:
        return best[1], best[0]
    if fastest is None:
        raise ValueError("every candidate fails in this world")
    return fastest[1], fastest[2]


def run_episode(
    world: World,
    policy: Policy,
    start: ClusterConfig,
    goals: Goals,
    iterations: int,
    seed: int,
    *,
    workload: str = "",
    oracle_costs: Sequence[float] | None = None,
) -> Episode:
    """Run the start configuration, then `iterations` runs each chosen by `policy` from the history so far."""
    rng = np.random.default_rng(seed)
    ep = Episode(policy.name, workload, start, goals.sla_seconds)
    history: list[RunObservation] = []
    config = start
    for k in range(iterations + 1):
        out = world.run(config, k, rng)
        ep.runs.append(out)
        rt, cost = world.expected(config, k)
        ep.expected_costs.append(cost)
        ep.expected_runtimes.append(rt)
        ep.oracle_costs.append(oracle_costs[k] if oracle_costs is not None else oracle(world, k, goals.sla_seconds)[1])
        history.append(out.observation)
        if k < iterations:
            config = policy.next(history, goals, world, rng)
    return ep
