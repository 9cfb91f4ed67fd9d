"""Initial schema: projects, runs, predictions, append-only config versions.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_projects",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("goals", sa.JSON(), nullable=False),
        sa.Column("constraints", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("apply_mode", sa.String(16), nullable=False),
        sa.Column("job_id", sa.String(64)),
        sa.Column("job_cluster_key", sa.String(255)),
        sa.Column("task_key", sa.String(255)),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "sync_runs",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("project_id", sa.String(36), sa.ForeignKey("sync_projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("external_run_id", sa.String(128), nullable=False),
        sa.Column("observation", sa.JSON(), nullable=False),
        sa.Column("sla_met", sa.Boolean()),
        sa.Column("report", sa.JSON()),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("project_id", "external_run_id", name="uq_sync_runs_project_external"),
    )
    op.create_index("ix_sync_runs_project_id", "sync_runs", ["project_id"])
    op.create_table(
        "sync_predictions",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("project_id", sa.String(36), sa.ForeignKey("sync_projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("run_id", sa.String(128)),
        sa.Column("prediction", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sync_predictions_project_id", "sync_predictions", ["project_id"])
    op.create_table(
        "sync_config_versions",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.String(36), sa.ForeignKey("sync_projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("prediction_id", sa.String(36)),
        sa.Column("reverted_from", sa.Integer()),
        sa.Column("approved_from", sa.Integer()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("project_id", "version", name="uq_sync_config_versions_project_version"),
    )
    op.create_index("ix_sync_config_versions_project_status", "sync_config_versions", ["project_id", "status"])


def downgrade() -> None:
    op.drop_table("sync_config_versions")
    op.drop_table("sync_predictions")
    op.drop_table("sync_runs")
    op.drop_table("sync_projects")
