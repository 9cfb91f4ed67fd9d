"""One row per DAG run of the demo: what ran, what it truly took and cost, and what the loop did about it.

`DemoRow.contract()` is the `sync-cli demo --json` line: exactly the keys scripts rely on, in a fixed order.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from sync_provider.engine.models import ClusterConfig
from sync_provider.report.model import RunPoint

#: The keys of one `sync-cli demo --json` line, in order. A contract: extend the row, never these keys.
JSON_KEYS: tuple[str, ...] = (
    "run",
    "instance_type",
    "num_workers",
    "photon",
    "spot",
    "runtime_s",
    "true_cost_usd",
    "sla_seconds",
    "sla_met",
    "phase",
    "config_version",
    "reverted",
)


class DemoRow(BaseModel):
    """One DAG run of a demo job, joined from the store (what Sync saw and did) and the emulator's ground truth."""

    job: str
    run: int = Field(ge=1)
    instance_type: str
    num_workers: int
    photon: bool
    spot: bool
    runtime_s: float | None
    true_cost_usd: float | None
    sla_seconds: float | None
    sla_met: bool | None
    phase: str | None
    config_version: int | None
    reverted: bool
    succeeded: bool = True
    external_run_id: str | None = None
    observed_cost_usd: float | None = None
    predicted_runtime_s: float | None = None
    predicted_cost_usd: float | None = None
    next_config: str | None = Field(default=None, description="the configuration recommended for the next run")
    baseline_cost_usd: float | None = Field(default=None, description="the same day on the original cluster")
    events: list[str] = Field(default_factory=list)
    changed: str = ""
    dag_seconds: float = 0.0

    @property
    def config(self) -> ClusterConfig:
        return ClusterConfig(
            instance_type=self.instance_type, num_workers=self.num_workers, photon=self.photon, spot=self.spot
        )

    def contract(self) -> dict[str, object]:
        """The `--json` line: exactly JSON_KEYS."""
        data = self.model_dump()
        return {key: data[key] for key in JSON_KEYS}

    def point(self) -> RunPoint:
        """This row as a report point."""
        return RunPoint(
            run=self.run,
            instance_type=self.instance_type,
            num_workers=self.num_workers,
            photon=self.photon,
            spot=self.spot,
            runtime_s=self.runtime_s,
            true_cost_usd=self.true_cost_usd,
            sla_seconds=self.sla_seconds,
            sla_met=self.sla_met,
            succeeded=self.succeeded,
            phase=self.phase,
            config_version=self.config_version,
            reverted=self.reverted,
            events=self.events,
            changed=self.changed,
            predicted_cost_usd=self.predicted_cost_usd,
            predicted_runtime_s=self.predicted_runtime_s,
            baseline_cost_usd=self.baseline_cost_usd,
        )


def describe_change(previous: ClusterConfig | None, current: ClusterConfig, *, reverted_to: int | None = None) -> str:
    """What differs between the previous run's configuration and this one, in a few words."""
    if previous is None:
        return "first run on the job's own configuration"
    parts: list[str] = []
    if previous.instance_type != current.instance_type:
        parts.append(f"{previous.instance_type} → {current.instance_type}")
    if previous.num_workers != current.num_workers:
        parts.append(f"workers {previous.num_workers} → {current.num_workers}")
    if previous.photon != current.photon:
        parts.append("photon on" if current.photon else "photon off")
    if previous.spot != current.spot:
        parts.append("spot on" if current.spot else "spot off")
    if reverted_to is not None:
        parts.insert(0, f"reverted to v{reverted_to}")
    return ", ".join(parts) or "no change"
