"""The Spark workload simulator: what a workload does on a given cluster, task by task.

Each stage's tasks get sizes (data layout, skew, hot keys), their time is built from the node's physics
(CPU, S3 reads, shuffle over the network, shuffle writes and spills on local disk, GC under memory pressure,
Photon on the accelerated share), and they are scheduled FIFO on the cluster's task slots. Spot loss kills
running tasks and takes slots away until a replacement node joins; autoscaling adds slots after a delay;
tasks that need far more memory than a slot has fail with OutOfMemoryError until the stage aborts.
"""

from __future__ import annotations

import heapq
import math
import zlib
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from sync_provider.emulator.physics import NodePhysics, Pricing, UnknownNodeType, cluster_startup_s, node
from sync_provider.emulator.workloads import Stage, Workload

MB = 1024.0 * 1024.0
OOM_RATIO = 5.0  # a task needing this many times its slot's execution memory dies with OutOfMemoryError
MAX_TASK_FAILURES = 4  # spark.task.maxFailures
SPOT_REPLACEMENT_S = 150.0
AUTOSCALE_DELAY_S = 90.0
TEARDOWN_S = 20.0
OK, FAILED, KILLED = 0, 1, 2


@dataclass(frozen=True)
class ClusterSpec:
    """The cluster a run gets: what the `new_cluster` of a submitted task asks for."""

    instance_type: str
    num_workers: int
    driver_instance_type: str | None = None
    photon: bool = False
    spot: bool = False
    autoscale_min: int | None = None
    autoscale_max: int | None = None

    @property
    def driver(self) -> str:
        return self.driver_instance_type or self.instance_type

    @property
    def initial_workers(self) -> int:
        return self.autoscale_min if self.autoscale_min is not None else self.num_workers

    @property
    def max_workers(self) -> int:
        return self.autoscale_max if self.autoscale_max is not None else self.num_workers

    def validate(self) -> None:
        """Raise UnknownNodeType or ValueError the way the clusters API rejects a bad spec."""
        node(self.instance_type)
        node(self.driver)
        if self.num_workers < 0:
            raise ValueError(f"num_workers must be >= 0, got {self.num_workers}")
        if self.autoscale_min is not None and (
            self.autoscale_min < 0 or self.autoscale_max is None or self.autoscale_max < self.autoscale_min
        ):
            raise ValueError("autoscale needs 0 <= min_workers <= max_workers")


@dataclass
class TaskTable:
    """Every task attempt of one stage attempt, column-wise (times in seconds since application start)."""

    task_id: np.ndarray
    index: np.ndarray
    attempt: np.ndarray
    executor: list[str]
    launch_s: np.ndarray
    finish_s: np.ndarray
    status: np.ndarray
    reason: list[str | None]
    deser_s: np.ndarray
    run_s: np.ndarray
    cpu_s: np.ndarray
    gc_s: np.ndarray
    input_bytes: np.ndarray
    sr_remote_bytes: np.ndarray
    sr_local_bytes: np.ndarray
    fetch_wait_s: np.ndarray
    sw_bytes: np.ndarray
    sw_time_s: np.ndarray
    output_bytes: np.ndarray
    mem_spill: np.ndarray
    disk_spill: np.ndarray
    peak_mem: np.ndarray

    def __len__(self) -> int:
        return len(self.task_id)


@dataclass
class StageRun:
    stage_id: int
    name: str
    job_id: int
    parent_ids: list[int]
    num_tasks: int
    submitted_s: float
    completed_s: float
    operators: list[str]
    photon_operators: bool
    tasks: TaskTable
    failure_reason: str | None = None
    persisted: bool = False  # its input is kept with a storage level (a loop over cached data): RDD Info says so


@dataclass
class JobRun:
    job_id: int
    stage_ids: list[int]
    submitted_s: float
    completed_s: float
    succeeded: bool
    sql_execution_id: int
    description: str


@dataclass
class ExecutorRun:
    executor_id: str
    host: str
    cores: int
    added_s: float
    removed_s: float | None = None
    removed_reason: str | None = None


@dataclass
class TrueCost:
    cloud_usd: float
    dbu_usd: float

    @property
    def total_usd(self) -> float:
        return self.cloud_usd + self.dbu_usd


@dataclass
class SimulatedRun:
    """One run of a workload on a cluster, as it really happened (ground truth, emulator side only)."""

    workload: str
    app_name: str
    spark_version: str
    cluster: ClusterSpec
    run_index: int
    seed: int
    startup_s: float
    runtime_s: float
    succeeded: bool
    failure: str | None
    failure_kind: str | None
    stages: list[StageRun]
    jobs: list[JobRun]
    executors: list[ExecutorRun]
    worker_timeline: list[tuple[float, int]]
    spot_nodes_lost: int
    cost: TrueCost
    input_bytes: int
    growth_factor: float
    driver_host: str = "10.0.0.1"
    notes: list[str] = field(default_factory=list)

    @property
    def num_tasks(self) -> int:
        return sum(len(s.tasks) for s in self.stages)


@dataclass
class _Planned:
    stage: Stage
    job_key: tuple
    cached_fraction: float = 0.0
    index: int = 0  # position of the stage in the workload file


def _stable_seed(*parts: object) -> int:
    return zlib.crc32("|".join(map(str, parts)).encode())


def _plan(workload: Workload, run_index: int, cache_mb: float, growth: float) -> tuple[list[_Planned], float]:
    stages, driver_time = workload.stages_for(run_index)
    planned: list[_Planned] = []
    for i, st in enumerate(stages):
        for it in range(st.iterations):
            key = (st.job,) if st.iterations == 1 else (st.job, i, it)
            cached = 0.0
            if it > 0 and st.input_bytes > 0:
                cached = min(1.0, cache_mb * MB / (st.input_bytes * growth))
            planned.append(_Planned(st, key, cached, i))
    return planned, driver_time


def _task_sizes(workload: Workload, st: Stage, n: int, run_index: int, stage_idx: int) -> np.ndarray:
    """Relative task sizes (mean ~1): the data layout of this run, identical with or without noise."""
    rng = np.random.default_rng(_stable_seed(workload.name, st.name, run_index, stage_idx))
    if st.task_sigma > 0:
        m = rng.lognormal(0.0, st.task_sigma, n)
        m /= m.mean()
    else:
        m = np.ones(n)
    if st.hot_keys is not None:
        hot = rng.choice(n, size=min(n, st.hot_keys.tasks), replace=False)
        m[hot] *= st.hot_keys.factor
    return m


class _Slots:
    """Task slots of the cluster: one per core of each live executor, a min-heap on free time."""

    def __init__(self, w: NodePhysics, nodes_now: int, nodes_max: int, single_node: bool):
        self.cores = w.cores
        self.n_nodes = max(nodes_max, 1)
        self.free = np.full(self.n_nodes * self.cores, math.inf)
        self.free[: max(nodes_now, 1) * self.cores] = 0.0
        self.single_node = single_node
        self.exec_ids = ["driver"] if single_node else [str(i) for i in range(self.n_nodes)]
        self.next_exec = self.n_nodes
        self.heap: list[tuple[float, int]] = []

    def rebuild(self, at: float) -> None:
        self.heap = [(max(f, at), i) for i, f in enumerate(self.free) if f < math.inf]
        heapq.heapify(self.heap)

    def executor_of(self, slot: int) -> str:
        return self.exec_ids[0 if self.single_node else slot // self.cores]


def simulate(
    workload: Workload,
    cluster: ClusterSpec,
    run_index: int,
    seed: int,
    *,
    noise: bool = True,
    spot_loss: bool = True,
    pricing: Pricing | None = None,
) -> SimulatedRun:
    """Simulate one run. `noise=False, spot_loss=False` gives the expected (noise-free) behaviour."""
    cluster.validate()
    pricing = pricing or Pricing()
    w, d = node(cluster.instance_type), node(cluster.driver)
    rng = np.random.default_rng(_stable_seed(seed, workload.name, run_index))
    run_mult = float(np.exp(rng.normal(0.0, workload.scenario.noise_sigma))) if noise else 1.0
    growth = workload.growth_factor(run_index)
    single = cluster.max_workers == 0
    nodes0, nodes_max = cluster.initial_workers, cluster.max_workers
    exec_node = d if single else w
    slots = _Slots(exec_node, nodes0, nodes_max, single)
    cache_mb = exec_node.storage_memory_mb * max(nodes_max, 1)
    planned, driver_time = _plan(workload, run_index, cache_mb, growth)
    driver_time = driver_time * growth**0.3 / d.cpu_speed

    # Forced failure and spot loss happen at a planned (stage, task) position.
    forced = run_index in workload.scenario.fail_at_runs
    forced_stage = len(planned) // 2
    spot_at: tuple[int, float] | None = None
    if cluster.spot and spot_loss and not single and rng.random() < workload.scenario.spot_loss_probability:
        spot_at = (int(rng.integers(0, len(planned))), float(rng.uniform(0.1, 0.9)))
    lost_nodes_total = 0

    executors = [
        ExecutorRun("driver" if single else str(i), f"10.0.{1 + i // 250}.{2 + i % 250}", exec_node.cores, 1.0)
        for i in range(1 if single else nodes0)
    ]
    timeline: list[tuple[float, int]] = [(0.0, 0 if single else nodes0)]
    upscaled = nodes0 >= nodes_max
    upscale_at: float | None = None

    t = 2.0 + driver_time * 0.4
    job_ids: dict[tuple, int] = {}
    jobs: list[JobRun] = []
    stages: list[StageRun] = []
    next_task_id = 0
    failure: str | None = None
    failure_kind: str | None = None
    total_input = 0
    n_jobs_planned = len({p.job_key for p in planned})
    driver_gap = driver_time * 0.6 / max(n_jobs_planned, 1)
    prev_stage_id: int | None = None
    last_id_of: dict[int, int] = {}

    for sidx, p in enumerate(planned):
        st = p.stage
        if p.job_key not in job_ids:
            if jobs:
                jobs[-1].completed_s = t
                t += driver_gap
            job_ids[p.job_key] = len(jobs)
            desc = st.name if len(p.job_key) == 1 else f"{st.name} (iteration {p.job_key[2] + 1})"
            jobs.append(JobRun(len(jobs), [], t, t, True, len(jobs), desc))
        job = jobs[job_ids[p.job_key]]
        stage_id = sidx
        job.stage_ids.append(stage_id)
        n = max(1, round(st.tasks * growth)) if st.input_bytes > 0 else st.tasks
        scale = growth * st.tasks / n
        m = _task_sizes(workload, st, n, run_index, sidx) * scale  # data per task: the layout, never noisy
        slow = run_mult * np.exp(rng.normal(0.0, 0.05, n)) if noise else 1.0  # run-to-run and task jitter

        # Autoscaling: a backlog much larger than the slots asks for more nodes, which join after a delay.
        if not upscaled and n > 2 * nodes0 * exec_node.cores:
            up_at = t + AUTOSCALE_DELAY_S
            slots.free[nodes0 * exec_node.cores :] = up_at
            for i in range(nodes0, nodes_max):
                executors.append(ExecutorRun(str(i), f"10.0.{1 + i // 250}.{2 + i % 250}", exec_node.cores, up_at))
            timeline.append((t, nodes_max))
            upscaled = True
            upscale_at = t

        # Per-task components on this cluster.
        cpu = st.cpu_s_per_task * m / exec_node.cpu_speed
        if cluster.photon:
            cpu = cpu * ((1 - st.photon_fraction) + st.photon_fraction / st.photon_speedup)
        need_mb = st.memory_per_task_mb * m * (0.75 if cluster.photon else 1.0)
        ratio = need_mb / exec_node.execution_memory_per_task_mb
        spill_mb = np.maximum(0.0, need_mb - exec_node.execution_memory_per_task_mb)
        disk_slot = exec_node.disk_mbps / exec_node.cores
        net_slot = exec_node.network_mbps / exec_node.cores
        spill_t = 2 * spill_mb * 0.35 / disk_slot + cpu * 0.1 * np.minimum(np.maximum(ratio - 1, 0), 3)
        gc = cpu * (0.02 + 0.12 * np.minimum(ratio, 1.5) ** 2)
        in_bytes = st.input_bytes * growth / n * (1 - p.cached_fraction) * m / scale
        in_t = in_bytes / MB / min(90.0, net_slot)
        nodes_live = 1 if single else nodes_max if upscaled else nodes0
        remote = 0.0 if single else (nodes_live - 1) / nodes_live
        sr = st.shuffle_read_bytes * growth / n * m / scale
        fetch = sr * remote / MB / net_slot + sr * (1 - remote) / MB / disk_slot
        fetch = fetch + (0.004 * nodes_live if sr.any() else 0.0)
        sw = st.shuffle_write_bytes * growth / n * m / scale
        sw_t = sw / MB / disk_slot
        out = st.output_bytes * growth / n * m / scale
        out_t = out / MB / min(60.0, net_slot)
        cpu, gc, spill_t, in_t, fetch, sw_t, out_t = (x * slow for x in (cpu, gc, spill_t, in_t, fetch, sw_t, out_t))
        run = cpu + gc + spill_t + in_t + fetch + sw_t + out_t
        cpu_time = cpu + gc * 0.5 + (sw_t + spill_t) * 0.1
        total_input += int(in_bytes.sum())

        oom = ratio > OOM_RATIO
        fail_idx = {int(np.argmax(m))} if forced and sidx == forced_stage else set()

        # FIFO scheduling on the slots, with retries, spot loss and stage abort.
        stage_start = t + 0.05
        slots.rebuild(stage_start)
        pending = deque((i, 0) for i in range(n))
        failures = np.zeros(n, dtype=int)
        cols: dict[str, list] = {k: [] for k in ("i", "att", "slot", "launch", "finish", "status", "reason")}
        abort_at: float | None = None
        spot_pos = int(spot_at[1] * n) if spot_at and spot_at[0] == sidx else None
        launched = 0
        while pending:
            i, att = pending.popleft()
            free, s = heapq.heappop(slots.heap)
            if abort_at is not None and free >= abort_at:
                break
            if spot_pos is not None and launched == spot_pos:
                spot_pos = None
                lost = max(1, round(0.25 * nodes_live))
                lost_nodes_total += lost
                lost_nodes = rng.choice(nodes_live, size=lost, replace=False)
                t_loss = free
                for ln in lost_nodes:
                    old = slots.exec_ids[ln]
                    for e in executors:
                        if e.executor_id == old and e.removed_s is None:
                            e.removed_s, e.removed_reason = t_loss, "worker lost: spot instance reclaimed"
                    new_id = str(slots.next_exec)
                    slots.next_exec += 1
                    slots.exec_ids[ln] = new_id
                    executors.append(
                        ExecutorRun(
                            new_id, f"10.0.9.{2 + len(executors) % 250}", exec_node.cores, t_loss + SPOT_REPLACEMENT_S
                        )
                    )
                    lo, hi = ln * exec_node.cores, (ln + 1) * exec_node.cores
                    for k in range(len(cols["i"])):
                        if lo <= cols["slot"][k] < hi and cols["finish"][k] > t_loss and cols["status"][k] == OK:
                            cols["finish"][k], cols["status"][k] = t_loss, KILLED
                            cols["reason"][k] = f"ExecutorLostFailure (executor {old} exited: worker lost)"
                            pending.append((cols["i"][k], cols["att"][k] + 1))
                    slots.free[lo:hi] = t_loss + SPOT_REPLACEMENT_S
                timeline.append((t_loss, nodes_live - lost))
                timeline.append((t_loss + SPOT_REPLACEMENT_S, nodes_live))
                heapq.heappush(slots.heap, (free, s))
                slots.rebuild(t_loss)
                free, s = heapq.heappop(slots.heap)
            launched += 1
            launch = free + 0.003
            if oom[i] or (i in fail_idx):
                dur = 0.02 + float(run[i]) * 0.4
                status, reason = (
                    FAILED,
                    (
                        "ExceptionFailure java.lang.OutOfMemoryError: Java heap space"
                        if oom[i]
                        else "ExceptionFailure org.apache.spark.SparkException: Job step failed: bad record in input"
                    ),
                )
                failures[i] += 1
                if failures[i] < MAX_TASK_FAILURES:
                    pending.append((i, att + 1))
                elif abort_at is None:
                    abort_at = launch + dur
                    failure_kind = "oom" if oom[i] else "forced"
                    failure = (
                        f"Job aborted due to stage failure: Task {i} in stage {stage_id}.0 failed "
                        f"{MAX_TASK_FAILURES} times, most recent failure: "
                        + (
                            "java.lang.OutOfMemoryError: Java heap space"
                            if oom[i]
                            else "org.apache.spark.SparkException: Job step failed: bad record in input"
                        )
                    )
            else:
                dur = 0.02 + float(run[i])
                status, reason = OK, None
            cols["i"].append(i)
            cols["att"].append(att)
            cols["slot"].append(s)
            cols["launch"].append(launch)
            cols["finish"].append(launch + dur)
            cols["status"].append(status)
            cols["reason"].append(reason)
            slots.free[s] = launch + dur
            heapq.heappush(slots.heap, (launch + dur, s))
        if abort_at is not None:
            for k in range(len(cols["i"])):
                if cols["finish"][k] > abort_at and cols["status"][k] == OK:
                    cols["finish"][k], cols["status"][k], cols["reason"][k] = abort_at, KILLED, "Stage cancelled"

        idx = np.asarray(cols["i"], dtype=int)
        status_arr = np.asarray(cols["status"], dtype=int)
        ok = status_arr == OK
        launch_arr = np.asarray(cols["launch"])
        finish_arr = np.asarray(cols["finish"])
        frac = np.where(ok, 1.0, np.clip((finish_arr - launch_arr - 0.02) / np.maximum(run[idx], 1e-9), 0, 1))
        k = len(idx)
        table = TaskTable(
            task_id=np.arange(next_task_id, next_task_id + k),
            index=idx,
            attempt=np.asarray(cols["att"], dtype=int),
            executor=[slots.executor_of(s) for s in cols["slot"]],
            launch_s=launch_arr,
            finish_s=finish_arr,
            status=status_arr,
            reason=cols["reason"],
            deser_s=np.full(k, 0.02),
            run_s=np.maximum(finish_arr - launch_arr - 0.02, 0.0),
            cpu_s=cpu_time[idx] * frac,
            gc_s=gc[idx] * frac,
            input_bytes=np.where(ok, in_bytes[idx], 0.0),
            sr_remote_bytes=np.where(ok, sr[idx] * remote, 0.0),
            sr_local_bytes=np.where(ok, sr[idx] * (1 - remote), 0.0),
            fetch_wait_s=fetch[idx] * frac,
            sw_bytes=np.where(ok, sw[idx], 0.0),
            sw_time_s=sw_t[idx] * frac,
            output_bytes=np.where(ok, out[idx], 0.0),
            mem_spill=np.where(ok, spill_mb[idx] * MB, 0.0),
            disk_spill=np.where(ok, spill_mb[idx] * MB * 0.35, 0.0),
            peak_mem=np.minimum(need_mb[idx], exec_node.execution_memory_per_task_mb) * MB,
        )
        next_task_id += k
        end = float(finish_arr.max()) if k else stage_start
        if abort_at is not None:
            end = abort_at
        if st.parents:  # indices into the workload's stages -> the last stage id each one ran as
            parents = [last_id_of[x] for x in st.parents if x in last_id_of]
        else:
            parents = [prev_stage_id] if prev_stage_id is not None else []
        last_id_of[p.index] = stage_id
        stages.append(
            StageRun(
                stage_id=stage_id,
                name=st.name,
                job_id=job.job_id,
                parent_ids=parents,
                num_tasks=n,
                submitted_s=stage_start,
                completed_s=end,
                operators=list(st.operators),
                photon_operators=cluster.photon and st.photon_fraction >= 0.3,
                tasks=table,
                failure_reason=failure if abort_at is not None else None,
                persisted=st.iterations > 1 and st.input_bytes > 0,
            )
        )
        prev_stage_id = stage_id
        t = end + 0.05
        job.completed_s = t
        if abort_at is not None:
            job.succeeded = False
            break

    if jobs:
        jobs[-1].completed_s = t
    runtime = t + (driver_gap if failure is None else 0.0) + 1.0
    executors = [e for e in executors if e.added_s < runtime]  # replacements requested too late never join
    timeline = [(ts, n) for ts, n in timeline if ts < runtime]
    for e in executors:
        if e.removed_s is None:
            e.removed_s, e.removed_reason = runtime, "Application finished"

    startup = cluster_startup_s(cluster.initial_workers, cluster.spot)
    billed_end = startup + runtime + TEARDOWN_S
    cloud, dbu = pricing.node_cost(d, billed_end, photon=cluster.photon, spot=False)
    if not single:
        # Workers bill from launch through teardown; a lost spot node is billed until lost and its replacement
        # from then on, so the count stays level. Autoscaled nodes bill from the moment they are requested.
        worker_s = nodes0 * billed_end + (nodes_max - nodes0) * (
            billed_end - startup - upscale_at if upscale_at is not None else 0.0
        )
        c2, d2 = pricing.node_cost(w, worker_s, photon=cluster.photon, spot=cluster.spot)
        cloud += c2
        dbu += d2

    return SimulatedRun(
        workload=workload.name,
        app_name=workload.app_name or workload.name,
        spark_version=workload.spark_version,
        cluster=cluster,
        run_index=run_index,
        seed=seed,
        startup_s=startup,
        runtime_s=runtime,
        succeeded=failure is None,
        failure=failure,
        failure_kind=failure_kind,
        stages=stages,
        jobs=jobs,
        executors=executors,
        worker_timeline=timeline,
        spot_nodes_lost=lost_nodes_total,
        cost=TrueCost(cloud, dbu),
        input_bytes=total_input,
        growth_factor=growth,
    )


def expected(workload: Workload, cluster: ClusterSpec, run_index: int, pricing: Pricing | None = None) -> SimulatedRun:
    """The noise-free run: no run-to-run noise, no spot loss (forced failures and OOM still apply)."""
    return simulate(workload, cluster, run_index, seed=0, noise=False, spot_loss=False, pricing=pricing)


def expected_runtime(workload: Workload, cluster: ClusterSpec, run_index: int = 0) -> float:
    """Noise-free Spark application runtime in seconds (cluster start-up excluded)."""
    return expected(workload, cluster, run_index).runtime_s


__all__ = [
    "ClusterSpec",
    "SimulatedRun",
    "StageRun",
    "TaskTable",
    "JobRun",
    "ExecutorRun",
    "TrueCost",
    "UnknownNodeType",
    "simulate",
    "expected",
    "expected_runtime",
]
