"""The embedded recommendation engine (no Airflow, no emulator): evidence, prediction, decision.

The entry point is `sync_provider.engine.recommend.recommend`. It is not re-exported here on purpose: it pulls in
scipy and xgboost, which the store, the operators and the CLI must not pay for when they only need the engine's
types and errors.
"""

from sync_provider.engine.errors import EngineError, InvalidHistoryError, NoCandidateError

__all__ = ["EngineError", "InvalidHistoryError", "NoCandidateError"]
