"""What a cluster configuration offers a Spark job, as numbers the runtime models can scale by.

Every candidate becomes a row of plain numpy arrays (task slots, per-core speed, memory per core, disk and
network bandwidth per core, Photon, spot) so that thousands of candidates are predicted in one vectorised pass.
The per-core speed and bandwidth figures are priors from public hardware facts (CPU generation, Graviton vs
x86, local NVMe vs EBS, network class); the learned correction absorbs whatever they get wrong for a job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sync_provider.engine.evidence.catalog import Catalog, InstanceType
from sync_provider.engine.models import ClusterConfig

# Relative single-core throughput for Spark-like work, by family (generation 5 x86 = 1.0).
_FAMILY_SPEED = {
    "m5": 1.0, "m5d": 1.0, "c5": 1.08, "c5d": 1.08, "r5": 1.0, "r5d": 1.0,
    "m6i": 1.12, "m6id": 1.12, "c6i": 1.15, "r6i": 1.12, "r6id": 1.12,
    "m6g": 0.98, "m6gd": 0.98, "c6g": 1.0, "c6gd": 1.0, "r6g": 0.98, "r6gd": 0.98,
    "m7g": 1.18, "c7g": 1.2, "r7g": 1.18,
    "i3": 0.92, "i4i": 1.12,
}  # fmt: skip

#: Share of a node's memory one task slot's execution memory gets: Databricks gives the executor ~75% of the
#: node, Spark's unified memory is 60% of the heap (spark.memory.fraction).
EXECUTION_MEMORY_FRACTION = 0.43
#: Scratch bandwidth of an EBS-only node: Databricks puts Spark's scratch space on the EBS volumes it attaches (at
#: least one per node), and a gp3 volume's baseline is 125 MB/s whatever the instance; bigger nodes add to that
#: through their larger EBS bandwidth and the volumes autoscaling local storage attaches (~20 MB/s per vCPU), up
#: to the larger instances' EBS-optimised baselines.
_EBS_VOLUME_MBPS = 125.0
_EBS_MBPS_PER_VCPU = 20.0
_EBS_MBPS_MAX = 850.0
#: Local NVMe throughput per vCPU: storage-optimised families vs the "d" variants of general families.
_NVME_MBPS_PER_VCPU = {"i3": 200.0, "i4i": 250.0}
_DEFAULT_NVME_MBPS_PER_VCPU = 100.0
#: One S3 connection (one task reading) rarely exceeds ~90 MB/s, whatever the node's network.
S3_MBPS_PER_TASK = 90.0


def core_speed(node: InstanceType) -> float:
    """Relative per-core speed of a node type; unknown families fall back on generation and architecture."""
    if node.family in _FAMILY_SPEED:
        return _FAMILY_SPEED[node.family]
    gen = node.generation
    base = 1.0 + 0.1 * max(0, gen - 5)
    return base * (0.97 if node.arch == "arm64" else 1.0)


def network_mbps(node: InstanceType) -> float:
    """Sustained network bandwidth in MB/s: 'up to N Gigabit' nodes keep a baseline of about N x vCPUs / 32
    (AWS publishes 1.25 Gbps for an m5.xlarge, 2.5 for an m5.2xlarge, both 'up to 10'); burst credits carry
    a typical batch job about half as high again, hence the factor 1.5."""
    gbps = node.network_gbps * (min(1.0, 1.5 * node.vcpus / 32) if node.network_burst else 1.0)
    return gbps * 125.0


def disk_mbps(node: InstanceType) -> float:
    """Local scratch (shuffle files, spill) bandwidth of a node in MB/s: NVMe when present, else EBS."""
    if node.local_disk_gib > 0:
        return _NVME_MBPS_PER_VCPU.get(node.family, _DEFAULT_NVME_MBPS_PER_VCPU) * node.vcpus
    return min(_EBS_MBPS_MAX, _EBS_VOLUME_MBPS + _EBS_MBPS_PER_VCPU * node.vcpus)


@dataclass(frozen=True)
class ConfigArrays:
    """Column-wise view of a list of configurations (one entry per configuration)."""

    configs: tuple[ClusterConfig, ...]
    workers: np.ndarray
    vcpus: np.ndarray
    slots: np.ndarray
    speed: np.ndarray
    driver_speed: np.ndarray
    mem_per_core_gib: np.ndarray
    net_per_core_mbps: np.ndarray
    disk_per_core_mbps: np.ndarray
    photon: np.ndarray
    spot: np.ndarray
    arm: np.ndarray
    family_code: np.ndarray

    def __len__(self) -> int:
        return len(self.configs)

    def take(self, idx: np.ndarray | Sequence[int]) -> ConfigArrays:
        """A subset, in the order of `idx`."""
        idx = np.asarray(idx, dtype=int)
        return ConfigArrays(
            configs=tuple(self.configs[i] for i in idx),
            **{f: getattr(self, f)[idx] for f in _ARRAY_FIELDS},
        )

    def concat(self, other: ConfigArrays) -> ConfigArrays:
        """These configurations followed by `other`'s."""
        return ConfigArrays(
            configs=self.configs + other.configs,
            **{f: np.concatenate([getattr(self, f), getattr(other, f)]) for f in _ARRAY_FIELDS},
        )

    def feature_matrix(self) -> np.ndarray:
        """Numeric features used by the learned correction and the distance to observed runs."""
        return np.column_stack(
            [
                np.log(np.maximum(self.workers, 0.5)),
                np.log(self.vcpus),
                np.log(self.mem_per_core_gib),
                np.log(self.speed),
                self.photon.astype(float),
                self.spot.astype(float),
                self.arm.astype(float),
                np.log(self.disk_per_core_mbps),
            ]
        )


_ARRAY_FIELDS = (
    "workers",
    "vcpus",
    "slots",
    "speed",
    "driver_speed",
    "mem_per_core_gib",
    "net_per_core_mbps",
    "disk_per_core_mbps",
    "photon",
    "spot",
    "arm",
    "family_code",
)


class ResourceTable:
    """Caches per-instance-type facts of a catalog so that building arrays for many configs stays cheap."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self._rows: dict[str, tuple[float, ...]] = {}
        self._families: dict[str, int] = {}

    def _row(self, name: str) -> tuple[float, ...]:
        row = self._rows.get(name)
        if row is None:
            node = self.catalog.get(name)
            fam = self._families.setdefault(node.family, len(self._families))
            row = (
                float(node.vcpus),
                core_speed(node),
                node.memory_per_core_gib,
                network_mbps(node) / node.vcpus,
                disk_mbps(node) / node.vcpus,
                1.0 if node.arch == "arm64" else 0.0,
                float(fam),
            )
            self._rows[name] = row
        return row

    def arrays(self, configs: Sequence[ClusterConfig]) -> ConfigArrays:
        """Vectorise `configs`; raises UnknownInstanceType for a type the catalog does not price."""
        rows = np.array([self._row(c.instance_type) for c in configs], dtype=float).reshape(len(configs), 7)
        workers = np.array([c.num_workers for c in configs], dtype=float)
        vcpus = rows[:, 0]
        # Zero workers is single-node mode: the driver's cores run the tasks.
        driver_rows = np.array([self._row(c.driver)[:2] for c in configs], dtype=float).reshape(len(configs), 2)
        driver_cores = driver_rows[:, 0]
        slots = np.where(workers > 0, workers * vcpus, driver_cores)
        return ConfigArrays(
            configs=tuple(configs),
            workers=workers,
            vcpus=vcpus,
            slots=slots,
            speed=rows[:, 1],
            driver_speed=driver_rows[:, 1],
            mem_per_core_gib=rows[:, 2],
            net_per_core_mbps=rows[:, 3],
            disk_per_core_mbps=rows[:, 4],
            photon=np.array([c.photon for c in configs], dtype=bool),
            spot=np.array([c.spot for c in configs], dtype=bool),
            arm=rows[:, 5].astype(bool),
            family_code=rows[:, 6].astype(int),
        )
