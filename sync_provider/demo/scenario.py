"""The demo's job: a daily orders x customers ETL that starts on an oversized cluster, sees its data grow by half
around day 6 and its code change around day 10, and the goals and guardrails the platform team set for it.

The workload is the emulator's declarative format (see sync_provider/emulator/workloads); it is built here rather
than shipped as a file so the scenario knobs (`growth_at`, `code_change_at`, `fail_at`) stay parameters.
Days are 1-based (day 1 is the first DAG run); the emulator counts runs from 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sync_provider.emulator.workloads import Workload, load_workload
from sync_provider.engine.models import ClusterConfig, Constraints, Goals, Preference

DEMO_WORKLOAD = "sync_demo_daily_etl"
#: The job's own cluster before Sync: sized once for a bad day and never touched again.
OVERSIZED_START = ClusterConfig(instance_type="r5.4xlarge", num_workers=24)
#: What the business asks of the job: done within 30 minutes, ideally for at most $3 a run.
DEMO_GOALS = Goals(sla_seconds=1800.0, cost_target_usd=3.00, preference=Preference.ECONOMY)
#: The platform team's guardrails: x86 general-purpose and memory-optimised families, 2 to 32 workers.
DEMO_CONSTRAINTS = Constraints(
    instance_families=["m5", "m5d", "m6i", "r5", "r5d", "r6i"],
    architectures=["x86_64"],
    min_workers=2,
    max_workers=32,
)

_SCAN = ["Scan parquet", "Filter", "Project", "Exchange"]


def _stage(name: str, job: int, tasks: int, cpu: float, **more: Any) -> dict[str, Any]:
    return {"name": name, "job": job, "tasks": tasks, "cpu_s_per_task": cpu, **more}


def _stages(with_sessionize: bool) -> list[dict[str, Any]]:
    """The job's stages; the code change adds a CPU-heavy sessionize (window) job before the final aggregate."""
    stages = [
        _stage(
            "scan orders",
            0,
            4000,
            2.4,
            input_bytes=500e9,
            shuffle_write_bytes=220e9,
            memory_per_task_mb=300,
            photon_fraction=0.7,
            photon_speedup=3.0,
            operators=_SCAN,
        ),
        _stage(
            "scan customers",
            0,
            800,
            1.8,
            input_bytes=80e9,
            shuffle_write_bytes=40e9,
            memory_per_task_mb=300,
            photon_fraction=0.7,
            photon_speedup=3.0,
            operators=["Scan parquet", "Project", "Exchange"],
        ),
        _stage(
            "sort merge join",
            0,
            2000,
            5.0,
            shuffle_read_bytes=260e9,
            shuffle_write_bytes=120e9,
            memory_per_task_mb=1600,
            task_sigma=0.25,
            photon_fraction=0.6,
            photon_speedup=2.5,
            parents=[0, 1],
            operators=["Sort", "SortMergeJoin", "Project", "HashAggregate", "Exchange"],
        ),
    ]
    if with_sessionize:
        stages.append(
            _stage(
                "sessionize (window)",
                1,
                2000,
                4.0,
                shuffle_read_bytes=120e9,
                shuffle_write_bytes=120e9,
                memory_per_task_mb=500,
                task_sigma=0.3,
                photon_fraction=0.3,
                photon_speedup=2.0,
                operators=["Sort", "Window", "Project", "Exchange"],
            )
        )
    stages.append(
        _stage(
            "aggregate and write",
            2 if with_sessionize else 1,
            1000,
            2.5,
            shuffle_read_bytes=120e9,
            output_bytes=70e9,
            memory_per_task_mb=900,
            photon_fraction=0.6,
            photon_speedup=2.5,
            operators=["HashAggregate", "Project", "WriteFiles"],
        )
    )
    return stages


def demo_workload(
    *, growth_at: int | None = 6, code_change_at: int | None = 10, fail_at: Sequence[int] = ()
) -> Workload:
    """The demo job as an emulator workload; the `*_at` arguments are 1-based days (None: no such event)."""
    scenario: dict[str, Any] = {
        "spot_loss_probability": 0.05,
        "noise_sigma": 0.03,
        "fail_at_runs": sorted(day - 1 for day in fail_at),
    }
    if growth_at is not None:
        scenario["step_growth"] = [{"at_run": growth_at - 1, "factor": 1.5}]
    if code_change_at is not None:
        scenario["code_change"] = {
            "at_run": code_change_at - 1,
            "driver_time_s": 120,
            "stages": _stages(with_sessionize=True),
        }
    return Workload.model_validate(
        {
            "name": DEMO_WORKLOAD,
            "description": "Daily orders x customers ETL of the sync_provider demo",
            "app_name": "daily_orders_etl",
            "driver_time_s": 90,
            "stages": _stages(with_sessionize=False),
            "scenario": scenario,
        }
    )


def resolve_workload(name: str | None) -> Workload:
    """The demo's own workload by default, else a built-in emulator workload by name or a workload file path."""
    if not name or name == DEMO_WORKLOAD:
        return demo_workload()
    return load_workload(name)


def baseline_cost(workload: Workload, config: ClusterConfig, day: int) -> float:
    """What day `day`'s run would really cost on `config`: the emulator's noise-free simulation of it.

    This is ground truth (the emulator's physics), used only to show what the job would have cost without Sync.
    """
    from sync_provider.emulator.simulator import ClusterSpec, expected

    spec = ClusterSpec(
        instance_type=config.instance_type,
        num_workers=config.num_workers,
        driver_instance_type=config.driver_instance_type,
        photon=config.photon,
        spot=config.spot,
    )
    return expected(workload, spec, day - 1).cost.total_usd


def scenario_events(workload: Workload, runs: int) -> dict[int, list[str]]:
    """Scenario events by 1-based day, worded for the table and the report (growth, code change, forced failure)."""
    events: dict[int, list[str]] = {}
    sc = workload.scenario
    for step in sc.step_growth:
        events.setdefault(step.at_run + 1, []).append(f"data {(step.factor - 1) * 100:+.0f}%")
    if sc.code_change is not None:
        events.setdefault(sc.code_change.at_run + 1, []).append("code change")
    for run_index in sc.fail_at_runs:
        events.setdefault(run_index + 1, []).append("injected failure")
    return {day: labels for day, labels in events.items() if 1 <= day <= runs}
