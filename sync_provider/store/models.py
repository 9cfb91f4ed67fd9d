"""SQLAlchemy 2 table definitions of the store. Table names carry a `sync_` prefix so the store can share a
database (even Airflow's own server) without clashing; the schema itself is created by the Alembic migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Project(Base):
    __tablename__ = "sync_projects"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    goals: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    constraints: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    tags: Mapped[dict[str, str]] = mapped_column(JSON, nullable=False, default=dict)
    apply_mode: Mapped[str] = mapped_column(String(16), nullable=False)
    job_id: Mapped[str | None] = mapped_column(String(64))
    job_cluster_key: Mapped[str | None] = mapped_column(String(255))
    task_key: Mapped[str | None] = mapped_column(String(255))
    platform: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class Run(Base):
    __tablename__ = "sync_runs"
    __table_args__ = (UniqueConstraint("project_id", "external_run_id", name="uq_sync_runs_project_external"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    project_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("sync_projects.id", ondelete="CASCADE"), nullable=False, index=True
    )
    external_run_id: Mapped[str] = mapped_column(String(128), nullable=False)
    observation: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    sla_met: Mapped[bool | None] = mapped_column(Boolean)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class PredictionRow(Base):
    __tablename__ = "sync_predictions"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    project_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("sync_projects.id", ondelete="CASCADE"), nullable=False, index=True
    )
    run_id: Mapped[str | None] = mapped_column(String(128))
    prediction: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False, default="new")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class ConfigVersion(Base):
    __tablename__ = "sync_config_versions"
    __table_args__ = (
        UniqueConstraint("project_id", "version", name="uq_sync_config_versions_project_version"),
        Index("ix_sync_config_versions_project_status", "project_id", "status"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("sync_projects.id", ondelete="CASCADE"), nullable=False
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    actor: Mapped[str] = mapped_column(String(255), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    prediction_id: Mapped[str | None] = mapped_column(String(36))
    reverted_from: Mapped[int | None] = mapped_column(Integer)
    approved_from: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
