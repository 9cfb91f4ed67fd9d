"""Databricks API views of runs and clusters at a moment of simulated time (what a real workspace shows)."""

from __future__ import annotations

from typing import Any

from sync_provider.emulator.physics import node
from sync_provider.emulator.workspace import WORKSPACE_ID, Workspace


def _task_phase(t: dict, now: int) -> str:
    if "exec_end_ms" not in t:
        return "PENDING"
    if t.get("life_terminal") == "SKIPPED" and now >= t["end_ms"]:
        return "SKIPPED"
    if now < t["ready_ms"]:
        return "PENDING"
    if now < t["exec_end_ms"]:
        return "RUNNING"
    if now < t["end_ms"]:
        return "TERMINATING"
    return t.get("life_terminal", "TERMINATED")


def _state(phase: str, t: dict | None, messages: dict[str, str]) -> dict:
    state: dict[str, Any] = {
        "life_cycle_state": phase,
        "state_message": messages.get(phase, ""),
        "user_cancelled_or_timedout": False,
    }
    if phase in ("TERMINATED", "INTERNAL_ERROR", "SKIPPED") and t is not None:
        state["result_state"] = t["result_state"]
        state["state_message"] = t.get("state_message", "")
        state["user_cancelled_or_timedout"] = t["result_state"] in ("CANCELED", "TIMEDOUT")
    return state


def _status(state: dict) -> dict:
    """The newer `status` object the SDK also reads."""
    phase = state["life_cycle_state"]
    mapping = {
        "PENDING": "PENDING",
        "RUNNING": "RUNNING",
        "TERMINATING": "TERMINATING",
        "TERMINATED": "TERMINATED",
        "INTERNAL_ERROR": "TERMINATED",
        "SKIPPED": "TERMINATED",
    }
    status: dict[str, Any] = {"state": mapping.get(phase, phase)}
    if "result_state" in state:
        code = {
            "SUCCESS": "SUCCESS",
            "FAILED": "RUN_EXECUTION_ERROR",
            "CANCELED": "CANCELED",
            "TIMEDOUT": "TIMED_OUT",
            "UPSTREAM_FAILED": "SKIPPED",
        }.get(state["result_state"], "INTERNAL_ERROR")
        status["termination_details"] = {
            "code": code,
            "type": "SUCCESS" if code == "SUCCESS" else "CLIENT_ERROR",
            "message": state.get("state_message", ""),
        }
    return status


_MESSAGES = {"PENDING": "Waiting for cluster", "RUNNING": "In run", "TERMINATING": "Terminating the cluster"}


def task_view(ws: Workspace, run: dict, t: dict, now: int) -> dict:
    phase = _task_phase(t, now)
    state = _state(phase, t, _MESSAGES)
    done = phase in ("TERMINATED", "INTERNAL_ERROR", "SKIPPED")
    view: dict[str, Any] = {
        "run_id": t["run_id"],
        "task_key": t["task_key"],
        "state": state,
        "status": _status(state),
        "start_time": t.get("start_ms", run["submit_ms"]),
        "end_time": t["end_ms"] if done else 0,
        "setup_duration": (t["ready_ms"] - t["start_ms"]) if done else 0,
        "execution_duration": (t["exec_end_ms"] - t["ready_ms"]) if done else 0,
        "cleanup_duration": (t["end_ms"] - t["exec_end_ms"]) if done else 0,
        "attempt_number": t.get("attempt_number", 0),
        "run_page_url": f"{ws.base_url}/?o={WORKSPACE_ID}#job/{run.get('job_id') or 0}/run/{t['run_id']}",
        "depends_on": [{"task_key": d} for d in t["depends_on"]],
    }
    for key in (
        "notebook_task",
        "spark_python_task",
        "spark_jar_task",
        "python_wheel_task",
        "libraries",
        "timeout_seconds",
    ):
        if key in t["spec"]:
            view[key] = t["spec"][key]
    if t.get("job_cluster_key"):
        view["job_cluster_key"] = t["job_cluster_key"]
    else:
        view["new_cluster"] = t["new_cluster"]
    if t.get("cluster_id") and "ready_ms" in t and now >= t["start_ms"]:
        view["cluster_instance"] = {"cluster_id": t["cluster_id"]}
        if now >= t["ready_ms"]:
            view["cluster_instance"]["spark_context_id"] = t["spark_context_id"]
    return view


def run_view(ws: Workspace, run: dict, now: int, task_index: int | None = None) -> dict:
    """runs/get for a parent run (with its tasks) or, given task_index, for one task run."""
    if task_index is not None:
        t = run["tasks"][task_index]
        view = task_view(ws, run, t, now)
        view.update(
            job_id=run.get("job_id"),
            run_name=run["run_name"],
            run_type=run["run_type"],
            number_in_job=t["run_id"],
            creator_user_name="emulator@example.com",
            parent_run_id=run["run_id"],
            tasks=[task_view(ws, run, t, now)],
        )
        return view
    tasks = [task_view(ws, run, t, now) for t in run["tasks"]]
    phases = [x["state"]["life_cycle_state"] for x in tasks]
    terminal = ("TERMINATED", "INTERNAL_ERROR", "SKIPPED")
    if all(p in terminal for p in phases):
        phase = "INTERNAL_ERROR" if "INTERNAL_ERROR" in phases else "TERMINATED"
        results = [x["state"].get("result_state") for x in tasks]
        for r in ("FAILED", "TIMEDOUT", "CANCELED", "UPSTREAM_FAILED"):
            if r in results:
                result = "FAILED" if r == "UPSTREAM_FAILED" else r
                break
        else:
            result = "SUCCESS"
        msgs = [x["state"]["state_message"] for x in tasks if x["state"].get("result_state") not in ("SUCCESS", None)]
        state = {
            "life_cycle_state": phase,
            "result_state": result,
            "state_message": msgs[0] if msgs else "",
            "user_cancelled_or_timedout": result in ("CANCELED", "TIMEDOUT"),
        }
        end = max(x["end_time"] for x in tasks)
    else:
        active = [p for p in phases if p not in terminal]
        phase = (
            "RUNNING"
            if any(p in ("RUNNING", "TERMINATING") for p in active) or len(active) < len(phases)
            else "PENDING"
        )
        state = {
            "life_cycle_state": phase,
            "state_message": _MESSAGES.get(phase, ""),
            "user_cancelled_or_timedout": False,
        }
        end = 0
    done = end > 0
    view = {
        "job_id": run.get("job_id") or run["run_id"],
        "run_id": run["run_id"],
        "number_in_job": run["number_in_job"],
        "creator_user_name": "emulator@example.com",
        "original_attempt_run_id": run["run_id"],
        "state": state,
        "status": _status(state),
        "run_name": run["run_name"],
        "run_type": run["run_type"],
        "format": "MULTI_TASK",
        "start_time": run["submit_ms"],
        "end_time": end,
        "setup_duration": 0,
        "execution_duration": 0,
        "cleanup_duration": 0,
        "run_duration": (end - run["submit_ms"]) if done else 0,
        "run_page_url": f"{ws.base_url}/?o={WORKSPACE_ID}#job/{run.get('job_id') or 0}/run/{run['run_id']}",
        "tasks": tasks,
        "job_clusters": [{"job_cluster_key": k, "new_cluster": v} for k, v in run.get("job_clusters", {}).items()],
    }
    if len(tasks) == 1:
        for key in ("setup_duration", "execution_duration", "cleanup_duration", "cluster_instance"):
            if key in tasks[0]:
                view[key] = tasks[0][key]
    return view


# ---------------------------------------------------------------------------------------------- clusters
def _cluster_phase(cl: dict, now: int) -> str:
    if cl.get("end_ms") is not None and now >= cl["end_ms"]:
        return "TERMINATING" if now < cl["terminated_ms"] else "TERMINATED"
    if cl.get("ready_ms") is None or now < cl["ready_ms"]:
        return "PENDING"
    return "RUNNING"


def cluster_events(cl: dict, now: int) -> list[dict]:
    """Cluster events up to `now`, oldest first, as clusters/events returns them."""
    cid = cl["cluster_id"]
    spec = cl["spec"]
    w0 = spec["autoscale_min"] if spec.get("autoscale_min") is not None else spec["num_workers"]
    ev: list[dict] = []

    def add(ts: int | None, typ: str, **details: Any) -> None:
        if ts is not None and ts <= now:
            ev.append({"cluster_id": cid, "timestamp": int(ts), "type": typ, "details": details})

    create = cl["create_ms"]
    add(
        create,
        "CREATING",
        user="emulator@example.com",
        cluster_size={"num_workers": w0}
        if spec.get("autoscale_min") is None
        else {"autoscale": {"min_workers": spec["autoscale_min"], "max_workers": spec["autoscale_max"]}},
    )
    ready = cl.get("ready_ms")
    if ready is not None:
        add(create + (ready - create) // 3, "STARTING")
        if cl["new_cluster"].get("init_scripts"):
            add(ready - (ready - create) // 4, "INIT_SCRIPTS_STARTED")
            add(ready - 2000, "INIT_SCRIPTS_FINISHED")
        add(ready, "RUNNING", current_num_workers=w0, target_num_workers=w0)
        add(ready + 5000, "DRIVER_HEALTHY")
        prev = w0
        lost_at = {ts for ts, _ in cl.get("nodes_lost", [])}
        for ts, n in cl.get("workers_timeline", [])[1:]:
            if ts in lost_at:
                add(
                    ts,
                    "NODES_LOST",
                    current_num_workers=n,
                    target_num_workers=prev,
                    reason={
                        "code": "SPOT_INSTANCE_TERMINATION",
                        "type": "CLOUD_FAILURE",
                        "parameters": {"databricks_error_message": "Spot instance was reclaimed by AWS"},
                    },
                )
            elif n > prev:
                if not lost_at or all(abs(ts - la) > 150_000 + 1 for la in lost_at):
                    add(
                        ts,
                        "RESIZING",
                        current_num_workers=prev,
                        target_num_workers=n,
                        reason={"code": "AUTOSCALE", "type": "SUCCESS"},
                    )
                    add(ts + 90_000, "UPSIZE_COMPLETED", current_num_workers=n, target_num_workers=n)
                else:
                    add(ts, "UPSIZE_COMPLETED", current_num_workers=n, target_num_workers=n)
            prev = n
    if cl.get("end_ms") is not None:
        add(
            cl["end_ms"],
            "TERMINATING",
            reason={"code": "JOB_FINISHED", "type": "SUCCESS", "parameters": {"databricks_error_message": ""}},
        )
    return sorted(ev, key=lambda e: e["timestamp"])


def cluster_view(ws: Workspace, cl: dict, now: int) -> dict:
    nc = cl["new_cluster"]
    spec = cl["spec"]
    phase = _cluster_phase(cl, now)
    w = node(spec["instance_type"])
    d = node(spec["driver_instance_type"] or spec["instance_type"])
    workers = spec["num_workers"] if spec.get("autoscale_min") is None else spec["autoscale_min"]
    for ts, n in cl.get("workers_timeline", []):
        if ts <= now:
            workers = n
    view: dict[str, Any] = {
        "cluster_id": cl["cluster_id"],
        "cluster_name": f"job-{cl.get('job_id') or cl['run_id']}-run-{cl['run_id']}",
        "spark_version": nc.get("spark_version"),
        "node_type_id": spec["instance_type"],
        "driver_node_type_id": spec["driver_instance_type"] or spec["instance_type"],
        "spark_conf": nc.get("spark_conf", {}),
        "spark_env_vars": nc.get("spark_env_vars", {}),
        "aws_attributes": nc.get("aws_attributes")
        or {"availability": "ON_DEMAND", "zone_id": "us-east-1a", "first_on_demand": 1},
        "custom_tags": nc.get("custom_tags", {}),
        "default_tags": {
            "Vendor": "Databricks",
            "Creator": "emulator@example.com",
            "ClusterName": f"job-{cl.get('job_id') or cl['run_id']}-run-{cl['run_id']}",
            "ClusterId": cl["cluster_id"],
            "JobId": str(cl.get("job_id") or ""),
            "RunName": str(cl["run_id"]),
        },
        "init_scripts": nc.get("init_scripts", []),
        "enable_elastic_disk": bool(nc.get("enable_elastic_disk", False)),
        "runtime_engine": "PHOTON" if spec["photon"] else "STANDARD",
        "cluster_source": "JOB",
        "creator_user_name": "emulator@example.com",
        "state": phase,
        "state_message": {
            "PENDING": "Starting Spark",
            "RUNNING": "",
            "TERMINATING": "Terminating",
            "TERMINATED": "Job finished",
        }.get(phase, ""),
        "start_time": cl["create_ms"],
        "cluster_memory_mb": int((w.memory_gib * workers + d.memory_gib) * 1024),
        "cluster_cores": float(w.cores * workers + d.cores),
        "spark_context_id": int(cl["spark_context_id"]) if cl.get("spark_context_id") else None,
    }
    if spec.get("autoscale_min") is not None:
        view["autoscale"] = {"min_workers": spec["autoscale_min"], "max_workers": spec["autoscale_max"]}
        view["num_workers"] = workers
    else:
        view["num_workers"] = spec["num_workers"]
    if cl.get("log_dest"):
        view["cluster_log_conf"] = nc.get("cluster_log_conf")
        delivered = cl.get("delivered_ms")
        if delivered is not None and delivered <= now:
            view["cluster_log_status"] = {"last_attempted": delivered}
        elif cl.get("delivery_error") and (cl.get("terminated_ms") or now) <= now:
            view["cluster_log_status"] = {"last_attempted": cl["terminated_ms"], "last_exception": cl["delivery_error"]}
        elif cl.get("ready_ms") is not None and now >= cl["ready_ms"]:
            # periodic delivery attempts every 5 minutes while running; the final one comes after termination
            upto = min(now, cl.get("end_ms") or now)
            view["cluster_log_status"] = {
                "last_attempted": cl["ready_ms"] + (upto - cl["ready_ms"]) // 300_000 * 300_000
            }
    if phase != "PENDING" and cl.get("ready_ms") is not None:
        view["driver"] = {
            "private_ip": cl["driver_ip"],
            "host_private_ip": cl["driver_ip"],
            "node_id": f"{cl['cluster_id']}-driver",
            "instance_id": f"i-0{cl['cluster_id'][-8:]}d0000",
            "start_timestamp": cl["ready_ms"],
            "node_attributes": {"is_spot": False},
        }
        view["executors"] = (
            [
                {
                    "private_ip": f"10.0.1.{i + 2}",
                    "node_id": f"{cl['cluster_id']}-w{i}",
                    "instance_id": f"i-0{cl['cluster_id'][-8:]}{i:05d}",
                    "start_timestamp": cl["ready_ms"],
                    "node_attributes": {"is_spot": bool(spec["spot"])},
                }
                for i in range(workers)
            ]
            if phase == "RUNNING"
            else []
        )
    if phase in ("TERMINATING", "TERMINATED"):
        view["terminated_time"] = cl["terminated_ms"] if phase == "TERMINATED" else 0
        view["termination_reason"] = {"code": "JOB_FINISHED", "type": "SUCCESS", "parameters": {}}
    if cl.get("nodes_lost"):
        lost = [ts for ts, _ in cl["nodes_lost"] if ts <= now]
        if lost:
            view["last_state_loss_time"] = max(lost)
    return {k: v for k, v in view.items() if v is not None}  # the API omits unset fields
