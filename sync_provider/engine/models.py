"""Shared vocabulary of the engine: goals, constraints, cluster configurations, observations and predictions.

Every other part of the package (store, operators, CLI, offline interfaces) speaks in these types, so they are
plain pydantic models that serialise to JSON and back without loss.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sync_provider.engine.evidence.profile import Profile


class Preference(StrEnum):
    """Which solution of a prediction a project follows."""

    ECONOMY = "economy"
    BALANCED = "balanced"
    PERFORMANCE = "performance"


class Plan(StrEnum):
    """Databricks pricing plan (decides $ per DBU)."""

    STANDARD = "standard"
    PREMIUM = "premium"
    ENTERPRISE = "enterprise"


class ComputeType(StrEnum):
    """Databricks compute type (decides $ per DBU and the Photon multiplier)."""

    JOBS = "jobs"
    JOBS_LIGHT = "jobs_light"
    ALL_PURPOSE = "all_purpose"


class ApplyMode(StrEnum):
    """How a recommendation becomes the next active configuration."""

    AUTO = "auto"
    APPROVAL = "approval"
    DRY_RUN = "dry-run"


class SpotPolicy(StrEnum):
    """Whether workers may run on spot instances (the driver always stays on demand)."""

    NEVER = "never"
    ALLOWED = "allowed"
    ALWAYS = "always"


class Phase(StrEnum):
    """Where the closed-loop controller stands for a project."""

    LEARNING = "learning"
    OPTIMIZING = "optimizing"
    STABLE = "stable"
    ROLLBACK = "rollback"
    RELEARNING = "relearning"


class ClusterConfig(BaseModel):
    """One cluster configuration the optimizer can choose: what Sync manages in a `new_cluster`."""

    model_config = ConfigDict(frozen=True)

    instance_type: str
    num_workers: int = Field(ge=0)
    driver_instance_type: str | None = None
    photon: bool = False
    spot: bool = False

    @property
    def driver(self) -> str:
        return self.driver_instance_type or self.instance_type

    def key(self) -> tuple[str, int, str, bool, bool]:
        return (self.instance_type, self.num_workers, self.driver, self.photon, self.spot)

    def describe(self) -> str:
        extras = [x for x, on in (("photon", self.photon), ("spot", self.spot)) if on]
        suffix = f" ({', '.join(extras)})" if extras else ""
        return f"{self.num_workers} x {self.instance_type}{suffix}"


class Goals(BaseModel):
    """A job's business goals. Either may be absent; both together are allowed."""

    sla_seconds: float | None = Field(default=None, gt=0)
    cost_target_usd: float | None = Field(default=None, gt=0)
    preference: Preference = Preference.ECONOMY


class Constraints(BaseModel):
    """What the optimizer may choose from; set per project by the platform team."""

    instance_families: list[str] | None = None
    architectures: list[Literal["x86_64", "arm64"]] | None = None
    instance_types: list[str] | None = None
    min_workers: int = Field(default=1, ge=0)
    max_workers: int = Field(default=64, ge=0)
    photon_allowed: bool = True
    spot_policy: SpotPolicy = SpotPolicy.NEVER
    driver_instance_type: str | None = None

    @field_validator("max_workers")
    @classmethod
    def _bounds(cls, v: int, info) -> int:
        lo = info.data.get("min_workers", 1)
        if v < lo:
            raise ValueError(f"max_workers ({v}) is below min_workers ({lo}); raise max_workers or lower min_workers")
        return v


class CostBreakdown(BaseModel):
    """Money split into its cloud and Databricks parts, always shown together."""

    cloud_usd: float
    dbu_usd: float
    ebs_usd: float = 0.0

    @property
    def total_usd(self) -> float:
        return self.cloud_usd + self.dbu_usd + self.ebs_usd


class RunObservation(BaseModel):
    """What the engine learns from one finished run of a job."""

    config: ClusterConfig
    runtime_s: float | None = Field(default=None, description="wall time of the run; None when it failed early")
    succeeded: bool = True
    input_bytes: int | None = None
    cost: CostBreakdown | None = None
    profile: Profile | None = None
    run_id: str | None = None
    started_at_epoch_s: float | None = None
    config_version: int | None = None

    @field_validator("runtime_s")
    @classmethod
    def _positive(cls, v: float | None) -> float | None:
        if v is not None and v <= 0:
            raise ValueError(f"runtime_s must be positive, got {v}")
        return v


class Solution(BaseModel):
    """The engine's answer for one preference."""

    preference: Preference
    config: ClusterConfig
    predicted_runtime_s: float
    predicted_runtime_p90_s: float
    cost: CostBreakdown
    cost_low_usd: float
    cost_high_usd: float
    meets_sla: bool = True
    meets_cost_target: bool = True
    reason: str = ""


class Prediction(BaseModel):
    """One recommendation: a solution per preference, the controller's phase and why."""

    current: ClusterConfig | None = None
    solutions: dict[Preference, Solution]
    phase: Phase
    reason: str
    warnings: list[str] = Field(default_factory=list)

    def for_preference(self, preference: Preference | str) -> Solution:
        return self.solutions[Preference(preference)]
