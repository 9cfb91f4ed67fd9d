"""What the store hands out: plain pydantic records, detached from any database session."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from sync_provider.engine.models import ApplyMode, ClusterConfig, Constraints, Goals, Prediction, RunObservation

ConfigStatus = Literal["active", "pending", "dry-run", "rejected"]
CONFIG_STATUSES: tuple[str, ...] = ("active", "pending", "dry-run", "rejected")


class ProjectRecord(BaseModel):
    """A recurring job Sync optimises, with its goals, constraints and grouping tags."""

    id: str
    name: str
    description: str = ""
    goals: Goals
    constraints: Constraints
    tags: dict[str, str] = Field(default_factory=dict)
    apply_mode: ApplyMode = ApplyMode.AUTO
    job_id: str | None = None
    job_cluster_key: str | None = None
    task_key: str | None = None
    platform: str = "aws-databricks"
    created_at: datetime
    updated_at: datetime


class RunRecord(BaseModel):
    """One recorded run of a project's job."""

    id: str
    project_id: str
    external_run_id: str
    observation: RunObservation
    sla_met: bool | None = None
    report: dict[str, Any] | None = None
    recorded_at: datetime


class PredictionRecord(BaseModel):
    """One recommendation the engine made for a project."""

    id: str
    project_id: str
    run_id: str | None = None
    prediction: Prediction
    status: str = "new"
    created_at: datetime


class ConfigVersionRecord(BaseModel):
    """One appended cluster configuration of a project; versions count up from 1 and are never rewritten."""

    project_id: str
    version: int
    config: ClusterConfig
    status: ConfigStatus
    actor: str
    reason: str
    prediction_id: str | None = None
    reverted_from: int | None = None
    approved_from: int | None = None
    created_at: datetime
