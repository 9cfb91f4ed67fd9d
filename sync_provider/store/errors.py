"""Store errors: each names what was wrong and what to do about it."""

from __future__ import annotations

from collections.abc import Iterable


class SyncStoreError(Exception):
    """Base class of every error the store raises."""


class ProjectNotFound(SyncStoreError, LookupError):
    """No project has this id or name."""

    def __init__(self, id_or_name: str, known: Iterable[str] = ()):
        names = sorted(known)
        hint = (
            f"known projects: {', '.join(names[:10])}" + (", ..." if len(names) > 10 else "")
            if names
            else ("no project exists yet")
        )
        super().__init__(
            f"project {id_or_name!r} not found ({hint}); create it with `sync-cli projects create` or pass "
            "goals to the operator so it is created on first use"
        )
        self.id_or_name = id_or_name


class PredictionNotFound(SyncStoreError, LookupError):
    """No prediction has this id."""

    def __init__(self, prediction_id: str):
        super().__init__(f"prediction {prediction_id!r} not found; list them with `sync-cli predictions list`")
        self.prediction_id = prediction_id


class ProjectExists(SyncStoreError):
    """A project with this name already exists."""

    def __init__(self, name: str):
        super().__init__(f"a project named {name!r} already exists; pick another name or use get_or_create_project")
        self.name = name


class ConcurrentUpdateError(SyncStoreError):
    """Another writer appended a configuration version since the caller last looked: nothing was written."""

    def __init__(self, project_id: str, expected: int | None, actual: int | None):
        super().__init__(
            f"project {project_id}: configuration changed concurrently (expected latest version {expected}, "
            f"found {actual}); nothing was written: re-read the latest version and retry"
        )
        self.project_id = project_id
        self.expected = expected
        self.actual = actual


class InvalidTransition(SyncStoreError):
    """A config-version operation that does not apply in the version's current state (e.g. approving twice)."""
