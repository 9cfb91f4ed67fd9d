"""Build small Profiles from a few numbers: for tests, examples and benchmarks without event logs.

A profile is made as if a job had run on `slots` task slots: each stage's tasks take `task_s` seconds (split into
CPU, GC, shuffle and I/O by the given shares) and the stages run one after another, plus `driver_s` of serial
driver time. The result is what the event-log parser would produce for such a run, at stage granularity.
"""

from __future__ import annotations

import math

from sync_provider.engine.evidence.profile import Profile, Quantiles, SqlExecution, StageProfile


def make_profile(
    *,
    slots: int,
    stages: int = 6,
    tasks: int = 400,
    task_s: float = 4.0,
    cpu_share: float = 0.7,
    gc_share: float = 0.05,
    shuffle_share: float = 0.1,
    driver_s: float = 30.0,
    skew: float = 1.5,
    peak_memory_bytes: int = 256 * 2**20,
    spilled_bytes: int = 0,
    input_bytes: int = 10 * 2**30,
    fingerprint: str = "v1",
    sql_operators: dict[str, int] | None = None,
) -> Profile:
    """A profile whose application time is the stages laid out on `slots` slots plus driver time."""
    stage_list = []
    app = driver_s
    for i in range(stages):
        run = tasks * task_s
        wall = math.ceil(tasks / slots) * task_s
        wall = max(wall, task_s * skew)
        app += wall
        stage_list.append(
            StageProfile(
                stage_id=i,
                num_tasks=tasks,
                completed_tasks=tasks,
                duration_s=wall,
                task_duration=Quantiles(
                    min=task_s / skew,
                    p25=task_s,
                    p50=task_s,
                    p75=task_s,
                    p90=task_s,
                    p99=task_s * skew,
                    max=task_s * skew,
                    mean=task_s,
                ),  # fmt: skip
                task_duration_sum_s=run,
                executor_run_time_s=run,
                executor_cpu_time_s=run * cpu_share,
                jvm_gc_time_s=run * gc_share,
                shuffle_fetch_wait_s=run * shuffle_share,
                input_bytes=input_bytes // stages if i == 0 else 0,
                shuffle_read_bytes=0 if i == 0 else input_bytes // stages,
                disk_spilled_bytes=spilled_bytes // stages,
                memory_spilled_bytes=2 * spilled_bytes // stages,
                peak_execution_memory_max_bytes=peak_memory_bytes,
                skew=skew,
            )
        )
    return Profile(
        duration_s=app,
        stages=stage_list,
        num_stages=stages,
        num_tasks=stages * tasks,
        driver_only_s=driver_s,
        structure_fingerprint=fingerprint,
        input_bytes=input_bytes,
        sql_executions=[SqlExecution(execution_id=0, operators=sql_operators or {"Scan parquet": 1, "Project": 1})],
        executor_run_time_s=stages * tasks * task_s,
        executor_cpu_time_s=stages * tasks * task_s * cpu_share,
        disk_spilled_bytes=spilled_bytes,
        memory_spilled_bytes=2 * spilled_bytes,
    )
