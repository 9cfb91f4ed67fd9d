"""After each DAG run: find what it recorded in the Sync store and join it with the emulator's ground truth."""

from __future__ import annotations

from collections.abc import Callable

from sync_provider.demo.emulator import GroundTruth
from sync_provider.demo.rows import DemoRow, describe_change
from sync_provider.store import ConfigVersionRecord, PredictionRecord, ProjectRecord, RunRecord, SyncStore


def new_runs(store: SyncStore, project: ProjectRecord, seen: set[str]) -> list[RunRecord]:
    """Runs of the project recorded since the previous look (by store id), oldest first."""
    return [r for r in store.list_runs(project.id) if r.id not in seen]


def _prediction_for(store: SyncStore, project: ProjectRecord, run: RunRecord) -> PredictionRecord | None:
    matches = [p for p in store.list_predictions(project.id) if p.run_id in (run.id, run.external_run_id)]
    return matches[-1] if matches else None


def _version(history: list[ConfigVersionRecord], number: int | None) -> ConfigVersionRecord | None:
    return next((v for v in history if v.version == number), None) if number is not None else None


def build_row(
    store: SyncStore,
    project: ProjectRecord,
    run: RunRecord,
    *,
    day: int,
    truth: Callable[[str], GroundTruth],
    previous: DemoRow | None,
    events: list[str],
    dag_seconds: float,
) -> DemoRow:
    """One demo row: the run as Sync recorded it, its true runtime and cost, the phase and the next config."""
    obs = run.observation
    real = truth(run.external_run_id)
    config_history = store.config_history(project.id)
    version = _version(config_history, obs.config_version)
    reverted = bool(version is not None and version.reverted_from is not None)
    prediction = _prediction_for(store, project, run)
    solution = prediction.prediction.for_preference(project.goals.preference) if prediction else None
    succeeded = obs.succeeded if real.succeeded is None else real.succeeded
    sla = project.goals.sla_seconds
    runtime = real.runtime_s if succeeded else None
    sla_met = None if not succeeded else (None if sla is None or runtime is None else runtime <= sla)
    if not succeeded:
        sla_met = False if sla is not None else None
    change = describe_change(
        previous.config if previous else None,
        obs.config,
        reverted_to=version.reverted_from
        if version is not None and reverted and previous and previous.config_version != obs.config_version
        else None,
    )
    return DemoRow(
        job=project.name,
        run=day,
        instance_type=obs.config.instance_type,
        num_workers=obs.config.num_workers,
        photon=obs.config.photon,
        spot=obs.config.spot,
        runtime_s=None if runtime is None else round(runtime, 1),
        true_cost_usd=None if real.cost_usd is None else round(real.cost_usd, 4),
        sla_seconds=sla,
        sla_met=sla_met,
        phase=prediction.prediction.phase.value if prediction else None,
        config_version=obs.config_version,
        reverted=reverted,
        succeeded=succeeded,
        external_run_id=run.external_run_id,
        observed_cost_usd=None if obs.cost is None else round(obs.cost.total_usd, 4),
        predicted_runtime_s=None if solution is None else round(solution.predicted_runtime_s, 1),
        predicted_cost_usd=None if solution is None else round(solution.cost.total_usd, 4),
        next_config=None if solution is None else solution.config.describe(),
        events=events,
        changed=change,
        dag_seconds=round(dag_seconds, 1),
    )
