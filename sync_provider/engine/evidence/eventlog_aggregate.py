"""Streaming aggregation of Spark listener events into a `Profile`.

Speed comes from not decoding what is not used: every line starts with `{"Event":"<type>"` (Spark's JsonProtocol
writes the type first), so the type is read with a bytes search and only the events that feed the profile are
decoded with orjson. TaskEnd lines, the bulk of any log, are cut where they lie in the decompressed block (two
memoryview slices, no copy) to drop Task Info's "Accumulables" (the same metrics again, as strings) and Task
Executor Metrics, then decoded 512 at a time in one orjson call and summed one C-level pass per field. Memory is
bounded by stages, not tasks: task times go to a fixed-size sketch per running stage attempt, busy time to a
coarse timeline array.
"""

from __future__ import annotations

import gc
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import numpy as np
import orjson

from sync_provider.engine.evidence.profile import (
    ExecutorSample,
    JobProfile,
    Profile,
    SqlExecution,
    StageProfile,
)
from sync_provider.engine.evidence.sketch import TaskTimeSketch

SQL_UI = "org.apache.spark.sql.execution.ui."
EV_TASK_END = "SparkListenerTaskEnd"
EV_DBC_META = "DBCEventLoggingListenerMetadata"
DBX_TAG = "spark.databricks.clusterUsageTags."
#: Events that carry nothing the profile uses: skipped without decoding.
IGNORED_EVENTS = frozenset(
    {
        "SparkListenerTaskStart",
        "SparkListenerTaskGettingResult",
        "SparkListenerBlockManagerAdded",
        "SparkListenerBlockManagerRemoved",
        "SparkListenerBlockUpdated",
        "SparkListenerUnpersistRDD",
        "SparkListenerExecutorMetricsUpdate",
        "SparkListenerStageExecutorMetrics",
        "SparkListenerSpeculativeTaskSubmitted",
        "SparkListenerUnschedulableTaskSetAdded",
        "SparkListenerUnschedulableTaskSetRemoved",
        "SparkListenerExecutorBlacklisted",
        "SparkListenerExecutorUnblacklisted",
        "SparkListenerExecutorExcluded",
        "SparkListenerExecutorUnexcluded",
        "SparkListenerExecutorBlacklistedForStage",
        "SparkListenerExecutorExcludedForStage",
        "SparkListenerNodeBlacklisted",
        "SparkListenerNodeUnblacklisted",
        "SparkListenerNodeExcluded",
        "SparkListenerNodeUnexcluded",
        "SparkListenerNodeBlacklistedForStage",
        "SparkListenerNodeExcludedForStage",
        "SparkListenerMiscellaneousProcessAdded",
        "SparkListenerExecutorDecommission",
        SQL_UI + "SparkListenerDriverAccumUpdates",
        SQL_UI + "SparkListenerSQLAdaptiveSQLMetricUpdates",
        "org.apache.spark.sql.execution.streaming.StreamingQueryListener$QueryProgressEvent",
        "org.apache.spark.sql.streaming.StreamingQueryListener$QueryProgressEvent",
        "org.apache.spark.sql.streaming.StreamingQueryListener$QueryStartedEvent",
        "org.apache.spark.sql.streaming.StreamingQueryListener$QueryTerminatedEvent",
        "org.apache.spark.sql.streaming.StreamingQueryListener$QueryIdleEvent",
        "org.apache.spark.sql.execution.ui.SparkListenerEffectiveSQLConfUpdate",
        "org.apache.spark.sql.execution.ui.PostQueryExecutionForSQLExecutionEnd",
    }
)
TASK_BATCH = 512  # TaskEnd lines decoded and folded together (bounded: a few MB)
#: Buffered TaskEnd lines are views into the blocks they came from; when sparse TaskEnds between huge other
#: events would keep more than this alive, the batch is decoded early.
MAX_HELD_BYTES = 64 * 2**20
BUSY_BIN_S = 0.1  # resolution of the "is any task running" timeline used for driver-only time
MAX_BUSY_BINS = 4_000_000  # ~111 hours at 0.1 s; later tasks are clamped to the last bin
MAX_WARNINGS = 50
MAX_TAG_VALUE = 500
_PREFIX = b'{"Event":"'
_SCHEDULER_PKG = "org.apache.spark.scheduler."
_TASK_END_PREFIX = b'{"Event":"SparkListenerTaskEnd"'
_TASK_START_PREFIX = b'{"Event":"SparkListenerTaskStart"'
_ACCUM = b'"Accumulables":['
_TASK_METRICS = b'"Task Metrics":'
_PUSH_SHUFFLE = b'"Push Based Shuffle":{'
_AFTER_ACCUM = (b']},"Task End Reason":', b"]}}")
_PEAK_METRIC = b'"Peak Execution Memory":'
_CUT = b'"Accumulables":[]},'  # closes Task Info where its accumulables are cut out
_PEAK_ACCUM = b'"Name":"internal.metrics.peakExecutionMemory","Update":'
_PATHLIKE = re.compile(r"[\w./\\-]*[/\\]([\w.-]+)")
_TMPNAME = re.compile(r"tmp[\w-]{4,}")
_WSCG = re.compile(r"\s*\(\d+\)$")


# Indices into a stage attempt's raw sums.
(
    A_COMPLETED,
    A_FAILED,
    A_KILLED,
    A_SPECULATIVE,
    A_DURATION,
    A_RUN,
    A_CPU,
    A_DESER,
    A_GC,
    A_SER,
    A_MEM_SPILL,
    A_DISK_SPILL,
    A_PEAK,
    A_INPUT,
    A_INPUT_RECORDS,
    A_OUTPUT,
    A_SR_REMOTE,
    A_SR,
    A_FETCH_WAIT,
    A_SW,
    A_SW_TIME,
) = range(21)
_FLAT_METRICS = (
    (A_RUN, "Executor Run Time"),
    (A_CPU, "Executor CPU Time"),
    (A_DESER, "Executor Deserialize Time"),
    (A_GC, "JVM GC Time"),
    (A_SER, "Result Serialization Time"),
    (A_MEM_SPILL, "Memory Bytes Spilled"),
    (A_DISK_SPILL, "Disk Bytes Spilled"),
)
_NESTED_METRICS = (
    ("Input Metrics", ((A_INPUT, "Bytes Read"), (A_INPUT_RECORDS, "Records Read"))),
    ("Output Metrics", ((A_OUTPUT, "Bytes Written"),)),
    ("Shuffle Read Metrics", ((A_SR_REMOTE, "Remote Bytes Read"), (A_SR, "Remote Bytes Read"),
                              (A_FETCH_WAIT, "Fetch Wait Time"))),
    ("Shuffle Write Metrics", ((A_SW, "Shuffle Bytes Written"), (A_SW_TIME, "Shuffle Write Time"))),
)  # fmt: skip


def _with_peak(line: bytes, accum_start: int, metrics_start: int) -> bytes:
    """The line from its "Task Metrics" on, given Spark 2.x's peak execution memory when it lacks one.

    Spark 3+ writes "Peak Execution Memory" in Task Metrics; Spark 2.x writes it only as the
    internal.metrics.peakExecutionMemory accumulator update in Task Info, which the cut drops.
    """
    tail = line[metrics_start:]
    if tail.find(_PEAK_METRIC, 0, 400) >= 0:
        return tail
    at = line.find(_PEAK_ACCUM, accum_start, metrics_start)
    if at < 0:
        return tail
    digits = at + len(_PEAK_ACCUM)
    end = digits
    while end < metrics_start and 48 <= line[end] <= 57:  # ASCII digits
        end += 1
    head = _TASK_METRICS + b"{"
    if end == digits or not tail.startswith(head + b'"'):
        return tail
    return head + _PEAK_METRIC + line[digits:end] + b"," + tail[len(head) :]


def _column(dicts: list[dict], key: str, default: Any) -> list:
    """dicts[i][key] for all i, at C speed when every dict has the key."""
    try:
        return list(map(itemgetter(key), dicts))
    except KeyError:
        return [d.get(key, default) for d in dicts]


def _sum(dicts: list[dict], key: str) -> int:
    try:
        return sum(map(itemgetter(key), dicts))
    except (KeyError, TypeError):
        return sum(d.get(key) or 0 for d in dicts)


_GET = {
    name: itemgetter(name)
    for name in (
        "Task Info", "Task End Reason", "Reason", "Speculative", "Executor ID", "Launch Time", "Finish Time",
        "Task Metrics", "Peak Execution Memory", "Local Bytes Read",
        *(name for _index, name in _FLAT_METRICS),
        *(group for group, _fields in _NESTED_METRICS),
        *(name for _group, fields in _NESTED_METRICS for _index, name in fields),
    )
}  # fmt: skip
TaskColumns = tuple[list, list, list, list, list, "dict[int, int] | None", int]


def _task_columns(evs: list[dict]) -> TaskColumns:
    """What a batch of TaskEnd events contributes, one C-level pass per field; KeyError/TypeError if irregular.

    Returns (end reasons, speculative flags, executor ids, launch times, finish times, metric sums by
    accumulator index, max peak execution memory). Every task must carry every field: otherwise the caller
    falls back to `_task_columns_tolerant`, which gives the same result with defaults for what is missing.
    """
    g = _GET
    reasons = list(map(g["Reason"], map(g["Task End Reason"], evs)))
    infos = list(map(g["Task Info"], evs))
    speculative, executors = list(map(g["Speculative"], infos)), list(map(g["Executor ID"], infos))
    launch, finish = list(map(g["Launch Time"], infos)), list(map(g["Finish Time"], infos))
    metrics = list(map(g["Task Metrics"], evs))
    sums = {index: sum(map(g[name], metrics)) for index, name in _FLAT_METRICS}
    for group, fields in _NESTED_METRICS:
        subs = list(map(g[group], metrics))
        for index, name in fields:
            sums[index] = sum(map(g[name], subs))
    sums[A_SR] += sum(map(g["Local Bytes Read"], map(g["Shuffle Read Metrics"], metrics)))
    peak = max(map(g["Peak Execution Memory"], metrics))
    return reasons, speculative, executors, launch, finish, sums, peak


def _task_columns_tolerant(evs: list[dict]) -> TaskColumns:
    """`_task_columns` for events with missing or null fields (old Spark, failed tasks without metrics)."""
    infos = [e.get("Task Info") or {} for e in evs]
    reasons = [(e.get("Task End Reason") or {}).get("Reason", "Success") for e in evs]
    speculative = _column(infos, "Speculative", False)
    executors = _column(infos, "Executor ID", None)
    launch, finish = _column(infos, "Launch Time", 0), _column(infos, "Finish Time", 0)
    metrics = [m for m in (e.get("Task Metrics") for e in evs) if m]
    if not metrics:
        return reasons, speculative, executors, launch, finish, None, 0
    sums = {index: _sum(metrics, name) for index, name in _FLAT_METRICS}
    for group, fields in _NESTED_METRICS:
        subs = [m.get(group) or {} for m in metrics]
        for index, name in fields:
            sums[index] = _sum(subs, name)
    sums[A_SR] += _sum([m.get("Shuffle Read Metrics") or {} for m in metrics], "Local Bytes Read")
    peak = max(_column(metrics, "Peak Execution Memory", 0) or [0])
    return reasons, speculative, executors, launch, finish, sums, peak


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC: the parser makes thousands of short-lived acyclic objects (decoded events) per block,
    which would trigger it over and over for nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def normalize_stage_name(name: str) -> str:
    """A stage name as the code defines it: call site kept, run-specific paths and temp names dropped."""
    name = _PATHLIKE.sub(r"\1", name or "")
    return _TMPNAME.sub("tmp*", name).strip()


def operator_name(node_name: str) -> str:
    """'WholeStageCodegen (3)' -> 'WholeStageCodegen'; 'Scan parquet db.t' -> 'Scan parquet'."""
    node_name = _WSCG.sub("", node_name.strip())
    parts = node_name.split(" ")
    if parts[0] in ("Scan", "PhotonScan") and len(parts) > 1:
        return f"{parts[0]} {parts[1]}"
    return parts[0]


def _persisted(rdd: dict) -> bool:
    """An RDD kept in memory or on disk (`cache()`, `persist()`, a cached DataFrame's relation)."""
    level = rdd.get("Storage Level") or {}
    return bool(level.get("Use Memory") or level.get("Use Disk") or level.get("Use Off Heap"))


@dataclass
class _Stage:
    profile: StageProfile
    sketch: TaskTimeSketch | None
    acc: list = field(default_factory=lambda: [0] * 21)  # raw sums in Spark's units (ms, ns, bytes)
    late_max: float = 0.0

    def write_sums(self) -> None:
        """Copy the raw sums into the profile, converting units (ms and ns -> s)."""
        a, p = self.acc, self.profile
        p.completed_tasks, p.failed_tasks = int(a[A_COMPLETED]), int(a[A_FAILED])
        p.killed_tasks, p.speculative_tasks = int(a[A_KILLED]), int(a[A_SPECULATIVE])
        p.task_duration_sum_s = float(a[A_DURATION])
        p.executor_run_time_s = a[A_RUN] / 1000.0
        p.executor_cpu_time_s = a[A_CPU] / 1e9
        p.executor_deserialize_time_s = a[A_DESER] / 1000.0
        p.jvm_gc_time_s = a[A_GC] / 1000.0
        p.result_serialization_time_s = a[A_SER] / 1000.0
        p.memory_spilled_bytes, p.disk_spilled_bytes = int(a[A_MEM_SPILL]), int(a[A_DISK_SPILL])
        p.peak_execution_memory_max_bytes = int(a[A_PEAK])
        p.input_bytes, p.input_records, p.output_bytes = int(a[A_INPUT]), int(a[A_INPUT_RECORDS]), int(a[A_OUTPUT])
        p.shuffle_remote_read_bytes, p.shuffle_read_bytes = int(a[A_SR_REMOTE]), int(a[A_SR])
        p.shuffle_fetch_wait_s = a[A_FETCH_WAIT] / 1000.0
        p.shuffle_write_bytes, p.shuffle_write_time_s = int(a[A_SW]), a[A_SW_TIME] / 1e9
        if self.late_max > p.task_duration.max:
            p.task_duration.max = self.late_max


@dataclass
class _Sql:
    execution_id: int
    description: str
    start_ms: float | None
    end_ms: float | None = None
    operators: dict[str, int] = field(default_factory=dict)
    photon_operators: int = 0


class ProfileBuilder:
    """Consumes raw event-log lines (bytes) one by one; `finish()` returns the Profile."""

    def __init__(self) -> None:
        self.profile = Profile()
        self.lines = 0
        self.decoded = 0
        self.bad_lines = 0
        self.first_bad_line: str | None = None
        self.unknown_events: dict[str, int] = {}
        self._stages: dict[tuple[int, int], _Stage] = {}
        self._stage_meta: dict[int, dict[str, Any]] = {}
        self._jobs: dict[int, JobProfile] = {}
        self._sql: dict[int, _Sql] = {}
        self._executors: dict[str, int] = {}  # live executor id -> cores
        self._exec_samples: list[ExecutorSample] = []
        self._max_cores = 0
        self._cores_seen: dict[int, int] = {}  # executor size -> how many executors had it
        self._driver_tasks = 0
        self._origin_ms: float | None = None
        self._last_ms: float = 0.0
        self._busy = np.zeros(0, dtype=np.int32)
        self._task_parts: list[bytes | memoryview] = [b"["]  # the JSON array of buffered (cut) TaskEnd lines
        self._task_lines: list[bytes | memoryview] = []  # the same lines whole, should the array not decode
        self._held_bytes = 0  # size of the blocks the buffered lines are views into
        self._orphan_tasks = 0
        self._orphan_stages: set[tuple[int, int]] = set()
        self._seen_app_start = False
        self._seen_app_end = False
        self._props: dict[str, str] = {}
        self._warnings: list[str] = []
        self._warnings_dropped = 0
        self.handlers = {
            "SparkListenerLogStart": self._log_start,
            EV_DBC_META: self._dbc_meta,
            "SparkListenerApplicationStart": self._app_start,
            "SparkListenerApplicationEnd": self._app_end,
            "SparkListenerEnvironmentUpdate": self._env_update,
            "SparkListenerResourceProfileAdded": self._resource_profile,
            "SparkListenerExecutorAdded": self._executor_added,
            "SparkListenerExecutorRemoved": self._executor_removed,
            "SparkListenerJobStart": self._job_start,
            "SparkListenerJobEnd": self._job_end,
            "SparkListenerStageSubmitted": self._stage_submitted,
            "SparkListenerStageCompleted": self._stage_completed,
            EV_TASK_END: self._task_end,
            SQL_UI + "SparkListenerSQLExecutionStart": self._sql_start,
            SQL_UI + "SparkListenerSQLAdaptiveExecutionUpdate": self._sql_update,
            SQL_UI + "SparkListenerSQLExecutionEnd": self._sql_end,
        }

    # ------------------------------------------------------------------ input
    def warn(self, message: str) -> None:
        if len(self._warnings) < MAX_WARNINGS:
            if message not in self._warnings:
                self._warnings.append(message)
        else:
            self._warnings_dropped += 1

    def warnings_so_far(self) -> list[str]:
        return list(self._warnings)

    @gc_paused()
    def feed_block(self, buf: bytes, start: int, end: int) -> None:
        """Take the lines of `buf[start:end]` (complete lines separated by newlines), without copying them.

        This is the hot loop of the parser: the block is walked with `bytes.find`, TaskStart lines are stepped
        over, and of each TaskEnd line only two slices are kept (memoryviews, no copy): the line up to Task
        Info's "Accumulables" and from its "Task Metrics" on (see `_cut_task_end`). They are joined and decoded
        TASK_BATCH lines at a time. Every other line is handled at once, in order.
        """
        view = memoryview(buf)
        find, rfind, startswith = buf.find, buf.rfind, buf.startswith
        parts, lines = self._task_parts, self._task_lines
        pos, count, held = start, 0, False
        try:
            while pos <= end:
                count += 1
                nl = find(b"\n", pos, end)
                if nl < 0:
                    nl = end
                if startswith(_TASK_END_PREFIX, pos):
                    accum = find(_ACCUM, pos + 100, nl)  # Task Info comes after ~150 bytes of ids and reason
                    # "Task Metrics" comes last: searched from the end, not across the accumulables
                    metrics = rfind(_TASK_METRICS, accum, nl) if accum > 0 else -1
                    if metrics > 0 and find(_PEAK_METRIC, metrics, nl) > 0:
                        parts += (view[pos:accum], _CUT, view[metrics:nl], b",")
                        lines.append(view[pos:nl])
                        held = True
                        if len(lines) >= TASK_BATCH:
                            self._flush_tasks()
                            parts, lines = self._task_parts, self._task_lines
                    else:  # Spark 2.x (peak among the accumulables), no metrics, or not the usual shape
                        self._buffer_task(buf[pos:nl])
                        parts, lines = self._task_parts, self._task_lines
                elif not startswith(_TASK_START_PREFIX, pos):
                    self._feed(buf[pos:nl])
                    parts, lines = self._task_parts, self._task_lines  # a StageCompleted flushes the buffer
                pos = nl + 1
            if held and self._task_lines:  # buffered views keep this block alive: bound what they can hold
                self._held_bytes += len(buf)
                if self._held_bytes > MAX_HELD_BYTES:
                    self._flush_tasks()
        finally:
            self.lines += count

    def feed_many(self, lines: list[bytes]) -> None:
        """Take a list of lines (without their newlines)."""
        if lines:
            block = b"\n".join(lines)
            self.feed_block(block, 0, len(block))

    def feed(self, line: bytes) -> None:
        """Take one line of the log; decode it only if its event type feeds the profile."""
        self.feed_many([line])

    def _buffer_task(self, line: bytes) -> None:
        """Buffer one TaskEnd line that needs the careful per-line cut."""
        self._task_parts += (self._cut_task_end(line), b",")
        self._task_lines.append(line)
        if len(self._task_lines) >= TASK_BATCH:
            self._flush_tasks()

    def _feed(self, line: bytes) -> None:
        if line.startswith(_PREFIX):
            end = line.find(b'"', 10)
            etype = line[10:end].decode("utf-8", "replace")
            if etype.startswith(_SCHEDULER_PKG):  # events outside JsonProtocol's list are written by class name
                etype = etype[len(_SCHEDULER_PKG) :]
            if etype in IGNORED_EVENTS:
                return
            handler = self.handlers.get(etype)
            if handler is None:
                self.unknown_events[etype] = self.unknown_events.get(etype, 0) + 1
                return
            if etype == EV_TASK_END:
                self._buffer_task(line)
                return
            event = self._decode(line)
            if event is not None:
                handler(event)
            return
        stripped = line.strip()
        if not stripped:
            return
        event = self._decode(stripped)
        if event is None:
            return
        etype = event.get("Event") if isinstance(event, dict) else None
        if not isinstance(etype, str):
            self._bad(stripped)
            return
        handler = self.handlers.get(etype)
        if handler is not None:
            handler(event)
        elif etype not in IGNORED_EVENTS:
            self.unknown_events[etype] = self.unknown_events.get(etype, 0) + 1

    def _bad(self, line: bytes) -> None:
        self.bad_lines += 1
        if self.first_bad_line is None:
            self.first_bad_line = line[:80].decode("utf-8", "replace")

    def _decode(self, line: bytes) -> dict | None:
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            self._bad(line)
            return None
        self.decoded += 1
        if not isinstance(event, dict):
            self._bad(line)
            return None
        return event

    @staticmethod
    def _cut_task_end(line: bytes) -> bytes:
        """A TaskEnd line without the parts the profile does not use (or the line itself when that is unsafe).

        Spark writes Task Info's "Accumulables" (the metrics again, as strings) last in Task Info, followed by
        "Task Executor Metrics" (Spark 3+) and "Task Metrics": everything from the accumulables up to "Task
        Metrics" is dropped. A cut that does not decode falls back to the whole line in `_flush_tasks`. Spark 2.x
        reports a task's peak execution memory only among those accumulables: it is carried over (`_with_peak`).
        """
        start = line.find(_ACCUM, 100)  # Task Info comes after ~150 bytes of stage ids, type and end reason
        if start < 0:
            return line
        stop = line.find(_TASK_METRICS, start)
        if stop > 0:
            push = line.find(_PUSH_SHUFFLE, stop)  # Spark 3.2+: a flat object of push-based shuffle counters
            if push > 0:
                end = line.find(b"}", push)
                if end > 0:
                    return line[: start + len(_ACCUM)] + b"]}," + line[stop:push] + b'"_":0' + line[end + 1 :]
            return line[: start + len(_ACCUM)] + b"]}," + _with_peak(line, start, stop)
        for marker in _AFTER_ACCUM:
            stop = line.find(marker, start)
            if stop > 0:
                return line[: start + len(_ACCUM)] + line[stop:]
        return line

    @gc_paused()
    def _flush_tasks(self) -> None:
        """Decode the buffered TaskEnd lines in one orjson call and fold them stage by stage."""
        lines, parts = self._task_lines, self._task_parts
        if not lines:
            return
        self._task_lines, self._task_parts, self._held_bytes = [], [b"["], 0
        parts[-1] = b"]"  # the last separator closes the array
        self._decode_and_fold(b"".join(parts), lines)

    def _decode_and_fold(self, batch: bytes, lines: list) -> None:
        try:
            events = orjson.loads(batch)
            self.decoded += len(events)
        except orjson.JSONDecodeError:  # some line is damaged or a cut went wrong: one by one, whole lines
            events = []
            for line in map(bytes, lines):
                try:
                    events.append(orjson.loads(self._cut_task_end(line)))
                    self.decoded += 1
                except orjson.JSONDecodeError:
                    event = self._decode(line)
                    if event is not None:
                        events.append(event)
        events = [ev for ev in events if isinstance(ev, dict)]
        if not events:
            return
        stage_ids, attempts = _column(events, "Stage ID", -1), _column(events, "Stage Attempt ID", 0)
        if stage_ids.count(stage_ids[0]) == len(events) and attempts.count(attempts[0]) == len(events):
            self._fold_tasks((int(stage_ids[0]), int(attempts[0] or 0)), events)  # the usual case: one attempt
            return
        groups: dict[tuple[int, int], list[dict]] = {}
        for key, ev in zip(zip(stage_ids, attempts, strict=True), events, strict=True):
            groups.setdefault((int(key[0]), int(key[1] or 0)), []).append(ev)
        for key, evs in groups.items():
            self._fold_tasks(key, evs)

    # ------------------------------------------------------------------ time
    def _rel(self, ms: Any) -> float | None:
        if ms is None or self._origin_ms is None:
            return None
        return (float(ms) - self._origin_ms) / 1000.0

    def _saw_time(self, ms: Any) -> None:
        if ms:
            ms = float(ms)
            if self._origin_ms is None:
                self._origin_ms = ms
            if ms > self._last_ms:
                self._last_ms = ms

    def _mark_busy_many(self, launch_ms: np.ndarray, finish_ms: np.ndarray) -> None:
        """Add task intervals to the running-task count timeline (a difference array of BUSY_BIN_S bins)."""
        if self._origin_ms is None:
            return
        a = np.clip(((launch_ms - self._origin_ms) / 1000.0 / BUSY_BIN_S).astype(np.int64), 0, MAX_BUSY_BINS - 1)
        b = np.ceil((finish_ms - self._origin_ms) / 1000.0 / BUSY_BIN_S - 1e-6).astype(np.int64)
        b = np.clip(np.maximum(b, a + 1), 1, MAX_BUSY_BINS)
        top = int(b.max()) + 1
        if top > len(self._busy):
            grown = np.zeros(max(top + 1024, 2 * len(self._busy)), dtype=np.int32)
            grown[: len(self._busy)] = self._busy
            self._busy = grown
        np.add.at(self._busy, a, 1)
        np.add.at(self._busy, b, -1)

    # ------------------------------------------------------------------ events
    def _log_start(self, ev: dict) -> None:
        self.profile.spark_version = self.profile.spark_version or ev.get("Spark Version")

    def _dbc_meta(self, ev: dict) -> None:
        self.profile.spark_version = self.profile.spark_version or ev.get("Spark Version")
        ctx = ev.get("SparkContext Id")
        if ctx is not None and not self.profile.cluster.spark_context_id:
            self.profile.cluster.spark_context_id = str(ctx)

    def _app_start(self, ev: dict) -> None:
        self._seen_app_start = True
        ts = ev.get("Timestamp")
        if ts:
            self._origin_ms = float(ts) if self._origin_ms is None else min(self._origin_ms, float(ts))
            self._saw_time(ts)
        self.profile.start_time_ms = int(ts) if ts else None
        self.profile.app_name = ev.get("App Name") or self.profile.app_name
        self.profile.app_id = ev.get("App ID") or self.profile.app_id

    def _app_end(self, ev: dict) -> None:
        self._seen_app_end = True
        ts = ev.get("Timestamp")
        self._saw_time(ts)
        self.profile.end_time_ms = int(ts) if ts else None

    def _env_update(self, ev: dict) -> None:
        props = ev.get("Spark Properties")
        if isinstance(props, list):  # very old logs wrote [[key, value], ...]
            props = {p[0]: p[1] for p in props if isinstance(p, list) and len(p) == 2}
        if isinstance(props, dict):
            self._props.update({k: str(v) for k, v in props.items() if isinstance(k, str)})

    def _resource_profile(self, ev: dict) -> None:
        if ev.get("Resource Profile Id", 0) != 0:
            return
        req = ev.get("Executor Resource Requests") or {}
        cores = (req.get("cores") or {}).get("Amount")
        memory = (req.get("memory") or {}).get("Amount")
        facts = self.profile.cluster
        if cores and not facts.executor_cores:
            facts.executor_cores = int(cores)
        if memory and not facts.executor_memory_mb:
            facts.executor_memory_mb = int(memory)

    def _executor_added(self, ev: dict) -> None:
        ts = ev.get("Timestamp")
        self._saw_time(ts)
        exec_id = str(ev.get("Executor ID"))
        if exec_id == "driver":
            return
        info = ev.get("Executor Info") or {}
        cores = int(info.get("Total Cores") or 0)
        self._executors[exec_id] = cores
        if cores:
            self._cores_seen[cores] = self._cores_seen.get(cores, 0) + 1
        self._max_cores = max(self._max_cores, sum(self._executors.values()))
        self._sample_executors(ts)

    def _executor_removed(self, ev: dict) -> None:
        ts = ev.get("Timestamp")
        self._saw_time(ts)
        if self._executors.pop(str(ev.get("Executor ID")), None) is not None:
            self._sample_executors(ts)

    def _sample_executors(self, ts: Any) -> None:
        count = len(self._executors)
        self.profile.max_executors = max(self.profile.max_executors, count)
        t = self._rel(ts) or 0.0
        samples = self._exec_samples
        if samples and abs(samples[-1].time_s - t) < 1e-3:
            samples[-1].executors = count
        elif not samples or samples[-1].executors != count:
            samples.append(ExecutorSample(time_s=max(t, 0.0), executors=count))

    def _job_start(self, ev: dict) -> None:
        ts = ev.get("Submission Time")
        self._saw_time(ts)
        job_id = int(ev.get("Job ID", -1))
        props = ev.get("Properties") or {}
        sql_id = props.get("spark.sql.execution.id") if isinstance(props, dict) else None
        stage_ids = [int(s) for s in ev.get("Stage IDs") or []]
        for info in ev.get("Stage Infos") or []:
            sid = int(info.get("Stage ID", -1))
            meta = self._stage_meta.setdefault(sid, {"jobs": []})
            meta["jobs"].append(job_id)
            meta.setdefault("name", info.get("Stage Name") or "")
            meta.setdefault("parents", [int(p) for p in info.get("Parent IDs") or []])
            meta.setdefault("tasks", int(info.get("Number of Tasks") or 0))
        self._jobs[job_id] = JobProfile(
            job_id=job_id,
            stage_ids=stage_ids,
            submitted_s=self._rel(ts),
            sql_execution_id=int(sql_id) if sql_id not in (None, "") else None,
        )

    def _job_end(self, ev: dict) -> None:
        ts = ev.get("Completion Time")
        self._saw_time(ts)
        job = self._jobs.get(int(ev.get("Job ID", -1)))
        if job is None:
            self.warn("a JobEnd names a job that never started: a rolled part of the log may be missing")
            return
        job.completed_s = self._rel(ts)
        result = ev.get("Job Result") or {}
        job.succeeded = result.get("Result") == "JobSucceeded"

    def _stage(self, info: dict) -> _Stage:
        sid = int(info.get("Stage ID", -1))
        attempt = int(info.get("Stage Attempt ID", info.get("Attempt ID", 0)) or 0)
        key = (sid, attempt)
        stage = self._stages.get(key)
        if stage is None:
            meta = self._stage_meta.get(sid, {})
            prof = StageProfile(
                stage_id=sid,
                attempt_id=attempt,
                name=info.get("Stage Name") or meta.get("name", ""),
                job_ids=list(meta.get("jobs", [])),
                parent_ids=[int(p) for p in info.get("Parent IDs") or meta.get("parents", [])],
                num_tasks=int(info.get("Number of Tasks") or meta.get("tasks", 0)),
            )
            stage = _Stage(prof, TaskTimeSketch(seed=sid * 131 + attempt))
            self._stages[key] = stage
        return stage

    def _stage_submitted(self, ev: dict) -> None:
        info = ev.get("Stage Info") or {}
        stage = self._stage(info)
        ts = info.get("Submission Time")
        self._saw_time(ts)
        if ts:
            stage.profile.submitted_s = self._rel(ts)

    def _stage_completed(self, ev: dict) -> None:
        self._flush_tasks()  # its buffered tasks belong in the sketch before it is finalised
        info = ev.get("Stage Info") or {}
        stage = self._stage(info)
        prof = stage.profile
        sub, done = info.get("Submission Time"), info.get("Completion Time")
        self._saw_time(done)
        if sub and prof.submitted_s is None:
            prof.submitted_s = self._rel(sub)
        if done:
            prof.completed_s = self._rel(done)
        if sub and done:
            prof.duration_s = max(0.0, (float(done) - float(sub)) / 1000.0)
        if info.get("Failure Reason"):
            prof.failure_reason = str(info["Failure Reason"])[:500]
        prof.persisted_rdds = sum(1 for rdd in info.get("RDD Info") or [] if _persisted(rdd))
        self._finalize_stage(stage)

    def _finalize_stage(self, stage: _Stage) -> None:
        sketch = stage.sketch
        if sketch is None:
            return
        prof = stage.profile
        prof.task_duration = sketch.quantiles()
        median = prof.task_duration.p50
        prof.skew = prof.task_duration.max / median if median > 0 else 1.0
        sketch.release()
        stage.sketch = None

    def _task_end(self, ev: dict) -> None:
        """A TaskEnd decoded elsewhere (a line without the usual prefix): fold it like a batch of one."""
        self._fold_tasks((int(ev.get("Stage ID", -1)), int(ev.get("Stage Attempt ID", 0) or 0)), [ev])

    def _fold_tasks(self, key: tuple[int, int], evs: list[dict]) -> None:
        """Fold TaskEnd events of one stage attempt into its plain sums, summing each metric at C speed."""
        stage = self._stages.get(key)
        if stage is None:
            self._orphan_tasks += len(evs)
            self._orphan_stages.add(key)
            stage = self._stage({"Stage ID": key[0], "Stage Attempt ID": key[1]})
        try:
            cols = _task_columns(evs)
        except (KeyError, TypeError, ValueError):  # a field missing or null somewhere: the tolerant path
            cols = _task_columns_tolerant(evs)
        reasons, speculative, executors, launch_ms, finish_ms, sums, peak = cols
        acc = stage.acc
        self.profile.num_tasks += len(evs)
        ok, killed = reasons.count("Success"), reasons.count("TaskKilled")  # Spark never marks a Success failed
        acc[A_COMPLETED] += ok
        acc[A_KILLED] += killed
        acc[A_FAILED] += len(evs) - ok - killed
        acc[A_SPECULATIVE] += speculative.count(True)
        self._driver_tasks += executors.count("driver")
        launch = np.array(launch_ms, dtype=np.float64)
        finish = np.array(finish_ms, dtype=np.float64)
        valid = (launch > 0) & (finish >= launch)
        if valid.any():
            launch, finish = launch[valid], finish[valid]
            if self._origin_ms is None:  # the log's beginning is missing: time starts with its first task
                self._origin_ms = float(launch.min())
            durations = (finish - launch) / 1000.0
            acc[A_DURATION] += float(durations.sum())
            self._last_ms = max(self._last_ms, float(finish.max()))
            if stage.sketch is not None:
                stage.sketch.add_many(durations)
            else:  # stragglers reported after their stage completed
                stage.late_max = max(stage.late_max, float(durations.max()))
            self._mark_busy_many(launch, finish)
        if sums is None:
            return
        for index, value in sums.items():
            acc[index] += value
        if peak > acc[A_PEAK]:
            acc[A_PEAK] = peak

    def _plan_operators(self, sql: _Sql, plan: Any) -> None:
        ops: dict[str, int] = {}
        photon = 0
        stack = [plan] if isinstance(plan, dict) else []
        while stack:
            node = stack.pop()
            name = operator_name(str(node.get("nodeName") or ""))
            if name:
                if name.startswith("Photon"):
                    photon += 1
                else:
                    ops[name] = ops.get(name, 0) + 1
            stack.extend(c for c in node.get("children") or [] if isinstance(c, dict))
        sql.operators, sql.photon_operators = ops, photon

    def _sql_start(self, ev: dict) -> None:
        ts = ev.get("time")
        self._saw_time(ts)
        eid = int(ev.get("executionId", -1))
        sql = _Sql(execution_id=eid, description=str(ev.get("description") or "")[:200], start_ms=ts)
        self._plan_operators(sql, ev.get("sparkPlanInfo"))
        self._sql[eid] = sql

    def _sql_update(self, ev: dict) -> None:
        sql = self._sql.get(int(ev.get("executionId", -1)))
        if sql is not None:  # the adaptive plan replaces the initial one: count the final operators
            self._plan_operators(sql, ev.get("sparkPlanInfo"))

    def _sql_end(self, ev: dict) -> None:
        ts = ev.get("time")
        self._saw_time(ts)
        sql = self._sql.get(int(ev.get("executionId", -1)))
        if sql is not None:
            sql.end_ms = ts

    # ------------------------------------------------------------------ result
    def finish(self) -> Profile:
        """Fold what was streamed into the Profile and record what looked wrong."""
        self._flush_tasks()
        p = self.profile
        self._apply_properties()
        if not self._seen_app_start:
            self.warn("no ApplicationStart event: the first part of the log may be missing; times are approximate")
        if p.start_time_ms is None and self._origin_ms is not None:
            p.start_time_ms = int(self._origin_ms)
        if not self._seen_app_end:
            self.warn(
                "no ApplicationEnd event: the log is incomplete (still being written, or the driver died); "
                "duration runs to the last event seen"
            )
            if self._last_ms:
                p.end_time_ms = int(self._last_ms)
        if p.start_time_ms is not None and p.end_time_ms is not None:
            p.duration_s = max(0.0, (p.end_time_ms - p.start_time_ms) / 1000.0)
        if self._orphan_tasks:
            self.warn(
                f"{self._orphan_tasks} task(s) ended in {len(self._orphan_stages)} stage attempt(s) never submitted "
                "in this log: a rolled part of the log may be missing"
            )
        if self.bad_lines:
            self.warn(f"{self.bad_lines} line(s) were not valid JSON and were skipped (first: {self.first_bad_line!r})")
        if self.unknown_events:
            names = ", ".join(sorted(self.unknown_events)[:10])
            self.warn(f"{sum(self.unknown_events.values())} event(s) of unknown types were ignored: {names}")
        stages = sorted(self._stages.values(), key=lambda s: (s.profile.stage_id, s.profile.attempt_id))
        for stage in stages:
            self._finalize_stage(stage)
            stage.write_sums()
            self._add_totals(stage.profile)
        p.stages = [s.profile for s in stages]
        p.num_stages = len({s.profile.stage_id for s in stages})
        p.jobs = sorted(self._jobs.values(), key=lambda j: j.job_id)
        p.num_jobs = len(p.jobs)
        if p.max_executors == 0 and self._driver_tasks:
            p.max_executors = 1  # local mode: the driver ran the tasks
        p.executors_over_time = self._exec_samples
        p.sql_executions = [
            SqlExecution(
                execution_id=s.execution_id,
                description=s.description,
                duration_s=(s.end_ms - s.start_ms) / 1000.0 if s.end_ms and s.start_ms else None,
                operators=s.operators,
                photon_operators=s.photon_operators,
            )
            for s in sorted(self._sql.values(), key=lambda s: s.execution_id)
        ]
        p.driver_only_s = self._driver_only()
        p.structure_fingerprint = structure_fingerprint(p)
        if self._max_cores:
            p.cluster.total_cores = self._max_cores
        if self._cores_seen:  # what executors really had beats what was requested
            p.cluster.executor_cores = max(self._cores_seen, key=self._cores_seen.__getitem__)
        if p.cluster.num_workers is None and p.max_executors:
            p.cluster.num_workers = p.max_executors
        if self._warnings_dropped:
            self._warnings.append(f"... and {self._warnings_dropped} more warning(s)")
        p.warnings = self._warnings
        return p

    def _add_totals(self, s: StageProfile) -> None:
        p = self.profile
        p.executor_run_time_s += s.executor_run_time_s
        p.executor_cpu_time_s += s.executor_cpu_time_s
        p.jvm_gc_time_s += s.jvm_gc_time_s
        p.input_bytes += s.input_bytes
        p.output_bytes += s.output_bytes
        p.shuffle_read_bytes += s.shuffle_read_bytes
        p.shuffle_write_bytes += s.shuffle_write_bytes
        p.memory_spilled_bytes += s.memory_spilled_bytes
        p.disk_spilled_bytes += s.disk_spilled_bytes

    def _driver_only(self) -> float:
        """Seconds between application start and end during which no task was running."""
        p = self.profile
        if not p.duration_s or self._origin_ms is None or p.start_time_ms is None:
            return 0.0
        first = max(0, int((p.start_time_ms - self._origin_ms) / 1000.0 / BUSY_BIN_S))
        last = min(MAX_BUSY_BINS, int(((p.end_time_ms or 0) - self._origin_ms) / 1000.0 / BUSY_BIN_S))
        running = np.cumsum(self._busy)
        window = running[first : min(last, len(running))]
        idle = int(np.count_nonzero(window <= 0)) + max(0, last - max(first, len(running)))
        return min(p.duration_s, idle * BUSY_BIN_S)

    def _apply_properties(self) -> None:
        props, facts, p = self._props, self.profile.cluster, self.profile
        if not props:
            return
        p.app_name = p.app_name or props.get("spark.app.name")
        p.app_id = p.app_id or props.get("spark.app.id")
        tags = {k[len(DBX_TAG) :]: v[:MAX_TAG_VALUE] for k, v in props.items() if k.startswith(DBX_TAG)}
        facts.tags = tags
        facts.cluster_id = tags.get("clusterId") or facts.cluster_id
        facts.spark_context_id = facts.spark_context_id or props.get("spark.databricks.sparkContextId")
        facts.node_type_id = tags.get("clusterNodeType") or facts.node_type_id
        facts.driver_node_type_id = tags.get("driverNodeType") or facts.driver_node_type_id
        facts.databricks_runtime = tags.get("effectiveSparkVersion") or tags.get("sparkVersion")
        facts.cloud_provider = tags.get("cloudProvider")
        workers = tags.get("clusterTargetWorkers") or tags.get("clusterWorkers")
        if workers and workers.isdigit():
            facts.num_workers = int(workers)
        elif props.get("spark.executor.instances", "").isdigit() and not _dynamic_allocation(props):
            facts.num_workers = int(props["spark.executor.instances"])  # else: the most executors seen (finish)
        if props.get("spark.executor.cores", "").isdigit():
            facts.executor_cores = int(props["spark.executor.cores"])
        mem = _memory_mb(props.get("spark.executor.memory"))
        if mem:
            facts.executor_memory_mb = mem
        engine = (tags.get("runtimeEngine") or "").upper()
        if engine:
            facts.photon = engine == "PHOTON"
        elif "photon" in (facts.databricks_runtime or "").lower():
            facts.photon = True
        elif props.get("spark.databricks.photon.enabled") is not None:
            facts.photon = props["spark.databricks.photon.enabled"].lower() == "true"


def _dynamic_allocation(props: dict) -> bool:
    """With dynamic allocation, spark.executor.instances is only the initial request, not the worker count."""
    return str(props.get("spark.dynamicAllocation.enabled", "")).strip().lower() == "true"


_MEM = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)b?\s*$", re.IGNORECASE)


def _memory_mb(value: str | None) -> int | None:
    """Spark's memory strings ('4g', '4096m', '512k') in MiB; a bare number is MiB, as Spark reads it."""
    if not value:
        return None
    m = _MEM.match(value)
    if not m:
        return None
    number, unit = float(m.group(1)), m.group(2).lower()
    factor = {"k": 1 / 1024, "": 1, "m": 1, "g": 1024, "t": 1024 * 1024}[unit]
    return int(number * factor)


def structure_fingerprint(profile: Profile) -> str:
    """A stable hash of the job's code shape: the set of stage call sites (normalised stage names).

    It changes when the code changes (a new or moved call site, a new action) and not with data size (task
    counts, stage ids and repeated identical stages are left out, so more partitions or another loop over
    more dates do not change it). Adaptive re-planning that adds stages with new call sites can change it.
    """
    names = sorted({normalize_stage_name(s.name) for s in profile.stages if s.name})
    if not names:
        return ""
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]
