"""The search space: every configuration a project's constraints allow, and its hourly price as arrays."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sync_provider.engine.errors import NoCandidateError, TooManyCandidatesError
from sync_provider.engine.evidence.cost import CostModel
from sync_provider.engine.models import ClusterConfig, Constraints, SpotPolicy

#: The most configurations one recommendation scores, about 150 MB of them: every catalog type with up to 700
#: workers, Photon and spot both ways (the default constraints give 11,008). Beyond it a typo such as
#: max_workers=100000000 would exhaust the worker's memory.
MAX_CANDIDATES = 250_000


def check_space_size(count: int, what: str) -> None:
    """Refuse a search space larger than MAX_CANDIDATES before building it."""
    if count > MAX_CANDIDATES:
        raise TooManyCandidatesError(
            f"{what} allow {count:,} configurations, more than the {MAX_CANDIDATES:,} one recommendation scores; "
            "narrow the worker range or the instance types"
        )


def allowed_instance_types(constraints: Constraints, cost_model: CostModel) -> list[str]:
    """Catalog types that pass the family, architecture and explicit-list constraints."""
    names = []
    for node in cost_model.catalog:
        if constraints.instance_types is not None and node.instance_type not in constraints.instance_types:
            continue
        if constraints.instance_families is not None and node.family not in constraints.instance_families:
            continue
        if constraints.architectures is not None and node.arch not in constraints.architectures:
            continue
        names.append(node.instance_type)
    return names


def enumerate_candidates(constraints: Constraints, cost_model: CostModel) -> list[ClusterConfig]:
    """Every (instance type, workers, Photon, spot) the constraints allow; raises NoCandidateError if none."""
    names = allowed_instance_types(constraints, cost_model)
    if constraints.instance_types:
        unknown = [n for n in constraints.instance_types if n not in cost_model.catalog]
        if unknown and not names:
            raise NoCandidateError(
                f"constraints.instance_types {unknown} are not in the catalog; add them with a catalog override "
                "or pick known instance types"
            )
    if not names:
        raise NoCandidateError(
            f"no instance type passes the constraints (families={constraints.instance_families}, "
            f"architectures={constraints.architectures}, instance_types={constraints.instance_types}); "
            "widen the constraints"
        )
    photon = [False, True] if constraints.photon_allowed else [False]
    spot = {SpotPolicy.NEVER: [False], SpotPolicy.ALLOWED: [False, True], SpotPolicy.ALWAYS: [True]}[
        constraints.spot_policy
    ]
    workers = range(constraints.min_workers, constraints.max_workers + 1)
    check_space_size(len(names) * len(workers) * len(photon) * len(spot), "the constraints")
    driver = constraints.driver_instance_type
    # model_construct: these values are valid by construction, and validation would dominate the latency.
    return [
        ClusterConfig.model_construct(instance_type=n, num_workers=w, driver_instance_type=driver, photon=p, spot=s)
        for n in names
        for w in workers
        for p in photon
        for s in spot
        if not (s and w == 0)
    ]


def within_constraints(config: ClusterConfig, constraints: Constraints, cost_model: CostModel) -> bool:
    """Whether `config` is one the constraints allow (the current config may predate the constraints)."""
    if config.instance_type not in cost_model.catalog:
        return False
    node = cost_model.catalog.get(config.instance_type)
    return (
        (constraints.instance_types is None or node.instance_type in constraints.instance_types)
        and (constraints.instance_families is None or node.family in constraints.instance_families)
        and (constraints.architectures is None or node.arch in constraints.architectures)
        and constraints.min_workers <= config.num_workers <= constraints.max_workers
        and (constraints.photon_allowed or not config.photon)
        and (constraints.spot_policy != SpotPolicy.NEVER or not config.spot)
        and (constraints.spot_policy != SpotPolicy.ALWAYS or config.spot)
    )


@dataclass(frozen=True)
class HourlyPrices:
    """Hourly price of each candidate cluster, split like CostBreakdown."""

    cloud: np.ndarray
    dbu: np.ndarray
    ebs: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return self.cloud + self.dbu + self.ebs

    def concat(self, other: HourlyPrices) -> HourlyPrices:
        return HourlyPrices(*(np.concatenate([getattr(self, f), getattr(other, f)]) for f in ("cloud", "dbu", "ebs")))


def hourly_prices(configs: Sequence[ClusterConfig], cost_model: CostModel) -> HourlyPrices:
    """CostModel.hourly for many configs at once (node prices are computed once per distinct node kind)."""
    cache: dict[tuple[str, bool, bool], tuple[float, float, float]] = {}

    def node(name: str, photon: bool, spot: bool) -> tuple[float, float, float]:
        key = (name, photon, spot)
        if key not in cache:
            c = cost_model.node_hour(name, photon=photon, spot=spot)
            cache[key] = (c.cloud_usd, c.dbu_usd, c.ebs_usd)
        return cache[key]

    worker = np.array([node(c.instance_type, c.photon, c.spot) for c in configs], dtype=float).reshape(-1, 3)
    rows = worker * np.array([c.num_workers for c in configs], dtype=float)[:, None]
    if cost_model.pricing.include_driver:
        rows += np.array([node(c.driver, c.photon, False) for c in configs], dtype=float).reshape(-1, 3)
    return HourlyPrices(cloud=rows[:, 0], dbu=rows[:, 1], ebs=rows[:, 2])
