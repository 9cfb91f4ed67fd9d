"""Airflow operators of the Sync provider, importable from here; each module is loaded on first use so that
importing one operator does not pull in the others (and the engine) at DAG parse time."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "SyncDatabricksSubmitRunOperator": "sync_provider.operators.databricks",
    "SyncPredictionOperator": "sync_provider.operators.prediction",
    "ApplyRecommendationOperator": "sync_provider.operators.apply",
}

if TYPE_CHECKING:
    from sync_provider.operators.apply import ApplyRecommendationOperator
    from sync_provider.operators.databricks import SyncDatabricksSubmitRunOperator
    from sync_provider.operators.prediction import SyncPredictionOperator

__all__ = ["ApplyRecommendationOperator", "SyncDatabricksSubmitRunOperator", "SyncPredictionOperator"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module), name)
