"""What-if replay of one run's profile on other cluster configurations (Sparklens-style, per component).

Each stage's task time is split into CPU, GC, shuffle and I/O; each part is scaled by what the candidate offers
per task slot (core speed, memory per core, network and disk per core, Photon on the CPU share of operators it
accelerates), spill is re-estimated from the memory each size of task needs against what a slot of the candidate
has (spill lands on the largest tasks: `task_sizes`), and the stage is laid out on the candidate's slots first
come, first served (`stage_layout`). Driver-only time stays serial. The sum is calibrated so that replaying the
run on its own configuration gives its real runtime. The reference node's disk and network bandwidth are taken
from what the profile measured, where it timed enough; driver-only time scales with the driver's core speed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from sync_provider.engine.evidence.photon import PHOTON_OPERATOR_COVERAGE, accelerated_cpu_factor, taken_share
from sync_provider.engine.evidence.profile import Profile
from sync_provider.engine.prediction.resources import EXECUTION_MEMORY_FRACTION, S3_MBPS_PER_TASK, ConfigArrays
from sync_provider.engine.prediction.stage_layout import body_wall, fifo_wall, size_at_rank

GIB = 2**30
#: A profile keeps task-time quantiles (min, p25, p50, p75, p90, p99, max). The six bins between them, at their
#: midpoints and weighted by their share of the tasks, stand for the whole distribution in means; p50 to max
#: give its tail (`stage_layout`).
BIN_WEIGHTS = np.array([0.25, 0.25, 0.25, 0.15, 0.09, 0.01])
#: Fixed-point passes that undo the spill in the top tasks' times (`task_sizes`); 4 settle to well under 1%.
SIZE_PASSES = 4
#: Halvings that find the mean need (`_need_for_shortfall`): 2^-24 of slot + shortfall, far below what matters.
BISECTION_STEPS = 24
#: Physical operators Photon runs natively (the CPU part of stages made of them speeds up).
PHOTON_OPERATORS = (
    "scan", "filter", "project", "hashaggregate", "aggregate", "sort", "broadcasthashjoin", "shuffledhashjoin",
    "sortmergejoin", "exchange", "union", "window", "expand", "columnartorow", "localtablescan", "photon",
)  # fmt: skip
#: Default accelerable share when the profile carries no SQL operators (RDD jobs gain little).
PHOTON_DEFAULT_SHARE = 0.3
#: Spill (Disk) over Spill (Memory) until a run of the job measures its own: a spill writes rows serialised and
#: compressed (spark.shuffle.spill.compress, lz4 by default), so the disk carries about half of what the
#: shortfall holds in memory for binary rows, less for wide or repetitive ones.
SPILL_DISK_RATIO_PRIOR = 0.5
#: Share of a node's memory that keeps cached data (in bytes as read from storage) until a run whose cache
#: overflowed shows the job's own: half of Spark's unified region is protected from eviction
#: (spark.memory.storageFraction = 0.5).
STORAGE_MEMORY_FRACTION = 0.5 * EXECUTION_MEMORY_FRACTION
#: Operator that reads a cached relation: a job without one in its plans re-reads nothing from a cache.
CACHE_SCAN_OPERATOR = "inmemorytablescan"
#: A later pass that spends more than this share of its first pass's read time re-read data (the cache overflowed);
#: below it, the rest of the untimed time of a pass served from memory.
CACHE_OVERFLOW_SHARE = 0.05


def photon_share(profile: Profile) -> float:
    """Share of the job's CPU work that Photon can accelerate, a prior from the SQL operators' names."""
    total = accel = 0
    for ex in profile.sql_executions:
        for name, count in ex.operators.items():
            total += count
            low = name.lower().replace(" ", "")
            if any(op in low for op in PHOTON_OPERATORS):
                accel += count
        accel += ex.photon_operators
        total += ex.photon_operators
    if total == 0:
        return PHOTON_DEFAULT_SHARE
    return float(min(1.0, accel / total)) * PHOTON_OPERATOR_COVERAGE


def observed_photon_share(profile: Profile) -> float | None:
    """The accelerated share a run with Photon on shows (`taken_share`, None without a plan).

    A Photon run measures what the names can only guess: a job whose plan stayed on Spark under Photon is
    predicted to gain nothing from it, not 2-3x."""
    share = taken_share(profile)
    return None if share is None else share * PHOTON_OPERATOR_COVERAGE


def spill_disk_ratio(profile: Profile) -> float | None:
    """What a spill of this job writes to disk per byte it held in memory (None when the run did not spill)."""
    mem = sum(s.memory_spilled_bytes for s in profile.stages)
    disk = sum(s.disk_spilled_bytes for s in profile.stages)
    if mem <= 0 or disk <= 0:
        return None
    return float(np.clip(disk / mem, 0.05, 1.0))


def photon_cpu_factor(share: float, photon: np.ndarray | bool) -> np.ndarray:
    """Multiplier on CPU time for running with (True) or without (False) Photon."""
    return np.where(photon, accelerated_cpu_factor(share), 1.0)


@dataclass(frozen=True)
class StageWork:
    """The per-stage work of a profile as arrays (seconds summed over tasks, bytes per task)."""

    tasks: np.ndarray
    cpu: np.ndarray
    gc: np.ndarray
    fetch: np.ndarray
    write: np.ndarray
    untimed: np.ndarray  # S3 I/O and spill, which Spark does not time apart: see `_split_spill`
    max_over_mean: np.ndarray
    points: np.ndarray  # per stage, task time over the mean at the BIN_WEIGHTS midpoints, then p50..p99, max
    mem_need_gib: np.ndarray
    memory_spilled_gib: np.ndarray  # per task: what the tasks held beyond their execution memory, on average
    spill_bytes_per_task: np.ndarray
    s3_bytes: np.ndarray  # input read and output written (S3), per stage
    shuffle_write_bytes: np.ndarray
    scales_with_input: np.ndarray
    driver_only_s: float
    app_s: float
    photon_share: float
    spill_disk_ratio: float | None = None  # measured by this run (None: it did not spill)
    # Loops over cached data (`cached_loops`): per stage, the index of its loop's first pass (-1 outside loops).
    loop_first: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    input_bytes: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def from_profile(cls, profile: Profile) -> StageWork:
        stages = [s for s in profile.stages if (s.num_tasks or s.completed_tasks) > 0]
        n = len(stages)
        tasks = np.array([max(s.completed_tasks, s.num_tasks, 1) for s in stages], dtype=float)
        run = np.array([max(s.executor_run_time_s, s.task_duration_sum_s, 1e-6) for s in stages], dtype=float)
        cpu = np.minimum(np.array([s.executor_cpu_time_s for s in stages], dtype=float), run)
        gc = np.minimum(np.array([s.jvm_gc_time_s for s in stages], dtype=float), run - cpu)
        fetch = np.minimum(np.array([s.shuffle_fetch_wait_s for s in stages], dtype=float), run - cpu - gc)
        write = np.minimum(np.array([s.shuffle_write_time_s for s in stages], dtype=float), run - cpu - gc - fetch)
        rest = np.maximum(run - cpu - gc - fetch - write, 0.0)
        disk_spill = np.array([s.disk_spilled_bytes for s in stages], dtype=float)
        mem_spill = np.array([s.memory_spilled_bytes for s in stages], dtype=float)
        mean = np.array([max(s.task_duration.mean, 1e-9) for s in stages], dtype=float)
        mx = np.array([max(s.task_duration.max, s.task_duration.mean) for s in stages], dtype=float)
        max_over_mean = np.clip(np.where(mean > 1e-6, mx / mean, 1.0), 1.0, tasks)
        peak = np.array([s.peak_execution_memory_max_bytes for s in stages], dtype=float)
        mem_need = (peak + mem_spill / tasks) / GIB
        total_app = profile.duration_s or 0.0
        return cls(
            tasks=tasks,
            cpu=cpu,
            gc=gc,
            fetch=fetch,
            write=write,
            untimed=rest,
            max_over_mean=max_over_mean if n else np.zeros(0),
            points=time_points(stages, mean),
            mem_need_gib=mem_need,
            memory_spilled_gib=mem_spill / tasks / GIB,
            spill_bytes_per_task=disk_spill / tasks,
            s3_bytes=np.array([s.input_bytes + s.output_bytes for s in stages], dtype=float),
            shuffle_write_bytes=np.array([s.shuffle_write_bytes for s in stages], dtype=float),
            scales_with_input=np.array([s.input_bytes > 0 for s in stages], dtype=bool),
            driver_only_s=float(max(profile.driver_only_s, 0.0)),
            app_s=float(total_app),
            photon_share=photon_share(profile),
            spill_disk_ratio=spill_disk_ratio(profile),
            loop_first=cached_loops(profile, stages),
            input_bytes=np.array([s.input_bytes for s in stages], dtype=float),
        )


def cached_loops(profile: Profile, stages: list) -> np.ndarray:
    """Loops over cached data: per stage, the index of its loop's first pass (-1 for first passes and for stages
    outside loops). A loop is stages repeated by name and task count whose first pass reads from storage, in a
    job that caches: its plans scan a cached relation, or its stages keep an RDD with a storage level (what
    `persist()` does, MLlib's training loops included). The later passes read the cache, and from storage what it
    did not hold."""
    first = np.full(len(stages), -1, dtype=int)
    caches = any(s.persisted_rdds for s in stages) or any(
        CACHE_SCAN_OPERATOR in name.lower().replace(" ", "") for ex in profile.sql_executions for name in ex.operators
    )
    if not caches:
        return first
    seen: dict[tuple[str, int], int] = {}
    for i, s in enumerate(stages):
        j = seen.setdefault((s.name, max(s.num_tasks, s.completed_tasks)), i)
        if j != i and stages[j].input_bytes > 0:
            first[i] = j
    return first


def _cache_misses(work: StageWork, ref: ConfigArrays, cand: ConfigArrays, io: np.ndarray, ds: np.ndarray) -> np.ndarray:
    """Extra storage reads (seconds summed over tasks, stages x candidates) of loops over cached data: a candidate
    whose memory holds less of the data than the reference's re-reads the rest on every pass.

    Spark counts a cached block read as input too, so bytes cannot tell a cache hit from a re-read; time can:
    a later pass that spends a share of its first pass's read time re-read that share from storage. The best pass
    shows what the reference's memory held; a candidate holds that in proportion to its cluster's memory (if the
    cache never overflowed, only "at least the data" is known, and `STORAGE_MEMORY_FRACTION` fills in) and
    re-reads the rest at the first pass's time per byte."""
    loop = work.loop_first >= 0
    out = np.zeros((len(work.tasks), len(cand)))
    if not loop.any():
        return out
    idx = np.where(loop)[0]
    firsts = work.loop_first[idx]
    reread = float(np.clip(io[idx] / np.maximum(io[firsts], 1e-9), 0.0, 1.0).min())
    data = float(work.input_bytes[firsts].max())
    ref_mem = ref.slots[0] * ref.mem_per_core_gib[0] * GIB
    if reread > CACHE_OVERFLOW_SHARE:
        share = (1.0 - reread) * data / ref_mem
    else:
        share = max(STORAGE_MEMORY_FRACTION, data / ref_mem)
    capacity = share * cand.slots * cand.mem_per_core_gib * GIB
    full = work.input_bytes[firsts][:, None] * ds[None, :]
    missed = np.clip(1.0 - capacity[None, :] / np.maximum(full, 1.0), 0.0, 1.0)
    out[idx] = (io[firsts][:, None] * missed - io[idx][:, None]) * ds[None, :]
    return out


def _split_spill(work: StageWork, ref: ConfigArrays) -> tuple[np.ndarray, np.ndarray]:
    """(S3 I/O, spill) seconds per stage: Spark does not time spills, so the untimed rest of a stage that spilled
    is split by writing and reading back its spilled bytes at the reference node's own disk bandwidth per slot.
    On EBS-backed nodes (30-60 MB/s per core) that is most of the rest; a fixed fast-disk rate would book it as
    S3 I/O and leave the spill, and so the gain of more memory per core, underestimated several times."""
    spill = np.minimum(work.untimed, 2 * work.spill_bytes_per_task * work.tasks / (ref.disk_per_core_mbps[0] * 1e6))
    return work.untimed - spill, spill


#: How far a bandwidth measured in the profile may move the prior (a factor either way): beyond that the untimed
#: rest of a stage is more likely something else (Python workers, locks) than slow I/O.
MEASURED_RATE_BOUNDS = (0.5, 2.0)
#: Share of the stages' task time a bandwidth must have been measured over to be trusted.
MEASURED_MIN_SHARE = 0.05


def _measured_rate(seconds: float, mbytes: float, total: float) -> float | None:
    """MB/s the profile measured, or None when too little of the stages' time was timed to trust it."""
    if seconds < MEASURED_MIN_SHARE * total or mbytes <= 0:
        return None
    return mbytes / seconds


def _disk_factor(rate: float | None, prior: float) -> float:
    """Measured over prior local-disk bandwidth, within MEASURED_RATE_BOUNDS."""
    return 1.0 if rate is None else float(np.clip(rate / prior, *MEASURED_RATE_BOUNDS))


def _network_factor(rate: float | None, prior: float) -> float:
    """Measured over prior network share per core, from S3 reads and writes per task.

    One S3 connection carries at most S3_MBPS_PER_TASK, so a rate at that cap says only "at least the cap":
    the prior stands unless it was lower. Below the cap the rate is the node's share, bounded like the disk's
    against what the prior let a task reach (the cap, where the prior is above it)."""
    if rate is None:
        return 1.0
    reachable = min(prior, S3_MBPS_PER_TASK)
    if rate >= 0.9 * S3_MBPS_PER_TASK:
        return float(np.clip(max(rate / prior, 1.0), *MEASURED_RATE_BOUNDS))
    return float(np.clip(rate / reachable, *MEASURED_RATE_BOUNDS)) * reachable / prior


def measured_bandwidths(work: StageWork, ref: ConfigArrays, cand: ConfigArrays) -> tuple[ConfigArrays, ConfigArrays]:
    """`ref` and `cand` with the reference node's disk and network per core as the profile measured them.

    Shuffle writes time the local disk (bytes / shuffle write time); S3 reads and writes, in the untimed rest of
    stages that did not spill, time the network share per task. The catalog's bandwidths are nominal: "up to 10
    Gigabit" nodes sustain a fraction that no table states, and this is where one run shows it. The measured
    over prior ratio of the disk applies to the reference and to candidates of its instance family (same
    hardware). So does a network found faster than its prior (that family's baseline is higher than the prior
    guessed); a network found slower applies to every family: what S3 and the protocol take off the nominal
    bandwidth is the platform's, and measured on one family it was 15-25% off for the others, all optimistic."""
    total = float((work.cpu + work.gc + work.fetch + work.write + work.untimed).sum())
    disk0, net0 = float(ref.disk_per_core_mbps[0]), float(ref.net_per_core_mbps[0])
    k_disk = _disk_factor(
        _measured_rate(float(work.write.sum()), float(work.shuffle_write_bytes.sum()) / 1e6, total), disk0
    )
    ref = replace(ref, disk_per_core_mbps=ref.disk_per_core_mbps * k_disk)
    io, _ = _split_spill(work, ref)
    clean = (work.spill_bytes_per_task <= 0) & (work.s3_bytes > 0)
    s3_rate = _measured_rate(float(io[clean].sum()), float(work.s3_bytes[clean].sum()) / 1e6, total)
    k_net = _network_factor(s3_rate, net0)
    if k_disk == 1.0 and k_net == 1.0:
        return ref, cand
    same = cand.family_code == ref.family_code[0]
    ref = replace(ref, net_per_core_mbps=ref.net_per_core_mbps * k_net)
    cand = replace(
        cand,
        disk_per_core_mbps=np.where(same, cand.disk_per_core_mbps * k_disk, cand.disk_per_core_mbps),
        net_per_core_mbps=np.where(same | (k_net < 1.0), cand.net_per_core_mbps * k_net, cand.net_per_core_mbps),
    )
    return ref, cand


@dataclass(frozen=True)
class _AtReference:
    """What a replay derives once from the profile on its own configuration (for the reference and candidates)."""

    io: np.ndarray  # S3 I/O seconds per stage (the untimed rest less spill)
    sizes: np.ndarray  # relative task sizes at the time points (`task_sizes`)
    need_gib: np.ndarray  # mean need per task
    rate: np.ndarray  # spill seconds per GiB short, per task (0 where the stage did not spill)

    @classmethod
    def of(cls, work: StageWork, ref: ConfigArrays) -> _AtReference:
        io, spill_s = _split_spill(work, ref)
        spill_per_task = spill_s / work.tasks
        mean = (work.cpu + work.gc + work.fetch + work.write + io) / work.tasks + spill_per_task
        slot = float(ref.mem_per_core_gib[0]) * EXECUTION_MEMORY_FRACTION
        return cls(io, *task_sizes(work, mean, spill_per_task, slot))


def _stage_times(
    work: StageWork, ref: ConfigArrays, cand: ConfigArrays, data_scale: float | np.ndarray, at: _AtReference
) -> np.ndarray:
    """Wall time of every stage on every candidate: shape (stages, candidates)."""
    io, sizes, need_ref = at.io, at.sizes, at.need_gib
    ref_speed = ref.speed[0] / photon_cpu_factor(work.photon_share, ref.photon[0])
    cand_speed = cand.speed / photon_cpu_factor(work.photon_share, cand.photon)
    f_cpu = ref_speed / cand_speed
    f_gc = (ref.speed[0] / cand.speed) * np.sqrt(ref.mem_per_core_gib[0] / cand.mem_per_core_gib)
    # Shuffle fetch: the remote share (1 - 1/nodes) crosses the network, the rest is read from local disk.
    remote_ref = 1.0 - 1.0 / max(ref.workers[0], 1.0)
    remote = 1.0 - 1.0 / np.maximum(cand.workers, 1.0)
    per_byte_ref = remote_ref / ref.net_per_core_mbps[0] + (1 - remote_ref) / ref.disk_per_core_mbps[0]
    f_fetch = (remote / cand.net_per_core_mbps + (1 - remote) / cand.disk_per_core_mbps) / per_byte_ref
    f_write = ref.disk_per_core_mbps[0] / cand.disk_per_core_mbps
    # Input and output go to S3: per task, the node's network share or one connection's limit, whichever is less.
    f_io = min(S3_MBPS_PER_TASK, ref.net_per_core_mbps[0]) / np.minimum(S3_MBPS_PER_TASK, cand.net_per_core_mbps)

    ds = np.broadcast_to(np.asarray(data_scale, dtype=float), (len(cand),))[None, :]
    grows = work.scales_with_input[:, None]
    tasks = np.where(grows, np.ceil(work.tasks[:, None] * ds), work.tasks[:, None])
    per_task_scale = np.where(grows, 1.0, ds)
    # Per task, seconds, on the candidate (stages x candidates).
    base = (
        np.outer(work.cpu, f_cpu)
        + np.outer(work.gc, f_gc)
        + np.outer(work.fetch, f_fetch)
        + np.outer(work.write, f_write)
        + np.outer(io, f_io)
    ) / work.tasks[:, None]
    misses = _cache_misses(work, ref, cand, io, ds[0]) * f_io[None, :] / tasks
    # Spill: a task needs memory in proportion to its size; a slot of the candidate has mem_per_core * fraction.
    slot_mem = cand.mem_per_core_gib * EXECUTION_MEMORY_FRACTION
    need = need_ref[:, None] * per_task_scale
    # The reference's shortfall, floored: a tiny denominator must not turn a small spill into hours.
    cap = 10.0 * np.maximum(work.memory_spilled_gib, 0.25 * need_ref + 1e-6)[:, None]
    # Where the reference did not spill, price the candidate's shortfall at disk speed (write + read back), as the
    # compressed bytes a spill puts on disk.
    ratio = work.spill_disk_ratio or SPILL_DISK_RATIO_PRIOR
    fresh = 2 * GIB * ratio / (cand.disk_per_core_mbps[None, :] * 1e6)
    measured = at.rate[:, None] * (ref.disk_per_core_mbps[0] / cand.disk_per_core_mbps)
    rate = np.where(at.rate[:, None] > 0, measured, fresh)
    per_size = base * per_task_scale + misses

    def task_time(m: np.ndarray) -> np.ndarray:
        """Seconds a task of relative size m takes on each candidate: its work, plus spilling what its slot lacks."""
        return per_size * m + rate * np.minimum(np.maximum(need * m - slot_mem[None, :], 0.0), cap * m)

    per_task = np.maximum(sum(w * task_time(sizes[:, i : i + 1]) for i, w in enumerate(BIN_WEIGHTS)), 1e-9)
    tail = sizes[:, len(BIN_WEIGHTS) :]
    slots = np.broadcast_to(cand.slots[None, :], tasks.shape)
    top_all = task_time(size_at_rank(tail, work.tasks, tasks)) / per_task
    top_slot = task_time(size_at_rank(tail, work.tasks, np.minimum(tasks, slots))) / per_task
    packed = tasks / np.minimum(slots, tasks)  # in mean task times
    body = body_wall(tasks, slots, top_all, top_slot) * per_task
    return fifo_wall(body, task_time(tail[:, -1:]), np.maximum(packed - 1.0, 0.0) * per_task)


def time_points(stages: list, mean: np.ndarray) -> np.ndarray:
    """Per stage, task time over the mean at the midpoints of the bins between the profile's quantiles (min, p25,
    p50, p75, p90, p99, max), normalised to a mean of 1 over BIN_WEIGHTS, then at p50, p75, p90, p99 and the
    largest task. A stage without quantiles counts as tasks of equal time."""
    if not stages:
        return np.zeros((0, len(BIN_WEIGHTS) + 5))
    q = np.array([[d.min, d.p25, d.p50, d.p75, d.p90, d.p99, d.max] for d in (s.task_duration for s in stages)])
    rel = np.where(q[:, -1:] > 0, q / mean[:, None], 1.0)
    rel = np.maximum.accumulate(np.maximum(rel, 0.0), axis=1)
    mids = 0.5 * (rel[:, :-1] + rel[:, 1:])
    norm = np.maximum(mids @ BIN_WEIGHTS, 1e-9)[:, None]
    return np.column_stack([mids, rel[:, 2:]]) / norm


def task_sizes(
    work: StageWork, mean_s: np.ndarray, spill_s: np.ndarray, slot_gib: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sizes, mean need in GiB, spill seconds per GiB short) per stage, at the reference.

    A task of relative size m (mean 1) needs m times the mean need and takes base x m + rate x max(0, need x m -
    slot) seconds: its own work, plus writing and reading back what its slot cannot hold. Spill lands on the top
    tasks, so their times overstate their sizes. A few fixed-point passes undo it: the mean need is the one at
    which the tasks fall short of the slot by what the stage spilled from memory per task, the rate is the spill
    time per GiB of it, and the sizes follow from the times. A candidate with more memory then sheds the tail
    that spill made, and one with less spills its top tasks first.

    The mean need of a stage that did not spill is its largest task's peak over that task's size (the peak
    belongs to the largest task)."""
    points = work.points
    spilled = spill_s > 0
    need = work.mem_need_gib / np.maximum(points[:, -1], 1.0)
    rate = np.zeros(len(points))
    if not spilled.any():
        return points, need, rate
    # What the tasks held beyond their slots on average; a stage that spilled to disk without saying how much it
    # held in memory is taken to have fallen a quarter short.
    short_gib = np.where(work.memory_spilled_gib > 0, work.memory_spilled_gib, 0.25 * work.mem_need_gib)
    base = np.maximum(mean_s - spill_s, 1e-3 * mean_s)[:, None]
    times = points * mean_s[:, None]
    rate = np.where(spilled, spill_s / np.maximum(short_gib, 1e-9), 0.0)
    sizes = points
    for _ in range(SIZE_PASSES):
        need = np.where(spilled, _need_for_shortfall(sizes, short_gib, slot_gib), need)
        r, n = rate[:, None], need[:, None]
        sizes = np.where(times * n > base * slot_gib, (times + r * slot_gib) / (base + r * n), times / base)
        sizes = sizes / np.maximum(sizes[:, : len(BIN_WEIGHTS)] @ BIN_WEIGHTS, 1e-9)[:, None]
    return sizes, need, rate


def _need_for_shortfall(sizes: np.ndarray, short_gib: np.ndarray, slot_gib: float) -> np.ndarray:
    """Per stage, the mean need at which tasks of `sizes` fall `short_gib` short of their slot on average
    (bisection: the shortfall grows with the need; at slot + short it is at least short, by convexity)."""
    bins = sizes[:, : len(BIN_WEIGHTS)]
    lo = np.zeros(len(sizes))
    hi = slot_gib + short_gib
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        over = np.maximum(mid[:, None] * bins - slot_gib, 0.0) @ BIN_WEIGHTS > short_gib
        hi, lo = np.where(over, mid, hi), np.where(over, lo, mid)
    return 0.5 * (lo + hi)


#: A task needing this many times its slot's execution memory is likely to die (OutOfMemoryError) rather than
#: spill: Spark can spill sorts and aggregations, not every structure a task holds.
OOM_RISK_RATIO = 3.0


def memory_risk(work: StageWork, cand: ConfigArrays, data_scale: float = 1.0) -> np.ndarray:
    """Candidates on which the largest tasks of some stage would need over OOM_RISK_RATIO x a slot's memory."""
    if len(work.tasks) == 0:
        return np.zeros(len(cand), dtype=bool)
    per_task = np.where(work.scales_with_input, 1.0, data_scale)
    big = (work.mem_need_gib * per_task * np.minimum(work.max_over_mean, 3.0)).max()
    return big > OOM_RISK_RATIO * cand.mem_per_core_gib * EXECUTION_MEMORY_FRACTION


def survived_by_luck(work: StageWork, ref: ConfigArrays) -> bool:
    """The profiled run's biggest tasks needed over OOM_RISK_RATIO x their slot's execution memory and spilled:
    the run finished, but a run whose data is a little more skewed dies (`task_sizes` gives the sizes)."""
    ref, _ = measured_bandwidths(work, ref, ref)
    at = _AtReference.of(work, ref)
    spilled = at.rate > 0
    slot = float(ref.mem_per_core_gib[0]) * EXECUTION_MEMORY_FRACTION
    return bool((spilled & (at.need_gib * at.sizes[:, -1] > OOM_RISK_RATIO * slot)).any())


def replay(
    work: StageWork,
    ref: ConfigArrays,
    cand: ConfigArrays,
    *,
    observed_runtime_s: float,
    data_scale: float | np.ndarray = 1.0,
) -> np.ndarray:
    """Predicted runtime of the profiled run on each candidate, calibrated to the run's own runtime.

    `ref` holds the one configuration the profile ran on; `observed_runtime_s` is that run's wall time;
    `data_scale` (scalar or one per candidate) is the input size relative to the profiled run's. The gap
    between it and the Spark application time (cluster start-up, library installs) is kept as a fixed overhead.
    """
    if len(work.tasks) == 0:
        return np.full(len(cand), observed_runtime_s)
    ref, cand = measured_bandwidths(work, ref, cand)
    at = _AtReference.of(work, ref)
    own = _stage_times(work, ref, ref, 1.0, at).sum()
    parallel = _stage_times(work, ref, cand, data_scale, at).sum(axis=0)
    app = work.app_s if work.app_s > 0 else observed_runtime_s
    overhead = max(observed_runtime_s - app, 0.0)
    stage_app = max(app - work.driver_only_s, 1e-3)
    calib = stage_app / max(own, 1e-6)
    # Driver-only time is the driver's own work (planning, listing, collecting): it runs at the driver's core speed.
    driver = work.driver_only_s * ref.driver_speed[0] / cand.driver_speed
    out = overhead + driver + calib * parallel
    # Whatever the component model says, no candidate is more than 50x faster or slower than the profiled run.
    scale = np.broadcast_to(np.asarray(data_scale, dtype=float), out.shape)
    return np.clip(out, observed_runtime_s * scale / 50.0, observed_runtime_s * scale * 50.0)
