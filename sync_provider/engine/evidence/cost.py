"""Cost model: what a configuration costs for a given runtime, split into cloud and Databricks (DBU) parts.

A Databricks cluster bills every node, the driver included, from the moment its instances start, so
cluster start-up is paid for. Spot workers are discounted; the driver always stays on demand.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from sync_provider.engine.evidence.catalog import Catalog, databricks_pricing
from sync_provider.engine.models import ClusterConfig, ComputeType, CostBreakdown, Plan


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
