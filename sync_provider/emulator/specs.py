"""Reading the cluster and task parts of a Databricks request the way the Jobs API validates them."""

from __future__ import annotations

from typing import Any

from sync_provider.emulator.errors import invalid
from sync_provider.emulator.physics import UnknownNodeType, catalog, node
from sync_provider.emulator.simulator import ClusterSpec


def as_int(value: Any, field: str) -> int:
    """The Airflow provider sends every number as a string; accept both, reject anything else."""
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, float) and not value.is_integer():
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise invalid(f"Invalid value for field {field}: expected an integer, got {value!r}") from None


def cluster_spec(new_cluster: dict[str, Any], where: str) -> ClusterSpec:
    """Validate a `new_cluster` and turn it into the simulator's ClusterSpec."""
    if not isinstance(new_cluster, dict):
        raise invalid(f"{where}.new_cluster must be an object")
    if new_cluster.get("instance_pool_id"):
        raise invalid(f"{where}.new_cluster: instance pools are not supported by the emulator; give node_type_id")
    if not new_cluster.get("spark_version"):
        raise invalid(f"{where}.new_cluster: missing required field spark_version")
    node_type = new_cluster.get("node_type_id")
    if not node_type:
        raise invalid(f"{where}.new_cluster: missing required field node_type_id")
    driver = new_cluster.get("driver_node_type_id") or node_type
    for field, value in (("node_type_id", node_type), ("driver_node_type_id", driver)):
        try:
            node(str(value))
        except UnknownNodeType:
            sample = ", ".join(sorted(catalog().names())[:5])
            raise invalid(
                f"Node type {value} is not supported ({where}.new_cluster.{field}). "
                f"Supported node types: {sample}, ... (see clusters/list-node-types)"
            ) from None
    autoscale = new_cluster.get("autoscale")
    lo = hi = None
    if autoscale:
        lo = as_int(autoscale.get("min_workers"), f"{where}.new_cluster.autoscale.min_workers")
        hi = as_int(autoscale.get("max_workers"), f"{where}.new_cluster.autoscale.max_workers")
        if lo < 0 or hi < lo:
            raise invalid(
                f"Cluster validation error: {where}.new_cluster.autoscale needs 0 <= min_workers <= max_workers, "
                f"got min_workers={lo}, max_workers={hi}"
            )
        workers = hi
    else:
        workers = as_int(new_cluster.get("num_workers", 0), f"{where}.new_cluster.num_workers")
        if workers < 0:
            raise invalid(f"Cluster validation error: {where}.new_cluster.num_workers must be >= 0, got {workers}")
    engine = str(new_cluster.get("runtime_engine") or "").upper()
    photon = engine == "PHOTON" or "photon" in str(new_cluster.get("spark_version", "")).lower()
    availability = str((new_cluster.get("aws_attributes") or {}).get("availability") or "ON_DEMAND").upper()
    spot = availability in ("SPOT", "SPOT_WITH_FALLBACK")
    return ClusterSpec(
        instance_type=str(node_type),
        num_workers=workers,
        driver_instance_type=str(driver) if driver != node_type else None,
        photon=photon,
        spot=spot,
        autoscale_min=lo,
        autoscale_max=hi,
    )


def workload_ref(task: dict[str, Any]) -> str | None:
    """The path a task runs: notebook_task.notebook_path or spark_python_task.python_file (or None)."""
    for key, field in (("notebook_task", "notebook_path"), ("spark_python_task", "python_file")):
        part = task.get(key)
        if isinstance(part, dict) and part.get(field):
            return str(part[field])
    return None


def log_destination(new_cluster: dict[str, Any]) -> str | None:
    conf = new_cluster.get("cluster_log_conf") or {}
    for kind in ("s3", "dbfs", "volumes"):
        if isinstance(conf.get(kind), dict) and conf[kind].get("destination"):
            return str(conf[kind]["destination"]).rstrip("/")
    return None
