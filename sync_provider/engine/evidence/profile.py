"""The compact profile of one Spark application, built from its event log.

Its size grows with the number of stages, never with the number of tasks: task-level detail is folded into
per-stage sums and quantiles while the log streams past. The profile is stored with each run and is all the
runtime model ever sees of what Spark did.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

PROFILE_SCHEMA_VERSION = 1


class Quantiles(BaseModel):
    """Distribution of a per-task value (seconds), approximated while streaming."""

    min: float = 0.0
    p25: float = 0.0
    p50: float = 0.0
    p75: float = 0.0
    p90: float = 0.0
    p99: float = 0.0
    max: float = 0.0
    mean: float = 0.0


class StageProfile(BaseModel):
    """One attempt of one stage, task metrics summed (times in seconds, sizes in bytes)."""

    stage_id: int
    attempt_id: int = 0
    name: str = ""
    job_ids: list[int] = Field(default_factory=list)
    parent_ids: list[int] = Field(default_factory=list)
    num_tasks: int = 0
    completed_tasks: int = 0
    failed_tasks: int = 0
    killed_tasks: int = 0
    speculative_tasks: int = 0
    submitted_s: float | None = Field(default=None, description="seconds since application start")
    completed_s: float | None = None
    duration_s: float = 0.0
    task_duration: Quantiles = Field(default_factory=Quantiles)
    task_duration_sum_s: float = 0.0
    executor_run_time_s: float = 0.0
    executor_cpu_time_s: float = 0.0
    executor_deserialize_time_s: float = 0.0
    jvm_gc_time_s: float = 0.0
    result_serialization_time_s: float = 0.0
    shuffle_fetch_wait_s: float = 0.0
    shuffle_write_time_s: float = 0.0
    input_bytes: int = 0
    input_records: int = 0
    output_bytes: int = 0
    shuffle_read_bytes: int = 0
    shuffle_remote_read_bytes: int = 0
    shuffle_write_bytes: int = 0
    memory_spilled_bytes: int = 0
    disk_spilled_bytes: int = 0
    peak_execution_memory_max_bytes: int = 0
    persisted_rdds: int = Field(
        default=0, description="RDDs of the stage kept with a storage level (cache/persist): it writes or reads them"
    )
    skew: float = Field(default=1.0, description="max task time / median task time")
    failure_reason: str | None = None


class JobProfile(BaseModel):
    job_id: int
    stage_ids: list[int] = Field(default_factory=list)
    submitted_s: float | None = None
    completed_s: float | None = None
    succeeded: bool | None = None
    sql_execution_id: int | None = None


class ExecutorSample(BaseModel):
    """Number of live executors from this moment (seconds since application start) on."""

    time_s: float
    executors: int


class SqlExecution(BaseModel):
    execution_id: int
    description: str = ""
    duration_s: float | None = None
    operators: dict[str, int] = Field(default_factory=dict, description="physical operator name -> count")
    photon_operators: int = 0


class ClusterFacts(BaseModel):
    """What the event log itself says about the cluster (Databricks tags, Spark conf, executors seen)."""

    cluster_id: str | None = None
    spark_context_id: str | None = None
    node_type_id: str | None = None
    driver_node_type_id: str | None = None
    num_workers: int | None = None
    executor_cores: int | None = None
    executor_memory_mb: int | None = None
    total_cores: int | None = None
    photon: bool | None = None
    databricks_runtime: str | None = None
    cloud_provider: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class Profile(BaseModel):
    """Everything the engine keeps of one run's event log."""

    schema_version: int = PROFILE_SCHEMA_VERSION
    spark_version: str | None = None
    app_name: str | None = None
    app_id: str | None = None
    start_time_ms: int | None = None
    end_time_ms: int | None = None
    duration_s: float = 0.0
    cluster: ClusterFacts = Field(default_factory=ClusterFacts)
    num_jobs: int = 0
    num_stages: int = 0
    num_tasks: int = 0
    max_executors: int = 0
    jobs: list[JobProfile] = Field(default_factory=list)
    stages: list[StageProfile] = Field(default_factory=list)
    executors_over_time: list[ExecutorSample] = Field(default_factory=list)
    sql_executions: list[SqlExecution] = Field(default_factory=list)
    driver_only_s: float = Field(default=0.0, description="time with no task running (serial driver work)")
    structure_fingerprint: str = Field(default="", description="hash of the stage structure; changes with code")
    warnings: list[str] = Field(default_factory=list)

    # Totals over all stage attempts, kept because summaries and black-box features use them constantly.
    executor_run_time_s: float = 0.0
    executor_cpu_time_s: float = 0.0
    jvm_gc_time_s: float = 0.0
    input_bytes: int = 0
    output_bytes: int = 0
    shuffle_read_bytes: int = 0
    shuffle_write_bytes: int = 0
    memory_spilled_bytes: int = 0
    disk_spilled_bytes: int = 0


def data_input_bytes(profile: Profile) -> int:
    """Input the job reads once: the size of its data, which its re-reads must not inflate.

    `input_bytes` sums every read, so a job that caches its data and re-reads it from storage when the cache does
    not fit (iterative training on small-memory nodes) or a retried stage reads "more data" on one cluster than
    on another. Here each stage counts once (its largest attempt), each stage belongs to the first job that lists
    it (later jobs list stages they skip), and jobs made of the same stages, by name and task count (the
    iterations of a loop), count as one, the largest. Two tables written from the same line of code have the
    same stage names but, as a rule, not the same number of files to read, so both count. Without job records:
    every stage once."""
    per_stage: dict[int, int] = {}
    names: dict[int, tuple[str, int]] = {}
    for s in profile.stages:
        per_stage[s.stage_id] = max(per_stage.get(s.stage_id, 0), s.input_bytes)
        names[s.stage_id] = (s.name, s.num_tasks)
    if not profile.jobs:
        return sum(per_stage.values())
    owner: dict[int, int] = {}
    for job in sorted(profile.jobs, key=lambda j: j.job_id):
        for sid in job.stage_ids:
            owner.setdefault(sid, job.job_id)
    by_signature: dict[tuple[tuple[str, int], ...], int] = {}
    for job in profile.jobs:
        own = [sid for sid in dict.fromkeys(job.stage_ids) if owner[sid] == job.job_id and sid in per_stage]
        signature = tuple(sorted(names[sid] for sid in own))
        total = sum(per_stage[sid] for sid in own)
        by_signature[signature] = max(by_signature.get(signature, 0), total)
    unowned = sum(b for sid, b in per_stage.items() if sid not in owner)
    return sum(by_signature.values()) + unowned
