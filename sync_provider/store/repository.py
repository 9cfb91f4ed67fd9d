"""SyncStore: the one repository through which projects, runs, predictions and config versions are read and
written. Every method is a short transaction and returns detached pydantic records.

Config versions are append-only. A writer states the latest version it saw (`expected_version`); if another
writer appended meanwhile, the write fails with ConcurrentUpdateError (checked in the transaction, and backed by
the database's unique (project_id, version) constraint for the race between check and insert).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from sync_provider.engine.evidence.profile import data_input_bytes
from sync_provider.engine.models import (
    ApplyMode,
    ClusterConfig,
    Constraints,
    Goals,
    Prediction,
    RunObservation,
)
from sync_provider.store import migrate
from sync_provider.store.errors import (
    ConcurrentUpdateError,
    InvalidTransition,
    PredictionNotFound,
    ProjectExists,
    ProjectNotFound,
    SyncStoreError,
)
from sync_provider.store.models import ConfigVersion, PredictionRow, Project, Run, utcnow
from sync_provider.store.records import (
    CONFIG_STATUSES,
    ConfigVersionRecord,
    PredictionRecord,
    ProjectRecord,
    RunRecord,
)

log = logging.getLogger(__name__)

_UPDATABLE = {
    "name",
    "description",
    "goals",
    "constraints",
    "tags",
    "apply_mode",
    "job_id",
    "job_cluster_key",
    "task_key",
    "platform",
}
_engines: dict[str, Engine] = {}


def _forget_inherited_connections() -> None:
    """After a fork (Celery prefork, LocalExecutor), never reuse the parent's pooled connections."""
    for engine in _engines.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_inherited_connections)


def _aware(dt: datetime) -> datetime:
    """SQLite drops the time zone: every timestamp the store writes is UTC."""
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _shared_engine(url: str) -> Engine:
    """One engine (and connection pool) per URL and process; in-memory SQLite gets its own each time."""
    if url.rstrip("/") in ("sqlite:", "sqlite:/", "sqlite://") or ":memory:" in url:
        return migrate.make_engine(url)
    if url not in _engines:
        _engines[url] = migrate.make_engine(url)
    return _engines[url]


class SyncStore:
    """Repository of projects, runs, predictions and config versions (SQLite file or PostgreSQL)."""

    def __init__(self, url: str):
        from sync_provider.settings import redact_url

        self.url = url
        try:
            self.engine = _shared_engine(url)
        except ImportError as exc:
            raise SyncStoreError(
                f"cannot open the Sync store at {redact_url(url)}: its database driver is not installed ({exc}); "
                "install it on every worker (PostgreSQL: pip install 'airflow-provider-sync[postgres]')"
            ) from None
        try:
            migrate.upgrade(self.engine)
        except OperationalError as exc:
            raise SyncStoreError(
                f"cannot open the Sync store at {redact_url(url)}: {exc.orig}; check the sync connection's "
                "store_url and that the database server is reachable"
            ) from None
        except migrate.UnknownSchemaError as exc:
            raise SyncStoreError(f"cannot use the Sync store at {redact_url(url)}: {exc}") from None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def __repr__(self) -> str:
        from sync_provider.settings import redact_url

        return f"SyncStore({redact_url(self.url)!r})"

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    # ------------------------------------------------------------------ projects

    def create_project(
        self,
        name: str,
        *,
        goals: Goals,
        constraints: Constraints | None = None,
        tags: dict[str, str] | None = None,
        apply_mode: ApplyMode = ApplyMode.AUTO,
        description: str = "",
        job_id: str | None = None,
        job_cluster_key: str | None = None,
        task_key: str | None = None,
        platform: str = "aws-databricks",
    ) -> ProjectRecord:
        """Create a project; raises ProjectExists when the name is taken."""
        if not name or not name.strip():
            raise SyncStoreError("a project needs a non-empty name")
        now = utcnow()
        row = Project(
            id=str(uuid.uuid4()),
            name=name.strip(),
            description=description,
            goals=Goals.model_validate(goals).model_dump(mode="json"),
            constraints=Constraints.model_validate(constraints or Constraints()).model_dump(mode="json"),
            tags={str(k): str(v) for k, v in (tags or {}).items()},
            apply_mode=ApplyMode(apply_mode).value,
            job_id=None if job_id is None else str(job_id),
            job_cluster_key=job_cluster_key,
            task_key=task_key,
            platform=platform,
            created_at=now,
            updated_at=now,
        )
        try:
            with self._session() as s:
                s.add(row)
        except IntegrityError:
            raise ProjectExists(name) from None
        return _project(row)

    def find_project(self, id_or_name: str) -> ProjectRecord | None:
        with self._session() as s:
            row = self._find(s, id_or_name)
            return _project(row) if row else None

    def get_project(self, id_or_name: str) -> ProjectRecord:
        with self._session() as s:
            return _project(self._get(s, id_or_name))

    def get_or_create_project(self, name: str, **create_kwargs: Any) -> ProjectRecord:
        """The project with this id or name, created with `create_kwargs` if missing (safe against a racing
        creator: the loser of the race reads the winner's project)."""
        found = self.find_project(name)
        if found:
            return found
        if "goals" not in create_kwargs:
            create_kwargs["goals"] = Goals()
        try:
            return self.create_project(name, **create_kwargs)
        except ProjectExists:
            return self.get_project(name)

    def list_projects(self, *, tag: tuple[str, str] | None = None) -> list[ProjectRecord]:
        with self._session() as s:
            rows = s.scalars(select(Project).order_by(Project.pk)).all()
            out = [_project(r) for r in rows]
        if tag is not None:
            key, value = tag
            out = [p for p in out if p.tags.get(key) == value]
        return out

    def update_project(self, id_or_name: str, **changes: Any) -> ProjectRecord:
        """Change goals, constraints, tags, apply mode or job identifiers; unknown fields are refused."""
        unknown = sorted(set(changes) - _UPDATABLE)
        if unknown:
            raise SyncStoreError(
                f"cannot update project field(s) {', '.join(unknown)}; updatable: {', '.join(sorted(_UPDATABLE))}"
            )
        try:
            with self._session() as s:
                row = self._get(s, id_or_name)
                for key, value in changes.items():
                    if key == "goals":
                        value = Goals.model_validate(value).model_dump(mode="json")
                    elif key == "constraints":
                        value = Constraints.model_validate(value or {}).model_dump(mode="json")
                    elif key == "tags":
                        value = {str(k): str(v) for k, v in (value or {}).items()}
                    elif key == "apply_mode":
                        value = ApplyMode(value).value
                    elif key == "job_id" and value is not None:
                        value = str(value)
                    setattr(row, key, value)
                row.updated_at = utcnow()
        except IntegrityError:
            raise ProjectExists(str(changes.get("name"))) from None
        return _project(row)

    def delete_project(self, id_or_name: str) -> None:
        """Delete a project with its runs, predictions and config versions."""
        with self._session() as s:
            row = self._get(s, id_or_name)
            for table in (Run, PredictionRow, ConfigVersion):
                s.execute(delete(table).where(table.project_id == row.id))
            s.delete(row)

    # ------------------------------------------------------------------ runs

    def record_run(
        self,
        project_id: str,
        observation: RunObservation,
        *,
        external_run_id: str,
        report: dict | None = None,
        sla_met: bool | None = None,
    ) -> RunRecord:
        """Record a finished run once: recording the same external run again returns the first record."""
        external_run_id = str(external_run_id)
        obs = observation if observation.run_id else observation.model_copy(update={"run_id": external_run_id})
        with self._session() as s:
            pid = self._get(s, project_id).id
        existing = self.get_run(pid, external_run_id)
        if existing:
            return existing
        row = Run(
            id=str(uuid.uuid4()),
            project_id=pid,
            external_run_id=external_run_id,
            observation=obs.model_dump(mode="json"),
            sla_met=sla_met,
            report=to_jsonable_python(report) if report is not None else None,  # datetimes, enums, models
            recorded_at=utcnow(),
        )
        try:
            with self._session() as s:
                s.add(row)
        except IntegrityError:
            existing = self.get_run(pid, external_run_id)
            if existing is None:
                raise
            return existing
        return _run(row)

    def get_run(self, project_id: str, external_run_id: str) -> RunRecord | None:
        with self._session() as s:
            pid = self._get(s, project_id).id
            row = s.scalars(
                select(Run).where(Run.project_id == pid, Run.external_run_id == str(external_run_id))
            ).first()
            return _run(row) if row else None

    def list_runs(self, project_id: str) -> list[RunRecord]:
        """Runs oldest first."""
        with self._session() as s:
            pid = self._get(s, project_id).id
            return [_run(r) for r in s.scalars(select(Run).where(Run.project_id == pid).order_by(Run.pk))]

    def history(self, project_id: str) -> list[RunObservation]:
        """The project's observations, oldest first: what the engine takes.

        The input size is measured again from each run's profile, so that runs recorded before the data size was
        what a job reads once (their `input_bytes` counted re-reads) agree with newer ones."""
        return [_data_size_from_profile(r.observation) for r in self.list_runs(project_id)]

    # ------------------------------------------------------------------ predictions

    def save_prediction(
        self, project_id: str, prediction: Prediction, *, run_id: str | None = None, status: str = "new"
    ) -> PredictionRecord:
        _check_status(status)
        with self._session() as s:
            pid = self._get(s, project_id).id
            row = PredictionRow(
                id=str(uuid.uuid4()),
                project_id=pid,
                run_id=None if run_id is None else str(run_id),
                prediction=prediction.model_dump(mode="json"),
                status=status,
                created_at=utcnow(),
            )
            s.add(row)
        return _prediction(row)

    def get_prediction(self, prediction_id: str) -> PredictionRecord:
        with self._session() as s:
            row = s.scalars(select(PredictionRow).where(PredictionRow.id == prediction_id)).first()
            if row is None:
                raise PredictionNotFound(prediction_id)
            return _prediction(row)

    def list_predictions(self, project_id: str | None = None) -> list[PredictionRecord]:
        """Predictions oldest first, of one project or of all."""
        with self._session() as s:
            q = select(PredictionRow).order_by(PredictionRow.pk)
            if project_id is not None:
                q = q.where(PredictionRow.project_id == self._get(s, project_id).id)
            return [_prediction(r) for r in s.scalars(q)]

    def set_prediction_status(self, prediction_id: str, status: str) -> PredictionRecord:
        """Mark a prediction (e.g. "applied", "pending", "dismissed"): predictions are advice, not history."""
        _check_status(status)
        with self._session() as s:
            row = s.scalars(select(PredictionRow).where(PredictionRow.id == prediction_id)).first()
            if row is None:
                raise PredictionNotFound(prediction_id)
            row.status = status
        return _prediction(row)

    # ------------------------------------------------------------------ config versions

    def active_config(self, project_id: str) -> ConfigVersionRecord | None:
        """The newest version with status "active" (what the next run uses), if any."""
        with self._session() as s:
            pid = self._get(s, project_id).id
            row = s.scalars(
                select(ConfigVersion)
                .where(ConfigVersion.project_id == pid, ConfigVersion.status == "active")
                .order_by(ConfigVersion.version.desc())
            ).first()
            return _config(row) if row else None

    def latest_config(self, project_id: str) -> ConfigVersionRecord | None:
        """The newest version of any status: its number is what `append_config` expects."""
        with self._session() as s:
            pid = self._get(s, project_id).id
            row = s.scalars(
                select(ConfigVersion).where(ConfigVersion.project_id == pid).order_by(ConfigVersion.version.desc())
            ).first()
            return _config(row) if row else None

    def get_config(self, project_id: str, version: int) -> ConfigVersionRecord:
        with self._session() as s:
            pid = self._get(s, project_id).id
            row = self._version(s, pid, version)
            return _config(row)

    def config_history(self, project_id: str) -> list[ConfigVersionRecord]:
        """All versions, oldest first."""
        with self._session() as s:
            pid = self._get(s, project_id).id
            rows = s.scalars(
                select(ConfigVersion).where(ConfigVersion.project_id == pid).order_by(ConfigVersion.version)
            )
            return [_config(r) for r in rows]

    def append_config(
        self,
        project_id: str,
        config: ClusterConfig,
        *,
        expected_version: int | None,
        status: str = "active",
        actor: str,
        reason: str,
        prediction_id: str | None = None,
        reverted_from: int | None = None,
        approved_from: int | None = None,
    ) -> ConfigVersionRecord:
        """Append the next version. `expected_version` is the latest version number the caller saw (None when
        it saw none); if another writer appended since, raises ConcurrentUpdateError and writes nothing."""
        if status not in CONFIG_STATUSES:
            raise SyncStoreError(f"unknown config status {status!r}; accepted: {', '.join(CONFIG_STATUSES)}")
        if not actor:
            raise SyncStoreError("append_config needs an actor (who or what made the change)")
        config = ClusterConfig.model_validate(config)
        try:
            with self._session() as s:
                pid = self._get(s, project_id).id
                latest = s.scalar(select(func.max(ConfigVersion.version)).where(ConfigVersion.project_id == pid))
                if latest != expected_version:
                    raise ConcurrentUpdateError(pid, expected_version, latest)
                row = ConfigVersion(
                    project_id=pid,
                    version=(latest or 0) + 1,
                    config=config.model_dump(mode="json"),
                    status=status,
                    actor=actor,
                    reason=reason,
                    prediction_id=prediction_id,
                    reverted_from=reverted_from,
                    approved_from=approved_from,
                    created_at=utcnow(),
                )
                s.add(row)
                s.flush()
        except IntegrityError:
            # The unique (project_id, version) constraint caught a writer that raced past the check above.
            actual = self.latest_config(project_id)
            raise ConcurrentUpdateError(project_id, expected_version, actual.version if actual else None) from None
        log.info("project %s: config version %d (%s) by %s: %s", pid, row.version, status, actor, reason)
        return _config(row)

    def approve(self, project_id: str, version: int, *, actor: str) -> ConfigVersionRecord:
        """Turn a pending version into the next active version (appended; the pending record stays as it was)."""
        history = self.config_history(project_id)
        target = next((c for c in history if c.version == version), None)
        if target is None:
            raise InvalidTransition(
                f"project {project_id}: no config version {version}; versions: {[c.version for c in history]}"
            )
        if target.status != "pending":
            raise InvalidTransition(
                f"project {project_id}: version {version} is {target.status!r}, only 'pending' versions are approved"
            )
        if any(c.approved_from == version for c in history):
            raise InvalidTransition(f"project {project_id}: version {version} was already approved")
        return self.append_config(
            project_id,
            target.config,
            expected_version=history[-1].version,
            status="active",
            actor=actor,
            reason=f"approved version {version}: {target.reason}",
            prediction_id=target.prediction_id,
            approved_from=version,
        )

    def last_good_version(self, project_id: str) -> ConfigVersionRecord | None:
        """The newest active version, other than the current one, whose recorded runs all succeeded within the
        SLA (and which ran at least once)."""
        history = self.config_history(project_id)
        current = self.active_config(project_id)
        verdicts: dict[int, list[bool]] = {}
        for run in self.list_runs(project_id):
            v = run.observation.config_version
            if v is not None:
                verdicts.setdefault(v, []).append(run.observation.succeeded and run.sla_met is not False)
        for rec in reversed(history):
            if rec.status != "active" or (current and rec.version == current.version):
                continue
            runs = verdicts.get(rec.version)
            if runs and all(runs):
                return rec
        return None

    def rollback(
        self, project_id: str, *, to_version: int | None = None, actor: str, reason: str
    ) -> ConfigVersionRecord:
        """Append a new active version equal to `to_version` (default: the last good version)."""
        history = self.config_history(project_id)
        if to_version is None:
            target = self.last_good_version(project_id)
            if target is None:
                raise InvalidTransition(
                    f"project {project_id}: no earlier version ran successfully within its SLA; "
                    "give the version to roll back to explicitly"
                )
        else:
            target = next((c for c in history if c.version == to_version), None)
            if target is None:
                raise InvalidTransition(
                    f"project {project_id}: no config version {to_version}; versions: {[c.version for c in history]}"
                )
        return self.append_config(
            project_id,
            target.config,
            expected_version=history[-1].version if history else None,
            status="active",
            actor=actor,
            reason=reason,
            reverted_from=target.version,
        )

    # ------------------------------------------------------------------ helpers

    def _find(self, s: Session, id_or_name: str) -> Project | None:
        key = str(id_or_name)
        row = s.scalars(select(Project).where(Project.id == key)).first()
        if row is None:
            row = s.scalars(select(Project).where(Project.name == key.strip())).first()
        return row

    def _get(self, s: Session, id_or_name: str) -> Project:
        row = self._find(s, id_or_name)
        if row is None:
            raise ProjectNotFound(id_or_name, s.scalars(select(Project.name)).all())
        return row

    def _version(self, s: Session, pid: str, version: int) -> ConfigVersion:
        row = s.scalars(
            select(ConfigVersion).where(ConfigVersion.project_id == pid, ConfigVersion.version == version)
        ).first()
        if row is None:
            raise InvalidTransition(f"project {pid}: no config version {version}")
        return row


def _check_status(status: str) -> None:
    if not status or len(status) > 32:
        raise SyncStoreError(f"prediction status must be 1 to 32 characters, got {status!r}")


def _project(r: Project) -> ProjectRecord:
    return ProjectRecord(
        id=r.id,
        name=r.name,
        description=r.description or "",
        goals=Goals.model_validate(r.goals),
        constraints=Constraints.model_validate(r.constraints),
        tags=dict(r.tags or {}),
        apply_mode=ApplyMode(r.apply_mode),
        job_id=r.job_id,
        job_cluster_key=r.job_cluster_key,
        task_key=r.task_key,
        platform=r.platform,
        created_at=_aware(r.created_at),
        updated_at=_aware(r.updated_at),
    )


def _data_size_from_profile(obs: RunObservation) -> RunObservation:
    if obs.profile is None:
        return obs
    size = data_input_bytes(obs.profile) or None
    return obs if size == obs.input_bytes else obs.model_copy(update={"input_bytes": size})


def _run(r: Run) -> RunRecord:
    return RunRecord(
        id=r.id,
        project_id=r.project_id,
        external_run_id=r.external_run_id,
        observation=RunObservation.model_validate(r.observation),
        sla_met=r.sla_met,
        report=r.report,
        recorded_at=_aware(r.recorded_at),
    )


def _prediction(r: PredictionRow) -> PredictionRecord:
    return PredictionRecord(
        id=r.id,
        project_id=r.project_id,
        run_id=r.run_id,
        prediction=Prediction.model_validate(r.prediction),
        status=r.status,
        created_at=_aware(r.created_at),
    )


def _config(r: ConfigVersion) -> ConfigVersionRecord:
    return ConfigVersionRecord(
        project_id=r.project_id,
        version=r.version,
        config=ClusterConfig.model_validate(r.config),
        status=r.status,  # type: ignore[arg-type]
        actor=r.actor,
        reason=r.reason or "",
        prediction_id=r.prediction_id,
        reverted_from=r.reverted_from,
        approved_from=r.approved_from,
        created_at=_aware(r.created_at),
    )
