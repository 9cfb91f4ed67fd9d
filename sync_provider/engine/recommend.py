"""The engine's front door: one call from a job's history to a recommendation with a solution per preference."""

from __future__ import annotations

import weakref
from collections.abc import Sequence

from sync_provider.engine.decision.controller import DEFAULT_SETTINGS, Controller, ControllerSettings
from sync_provider.engine.evidence.cost import CostModel
from sync_provider.engine.models import ClusterConfig, Constraints, Goals, Prediction, RunObservation

_controllers: weakref.WeakKeyDictionary[CostModel, Controller] = weakref.WeakKeyDictionary()


def _controller(cost_model: CostModel, settings: ControllerSettings) -> Controller:
    """Reuse one controller per cost model: it caches per-instance-type resource facts."""
    if settings is not DEFAULT_SETTINGS:
        return Controller(cost_model, settings)
    ctl = _controllers.get(cost_model)
    if ctl is None:
        ctl = _controllers[cost_model] = Controller(cost_model, settings)
    return ctl


def recommend(
    history: Sequence[RunObservation],
    goals: Goals,
    constraints: Constraints,
    cost_model: CostModel,
    *,
    current: ClusterConfig | None = None,
    candidates: Sequence[ClusterConfig] | None = None,
    settings: ControllerSettings = DEFAULT_SETTINGS,
) -> Prediction:
    """Recommend the next configuration of a job from its history (oldest run first).

    Stateless: the phase (learning, optimizing, stable, rollback, relearning) is derived from the history.
    `current` defaults to the newest run's configuration. `candidates`, when given, replaces the search space
    that `constraints` would enumerate (the answer is then one of them). Raises NoCandidateError when nothing
    is left to choose from and InvalidHistoryError for a history the engine cannot learn from.
    """
    return _controller(cost_model, settings).decide(history, goals, constraints, current=current, candidates=candidates)
