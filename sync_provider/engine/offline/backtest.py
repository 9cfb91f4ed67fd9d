"""`sync-cli backtest`: replay a table of measured runs as the world and run the closed loop on it.

Measurements CSV: `workload, instance_type, num_workers, runtime_s` (optional `photon`, `spot`); an empty
runtime means the run failed; repeated rows of one configuration are repeated measurements, and a run of that
configuration in an episode draws one of them at random (the world's noise). Prices CSV: `instance_type,
hourly_usd` (or `on_demand_usd_per_hour`), plus `vcpus, memory_gib` for types the built-in catalog lacks.
Cost of a run = runtime hours x hourly_usd x num_workers (the measured table knows nothing of drivers or DBUs).

Episodes: for every workload, every configuration that has a successful measurement is a start point; the SLA
is the start's median runtime x (1 + slack) (keep the job about as fast, make it cheaper); each policy then
picks `iterations` more runs. The oracle is the cheapest configuration whose median runtime meets the SLA.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np

from sync_provider.engine.errors import InvalidRequestError
from sync_provider.engine.evidence.catalog import Catalog
from sync_provider.engine.evidence.cost import CostModel, PricingSettings
from sync_provider.engine.models import ClusterConfig, Goals, RunObservation
from sync_provider.engine.offline.episodes import BASELINES, EnginePolicy, Episode, Outcome, Policy, oracle, run_episode
from sync_provider.engine.offline.metrics import summarize

REQUIRED = ("workload", "instance_type", "num_workers", "runtime_s")
_TRUE = {"1", "true", "yes", "y", "t"}


@dataclass
class MeasuredWorld:
    """One workload's measured table as a world."""

    workload: str
    cost_model: CostModel
    samples: dict[tuple, list[float | None]]
    configs: dict[tuple, ClusterConfig]
    candidates: list[ClusterConfig] = field(init=False)

    def __post_init__(self) -> None:
        self.candidates = [self.configs[k] for k in sorted(self.configs)]
        self._hourly = {k: self.cost_model.hourly(c).total_usd for k, c in self.configs.items()}

    def _median(self, config: ClusterConfig) -> float | None:
        vals = self.samples[config.key()]
        ok = [v for v in vals if v is not None]
        # A configuration that fails in most measurements is treated as failing.
        return median(ok) if len(ok) * 2 > len(vals) or (ok and len(vals) == 1) else None

    def expected(self, config: ClusterConfig, run_index: int) -> tuple[float | None, float]:
        rt = self._median(config)
        hourly = self._hourly[config.key()]
        rt_for_cost = rt if rt is not None else max((v for v in self.samples[config.key()] if v), default=0.0)
        return rt, hourly * rt_for_cost / 3600.0

    def run(self, config: ClusterConfig, run_index: int, rng: np.random.Generator) -> Outcome:
        vals = self.samples[config.key()]
        rt = vals[int(rng.integers(len(vals)))]
        cost = self._hourly[config.key()] * (rt or 0.0) / 3600.0
        obs = RunObservation(config=config, runtime_s=rt, succeeded=rt is not None, run_id=str(run_index))
        return Outcome(config, rt, cost, obs)


def _float(value: str, where: str) -> float | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        v = float(value)
    except ValueError:
        raise InvalidRequestError(f"{where}: {value!r} is not a number") from None
    if v <= 0:
        raise InvalidRequestError(f"{where}: runtime must be positive, got {v} (leave it empty for a failed run)")
    return v


def load_prices(path: str | Path) -> CostModel:
    """A cost model that bills runtime x hourly_usd x workers, from the prices CSV (plus the built-in catalog)."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or "instance_type" not in rows[0]:
        raise InvalidRequestError(f"{path}: expected a CSV with columns instance_type, hourly_usd[, vcpus, memory_gib]")
    overrides = []
    for i, row in enumerate(rows, start=2):
        r: dict[str, Any] = {k: v for k, v in row.items() if k and v not in (None, "")}
        if "on_demand_usd_per_hour" in r:
            r["hourly_usd"] = r.pop("on_demand_usd_per_hour")
        if "hourly_usd" not in r:
            raise InvalidRequestError(f"{path} line {i}: no hourly_usd for {r.get('instance_type')!r}")
        r["dbu_per_hour"] = 0.0
        overrides.append(r)
    try:
        catalog = Catalog.default().with_overrides(overrides)
    except ValueError as exc:
        raise InvalidRequestError(f"{path}: {exc}") from None
    priced = {r["instance_type"] for r in overrides}
    catalog = Catalog([i for i in catalog if i.instance_type in priced])
    return CostModel(catalog, PricingSettings(include_driver=False, startup_seconds=0.0, dbu_usd=1.0))


def load_measurements(path: str | Path, cost_model: CostModel) -> list[MeasuredWorld]:
    """One world per workload; rows must use priced instance types."""
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise InvalidRequestError(f"{path}: missing columns {missing}; need {', '.join(REQUIRED)}")
        rows = list(reader)
    samples: dict[str, dict[tuple, list]] = defaultdict(lambda: defaultdict(list))
    configs: dict[str, dict[tuple, ClusterConfig]] = defaultdict(dict)
    unpriced = set()
    for i, row in enumerate(rows, start=2):
        where = f"{path} line {i}"
        itype = (row["instance_type"] or "").strip()
        if itype not in cost_model.catalog:
            unpriced.add(itype)
            continue
        try:
            n = int(row["num_workers"])
        except ValueError:
            raise InvalidRequestError(f"{where}: num_workers {row['num_workers']!r} is not an integer") from None
        if n < 1:
            raise InvalidRequestError(f"{where}: num_workers must be at least 1")
        cfg = ClusterConfig(
            instance_type=itype,
            num_workers=n,
            photon=(row.get("photon") or "").strip().lower() in _TRUE,
            spot=(row.get("spot") or "").strip().lower() in _TRUE,
        )
        wl = (row["workload"] or "").strip() or "default"
        configs[wl][cfg.key()] = cfg
        samples[wl][cfg.key()].append(_float(row["runtime_s"], where))
    if unpriced:
        raise InvalidRequestError(
            f"instance types {sorted(unpriced)} have measurements but no prices; add them to the prices CSV"
        )
    if not configs:
        raise InvalidRequestError(f"{path}: no measurements")
    return [MeasuredWorld(wl, cost_model, dict(samples[wl]), configs[wl]) for wl in sorted(configs)]


def policies(names: Iterable[str] | None = None) -> list[Policy]:
    """The engine first, then the baselines (bayesopt needs scikit-learn; skipped when absent)."""
    out: list[Policy] = [EnginePolicy()]
    for name, factory in BASELINES.items():
        if names is not None and name not in names:
            continue
        if name == "bayesopt":
            try:
                import sklearn  # noqa: F401
            except ImportError:
                continue
        out.append(factory())
    return out


def run_backtest(
    worlds: Sequence[MeasuredWorld],
    *,
    iterations: int = 10,
    slack: float = 0.25,
    seed: int = 0,
    baselines: Iterable[str] | None = None,
    max_starts: int | None = None,
) -> dict[str, Any]:
    """Episodes from every start point of every world for every policy; metrics per policy."""
    if iterations < 1:
        raise InvalidRequestError("iterations must be at least 1")
    if slack < 0:
        raise InvalidRequestError("slack must be >= 0 (SLA = start runtime x (1 + slack))")
    pols = policies(baselines)
    episodes: dict[str, list[Episode]] = {p.name: [] for p in pols}
    rng = np.random.default_rng(seed)
    for world in worlds:
        starts = [c for c in world.candidates if world.expected(c, 0)[0] is not None]
        if max_starts is not None and len(starts) > max_starts:
            starts = [starts[i] for i in sorted(rng.choice(len(starts), size=max_starts, replace=False))]
        for j, start in enumerate(starts):
            goals = Goals(sla_seconds=world.expected(start, 0)[0] * (1.0 + slack))
            oracle_cost = oracle(world, 0, goals.sla_seconds)[1]
            for pol in pols:
                ep = run_episode(
                    world,
                    pol,
                    start,
                    goals,
                    iterations,
                    seed=seed * 100003 + j,
                    workload=world.workload,
                    oracle_costs=[oracle_cost] * (iterations + 1),
                )
                episodes[pol.name].append(ep)
    return {
        "workloads": [w.workload for w in worlds],
        "iterations": iterations,
        "slack": slack,
        "sla": "start configuration's median runtime x (1 + slack)",
        "policies": {name: summarize(eps) for name, eps in episodes.items()},
    }
