"""Benchmark of the Databricks emulator: (1) simulate and deliver one 10,000-task run, (2) concurrent runs.

Run: .venv/bin/python bench/bench_emulator.py [--concurrency 50 100] [--tasks 10000]
Prints figures; asserts nothing (see docs/emulator.md for the figures on the reference machine).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from sync_provider.emulator import EmulatorServer
from sync_provider.emulator.delivery import S3Sink, build_files
from sync_provider.emulator.eventlog_writer import EventLogMeta, write_eventlog
from sync_provider.emulator.simulator import ClusterSpec, simulate
from sync_provider.emulator.workloads import parse_workload


def big_workload(tasks: int) -> str:
    """A three-stage job with `tasks` tasks in total."""
    a, b = int(tasks * 0.6), int(tasks * 0.3)
    c = tasks - a - b
    return f"""
name: bench_{tasks}
stages:
  - {{name: scan, tasks: {a}, cpu_s_per_task: 3, input_bytes: {a * 128e6}, shuffle_write_bytes: {a * 30e6}}}
  - {{name: join, tasks: {b}, cpu_s_per_task: 4, shuffle_read_bytes: {a * 30e6}, shuffle_write_bytes: 20e9,
      memory_per_task_mb: 1500}}
  - {{name: write, tasks: {c}, cpu_s_per_task: 2, shuffle_read_bytes: 20e9, output_bytes: 50e9}}
"""


def bench_single(tasks: int, s3_endpoint: str) -> None:
    wl = parse_workload(big_workload(tasks), "bench.yaml")
    spec = ClusterSpec("m5.2xlarge", 16)
    t0 = time.perf_counter()
    sim = simulate(wl, spec, 0, seed=1)
    t1 = time.perf_counter()
    parts = write_eventlog(sim, meta=EventLogMeta(), rolled=True)
    t2 = time.perf_counter()
    cluster = {
        "cluster_id": "0101-010101-benchmrk",
        "driver_ip": "10.0.0.1",
        "job_id": None,
        "spec": {"spot": False, "instance_type": spec.instance_type},
        "new_cluster": {"spark_version": "13.3.x-scala2.12"},
    }
    t = {"spark_context_id": "1", "run_id": 1}
    files = build_files(sim, cluster, t, {"cluster_name": "bench"}, None, 1_700_000_000_000)
    S3Sink(s3_endpoint).write("s3://bench-logs/run", files)
    t3 = time.perf_counter()
    size = sum(len(d) for _, d in parts)
    print(
        f"single run: {sim.num_tasks} tasks, simulated runtime {sim.runtime_s:.0f} s, event log {size / 1e6:.1f} MB "
        f"in {len(parts)} file(s)"
    )
    print(
        f"  simulate {t1 - t0:.3f} s | render+roll event log {t2 - t1:.3f} s | "
        f"render+deliver to S3 {t3 - t2:.3f} s | simulate+deliver {t1 - t0 + t3 - t2:.3f} s (target < 2 s)"
    )


def bench_server_single(tasks: int, s3_endpoint: str) -> None:
    """Through the HTTP API: submit a 10k-task run on a very fast clock, time until its log is in S3."""
    with tempfile.TemporaryDirectory() as d, EmulatorServer(data_dir=d, s3_endpoint=s3_endpoint, time_scale=1e7) as srv:
        c = httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {srv.token}"}, timeout=60)
        c.post(
            "/api/2.0/workspace/import",
            json={
                "path": "/bench/big.yaml",
                "overwrite": True,
                "content": __import__("base64").b64encode(big_workload(tasks).encode()).decode(),
            },
        )
        t0 = time.perf_counter()
        run_id = c.post(
            "/api/2.1/jobs/runs/submit",
            json={
                "tasks": [
                    {
                        "task_key": "b",
                        "notebook_task": {"notebook_path": "/bench/big.yaml"},
                        "new_cluster": {
                            "spark_version": "13.3.x-scala2.12",
                            "node_type_id": "m5.2xlarge",
                            "num_workers": 16,
                            "cluster_log_conf": {"s3": {"destination": "s3://bench-logs/http"}},
                        },
                    }
                ]
            },
        ).json()["run_id"]
        while True:
            run = c.get("/api/2.1/jobs/runs/get", params={"run_id": run_id}).json()
            cid = run["tasks"][0].get("cluster_instance", {}).get("cluster_id")
            if cid and run["state"]["life_cycle_state"] == "TERMINATED":
                cl = c.get("/api/2.1/clusters/get", params={"cluster_id": cid}).json()
                if cl.get("cluster_log_status", {}).get("last_attempted", 0) >= cl.get("terminated_time", 1 << 62):
                    break
            time.sleep(0.01)
        print(f"  via HTTP (time scale 1e7): submit -> terminated -> log delivered in {time.perf_counter() - t0:.3f} s")


def bench_concurrency(n: int, s3_endpoint: str, time_scale: float) -> None:
    """Submit n runs at once, poll them all to TERMINATED and their logs delivered; report latencies.

    Result states are workload outcomes: with many runs, memory_hungry's data growth (x1.5 at run 6, 3% a run)
    eventually runs out of memory on r5.2xlarge, as it is meant to."""
    with (
        tempfile.TemporaryDirectory() as d,
        EmulatorServer(data_dir=d, s3_endpoint=s3_endpoint, time_scale=time_scale) as srv,
    ):
        headers = {"Authorization": f"Bearer {srv.token}"}
        latencies: list[float] = []
        lock = threading.Lock()
        workloads = ["join_etl", "aggregation", "io_scan", "skewed", "memory_hungry", "generic"]

        def one(i: int) -> tuple[bool, float]:
            with httpx.Client(base_url=srv.url, headers=headers, timeout=60) as c:

                def call(method: str, path: str, **kw) -> dict:
                    t = time.perf_counter()
                    r = c.request(method, path, **kw)
                    with lock:
                        latencies.append(time.perf_counter() - t)
                    r.raise_for_status()
                    return r.json()

                t0 = time.perf_counter()
                run_id = call(
                    "POST",
                    "/api/2.1/jobs/runs/submit",
                    json={
                        "tasks": [
                            {
                                "task_key": "t",
                                "notebook_task": {"notebook_path": f"/jobs/{workloads[i % len(workloads)]}"},
                                "new_cluster": {
                                    "spark_version": "13.3.x-scala2.12",
                                    "node_type_id": "r5.2xlarge",
                                    "num_workers": 8,
                                    "cluster_log_conf": {"s3": {"destination": f"s3://bench-conc/{n}"}},
                                },
                            }
                        ]
                    },
                )["run_id"]
                while True:
                    run = call("GET", "/api/2.1/jobs/runs/get", params={"run_id": run_id})
                    if run["state"]["life_cycle_state"] == "TERMINATED":
                        cid = run["tasks"][0]["cluster_instance"]["cluster_id"]
                        cl = call("GET", "/api/2.1/clusters/get", params={"cluster_id": cid})
                        if cl.get("cluster_log_status", {}).get("last_attempted", 0) >= cl["terminated_time"]:
                            return run["state"]["result_state"], time.perf_counter() - t0
                    time.sleep(0.2)

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=n) as pool:
            results = list(pool.map(one, range(n)))
        wall = time.perf_counter() - t0
        states = Counter(r for r, _ in results)
        per_run = sorted(t for _, t in results)
        lat = sorted(latencies)
        print(
            f"concurrency {n}: {n}/{n} terminated with logs delivered ({dict(states)}) in {wall:.1f} s wall "
            f"(per run median {statistics.median(per_run):.1f} s, max {per_run[-1]:.1f} s); "
            f"{len(lat)} API calls, latency p50 {lat[len(lat) // 2] * 1000:.0f} ms, "
            f"p95 {lat[int(len(lat) * 0.95)] * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--concurrency", type=int, nargs="*", default=[50, 100])
    ap.add_argument("--time-scale", type=float, default=1000.0)
    args = ap.parse_args()
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from sync_provider.emulator.server import free_port

    port = free_port("127.0.0.1")
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    s3 = f"http://127.0.0.1:{port}"
    try:
        bench_single(args.tasks, s3)
        bench_server_single(args.tasks, s3)
        for n in args.concurrency:
            bench_concurrency(n, s3, args.time_scale)
    finally:
        moto.stop()


if __name__ == "__main__":
    main()
