"""Event-log parser benchmark: speed against a plain orjson decode of every line, and peak memory.

    .venv/bin/python bench/bench_eventlog.py                 # 128 MB speed run + 1 GB memory run
    .venv/bin/python bench/bench_eventlog.py --speed-mb 128 --memory-mb 0

Prints figures only (no assertions): the ratio is (time to orjson-decode every line) / (time to parse into a
Profile); above 1 means the parser is faster than merely decoding the log. Peak memory is the maximum resident
set size of a fresh process that parses the 1 GB log (it includes the interpreter and imports, reported apart).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "engine" / "evidence"))
from eventlog_factory import generate_events  # noqa: E402


def write_log(path: Path, target_mb: int, accumulables: int) -> int:
    """Write one application of about `target_mb` MB: jobs of 3 stages x 400 tasks on 16 executors.

    `accumulables` is the number of accumulator updates in each TaskEnd's Task Info (real Spark 3 SQL tasks
    carry 15-20 internal.metrics.* plus one per SQL metric of their operators).
    """
    sample = sum(
        len(orjson.dumps(e)) + 1
        for e in generate_events(jobs=1, stages_per_job=3, tasks_per_stage=400, executors=16, accumulables=accumulables)
    )
    jobs = max(1, int(target_mb * 2**20 / sample))
    written = 0
    with open(path, "wb") as fh:
        for event in generate_events(
            jobs=jobs, stages_per_job=3, tasks_per_stage=400, executors=16, accumulables=accumulables
        ):
            line = orjson.dumps(event) + b"\n"
            fh.write(line)
            written += len(line)
    return written


REAL = ROOT / "tests/data/eventlogs/spark-4.2-rolling/eventlog_v2_local-1766844910796/events_1_local-1766844910796"


def write_real_shaped_log(path: Path, target_mb: int) -> int:
    """Repeat the task lines of a real Spark 4.2 log (tests/data) until about `target_mb` MB: real line shapes."""
    lines = REAL.read_bytes().splitlines(keepends=True)
    tasks = [x for x in lines if b'"Event":"SparkListenerTask' in x]
    head = [x for x in lines if x not in tasks and b"ApplicationEnd" not in x and b"JobEnd" not in x]
    tail = [x for x in lines if x not in tasks and x not in head]
    block = b"".join(tasks)
    written = 0
    with open(path, "wb") as fh:
        for part in (b"".join(head),):
            fh.write(part)
            written += len(part)
        while written < target_mb * 2**20:
            fh.write(block)
            written += len(block)
        fh.write(b"".join(tail))
    return written


def orjson_baseline(path: Path) -> float:
    """CPU seconds to decode every line with orjson (process time: the machine is shared)."""
    start = time.process_time()
    with open(path, "rb") as fh:
        for line in fh:
            orjson.loads(line)
    return time.process_time() - start


def parse_time(path: Path) -> float:
    """CPU seconds to parse the log into a Profile (the parser's imports are done before: see main)."""
    from sync_provider.engine.evidence.eventlog import parse_eventlog

    start = time.process_time()
    parse_eventlog(path)
    return time.process_time() - start


_CHILD = """
import resource, sys
from sync_provider.engine.evidence.eventlog import parse_eventlog
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
p = parse_eventlog(sys.argv[1])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(base // 1024, peak // 1024, p.num_tasks, len(p.stages), len(p.model_dump_json()))
"""


def memory_run(path: Path) -> tuple[int, int, int, int, int]:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], check=True, capture_output=True, text=True)
    base, peak, tasks, stages, size = (int(x) for x in out.stdout.split())
    return base, peak, tasks, stages, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speed-mb", type=int, default=128)
    parser.add_argument("--memory-mb", type=int, default=1024, help="0 skips the memory run")
    parser.add_argument("--accumulables", type=int, nargs="+", default=[12, 25])
    parser.add_argument("--dir", default=None, help="where to write the generated logs (default: a temp dir)")
    args = parser.parse_args()
    import sync_provider.engine.evidence.eventlog  # noqa: F401  (imports are not part of the parse time)

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        cases = [(f"{acc} accumulables per TaskEnd", lambda p, a=acc: write_log(p, args.speed_mb, a))
                 for acc in args.accumulables]  # fmt: skip
        cases.append(("real Spark 4.2 task lines repeated", lambda p: write_real_shaped_log(p, args.speed_mb)))
        for label, make in cases:
            speed_log = Path(tmp) / "speed.log"
            size = make(speed_log)
            runs = [(orjson_baseline(speed_log), parse_time(speed_log)) for _ in range(3)]  # alternated: fair
            base, parse = min(r[0] for r in runs), min(r[1] for r in runs)  # under the shared machine's load
            mb = size / 2**20
            print(f"speed log: {mb:,.0f} MB uncompressed, {label}")
            print(f"  orjson.loads of every line: {base:.2f} s CPU ({mb / base:,.0f} MB/s)")
            print(f"  parse_eventlog -> Profile:  {parse:.2f} s CPU ({mb / parse:,.0f} MB/s)")
            print(f"  ratio (orjson time / parse time): {base / parse:.2f}x")
            speed_log.unlink()
        if args.memory_mb:
            mem_log = Path(tmp) / "memory.log"
            size = write_log(mem_log, args.memory_mb, args.accumulables[-1])
            base_mb, peak_mb, tasks, stages, profile_bytes = memory_run(mem_log)
            print(f"memory log: {size / 2**20:,.0f} MB uncompressed, {tasks:,} tasks, {stages:,} stage attempts")
            print(f"peak RSS: {peak_mb} MB (interpreter + imports before parsing: {base_mb} MB)")
            print(f"profile JSON size: {profile_bytes / 1024:,.0f} KiB")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
