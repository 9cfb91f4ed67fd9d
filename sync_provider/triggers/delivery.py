"""Has a Databricks run finished, and has its Spark event log been delivered completely?

Shared by the sensor (poke / reschedule) and the trigger (deferrable): the sensor calls these with a blocking
`DatabricksApi`, the trigger with the run it fetched asynchronously and the S3/DBFS listing run in a thread.
Databricks delivers cluster logs every few minutes and rolls the event log into parts; a log is "delivered"
once the evidence code says every part is there and the listing is unchanged between two looks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TERMINAL_LIFE_CYCLE_STATES = frozenset({"TERMINATED", "SKIPPED", "INTERNAL_ERROR"})


@dataclass(frozen=True)
class RunFacts:
    """What the sensor needs from one `runs/get` answer."""

    terminated: bool
    succeeded: bool
    life_cycle_state: str
    result_state: str | None
    state_message: str
    cluster_id: str | None
    log_destination: str | None


def run_facts(run: Mapping[str, Any], *, task_key: str | None = None) -> RunFacts:
    """Read the run's state, the cluster it ran on and its cluster log destination (if it set one)."""
    state = run.get("state") or {}
    # Jobs API 2.2 adds `status`; fall back to it when `state` is absent.
    life = str(state.get("life_cycle_state") or (run.get("status") or {}).get("state") or "")
    result = state.get("result_state")
    if result is None:
        result = ((run.get("status") or {}).get("termination_details") or {}).get("code")
    task = _pick_task(run, task_key)
    cluster_id = ((task or run).get("cluster_instance") or {}).get("cluster_id") or (
        (run.get("cluster_instance") or {}).get("cluster_id")
    )
    return RunFacts(
        terminated=life in TERMINAL_LIFE_CYCLE_STATES,
        succeeded=life == "TERMINATED" and result in ("SUCCESS", "SUCCEEDED"),
        life_cycle_state=life,
        result_state=result,
        state_message=str(state.get("state_message") or ""),
        cluster_id=cluster_id,
        log_destination=log_destination_of_run(run, task_key=task_key),
    )


def _pick_task(run: Mapping[str, Any], task_key: str | None) -> Mapping[str, Any] | None:
    tasks = run.get("tasks") or []
    if task_key:
        for t in tasks:
            if t.get("task_key") == task_key:
                return t
        return None
    # Single-task runs (runs/submit without `tasks`) report the cluster at the top level; else the first task
    # that ran on a cluster.
    if (run.get("cluster_instance") or {}).get("cluster_id"):
        return None
    return next((t for t in tasks if (t.get("cluster_instance") or {}).get("cluster_id")), None)


def _cluster_specs(run: Mapping[str, Any], task_key: str | None) -> list[Mapping[str, Any]]:
    specs: list[Mapping[str, Any]] = []
    task = _pick_task(run, task_key)
    if task is not None:
        specs.append(task.get("new_cluster") or {})
        jck = task.get("job_cluster_key")
        for jc in run.get("job_clusters") or []:
            if jck and jc.get("job_cluster_key") == jck:
                specs.append(jc.get("new_cluster") or {})
    specs.append((run.get("cluster_spec") or {}).get("new_cluster") or {})
    specs.append(run.get("new_cluster") or {})
    for t in run.get("tasks") or []:
        specs.append(t.get("new_cluster") or {})
    for jc in run.get("job_clusters") or []:
        specs.append(jc.get("new_cluster") or {})
    return specs


def log_destination_of_run(run: Mapping[str, Any], *, task_key: str | None = None) -> str | None:
    """The run's `cluster_log_conf` destination as s3://... or dbfs:/..., if the cluster had one."""
    for spec in _cluster_specs(run, task_key):
        conf = spec.get("cluster_log_conf") or {}
        if dest := (conf.get("s3") or {}).get("destination"):
            return str(dest).rstrip("/")
        if dest := (conf.get("dbfs") or {}).get("destination"):
            dest = str(dest)
            return (dest if dest.startswith("dbfs:") else f"dbfs:{dest}").rstrip("/")
    return None


@dataclass(frozen=True)
class DeliveryCheck:
    """One look at the delivery of a run's event log."""

    directory: str | None  # where the run's event log lives, once found
    complete: bool  # the evidence code sees every rolled part
    listing: tuple[tuple[str, int], ...] = field(default=())  # (path, size) of every file: the stability key
    detail: str = ""

    def stable_since(self, previous: DeliveryCheck | None) -> bool:
        """Delivered: complete now, and nothing changed since the previous look."""
        return (
            self.complete
            and previous is not None
            and previous.complete
            and previous.directory == self.directory
            and previous.listing == self.listing
        )

    def delivered_since(self, previous: DeliveryCheck | None, *, run_succeeded: bool) -> bool:
        """Is there nothing more to wait for? A failed run's log may never be complete (a crashed driver writes
        no end event): for it, no log on two looks, or a listing unchanged between two looks, is all there is."""
        if run_succeeded:
            return self.stable_since(previous)
        return previous is not None and previous.directory == self.directory and previous.listing == self.listing

    def to_json(self) -> dict[str, Any]:
        return {"directory": self.directory, "complete": self.complete, "listing": [list(x) for x in self.listing]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> DeliveryCheck | None:
        if not data:
            return None
        return cls(
            directory=data.get("directory"),
            complete=bool(data.get("complete")),
            listing=tuple((str(p), int(s)) for p, s in data.get("listing") or ()),
        )


def check_delivery(log_destination: str, cluster_id: str, *, reader: Any) -> DeliveryCheck:
    """Look once for the cluster's event log under the destination and say whether all its parts are there."""
    from sync_provider.engine.evidence.eventlog import eventlog_delivery_state, find_eventlog

    _probe_access(f"{log_destination.rstrip('/')}/{cluster_id}", reader)
    directory = find_eventlog(log_destination, cluster_id, reader=reader)
    if directory is None:
        return DeliveryCheck(None, False, detail=f"no event log for cluster {cluster_id} under {log_destination} yet")
    state = eventlog_delivery_state(directory, reader=reader)
    listing = tuple(sorted((str(p), int(s)) for p, s in reader.list(directory)))
    complete = bool(getattr(state, "complete", False))
    detail = f"{len(listing)} file(s) under {directory}" + ("" if complete else ", parts still missing")
    return DeliveryCheck(directory, complete, listing, detail)


def _probe_access(prefix: str, reader: Any) -> None:
    """Surface a permission problem (find_eventlog treats every listing error as "not delivered yet")."""
    from sync_provider.engine.evidence.databricks_api import DatabricksApiError

    try:
        reader.list(prefix)
    except DatabricksApiError as exc:
        if exc.status in (401, 403):
            raise
    except FileNotFoundError:
        pass
