"""The embedded recommendation engine (no Airflow, no emulator): evidence, prediction, decision."""

from sync_provider.engine.errors import EngineError, InvalidHistoryError, NoCandidateError
from sync_provider.engine.recommend import recommend

__all__ = ["EngineError", "InvalidHistoryError", "NoCandidateError", "recommend"]
