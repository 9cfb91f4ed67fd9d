"""The emulated workspace: jobs, runs and clusters on the simulated clock, persisted in the data directory.

A submitted run is planned in a background thread (workloads picked, runs simulated, every task and cluster
given its timeline on the simulated clock); after that, every API view is computed from the clock, so a run
moves PENDING -> RUNNING -> TERMINATING -> TERMINATED as simulated time passes. Ground truth (the simulated
run, its true cost) stays in these records and is only served through the admin endpoints.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sync_provider.emulator.clock import SimClock
from sync_provider.emulator.delivery import collector_destination
from sync_provider.emulator.errors import ApiError, invalid
from sync_provider.emulator.simulator import TEARDOWN_S, ClusterSpec, SimulatedRun, simulate
from sync_provider.emulator.specs import as_int, cluster_spec, log_destination, workload_ref
from sync_provider.emulator.workloads import (
    BUILTIN_WORKLOADS,
    GENERIC_WORKLOAD,
    Workload,
    WorkloadError,
    load_workload,
    parse_workload,
)

log = logging.getLogger(__name__)

WORKSPACE_ID = "1234567890123456"
CLEANUP_MS = 20_000
DELIVERY_DELAY_MS = (90_000, 240_000)  # Databricks delivers cluster logs a few minutes after termination
TERMINAL = ("TERMINATED", "INTERNAL_ERROR", "SKIPPED")


def run_seed(salt: int, workload_source: str, run_index: int) -> int:
    """The noise seed of a workload's `run_index`-th run in a session salted `salt`."""
    digest = hashlib.blake2b(f"{salt}:{workload_source}:{run_index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 2**31


class Workspace:
    """All mutable emulator state, guarded by one lock and saved to `data_dir/state.json` on every change."""

    def __init__(self, data_dir: Path, clock: SimClock, base_url: str = "", seed: int | None = None):
        self.data_dir = data_dir
        self.clock = clock
        self.base_url = base_url
        # One generator for ids and delivery delays: a fixed seed makes a session repeatable. A run's noise is
        # keyed by the seed, its workload and its run count instead (`run_seed`), so that jobs running in
        # parallel get the same noise whatever order they reach the workspace in.
        self.rng = random.Random(seed)
        self.noise_salt = seed if seed is not None else random.SystemRandom().getrandbits(62)
        self.lock = threading.RLock()
        self.jobs: dict[int, dict] = {}
        self.runs: dict[int, dict] = {}
        self.task_runs: dict[int, tuple[int, int]] = {}  # task run id -> (parent run id, task index)
        self.clusters: dict[str, dict] = {}
        self.workload_runs: dict[str, int] = {}
        self.next_id = 1000
        self.sims: dict[int, SimulatedRun] = {}
        self.crash_next = 0  # admin fault: make the next N simulations raise
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="emulator-sim")
        (data_dir / "workspace").mkdir(parents=True, exist_ok=True)
        (data_dir / "dbfs").mkdir(parents=True, exist_ok=True)
        self._load()

    # ---------------------------------------------------------------- persistence
    def _state_path(self) -> Path:
        return self.data_dir / "state.json"

    def _load(self) -> None:
        path = self._state_path()
        if not path.exists():
            return
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise RuntimeError(
                f"the emulator state file {path} cannot be read ({exc}); move it away or start with another data dir"
            ) from None
        self.jobs = {int(k): v for k, v in data.get("jobs", {}).items()}
        self.runs = {int(k): v for k, v in data.get("runs", {}).items()}
        self.clusters = data.get("clusters", {})
        self.workload_runs = data.get("workload_runs", {})
        self.next_id = int(data.get("next_id", 1000))
        if data.get("last_sim_ms"):
            self.clock.resume_from(int(data["last_sim_ms"]))
        for rid, run in self.runs.items():
            for i, t in enumerate(run["tasks"]):
                self.task_runs[t["run_id"]] = (rid, i)
            if not run.get("prepared"):  # the server stopped while planning: plan again
                self.pool.submit(self._prepare_safe, rid)

    def save(self) -> None:
        with self.lock:
            data = {
                "jobs": self.jobs,
                "runs": self.runs,
                "clusters": self.clusters,
                "workload_runs": self.workload_runs,
                "next_id": self.next_id,
                "last_sim_ms": self.clock.now_ms(),
            }
            tmp = self._state_path().with_suffix(".tmp")
            tmp.write_text(json.dumps(data))
            tmp.replace(self._state_path())

    def _id(self) -> int:
        self.next_id += self.rng.randint(1, 7)
        return self.next_id

    # ---------------------------------------------------------------- workloads
    def resolve_workload(self, task: dict) -> tuple[Workload, str]:
        """Pick the task's workload: a workload file in the workspace, a built-in name, or the generic one."""
        ref = workload_ref(task)
        if ref:
            local = self.dbfs_file(ref) if ref.startswith("dbfs:") else self.workspace_file(ref)
            for candidate in (local, *(local.parent / f"{local.name}{sfx}" for sfx in (".yaml", ".yml", ".json"))):
                if candidate.is_file():
                    try:
                        return parse_workload(candidate.read_text(), ref), ref
                    except WorkloadError as exc:
                        raise invalid(str(exc)) from None
            name = ref.rstrip("/").rsplit("/", 1)[-1]
            stem = name.rsplit(".", 1)[0] if name.endswith((".py", ".yaml", ".yml", ".json")) else name
            if stem in BUILTIN_WORKLOADS:
                return load_workload(stem), stem
        return load_workload(GENERIC_WORKLOAD), GENERIC_WORKLOAD

    def workspace_file(self, path: str) -> Path:
        clean = "/".join(p for p in str(path).split("/") if p not in ("", ".", ".."))
        return self.data_dir / "workspace" / clean

    def dbfs_file(self, path: str) -> Path:
        p = str(path)
        if p.startswith("dbfs:"):
            p = p[5:]
        clean = "/".join(x for x in p.split("/") if x not in ("", ".", ".."))
        return self.data_dir / "dbfs" / clean

    # ---------------------------------------------------------------- submission
    def submit(self, body: dict, *, job_id: int | None = None, run_type: str = "SUBMIT_RUN") -> int:
        """Validate a runs/submit (or a job's settings for run-now) and start planning it."""
        tasks = body.get("tasks")
        if tasks is None:  # legacy single-task form: new_cluster + notebook_task at the top level
            legacy = {
                k: v
                for k, v in body.items()
                if k.endswith("_task") or k in ("new_cluster", "existing_cluster_id", "libraries")
            }
            if not any(k.endswith("_task") for k in legacy):
                raise invalid(
                    "One of the following fields must be provided: tasks, notebook_task, spark_python_task, "
                    "spark_jar_task, spark_submit_task"
                )
            tasks = [dict(legacy, task_key=str(body.get("run_name") or "task"))]
        if not isinstance(tasks, list) or not tasks:
            raise invalid("tasks must be a non-empty array")
        job_clusters = {jc.get("job_cluster_key"): jc.get("new_cluster") for jc in body.get("job_clusters") or []}
        timeout_s = as_int(body.get("timeout_seconds", 0) or 0, "timeout_seconds")
        if timeout_s < 0:
            raise invalid(f"timeout_seconds must be >= 0, got {timeout_s}")
        keys: set[str] = set()
        planned: list[dict] = []
        for i, task in enumerate(tasks):
            if not isinstance(task, dict):
                raise invalid(f"tasks[{i}] must be an object")
            key = str(task.get("task_key") or "")
            if not key:
                raise invalid(f"tasks[{i}].task_key is required")
            if key in keys:
                raise invalid(f"Duplicate task_key {key!r}")
            keys.add(key)
            if task.get("existing_cluster_id"):
                raise invalid(
                    f"tasks[{i}].existing_cluster_id: cluster {task['existing_cluster_id']} does not exist "
                    "(the emulator runs tasks on new or job clusters)"
                )
            if task.get("new_cluster") is not None:
                nc, ckey = task["new_cluster"], None
            elif task.get("job_cluster_key"):
                ckey = str(task["job_cluster_key"])
                if ckey not in job_clusters:
                    raise invalid(f"tasks[{i}].job_cluster_key {ckey!r} is not defined in job_clusters")
                nc = job_clusters[ckey]
            else:
                raise invalid(f"tasks[{i}]: one of new_cluster, job_cluster_key or existing_cluster_id is required")
            spec = cluster_spec(nc, f"tasks[{i}]" if ckey is None else f"job_clusters[{ckey}]")
            workload, source = self.resolve_workload(task)
            deps = [str(d.get("task_key")) for d in task.get("depends_on") or []]
            planned.append(
                {
                    "task": task,
                    "key": key,
                    "new_cluster": nc,
                    "job_cluster_key": ckey,
                    "spec": spec,
                    "workload": workload,
                    "source": source,
                    "deps": deps,
                }
            )
        for p in planned:
            for d in p["deps"]:
                if d not in keys or d == p["key"]:
                    raise invalid(f"Task {p['key']} depends on {d!r}, which is not a task of this run")
        with self.lock:
            run_id = self._id()
            now = self.clock.now_ms()
            run_tasks = []
            for p in planned:
                idx = self.workload_runs.get(p["source"], 0)
                self.workload_runs[p["source"]] = idx + 1
                t_id = self._id()
                run_tasks.append(
                    {
                        "run_id": t_id,
                        "task_key": p["key"],
                        "depends_on": p["deps"],
                        "spec": p["task"],
                        "new_cluster": p["new_cluster"],
                        "job_cluster_key": p["job_cluster_key"],
                        "cluster": asdict(p["spec"]),
                        "workload": p["workload"].name,
                        "workload_source": p["source"],
                        "run_index": idx,
                        "seed": run_seed(self.noise_salt, p["source"], idx),
                        "attempt_number": 0,
                    }
                )
                self.task_runs[t_id] = (run_id, len(run_tasks) - 1)
            number = 1 + sum(1 for r in self.runs.values() if job_id is not None and r.get("job_id") == job_id)
            self.runs[run_id] = {
                "run_id": run_id,
                "job_id": job_id,
                "run_name": body.get("run_name") or "Untitled",
                "run_type": run_type,
                "submit_ms": now,
                "timeout_s": timeout_s,
                "cancel_ms": None,
                "number_in_job": run_id if job_id is None else number,
                "prepared": False,
                "tasks": run_tasks,
                "job_clusters": {k: v for k, v in job_clusters.items()},
                "idempotency_token": body.get("idempotency_token"),
            }
            self.save()
        self.pool.submit(self._prepare_safe, run_id)
        return run_id

    def _prepare_safe(self, run_id: int) -> None:
        try:
            self._prepare(run_id)
        except Exception:  # noqa: BLE001 - never take the server down for one run
            log.exception("planning run %s failed", run_id)
            with self.lock:
                run = self.runs[run_id]
                now = self.clock.now_ms()
                for t in run["tasks"]:
                    t.update(
                        start_ms=now,
                        ready_ms=now,
                        exec_end_ms=now,
                        end_ms=now,
                        result_state="FAILED",
                        life_terminal="INTERNAL_ERROR",
                        state_message="Internal error while starting the run",
                    )
                run["prepared"] = True
                self.save()

    def _new_cluster(self, run: dict, task: dict, spec: ClusterSpec, create_ms: int) -> dict:
        cid = f"{self.rng.randint(1000, 1299):04d}-{self.rng.randint(100000, 999999)}-{self.rng.getrandbits(32):08x}"
        nc = task["new_cluster"]
        cluster = {
            "cluster_id": cid,
            "new_cluster": nc,
            "spec": asdict(spec),
            "create_ms": create_ms,
            "run_id": run["run_id"],
            "job_id": run.get("job_id"),
            "task_keys": [],
            "driver_ip": f"10.{self.rng.randint(0, 255)}.{self.rng.randint(0, 255)}.{self.rng.randint(2, 250)}",
            "log_dest": log_destination(nc),
            "delivered_ms": None,
            "workers_timeline": [],
            "nodes_lost": [],
            "ready_ms": None,
            "end_ms": None,
            "terminated_ms": None,
        }
        self.clusters[cid] = cluster
        return cluster

    def _prepare(self, run_id: int) -> None:
        """Simulate every task and lay the run out on the simulated clock."""
        with self.lock:
            run = self.runs[run_id]
            tasks = run["tasks"]
        order: list[dict] = []
        done: set[str] = set()
        while len(order) < len(tasks):
            progressed = False
            for t in tasks:
                if t["task_key"] not in done and all(d in done for d in t["depends_on"]):
                    order.append(t)
                    done.add(t["task_key"])
                    progressed = True
            if not progressed:
                raise invalid("task dependencies form a cycle")
        by_key = {t["task_key"]: t for t in tasks}
        shared: dict[str, dict] = {}
        deadline = run["submit_ms"] + run["timeout_s"] * 1000 if run["timeout_s"] else None
        for t in order:
            spec = ClusterSpec(**t["cluster"])
            deps = [by_key[d] for d in t["depends_on"]]
            dep_end = max((d["exec_end_ms"] for d in deps), default=run["submit_ms"])
            if any(d.get("result_state") != "SUCCESS" for d in deps):
                t.update(
                    start_ms=dep_end,
                    ready_ms=dep_end,
                    exec_end_ms=dep_end,
                    end_ms=dep_end,
                    result_state="UPSTREAM_FAILED",
                    life_terminal="SKIPPED",
                    state_message="Upstream task(s) failed.",
                    cluster_id=None,
                )
                continue
            key = t.get("job_cluster_key")
            cluster = shared.get(key) if key else None
            with self.lock:
                if cluster is None:
                    cluster = self._new_cluster(run, t, spec, dep_end)
                    startup_ms = None
                    if key:
                        shared[key] = cluster
                else:
                    startup_ms = 0
                t["cluster_id"] = cluster["cluster_id"]
                t["spark_context_id"] = str(self.rng.randint(10**18, 9 * 10**18))
                cluster["task_keys"].append(t["task_key"])
                crash = self.crash_next > 0
                if crash:
                    self.crash_next -= 1
            try:
                if crash:
                    raise RuntimeError("injected simulator crash (admin fault)")
                workload = self._workload_for(t)
                sim = simulate(workload, spec, t["run_index"], t["seed"])
            except Exception as exc:  # noqa: BLE001 - one crashed simulation fails its task only
                log.exception("simulating task %s of run %s failed", t["task_key"], run_id)
                start = max(dep_end, cluster.get("free_ms") or dep_end)
                t.update(
                    start_ms=start,
                    ready_ms=start,
                    exec_end_ms=start,
                    end_ms=start + CLEANUP_MS,
                    result_state="FAILED",
                    life_terminal="INTERNAL_ERROR",
                    state_message=f"Run failed with an internal error: {type(exc).__name__}",
                )
                cluster["ready_ms"] = cluster["ready_ms"] or start
                cluster["free_ms"] = start
                continue
            if cluster["log_dest"] or collector_destination(
                cluster
            ):  # kept until its logs are delivered (re-simulated after a restart)
                self.sims[t["run_id"]] = sim
            startup = int(sim.startup_s * 1000) if startup_ms is None else 0
            start = max(dep_end, cluster.get("free_ms") or dep_end)
            ready = start + startup
            exec_end = ready + int(sim.runtime_s * 1000)
            result, message, cut = (
                ("SUCCESS", "", None) if sim.succeeded else ("FAILED", sim.failure or "Job failed", None)
            )
            task_timeout = as_int(t["spec"].get("timeout_seconds", 0) or 0, "timeout_seconds")
            limits = [x for x in (deadline, (start + task_timeout * 1000) if task_timeout else None) if x]
            if limits and exec_end > min(limits):
                exec_end = max(ready, min(limits))
                result, message, cut = "TIMEDOUT", "Run timed out.", exec_end - ready
            t.update(
                start_ms=start,
                ready_ms=ready,
                exec_end_ms=exec_end,
                end_ms=exec_end,
                result_state=result,
                life_terminal="TERMINATED",
                state_message=message,
                cut_ms=cut,
                truth=self._truth(sim, reused_cluster=startup_ms == 0),
            )
            if cluster["ready_ms"] is None:
                cluster["ready_ms"] = ready
                tl = sorted(sim.worker_timeline)
                cluster["workers_timeline"] = [[ready + int(ts * 1000), n] for ts, n in tl]
                cluster["nodes_lost"] = [
                    [ready + int(ts * 1000), n] for (ts, n), (_, prev) in zip(tl[1:], tl, strict=False) if n < prev
                ]
                cluster["spark_context_id"] = t["spark_context_id"]
            cluster["free_ms"] = exec_end
        with self.lock:
            for c in {t.get("cluster_id") for t in tasks if t.get("cluster_id")}:
                cl = self.clusters[c]
                ends = [t["exec_end_ms"] for t in tasks if t.get("cluster_id") == c]
                self._close_cluster(cl, max(ends))
            for t in tasks:
                if t.get("cluster_id"):
                    cl = self.clusters[t["cluster_id"]]
                    if len(cl["task_keys"]) == 1 or t["task_key"] == cl["task_keys"][-1]:
                        t["end_ms"] = cl["terminated_ms"]
            run["prepared"] = True
            if run.get("cancel_ms"):
                self._apply_cancel(run, run["cancel_ms"])
            self.save()

    def _close_cluster(self, cl: dict, end_ms: int) -> None:
        cl["end_ms"] = end_ms
        cl["terminated_ms"] = end_ms + CLEANUP_MS
        writes_logs = cl["log_dest"] or collector_destination(cl)
        cl["deliver_ms"] = cl["terminated_ms"] + self.rng.randint(*DELIVERY_DELAY_MS) if writes_logs else None

    def _workload_for(self, t: dict) -> Workload:
        src = t["workload_source"]
        if src in BUILTIN_WORKLOADS or src == GENERIC_WORKLOAD:
            return load_workload(src)
        return self.resolve_workload(t["spec"])[0]

    @staticmethod
    def _truth(sim: SimulatedRun, *, reused_cluster: bool = False) -> dict:
        """The task's ground truth. A task that runs on a job cluster an earlier task already started pays no
        start-up: its share of the cluster's cost is its own runtime only."""
        share = 1.0
        startup = sim.startup_s
        if reused_cluster:
            share = sim.runtime_s / (sim.startup_s + sim.runtime_s + TEARDOWN_S)
            startup = 0.0
        cloud, dbu = sim.cost.cloud_usd * share, sim.cost.dbu_usd * share
        return {
            "runtime_s": round(sim.runtime_s, 3),
            "startup_s": round(startup, 3),
            "succeeded": sim.succeeded,
            "failure": sim.failure,
            "failure_kind": sim.failure_kind,
            "spot_nodes_lost": sim.spot_nodes_lost,
            "cost_usd": round(cloud + dbu, 6),
            "cloud_usd": round(cloud, 6),
            "dbu_usd": round(dbu, 6),
            "num_tasks": sim.num_tasks,
            "input_bytes": sim.input_bytes,
            "growth_factor": sim.growth_factor,
        }

    def simulation(self, task: dict) -> SimulatedRun:
        """The task's simulated run (re-simulated deterministically after a restart)."""
        sim = self.sims.get(task["run_id"])
        if sim is None:
            sim = simulate(self._workload_for(task), ClusterSpec(**task["cluster"]), task["run_index"], task["seed"])
            self.sims[task["run_id"]] = sim
        return sim

    # ---------------------------------------------------------------- lookups and control
    def get_run(self, run_id: Any) -> tuple[dict, int | None]:
        """(parent run, task index or None) for a parent or task run id."""
        rid = as_int(run_id, "run_id")
        with self.lock:
            if rid in self.runs:
                return self.runs[rid], None
            if rid in self.task_runs:
                parent, idx = self.task_runs[rid]
                return self.runs[parent], idx
        raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Run {rid} does not exist.")

    def cancel(self, run_id: Any) -> None:
        """runs/cancel: running tasks stop now, pending ones never start; a run still being planned is
        cancelled as soon as its plan is ready."""
        run, _ = self.get_run(run_id)
        with self.lock:
            now = self.clock.now_ms()
            run["cancel_ms"] = run.get("cancel_ms") or now
            if run.get("prepared"):
                self._apply_cancel(run, run["cancel_ms"])
            self.save()

    def _apply_cancel(self, run: dict, at: int) -> None:
        touched: set[str] = set()
        for t in run["tasks"]:
            if t["exec_end_ms"] <= at:
                continue
            t["exec_end_ms"] = at
            t["ready_ms"] = min(t["ready_ms"], at)
            t["start_ms"] = min(t["start_ms"], at)
            t["cut_ms"] = t["exec_end_ms"] - t["ready_ms"]
            if t.get("life_terminal") != "SKIPPED":
                t["result_state"], t["state_message"] = "CANCELED", "Run cancelled."
            t["end_ms"] = at
            if t.get("cluster_id"):
                touched.add(t["cluster_id"])
        for cid in touched:
            cl = self.clusters[cid]
            if cl["end_ms"] is None or cl["end_ms"] > at:
                if cl.get("ready_ms") is not None and cl["ready_ms"] > at:
                    cl["ready_ms"] = None  # Spark never came up
                cl["workers_timeline"] = [x for x in cl.get("workers_timeline", []) if x[0] <= at]
                cl["nodes_lost"] = [x for x in cl.get("nodes_lost", []) if x[0] <= at]
                self._close_cluster(cl, at)
                last = cl["task_keys"][-1] if cl["task_keys"] else None
                for t in run["tasks"]:
                    if t.get("cluster_id") == cid and t["task_key"] == last:
                        t["end_ms"] = max(t["exec_end_ms"], cl["terminated_ms"])

    def cluster(self, cluster_id: str) -> dict:
        with self.lock:
            if cluster_id not in self.clusters:
                raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Cluster {cluster_id} does not exist")
            return self.clusters[cluster_id]

    def job(self, job_id: Any) -> dict:
        jid = as_int(job_id, "job_id")
        with self.lock:
            if jid not in self.jobs:
                raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Job {jid} does not exist.")
            return self.jobs[jid]

    def reset(self) -> None:
        with self.lock:
            self.jobs.clear()
            self.runs.clear()
            self.task_runs.clear()
            self.clusters.clear()
            self.workload_runs.clear()
            self.sims.clear()
            self.crash_next = 0
            self.save()

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.save()
