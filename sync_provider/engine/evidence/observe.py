"""One finished run -> the `RunObservation` the engine learns from (config, outcome, runtime, cost, profile)."""

from __future__ import annotations

from sync_provider.engine.evidence.catalog import UnknownInstanceType
from sync_provider.engine.evidence.cluster_report import ClusterReport
from sync_provider.engine.evidence.cost import CostModel
from sync_provider.engine.evidence.profile import Profile, data_input_bytes
from sync_provider.engine.models import ClusterConfig, RunObservation


def observed_config(report: ClusterReport, profile: Profile | None = None) -> ClusterConfig:
    """The configuration the run had; the event log fills in what the REST API no longer says."""
    facts = profile.cluster if profile is not None else None
    instance_type = report.node_type_id or (facts.node_type_id if facts else None)
    if not instance_type:
        raise ValueError(
            f"run {report.run_id}: neither clusters/get, the run's new_cluster nor the event log names the node "
            f"type (missing: {'; '.join(report.missing) or 'nothing reported'})"
        )
    driver = report.driver_node_type_id or (facts.driver_node_type_id if facts else None)
    workers = report.num_workers
    if report.autoscale_max is not None:  # autoscaled: what it actually grew to is what the run used
        workers = report.max_workers_seen or report.autoscale_max
    if workers is None and facts is not None:
        workers = facts.num_workers
    photon = report.photon or bool(facts and facts.photon)
    return ClusterConfig(
        instance_type=instance_type,
        num_workers=int(workers or 0),
        driver_instance_type=driver if driver and driver != instance_type else None,
        photon=photon,
        spot=report.spot,
    )


def build_observation(report: ClusterReport, profile: Profile | None, cost_model: CostModel) -> RunObservation:
    """Turn a run's evidence into an observation; the cost is None (with a profile warning) when it cannot be priced."""
    config = observed_config(report, profile)
    cost = None
    try:
        cost = cost_model.actual(report)
    except (ValueError, UnknownInstanceType) as exc:
        if profile is not None:
            profile = profile.model_copy(update={"warnings": [*profile.warnings, f"actual cost unknown: {exc}"]})
    runtime = report.runtime_s
    if (runtime is None or runtime <= 0) and profile is not None and profile.duration_s > 0:
        runtime = profile.duration_s
    return RunObservation(
        config=config,
        runtime_s=runtime if runtime and runtime > 0 else None,
        succeeded=report.succeeded,
        input_bytes=data_input_bytes(profile) if profile is not None else None,
        cost=cost,
        profile=profile,
        run_id=report.run_id,
        started_at_epoch_s=report.run_start_ms / 1000.0 if report.run_start_ms else None,
        config_version=report.config_version,
    )
