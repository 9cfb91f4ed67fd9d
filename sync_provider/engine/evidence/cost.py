"""Cost model: what a configuration costs for a given runtime, split into cloud and Databricks (DBU) parts.

A Databricks cluster bills every node, the driver included, from the moment its instances start, so
cluster start-up is paid for. Spot workers are discounted; the driver always stays on demand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from sync_provider.engine.evidence.catalog import Catalog, databricks_pricing
from sync_provider.engine.models import ClusterConfig, ComputeType, CostBreakdown, Plan

if TYPE_CHECKING:
    from sync_provider.engine.evidence.cluster_report import ClusterReport, WorkerSample


class PricingSettings(BaseModel):
    """Per-installation pricing facts; every default is a list price and every one is overridable."""

    plan: Plan = Plan.PREMIUM
    compute_type: ComputeType = ComputeType.JOBS
    dbu_usd: float | None = Field(default=None, gt=0, description="negotiated $/DBU; list price when None")
    photon_dbu_multiplier: float | None = Field(default=None, gt=0, description="list multiplier when None")
    spot_discount: float | None = Field(default=None, ge=0, lt=1, description="fraction saved on spot nodes")
    ebs_gb_per_node: float = Field(default=0.0, ge=0)
    ebs_usd_per_gb_month: float | None = Field(default=None, ge=0)
    startup_seconds: float = Field(default=300.0, ge=0, description="paid cluster start-up before Spark starts")
    include_driver: bool = True
    region: str = "us-east-1"

    def effective_dbu_usd(self) -> float:
        if self.dbu_usd is not None:
            return self.dbu_usd
        return float(databricks_pricing()["dbu_usd"][self.plan.value][self.compute_type.value])

    def effective_photon_multiplier(self) -> float:
        if self.photon_dbu_multiplier is not None:
            return self.photon_dbu_multiplier
        return float(databricks_pricing()["photon_dbu_multiplier"][self.compute_type.value])

    def effective_spot_discount(self) -> float:
        if self.spot_discount is not None:
            return self.spot_discount
        return float(databricks_pricing()["spot_discount"])

    def effective_ebs_price(self) -> float:
        if self.ebs_usd_per_gb_month is not None:
            return self.ebs_usd_per_gb_month
        return float(databricks_pricing()["ebs_usd_per_gb_month"])


class CostModel:
    """Prices configurations with a catalog and an installation's pricing settings."""

    def __init__(self, catalog: Catalog | None = None, pricing: PricingSettings | None = None):
        self.catalog = catalog or Catalog.default()
        self.pricing = pricing or PricingSettings()

    def node_hour(self, instance_type: str, *, photon: bool, spot: bool) -> CostBreakdown:
        """Cost of one node for one hour."""
        node = self.catalog.get(instance_type)
        cloud = node.hourly_usd * (1.0 - self.pricing.effective_spot_discount() if spot else 1.0)
        dbus = node.dbu_per_hour * (self.pricing.effective_photon_multiplier() if photon else 1.0)
        ebs = self.pricing.ebs_gb_per_node * self.pricing.effective_ebs_price() / (30 * 24)
        return CostBreakdown(cloud_usd=cloud, dbu_usd=dbus * self.pricing.effective_dbu_usd(), ebs_usd=ebs)

    def hourly(self, config: ClusterConfig) -> CostBreakdown:
        """Cost of the whole cluster for one hour (workers, plus the on-demand driver when billed)."""
        worker = self.node_hour(config.instance_type, photon=config.photon, spot=config.spot)
        parts = [(worker, config.num_workers)]
        if self.pricing.include_driver:
            parts.append((self.node_hour(config.driver, photon=config.photon, spot=False), 1))
        return CostBreakdown(
            cloud_usd=sum(c.cloud_usd * n for c, n in parts),
            dbu_usd=sum(c.dbu_usd * n for c, n in parts),
            ebs_usd=sum(c.ebs_usd * n for c, n in parts),
        )

    def predict(self, config: ClusterConfig, runtime_s: float, *, include_startup: bool = True) -> CostBreakdown:
        """Cost of running `config` for `runtime_s` seconds of job time (plus paid start-up)."""
        hours = (runtime_s + (self.pricing.startup_seconds if include_startup else 0.0)) / 3600.0
        h = self.hourly(config)
        return CostBreakdown(cloud_usd=h.cloud_usd * hours, dbu_usd=h.dbu_usd * hours, ebs_usd=h.ebs_usd * hours)

    # ------------------------------------------------------------------ actual cost of a past run
    def actual(self, report: ClusterReport) -> CostBreakdown:
        """What a finished run's cluster cost: every node, the driver included, from instance start to termination.

        With the collector's per-node records, each node is billed for its own lifetime and lifecycle (spot or
        on-demand). Otherwise the worker count over time comes from the cluster events (autoscale resizes, lost
        spot nodes and their replacements) and the spot split from aws_attributes (`first_on_demand` counts the
        driver first). Photon multiplies the DBUs of every node. Raises ValueError naming what is missing.
        """
        start, end = report.cluster_start_ms, report.cluster_end_ms
        ebs_gb = report.ebs_gb_per_node or self.pricing.ebs_gb_per_node
        worker_type = report.node_type_id
        driver_type = report.driver_node_type_id or worker_type
        parts: list[CostBreakdown] = []
        timed = [n for n in report.instances if n.start_ms is not None and (n.end_ms or end)]
        if timed and len(timed) == len(report.instances):
            for node in timed:
                itype = node.instance_type or (driver_type if node.is_driver else worker_type)
                if itype is None:
                    raise ValueError(f"node {node.instance_id} of run {report.run_id} has no known instance type")
                stop = node.end_ms or end
                spot = node.spot if node.spot is not None else (report.spot and not node.is_driver)
                hours = max(0.0, (stop - node.start_ms) / 3.6e6)  # type: ignore[operator]
                parts.append(self._node_cost(itype, hours, spot=spot, photon=report.photon, ebs_gb=ebs_gb))
            return _sum(parts)
        if worker_type is None or start is None or end is None:
            missing = [n for n, v in (("node type", worker_type), ("start", start), ("end", end)) if v is None]
            raise ValueError(
                f"cannot price run {report.run_id}: its cluster report lacks {', '.join(missing)} "
                f"(missing sources: {'; '.join(report.missing) or 'none'})"
            )
        driver_hours = max(0.0, (end - start) / 3.6e6)
        parts.append(self._node_cost(driver_type, driver_hours, spot=False, photon=report.photon, ebs_gb=ebs_gb))
        on_demand_hours = spot_hours = 0.0
        on_demand_workers = max(0, report.first_on_demand - 1) if report.spot else None
        for n, hours in worker_segments(report.workers_timeline, start, end, report.num_workers or 0):
            od = n if on_demand_workers is None else min(n, on_demand_workers)
            on_demand_hours += od * hours
            spot_hours += (n - od) * hours
        if on_demand_hours:
            parts.append(self._node_cost(worker_type, on_demand_hours, spot=False, photon=report.photon, ebs_gb=ebs_gb))
        if spot_hours:
            parts.append(self._node_cost(worker_type, spot_hours, spot=True, photon=report.photon, ebs_gb=ebs_gb))
        return _sum(parts)

    def _node_cost(self, instance_type: str, hours: float, *, spot: bool, photon: bool, ebs_gb: float) -> CostBreakdown:
        rate = self.node_hour(instance_type, photon=photon, spot=spot)
        ebs = ebs_gb * self.pricing.effective_ebs_price() / (30 * 24)
        return CostBreakdown(cloud_usd=rate.cloud_usd * hours, dbu_usd=rate.dbu_usd * hours, ebs_usd=ebs * hours)


def worker_segments(timeline: list[WorkerSample], start_ms: int, end_ms: int, initial: int) -> list[tuple[int, float]]:
    """(workers, hours) pieces of [start, end] from a worker-count timeline (count before the first sample: initial)."""
    points = [(start_ms, initial)]
    for s in timeline:
        if s.time_ms <= start_ms:
            points[0] = (start_ms, s.workers)
        elif s.time_ms < end_ms:
            points.append((s.time_ms, s.workers))
    points.append((end_ms, 0))
    return [(n, (points[i + 1][0] - t) / 3.6e6) for i, (t, n) in enumerate(points[:-1]) if points[i + 1][0] > t]


def _sum(parts: list[CostBreakdown]) -> CostBreakdown:
    return CostBreakdown(
        cloud_usd=sum(p.cloud_usd for p in parts),
        dbu_usd=sum(p.dbu_usd for p in parts),
        ebs_usd=sum(p.ebs_usd for p in parts),
    )
