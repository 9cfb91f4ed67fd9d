"""The emulator's own hardware model: how fast a node of a given type computes, reads, shuffles and spills.

Node sizes and list prices come from the package's instance catalog; the speeds here are the emulator's
private physics (the recommendation engine has its own, independent model and must learn the difference).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from sync_provider.engine.evidence.catalog import Catalog, InstanceType, databricks_pricing

# CPU throughput of one vCPU under all-core Spark load, relative to an m5 (Skylake, hyper-threaded) vCPU.
_FAMILY_SPEED = {
    "m5": 1.0,
    "m5d": 1.0,
    "r5": 1.0,
    "r5d": 1.0,
    "c5": 1.12,
    "c5d": 1.12,
    "i3": 0.86,
    "m6i": 1.17,
    "m6id": 1.17,
    "r6i": 1.17,
    "r6id": 1.17,
    "c6i": 1.22,
    "i4i": 1.15,
    "m6g": 1.04,
    "m6gd": 1.04,
    "c6g": 1.06,
    "c6gd": 1.06,
    "r6g": 1.04,
    "r6gd": 1.04,
    "m7g": 1.30,
    "c7g": 1.33,
    "r7g": 1.30,
}
# Storage-optimised families have far faster local disks per vCPU than the d-variants of general families.
_NVME_MBPS_PER_VCPU = {"i3": 220.0, "i4i": 260.0}
_DEFAULT_NVME_MBPS_PER_VCPU = 110.0


class UnknownNodeType(KeyError):
    """A node_type_id the emulated workspace does not offer."""


@dataclass(frozen=True)
class NodePhysics:
    """What one node can do, per second (bandwidths in MB/s)."""

    instance_type: str
    family: str
    arch: str
    cores: int
    memory_gib: float
    cpu_speed: float
    network_mbps: float
    disk_mbps: float
    local_nvme: bool
    hourly_usd: float
    dbu_per_hour: float

    @property
    def executor_heap_mb(self) -> int:
        """spark.executor.memory as Databricks sets it: most of the node, less OS and overhead."""
        return int(self.memory_gib * 1024 * 0.72)

    @property
    def execution_memory_per_task_mb(self) -> float:
        """Unified memory (Spark's 0.6 of heap less 300 MB reserved) shared by the node's concurrent tasks."""
        return max(64.0, (self.executor_heap_mb - 300) * 0.6 / self.cores)

    @property
    def storage_memory_mb(self) -> float:
        """Memory available to cache data (half of unified memory)."""
        return (self.executor_heap_mb - 300) * 0.6 * 0.5


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    return Catalog.default()


def _network_mbps(it: InstanceType) -> float:
    gbps = it.network_gbps
    if it.network_burst:  # "Up to N Gigabit": sustained baseline grows with size
        gbps = min(gbps, gbps * it.vcpus / 32 * 1.6)
    return gbps * 125.0 * 0.7  # protocol and S3 efficiency


def _disk_mbps(it: InstanceType) -> float:
    if it.local_disk_gib > 0:
        return it.vcpus * _NVME_MBPS_PER_VCPU.get(it.family, _DEFAULT_NVME_MBPS_PER_VCPU)
    return min(600.0, 150.0 + 20.0 * it.vcpus)  # attached EBS gp volumes


@lru_cache(maxsize=256)
def node(instance_type: str) -> NodePhysics:
    """The physics of a node type; raises UnknownNodeType for types the workspace does not offer."""
    if instance_type not in catalog():
        raise UnknownNodeType(instance_type)
    it = catalog().get(instance_type)
    return NodePhysics(
        instance_type=it.instance_type,
        family=it.family,
        arch=it.arch,
        cores=it.vcpus,
        memory_gib=it.memory_gib,
        cpu_speed=_FAMILY_SPEED.get(it.family, 1.0),
        network_mbps=_network_mbps(it),
        disk_mbps=_disk_mbps(it),
        local_nvme=it.local_disk_gib > 0,
        hourly_usd=it.hourly_usd,
        dbu_per_hour=it.dbu_per_hour,
    )


def cluster_startup_s(num_workers: int, spot: bool) -> float:
    """Time from cluster creation until Spark is up (paid: instances bill from launch)."""
    return 150.0 + 12.0 * math.log2(num_workers + 1) + (25.0 if spot else 0.0)


@dataclass(frozen=True)
class Pricing:
    """How the emulated workspace bills (list prices by default)."""

    plan: str = "premium"
    compute_type: str = "jobs"

    @property
    def dbu_usd(self) -> float:
        return float(databricks_pricing()["dbu_usd"][self.plan][self.compute_type])

    @property
    def photon_multiplier(self) -> float:
        return float(databricks_pricing()["photon_dbu_multiplier"][self.compute_type])

    @property
    def spot_discount(self) -> float:
        return float(databricks_pricing()["spot_discount"])

    def node_cost(self, n: NodePhysics, seconds: float, *, photon: bool, spot: bool) -> tuple[float, float]:
        """(cloud $, DBU $) for one node kept `seconds`."""
        hours = seconds / 3600.0
        cloud = n.hourly_usd * (1.0 - self.spot_discount if spot else 1.0) * hours
        dbu = n.dbu_per_hour * (self.photon_multiplier if photon else 1.0) * self.dbu_usd * hours
        return cloud, dbu
