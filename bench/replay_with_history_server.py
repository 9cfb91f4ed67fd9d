"""Replay the emulator's event logs in a real Spark History Server and compare what it reports with the simulation.

Needs Java and a Spark distribution (for instance `pip install pyspark` in a separate virtualenv; the project
does not depend on it). Run:

    SPARK_HOME=/path/to/site-packages/pyspark .venv/bin/python bench/replay_with_history_server.py

It writes one event log per built-in workload (plus a spot-loss run and an out-of-memory failure), starts the
History Server on a free loopback port, reads /api/v1 for applications, jobs, stages and executors, prints one
line per application, stops the server, and exits 1 if any count differs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sync_provider.emulator.eventlog_writer import EventLogMeta, write_eventlog
from sync_provider.emulator.server import free_port
from sync_provider.emulator.simulator import ClusterSpec, SimulatedRun, simulate
from sync_provider.emulator.workloads import BUILTIN_WORKLOADS, load_workload, parse_workload

SPOTTY = "name: spotty\nstages: [{name: s, tasks: 400, cpu_s_per_task: 20}]\nscenario: {spot_loss_probability: 1.0}\n"


def cases() -> list[tuple[str, SimulatedRun]]:
    out = [(n, simulate(load_workload(n), ClusterSpec("m5.2xlarge", 4), 0, seed=1)) for n in BUILTIN_WORKLOADS]
    out.append(("spot loss", simulate(parse_workload(SPOTTY, "s.yaml"), ClusterSpec("m5.xlarge", 4, spot=True), 0, 3)))
    out.append(("out of memory", simulate(load_workload("memory_hungry"), ClusterSpec("c5.2xlarge", 4), 0, seed=1)))
    return out


def _get(url: str):
    with urllib.request.urlopen(url, timeout=120) as r:
        return json.load(r)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--spark-home", default=os.environ.get("SPARK_HOME"))
    args = ap.parse_args()
    if not args.spark_home or not (Path(args.spark_home) / "bin" / "spark-class").exists():
        sys.exit("give --spark-home (or SPARK_HOME): a Spark distribution or a pyspark package directory")
    with tempfile.TemporaryDirectory() as d:
        logs = Path(d) / "logs"
        logs.mkdir()
        expected: dict[str, tuple[str, SimulatedRun]] = {}
        for i, (label, sim) in enumerate(cases()):
            meta = EventLogMeta(start_epoch_ms=1_700_000_000_000 + i * 86_400_000, runtime_version="14.3.x-scala2.12")
            data = write_eventlog(sim, meta=meta)[0][1]
            app_id = next(json.loads(x)["App ID"] for x in data.splitlines() if b"ApplicationStart" in x)
            (logs / app_id).write_bytes(data)
            expected[app_id] = (label, sim)
        port = free_port("127.0.0.1")
        env = dict(
            os.environ,
            SPARK_HOME=args.spark_home,
            SPARK_HISTORY_OPTS=(
                f"-Dspark.history.fs.logDirectory=file:{logs} -Dspark.history.ui.port={port} "
                "-Dspark.history.fs.update.interval=1s"
            ),
        )
        cmd = [str(Path(args.spark_home) / "bin" / "spark-class"), "org.apache.spark.deploy.history.HistoryServer"]
        server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}/api/v1/applications"
        bad = 0
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                try:
                    if len(_get(base)) == len(expected):
                        break
                except OSError:
                    pass
                time.sleep(1)
            else:
                sys.exit("the History Server did not list every application within 180 s")
            for app_id, (label, sim) in expected.items():
                stages, jobs = _get(f"{base}/{app_id}/stages"), _get(f"{base}/{app_id}/jobs")
                execs = _get(f"{base}/{app_id}/allexecutors")
                attempts = sum(s["numCompleteTasks"] + s["numFailedTasks"] + s.get("numKilledTasks", 0) for s in stages)
                failed_jobs = sum(j["status"] == "FAILED" for j in jobs)
                ok = (
                    len(stages) == len(sim.stages)
                    and len(jobs) == len(sim.jobs)
                    and attempts == sim.num_tasks
                    and failed_jobs == (0 if sim.succeeded else 1)
                )
                bad += not ok
                print(
                    f"{'ok ' if ok else 'BAD'} {label:14s} {app_id}: stages {len(stages)}/{len(sim.stages)}, "
                    f"jobs {len(jobs)}/{len(sim.jobs)} ({failed_jobs} failed), task attempts {attempts}/"
                    f"{sim.num_tasks}, executors {len(execs)}"
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
