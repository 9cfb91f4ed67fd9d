"""What the HTML report shows: per-run points of one or more jobs, independent of where they came from.

The demo fills these from the store and the emulator's ground truth, but the renderer only needs these plain
models, so it can be tested with synthetic data and reused for other sources (a backtest, a real workspace).
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field


class RunPoint(BaseModel):
    """One run of one job: the configuration it ran on, what it really took and cost, and the loop's state."""

    run: int = Field(ge=1, description="1-based position of the run in the job's history (one simulated day)")
    instance_type: str
    num_workers: int = Field(ge=0)
    photon: bool = False
    spot: bool = False
    runtime_s: float | None = Field(default=None, description="true runtime; None when the run failed early")
    true_cost_usd: float | None = None
    sla_seconds: float | None = None
    sla_met: bool | None = None
    succeeded: bool = True
    phase: str | None = Field(default=None, description="the controller's phase after this run")
    config_version: int | None = None
    reverted: bool = Field(default=False, description="this run ran on a configuration restored by a revert")
    events: list[str] = Field(default_factory=list, description="scenario events that hit this run, e.g. data +50%")
    changed: str = Field(default="", description="what changed since the previous run, in words")
    predicted_cost_usd: float | None = None
    predicted_runtime_s: float | None = None
    baseline_cost_usd: float | None = Field(
        default=None, description="what this run would have cost on the job's original cluster (no Sync)"
    )

    @property
    def config_label(self) -> str:
        extras = [x for x, on in (("photon", self.photon), ("spot", self.spot)) if on]
        suffix = f" ({', '.join(extras)})" if extras else ""
        return f"{self.num_workers} x {self.instance_type}{suffix}"


class JobSeries(BaseModel):
    """A job (a Sync project) and its runs, oldest first, with the goals it is optimised towards."""

    name: str
    sla_seconds: float | None = None
    cost_target_usd: float | None = None
    preference: str = "economy"
    goal_label: str = Field(default="", description="short label of the business goal, e.g. 'SLA-driven'")
    baseline_label: str = Field(default="", description="the original cluster, e.g. '24 x r5.4xlarge'")
    runs: list[RunPoint] = Field(default_factory=list)

    @property
    def goal_kind(self) -> str:
        """'SLA-driven', 'cost-driven' or 'SLA + cost', from the goals when no label was given."""
        if self.goal_label:
            return self.goal_label
        if self.sla_seconds and self.cost_target_usd:
            return "SLA + cost"
        if self.cost_target_usd:
            return "cost-driven"
        return "SLA-driven"


class ReportData(BaseModel):
    """Everything one report shows: the main job, optionally a group of jobs (example c) and run metadata."""

    title: str = "sync_provider closed-loop demo"
    generated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    primary: JobSeries
    group: list[JobSeries] = Field(default_factory=list, description="jobs sharing a tag, for the scatter")
    group_title: str = "Jobs grouped by tag, each with its own business goal"
    meta: dict[str, str] = Field(default_factory=dict, description="facts shown in the footer (workload, seed...)")
