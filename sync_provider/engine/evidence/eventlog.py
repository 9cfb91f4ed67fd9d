"""Spark event log -> `Profile`: the public entry points of the streaming parser.

`parse_eventlog` accepts a local path, `s3://...` or `dbfs:/...`; a single file in any of Spark's codecs, a
Databricks log-delivery directory with rolled parts, a Spark `eventlog_v2_*` directory, or a zip of any of these.
It streams: memory is bounded by the number of stages, never by the size of the log. Problems that still leave a
trustworthy profile (a log still being written, a missing ApplicationEnd, a damaged line) become `warnings` on
the profile; problems that would make numbers wrong or unbounded raise `EventLogError` naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import orjson
from pydantic import BaseModel, Field

from sync_provider.engine.evidence.databricks_api import DatabricksApi, DatabricksApiError
from sync_provider.engine.evidence.eventlog_aggregate import ProfileBuilder
from sync_provider.engine.evidence.eventlog_codecs import (
    EventLogError,
    decompressed_chunks,
    iter_line_blocks,
    iter_lines,
)
from sync_provider.engine.evidence.eventlog_discovery import (
    LogLayout,
    Part,
    basename,
    choose_layout,
    group_files,
    is_zip,
)
from sync_provider.engine.evidence.eventlog_readers import (
    DbfsReader,
    LocalReader,
    LogReader,
    S3Reader,
    ZipReader,
    open_zip,
    reader_for,
)
from sync_provider.engine.evidence.profile import Profile

__all__ = [
    "DeliveryState",
    "DbfsReader",
    "EventLogError",
    "LocalReader",
    "LogReader",
    "S3Reader",
    "SUMMARY_KEYS",
    "ZipReader",
    "eventlog_delivery_state",
    "find_eventlog",
    "parse_eventlog",
    "reader_for",
    "summarize",
]

DEFAULT_MAX_DECOMPRESSED = 8 * 2**30
DEFAULT_MAX_LINE = 64 * 2**20  # SQL plans can make single events tens of MB; anything longer is refused per line
#: The `sync-cli eventlog summarize --json` contract (DESIGN.md): exactly these keys, in this order.
SUMMARY_KEYS = (
    "spark_version",
    "app_name",
    "num_jobs",
    "num_stages",
    "num_tasks",
    "duration_s",
    "executor_run_time_s",
    "executor_cpu_time_s",
    "input_bytes",
    "shuffle_read_bytes",
    "shuffle_write_bytes",
    "memory_spilled_bytes",
    "disk_spilled_bytes",
    "max_executors",
)

Progress = Callable[[int, int | None], None]


class _Counting:
    """Counts the raw (compressed) bytes read from a stream, for progress reporting."""

    def __init__(self, fh: BinaryIO, on_read: Callable[[int], None]):
        self.fh, self.on_read = fh, on_read

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        if data:
            self.on_read(len(data))
        return data


def _peek_first_event(reader: LogReader, path: str) -> dict | None:
    """The first event of a file (decoded), reading at most a few MB of it."""
    try:
        with reader.open(path) as fh:
            chunks = decompressed_chunks(fh, path, max_bytes=DEFAULT_MAX_LINE, on_truncated=lambda _m: None)
            for line in iter_lines(chunks, max_line=DEFAULT_MAX_LINE, on_long_line=lambda _n: None):
                if line.strip():
                    event = orjson.loads(line)
                    return event if isinstance(event, dict) else None
    except (EventLogError, orjson.JSONDecodeError, OSError):
        return None
    return None


def _is_single_file(source: str, files: list[tuple[str, int]]) -> bool:
    return len(files) == 1 and basename(files[0][0]) == basename(source.rstrip("/"))


def _resolve(
    source: str, reader: LogReader, *, max_bytes: int, spark_context_id: str | None
) -> tuple[LogLayout, LogReader]:
    """Find the parts of the one application log at `source` (opening a zip archive if that is what it is)."""
    try:
        files = reader.list(source)
    except (DatabricksApiError, OSError) as exc:
        raise EventLogError(f"{source}: cannot be listed ({exc})") from None
    if _is_single_file(source, files) or (isinstance(reader, ZipReader) and len(files) == 1):
        path, size = files[0]
        with reader.open(path) as fh:
            head = fh.read(4)
        if is_zip(path, head) and not isinstance(reader, ZipReader):
            archive = open_zip(reader, path, max_bytes=max_bytes)
            return _resolve("", archive, max_bytes=max_bytes, spark_context_id=spark_context_id)
        return LogLayout(kind="file", key=path, parts=[Part(path, size)]), reader
    zips = [f for f in files if f[0].lower().endswith(".zip")]
    if zips and not group_files(files)[0] and len(zips) == 1:
        archive = open_zip(reader, zips[0][0], max_bytes=max_bytes)
        return _resolve("", archive, max_bytes=max_bytes, spark_context_id=spark_context_id)
    layout = choose_layout(
        source or getattr(reader, "name", "archive"),
        files,
        peek=lambda p: _peek_first_event(reader, p),
        spark_context_id=spark_context_id,
    )
    return layout, reader


def parse_eventlog(
    source: str | os.PathLike,
    *,
    reader: LogReader | None = None,
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED,
    progress: Progress | None = None,
    spark_context_id: str | None = None,
    max_line_bytes: int = DEFAULT_MAX_LINE,
    s3_client: Any = None,
    databricks_api: DatabricksApi | None = None,
) -> Profile:
    """Stream an event log (file, rolled directory or zip; local, S3 or DBFS) into a compact Profile.

    `progress(done, total)` is called with raw bytes read so far and the total raw size (None if unknown).
    Raises EventLogError when there is nothing to parse, the layout is ambiguous (several applications: pass
    `spark_context_id` or the specific file), or a file decompresses beyond `max_decompressed_bytes`.
    """
    src = os.fspath(source)
    reader = reader or reader_for(src, s3_client=s3_client, databricks_api=databricks_api)
    layout, reader = _resolve(src, reader, max_bytes=max_decompressed_bytes, spark_context_id=spark_context_id)
    builder = ProfileBuilder()
    for message in layout.warnings:
        builder.warn(message)
    total = layout.total_bytes or None
    done = 0
    budget = max_decompressed_bytes

    def on_read(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    long_lines = 0
    for part in layout.parts:
        decoded = 0

        def counted(chunks: Iterator[bytes]) -> Iterator[bytes]:
            nonlocal decoded
            for chunk in chunks:
                decoded += len(chunk)
                yield chunk

        def on_long(n: int, path: str = part.path) -> None:
            nonlocal long_lines
            long_lines += 1
            builder.warn(f"{path}: skipped line(s) longer than {max_line_bytes:,} bytes")

        try:
            with reader.open(part.path) as fh:
                chunks = decompressed_chunks(
                    _Counting(fh, on_read), part.path, max_bytes=budget, on_truncated=builder.warn
                )
                for buf, start, end in iter_line_blocks(counted(chunks), max_line=max_line_bytes, on_long_line=on_long):
                    builder.feed_block(buf, start, end)  # pauses the cyclic GC while it works (see gc_paused)
        except (DatabricksApiError, OSError) as exc:
            raise EventLogError(f"{part.path}: cannot be read ({exc})") from None
        budget -= decoded
    if builder.lines == 0:
        why = "; ".join(builder.warnings_so_far())  # a stream cut before its first block decodes to nothing
        raise EventLogError(
            f"{src}: the event log is empty (no lines in {len(layout.parts)} file(s))" + (f": {why}" if why else "")
        )
    if builder.decoded == 0:
        raise EventLogError(
            f"{src}: no Spark events found ({builder.bad_lines} unreadable line(s)); is this a Spark event log?"
        )
    return builder.finish()


def summarize(profile: Profile) -> dict[str, Any]:
    """The `eventlog summarize --json` document: exactly `SUMMARY_KEYS`, a contract other tools rely on."""
    return {
        "spark_version": profile.spark_version,
        "app_name": profile.app_name,
        "num_jobs": profile.num_jobs,
        "num_stages": profile.num_stages,
        "num_tasks": profile.num_tasks,
        "duration_s": round(profile.duration_s, 3),
        "executor_run_time_s": round(profile.executor_run_time_s, 3),
        "executor_cpu_time_s": round(profile.executor_cpu_time_s, 3),
        "input_bytes": profile.input_bytes,
        "shuffle_read_bytes": profile.shuffle_read_bytes,
        "shuffle_write_bytes": profile.shuffle_write_bytes,
        "memory_spilled_bytes": profile.memory_spilled_bytes,
        "disk_spilled_bytes": profile.disk_spilled_bytes,
        "max_executors": profile.max_executors,
    }


def find_eventlog(
    log_destination: str, cluster_id: str, *, reader: LogReader, spark_context_id: str | None = None
) -> str | None:
    """The directory holding a cluster's delivered event log (`<dest>/<cluster_id>/eventlog/...`), if any.

    With several Spark contexts on the cluster, `spark_context_id` picks one; without it, the largest.
    """
    base = f"{log_destination.rstrip('/')}/{cluster_id}/eventlog"
    try:
        files = reader.list(base)
    except (EventLogError, DatabricksApiError, OSError):
        return None
    groups, _status = group_files(files)
    candidates = [(key, parts) for key, (kind, parts) in groups.items() if kind in ("databricks", "rolling")]
    if spark_context_id:
        candidates = [(k, p) for k, p in candidates if spark_context_id in k.replace("\\", "/").split("/")]
    if not candidates:
        return None
    key, _parts = max(candidates, key=lambda kp: sum(p.size for p in kp[1]))
    return key


class DeliveryState(BaseModel):
    """How far a delivered event log has arrived: what the sensor waits on."""

    directory: str
    kind: str
    parts: list[tuple[str, int]] = Field(default_factory=list)
    total_bytes: int = 0
    missing_parts: list[int] = Field(default_factory=list)
    duplicate_parts: list[str] = Field(default_factory=list)
    in_progress: bool = False
    has_application_end: bool = False
    complete: bool = False
    warnings: list[str] = Field(default_factory=list)


def _last_event_type(reader: LogReader, path: str) -> str | None:
    last = b""
    with reader.open(path) as fh:
        chunks = decompressed_chunks(fh, path, max_bytes=DEFAULT_MAX_DECOMPRESSED, on_truncated=lambda _m: None)
        for line in iter_lines(chunks, max_line=DEFAULT_MAX_LINE, on_long_line=lambda _n: None):
            if line.strip():
                last = line
    if last.startswith(b'{"Event":"'):
        return last[10 : last.find(b'"', 10)].decode("utf-8", "replace")
    try:
        event = orjson.loads(last)
    except orjson.JSONDecodeError:
        return None
    return event.get("Event") if isinstance(event, dict) else None


def eventlog_delivery_state(directory: str, *, reader: LogReader) -> DeliveryState:
    """Parts, sizes and whether the log is complete: every part present and the last one ends the application."""
    try:
        files = reader.list(directory)
    except (DatabricksApiError, OSError) as exc:
        raise EventLogError(f"{directory}: cannot be listed ({exc})") from None
    if _is_single_file(directory, files):
        layout = LogLayout(kind="file", key=files[0][0], parts=[Part(*files[0])])
    else:
        layout = choose_layout(directory, files, peek=lambda p: _peek_first_event(reader, p))
    last_type = _last_event_type(reader, layout.parts[-1].path) if layout.parts else None
    has_end = last_type == "SparkListenerApplicationEnd"
    return DeliveryState(
        directory=directory,
        kind=layout.kind,
        parts=[(p.path, p.size) for p in layout.parts],
        total_bytes=layout.total_bytes,
        missing_parts=layout.missing,
        duplicate_parts=layout.duplicates,
        in_progress=layout.in_progress,
        has_application_end=has_end,
        complete=has_end and not layout.missing and not layout.in_progress,
        warnings=layout.warnings,
    )
