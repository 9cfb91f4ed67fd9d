"""The Sync store: projects, goals, runs, predictions and append-only cluster configuration versions.

SQLAlchemy 2 with Alembic migrations shipped in the package; a SQLite file by default, PostgreSQL when several
Airflow workers share it. No Airflow import: the CLI and tests use it directly.
"""

from sync_provider.store.errors import (
    ConcurrentUpdateError,
    InvalidTransition,
    PredictionNotFound,
    ProjectExists,
    ProjectNotFound,
    SyncStoreError,
)
from sync_provider.store.records import (
    CONFIG_STATUSES,
    ConfigStatus,
    ConfigVersionRecord,
    PredictionRecord,
    ProjectRecord,
    RunRecord,
)
from sync_provider.store.repository import SyncStore

__all__ = [
    "CONFIG_STATUSES",
    "ConcurrentUpdateError",
    "ConfigStatus",
    "ConfigVersionRecord",
    "InvalidTransition",
    "PredictionNotFound",
    "PredictionRecord",
    "ProjectExists",
    "ProjectNotFound",
    "ProjectRecord",
    "RunRecord",
    "SyncStore",
    "SyncStoreError",
]
