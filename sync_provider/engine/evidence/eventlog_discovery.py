"""Which files make up one application's event log, and in which order.

Layouts understood:
- a single file (any codec);
- Databricks log delivery: `<dest>/<cluster_id>/eventlog/<cluster_id>_<ip>/<spark_context_id>/eventlog` plus
  rolled parts `eventlog-YYYY-MM-DD--HH-MM.gz`; each part starts with a `DBCEventLoggingListenerMetadata` event
  carrying its "Rollover Number" (from 0) and "SparkContext Id", which decide the order and expose missing or
  duplicated parts; without it, parts are ordered by the time in their names, the live `eventlog` last;
- Spark's rolling `eventlog_v2_<app>/events_<N>_<app>[.codec]` with an `appstatus_<app>[.inprogress]` marker;
- a zip archive of any of these (handled by the caller through `ZipReader`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from sync_provider.engine.evidence.eventlog_codecs import EventLogError

_V2_PART = re.compile(r"^events_(\d+)_(.+?)(\.(lz4|lzf|snappy|zstd|gz))?(\.inprogress)?$")
_DBX_PART = re.compile(r"^eventlog(-(\d{4}-\d{2}-\d{2}--\d{2}-\d{2}))?(\.\w+)?$")
_IGNORED = re.compile(r"(^\.|\.crc$|^_SUCCESS$|\.zip$|\.json\.tmp$)")


def basename(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).name


def parent(path: str) -> str:
    # Keep a URL scheme intact: PurePosixPath would fold "s3://bucket/x" into "s3:/bucket".
    scheme, sep, rest = path.partition("://")
    if sep:
        return f"{scheme}://{PurePosixPath(rest).parent}"
    return str(PurePosixPath(path.replace("\\", "/")).parent)


@dataclass
class Part:
    path: str
    size: int
    index: int | None = None  # rollover number / events_N
    context: str | None = None  # SparkContext Id from the Databricks metadata event


@dataclass
class LogLayout:
    """The ordered parts of one application's log, plus what looked wrong about them."""

    kind: str  # "file" | "databricks" | "rolling" (eventlog_v2)
    key: str  # the directory (or file) holding the parts
    parts: list[Part]
    in_progress: bool = False
    missing: list[int] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(p.size for p in self.parts)


PeekFn = Callable[[str], dict | None]  # first event of a file (decoded), or None


def _is_zip_name(path: str) -> bool:
    return path.lower().endswith(".zip")


def group_files(files: list[tuple[str, int]]) -> tuple[dict[str, tuple[str, list[Part]]], dict[str, bool]]:
    """Group the files of a listing into candidate logs: key -> (kind, parts); and appstatus markers by dir."""
    rolling: dict[str, list[Part]] = {}
    dbx: dict[str, list[Part]] = {}
    single: dict[str, list[Part]] = {}
    status: dict[str, bool] = {}  # dir -> still in progress
    for path, size in files:
        name = basename(path)
        if name.startswith("appstatus_"):
            status[parent(path)] = name.endswith(".inprogress")
            continue
        if _IGNORED.search(name):
            continue
        if m := _V2_PART.match(name):
            rolling.setdefault(parent(path), []).append(Part(path, size, index=int(m.group(1))))
        elif _DBX_PART.match(name):
            dbx.setdefault(parent(path), []).append(Part(path, size))
        else:
            single[path] = [Part(path, size)]
    groups: dict[str, tuple[str, list[Part]]] = {k: ("rolling", v) for k, v in rolling.items()}
    groups.update({k: ("databricks", v) for k, v in dbx.items()})
    if not groups:  # loose application logs count only when no structured layout is present
        groups.update({k: ("file", v) for k, v in single.items()})
    return groups, status


def _order_rolling(layout: LogLayout) -> None:
    by_index: dict[int, list[Part]] = {}
    for part in layout.parts:
        by_index.setdefault(part.index or 0, []).append(part)
    layout.parts = []
    for index in sorted(by_index):
        copies = sorted(by_index[index], key=lambda p: -p.size)
        layout.parts.append(copies[0])
        layout.duplicates.extend(p.path for p in copies[1:])
    indices = sorted(by_index)
    compacted = [p.index or 0 for p in layout.parts if ".compact" in basename(p.path)]
    first = max(compacted) if compacted else 1
    if compacted:
        layout.parts = [p for p in layout.parts if (p.index or 0) >= first]
        layout.warnings.append(
            f"{layout.key}: Spark compacted parts 1..{first} (spark.history.fs.eventLog.rolling.maxFilesToRetain): "
            "events of finished jobs in them were dropped, so totals cover only what remains"
        )
    if indices:
        layout.missing = [i for i in range(first, indices[-1] + 1) if i not in by_index]


def _dbx_name_key(part: Part) -> tuple[int, str]:
    m = _DBX_PART.match(basename(part.path))
    stamp = m.group(2) if m else None
    return (0, stamp) if stamp else (1, "")  # the live `eventlog` is the newest part


def _order_databricks(layout: LogLayout, peek: PeekFn) -> None:
    for part in layout.parts:
        first = peek(part.path) or {}
        if first.get("Event") == "DBCEventLoggingListenerMetadata":
            number = first.get("Rollover Number")
            part.index = int(number) if number is not None else None
            ctx = first.get("SparkContext Id")
            part.context = str(ctx) if ctx is not None else None
    if all(p.index is not None for p in layout.parts):
        by_index: dict[int, list[Part]] = {}
        for part in layout.parts:
            by_index.setdefault(part.index or 0, []).append(part)
        layout.parts = []
        for index in sorted(by_index):
            copies = sorted(by_index[index], key=lambda p: -p.size)
            layout.parts.append(copies[0])
            layout.duplicates.extend(p.path for p in copies[1:])
        last = max(by_index)
        layout.missing = [i for i in range(0, last + 1) if i not in by_index]
        contexts = {p.context for p in layout.parts if p.context}
        if len(contexts) > 1:
            layout.warnings.append(
                f"{layout.key}: parts of several Spark contexts ({', '.join(sorted(contexts))}) in one directory"
            )
    else:
        layout.parts.sort(key=_dbx_name_key)
        seen: dict[str, Part] = {}
        kept = []
        for part in layout.parts:  # the same rolled part delivered twice (e.g. plain and .gz)
            stem = basename(part.path).split(".")[0]
            if stem in seen and stem != "eventlog":
                layout.duplicates.append(part.path)
                continue
            seen[stem] = part
            kept.append(part)
        layout.parts = kept


def _matches_context(key: str, parts: list[Part], ctx: str) -> bool:
    if any(p.context == ctx for p in parts):
        return True
    return ctx in PurePosixPath(key.replace("\\", "/")).parts


def choose_layout(
    source: str,
    files: list[tuple[str, int]],
    *,
    peek: PeekFn,
    spark_context_id: str | None = None,
) -> LogLayout:
    """Pick the one application log under `source` and order its parts; clear errors when that is ambiguous."""
    if not files:
        raise EventLogError(f"{source}: no files found (empty directory or prefix); nothing to parse")
    groups, status = group_files(files)
    if not groups:
        names = ", ".join(basename(p) for p, _ in files[:5])
        raise EventLogError(f"{source}: no event-log files found (saw {names}); point at the event log itself")
    layouts = []
    for key, (kind, parts) in groups.items():
        layout = LogLayout(kind=kind, key=key, parts=parts)
        if kind == "rolling":
            _order_rolling(layout)
            layout.in_progress = status.get(key, True)
            if key not in status:
                layout.warnings.append(f"{key}: no appstatus marker; the application may still be running")
        elif kind == "databricks":
            _order_databricks(layout, peek)
        layouts.append(layout)
    if spark_context_id:
        chosen = [lay for lay in layouts if _matches_context(lay.key, lay.parts, spark_context_id)]
        if not chosen:
            known = ", ".join(sorted(lay.key for lay in layouts)[:10])
            raise EventLogError(f"{source}: no event log of Spark context {spark_context_id} (found: {known})")
        layouts = chosen
    if len(layouts) > 1:
        known = "; ".join(sorted(lay.key for lay in layouts)[:10])
        raise EventLogError(
            f"{source}: holds {len(layouts)} separate application logs ({known}); give one of them, "
            "or the Spark context id of the run"
        )
    layout = layouts[0]
    if layout.missing:
        layout.warnings.append(
            f"{layout.key}: rolled part(s) {layout.missing} are missing; the profile undercounts what they held"
        )
    if layout.duplicates:
        layout.warnings.append(f"{layout.key}: duplicated part(s) skipped: {', '.join(layout.duplicates)}")
    return layout


def is_zip(path: str, head: bytes) -> bool:
    return _is_zip_name(path) or head.startswith(b"PK\x03\x04")
