"""Pure transformations of a Databricks runs/submit payload: merge Sync's cluster configuration into every
`new_cluster` and inject what evidence collection needs (log delivery, tags, collector init script, env vars).

No Airflow and no I/O here, so the operator, the CLI and tests share one implementation. Every function works
on a deep copy and is idempotent: running it again on its own output changes nothing, so a task retry never
duplicates tags or init scripts.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterator
from typing import Any

from sync_provider.engine.evidence.secrets import is_literal_credential
from sync_provider.engine.models import ClusterConfig
from sync_provider.settings import SyncSettings

log = logging.getLogger(__name__)

TAG_PROJECT_ID = "sync:project-id"
TAG_CONFIG_VERSION = "sync:config-version"
TAG_DAG_ID = "sync:airflow-dag-id"
TAG_RUN_ID = "sync:airflow-run-id"

ENV_PROJECT_ID = "SYNC_PROJECT_ID"
ENV_CONFIG_VERSION = "SYNC_CONFIG_VERSION"
ENV_LOG_DESTINATION = "SYNC_LOG_DESTINATION"
ENV_LOG_REGION = "SYNC_LOG_REGION"
ENV_S3_ENDPOINT = "SYNC_S3_ENDPOINT_URL"

_TAG_UNSAFE = re.compile(r"[^\w .:/=+\-@]")
_MAX_TAG_VALUE = 255
_NO_CLUSTER = (
    "the runs/submit payload has no new_cluster (looked at new_cluster, tasks[].new_cluster and "
    "job_clusters[].new_cluster): Sync optimises job clusters; describe the cluster with new_cluster, "
    "or use the plain DatabricksSubmitRunOperator"
)


class PayloadError(ValueError):
    """The runs/submit payload cannot be prepared for Sync; the message says where and what to change."""


class SecretInPayloadError(PayloadError):
    """A credential was given as a literal value where only a `{{secrets/scope/key}}` reference is allowed."""


# ---------------------------------------------------------------------------------------------- merging


def merge_config(new_cluster: dict[str, Any], config: ClusterConfig) -> dict[str, Any]:
    """Return `new_cluster` running `config`: node types, a fixed worker count (replacing autoscale), the
    runtime engine and spot availability. Every other user setting is kept."""
    cluster = copy.deepcopy(new_cluster)
    if cluster.get("instance_pool_id"):
        log.warning(
            "new_cluster uses instance pool %s: Sync sets the worker count and runtime engine but not the node "
            "types (they come from the pool)",
            cluster["instance_pool_id"],
        )
    else:
        cluster["node_type_id"] = config.instance_type
        cluster["driver_node_type_id"] = config.driver
    cluster.pop("autoscale", None)
    cluster["num_workers"] = config.num_workers
    cluster["runtime_engine"] = "PHOTON" if config.photon else "STANDARD"
    aws = dict(cluster.get("aws_attributes") or {})
    if config.spot:
        aws["availability"] = "SPOT_WITH_FALLBACK"
        aws["first_on_demand"] = max(1, _as_int(aws.get("first_on_demand"), 1))  # the driver stays on demand
    else:
        aws["availability"] = "ON_DEMAND"
        aws.pop("spot_bid_price_percent", None)
    cluster["aws_attributes"] = aws
    return cluster


def config_from_cluster(new_cluster: dict[str, Any]) -> ClusterConfig | None:
    """The ClusterConfig a user's `new_cluster` describes (None when it lacks a node type or size)."""
    node = new_cluster.get("node_type_id")
    if not node:
        return None
    if "num_workers" in new_cluster:
        workers = _as_int(new_cluster["num_workers"], 0)
    elif isinstance(new_cluster.get("autoscale"), dict):
        workers = _as_int(new_cluster["autoscale"].get("max_workers"), 0)
    else:
        return None
    aws = new_cluster.get("aws_attributes") or {}
    driver = new_cluster.get("driver_node_type_id") or None
    return ClusterConfig(
        instance_type=node,
        num_workers=workers,
        driver_instance_type=None if driver == node else driver,
        photon=str(new_cluster.get("runtime_engine", "")).upper() == "PHOTON",
        spot=str(aws.get("availability", "")).upper().startswith("SPOT"),
    )


# ---------------------------------------------------------------------------------------------- injection


def iter_new_clusters(payload: dict[str, Any]) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
    """(location, task or job cluster key, new_cluster) for every new_cluster: top level, tasks, job_clusters."""
    if isinstance(payload.get("new_cluster"), dict):
        yield "new_cluster", None, payload["new_cluster"]
    for field, key_name in (("tasks", "task_key"), ("job_clusters", "job_cluster_key")):
        for i, item in enumerate(payload.get(field) or []):
            if isinstance(item, dict) and isinstance(item.get("new_cluster"), dict):
                yield f"{field}[{i}].new_cluster", item.get(key_name), item["new_cluster"]


def existing_cluster_locations(payload: dict[str, Any]) -> list[str]:
    found = ["existing_cluster_id"] if payload.get("existing_cluster_id") else []
    for i, task in enumerate(payload.get("tasks") or []):
        if isinstance(task, dict) and task.get("existing_cluster_id"):
            found.append(f"tasks[{i}].existing_cluster_id")
    return found


def validate_payload(payload: dict[str, Any]) -> None:
    """Refuse a payload Sync cannot work with (no cluster at all, literal credentials) before anything is submitted;
    used when the store is unreachable and the payload goes out without injection."""
    clusters = list(iter_new_clusters(payload))
    if not clusters and not existing_cluster_locations(payload):
        raise PayloadError(_NO_CLUSTER)
    for where, _, cluster in clusters:
        check_no_literal_secrets(cluster, where=where)


def inject_sync(
    payload: dict[str, Any],
    *,
    project_id: str,
    config_version: int | None,
    active: ClusterConfig | None,
    settings: SyncSettings,
    dag_id: str | None,
    dag_run_id: str | None,
    cluster_key: str | None = None,
) -> dict[str, Any]:
    """Return a copy of a runs/submit payload prepared for Sync.

    Every `new_cluster` (top level, `tasks[]`, `job_clusters[]`) gets the active configuration merged in (only the
    clusters whose task/job-cluster key is `cluster_key`, when given), cluster log delivery, Sync's custom tags, the
    collector init script and its environment variables. Clusters given by `existing_cluster_id` are left alone
    with a warning. Raises PayloadError when there is no cluster Sync could manage, SecretInPayloadError when a
    credential is given as a literal value.
    """
    out = copy.deepcopy(payload)
    clusters = list(iter_new_clusters(out))
    existing = existing_cluster_locations(out)
    if existing:
        log.warning(
            "%s: Sync manages only job clusters (new_cluster); these run unchanged and are not optimised",
            ", ".join(existing),
        )
    if not clusters:
        if existing:
            return out
        raise PayloadError(_NO_CLUSTER)
    if cluster_key and active and not any(key == cluster_key for _, key, _ in clusters):
        raise PayloadError(
            f"no new_cluster belongs to task/job cluster key {cluster_key!r}; keys in the payload: "
            f"{', '.join(str(k) for _, k, _ in clusters)}"
        )
    for where, key, cluster in clusters:
        if active is not None and (cluster_key is None or key == cluster_key):
            cluster = merge_config(cluster, active)
        cluster = _inject_cluster(
            cluster,
            project_id=project_id,
            config_version=config_version,
            settings=settings,
            dag_id=dag_id,
            dag_run_id=dag_run_id,
        )
        check_no_literal_secrets(cluster, where=where)
        _replace(out, where, cluster)
    return out


def _inject_cluster(
    cluster: dict[str, Any],
    *,
    project_id: str,
    config_version: int | None,
    settings: SyncSettings,
    dag_id: str | None,
    dag_run_id: str | None,
) -> dict[str, Any]:
    destination, region = _ensure_log_conf(cluster, settings)

    tags = dict(cluster.get("custom_tags") or {})
    tags[TAG_PROJECT_ID] = sanitize_tag_value(project_id)
    if config_version is not None:
        tags[TAG_CONFIG_VERSION] = str(config_version)
    else:
        tags.pop(TAG_CONFIG_VERSION, None)
    for key, value in ((TAG_DAG_ID, dag_id), (TAG_RUN_ID, dag_run_id)):
        if value:
            tags[key] = sanitize_tag_value(value)
    cluster["custom_tags"] = tags

    env = dict(cluster.get("spark_env_vars") or {})
    env[ENV_PROJECT_ID] = project_id
    if config_version is not None:
        env[ENV_CONFIG_VERSION] = str(config_version)
    if destination:
        env[ENV_LOG_DESTINATION] = destination
    if region:
        env[ENV_LOG_REGION] = region
    if settings.aws_endpoint_url and destination and destination.startswith("s3://"):
        env[ENV_S3_ENDPOINT] = settings.aws_endpoint_url
    cluster["spark_env_vars"] = env

    if settings.init_script_path:
        entry = init_script_entry(settings.init_script_path, region=region or settings.log_region)
        scripts = list(cluster.get("init_scripts") or [])
        if entry not in scripts:
            scripts.append(entry)
        cluster["init_scripts"] = scripts
    return cluster


def _ensure_log_conf(cluster: dict[str, Any], settings: SyncSettings) -> tuple[str | None, str | None]:
    """Set cluster log delivery to Sync's destination unless the user set their own (which Sync then reads)."""
    wanted = log_conf(settings)
    current = cluster.get("cluster_log_conf")
    if current and wanted and current != wanted:
        log.warning(
            "new_cluster already delivers logs to %s; Sync reads them there instead of %s",
            _log_destination_of(current)[0],
            settings.log_destination,
        )
        return _log_destination_of(current)
    if current:
        return _log_destination_of(current)
    if wanted is None:
        log.warning(
            "no cluster log destination (set log_destination on the sync connection): Sync cannot read this "
            "run's event log and learns from the cluster report alone"
        )
        return None, None
    cluster["cluster_log_conf"] = wanted
    return settings.log_destination, settings.log_region


def log_conf(settings: SyncSettings) -> dict[str, Any] | None:
    """The `cluster_log_conf` for the settings' destination: S3 encrypted with bucket-owner-full-control, or DBFS."""
    dest = settings.log_destination
    if not dest:
        return None
    if dest.startswith("dbfs:/"):
        return {"dbfs": {"destination": dest}}
    s3: dict[str, Any] = {"destination": dest, "enable_encryption": True, "canned_acl": "bucket-owner-full-control"}
    if settings.log_region:
        s3["region"] = settings.log_region
    if settings.aws_endpoint_url:
        s3["endpoint"] = settings.aws_endpoint_url
    return {"s3": s3}


def _log_destination_of(conf: dict[str, Any]) -> tuple[str | None, str | None]:
    for kind in ("s3", "dbfs", "volumes"):
        if isinstance(conf.get(kind), dict):
            return conf[kind].get("destination"), conf[kind].get("region")
    return None, None


def init_script_entry(path: str, *, region: str | None = None) -> dict[str, Any]:
    """The `init_scripts` item for a script location (workspace:/..., /Volumes/..., s3://..., dbfs:/...)."""
    if path.startswith("s3://"):
        entry: dict[str, Any] = {"destination": path}
        if region:
            entry["region"] = region
        return {"s3": entry}
    if path.startswith("dbfs:/"):
        return {"dbfs": {"destination": path}}
    if path.startswith("/Volumes/"):
        return {"volumes": {"destination": path}}
    ws = "/" + path.removeprefix("workspace:").removeprefix("/Workspace").lstrip("/")
    return {"workspace": {"destination": ws}}


def sanitize_tag_value(value: str) -> str:
    """A Databricks/AWS-safe tag value: allowed characters only (others become '_'), at most 255 characters."""
    return _TAG_UNSAFE.sub("_", str(value))[:_MAX_TAG_VALUE]


def check_no_literal_secrets(cluster: dict[str, Any], *, where: str = "new_cluster") -> None:
    """Refuse credentials given as literal values in spark_env_vars or spark_conf (never echoing the value)."""
    for field in ("spark_env_vars", "spark_conf"):
        for name, value in (cluster.get(field) or {}).items():
            if is_literal_credential(str(name), value):
                raise SecretInPayloadError(
                    f"{where}.{field}.{name} holds a literal credential; store it in a Databricks secret scope and "
                    f"reference it as '{{{{secrets/<scope>/<key>}}}}' instead (the value is not shown here)"
                )


def _replace(payload: dict[str, Any], where: str, cluster: dict[str, Any]) -> None:
    m = re.fullmatch(r"(\w+)\[(\d+)\]\.new_cluster", where)
    if m:
        payload[m.group(1)][int(m.group(2))]["new_cluster"] = cluster
    else:
        payload["new_cluster"] = cluster


def _as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
