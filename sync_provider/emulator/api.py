"""The HTTP surface: the Databricks REST paths the Airflow provider and databricks-sdk call, plus the admin API.

Databricks paths live under /api/<version>/...; the admin paths (ground truth, faults, reset) under
/emulator/v1/ and never under /api/, so nothing a Databricks client reads reveals what a real workspace hides.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import logging
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware.base import BaseHTTPMiddleware

from sync_provider.emulator.delivery import (
    S3Sink,
    build_files,
    collector_destination,
    collector_records,
    write_dbfs,
)
from sync_provider.emulator.errors import ApiError, invalid, not_found
from sync_provider.emulator.physics import catalog, node
from sync_provider.emulator.simulator import ClusterSpec, expected
from sync_provider.emulator.specs import as_int
from sync_provider.emulator.views import cluster_events, cluster_view, run_view
from sync_provider.emulator.workloads import BUILTIN_WORKLOADS, WorkloadError, load_workload
from sync_provider.emulator.workspace import Workspace

VERSIONS = ("2.0", "2.1", "2.2")
log = logging.getLogger(__name__)
DBFS_READ_MAX = 1024 * 1024


class Faults:
    """Injected failures for the next N requests whose path starts with a prefix."""

    def __init__(self) -> None:
        self._rules: list[dict] = []
        self._lock = threading.Lock()

    def add(self, rule: dict) -> None:
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, path: str) -> dict | None:
        with self._lock:
            for rule in self._rules:
                if path.startswith(rule["path_prefix"]) and rule["remaining"] > 0:
                    rule["remaining"] -= 1
                    return dict(rule)
            self._rules = [r for r in self._rules if r["remaining"] > 0]
        return None


class _Gate(BaseHTTPMiddleware):
    """Bearer-token auth, then injected faults, then Databricks-style error bodies for ApiError."""

    def __init__(self, app, emulator: Emulator):
        super().__init__(app)
        self.emulator = emulator

    async def dispatch(self, request: Request, call_next):
        path = request.url.path
        if path.startswith("/api/") or path.startswith("/emulator/"):
            auth = request.headers.get("authorization", "")
            if not auth.lower().startswith("bearer ") or not auth[7:].strip():
                return JSONResponse(
                    {
                        "error_code": "UNAUTHENTICATED",
                        "message": "Credential was not sent or was of an unsupported type for this API.",
                    },
                    status_code=401,
                )
            if not hmac.compare_digest(auth[7:].strip().encode(), self.emulator.token.encode()):
                return JSONResponse(
                    {"error_code": "PERMISSION_DENIED", "message": "Invalid access token."}, status_code=403
                )
            if path.startswith("/api/"):
                rule = self.emulator.faults.take(path)
                if rule is not None:
                    if rule["kind"] == "429":
                        return JSONResponse(
                            {
                                "error_code": "REQUEST_LIMIT_EXCEEDED",
                                "message": "Too many requests. Please wait a moment and try again.",
                            },
                            status_code=429,
                            headers={"Retry-After": str(rule.get("retry_after", 1))},
                        )
                    if rule["kind"] == "500":
                        return JSONResponse(
                            {"error_code": "INTERNAL_ERROR", "message": "The service encountered an unexpected error."},
                            status_code=500,
                        )
                    if rule["kind"] == "slow":
                        await asyncio.sleep(float(rule.get("delay_s", 1.0)))
        return await call_next(request)


class Emulator:
    """The application state behind the HTTP server: workspace, faults, log delivery."""

    def __init__(self, workspace: Workspace, token: str, s3: S3Sink):
        self.ws = workspace
        self.token = token
        self.s3 = s3
        self.faults = Faults()
        self._delivering: set[str] = set()
        # a few deliveries at once, so one huge log does not hold up the others
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="emulator-delivery")

    def now(self) -> int:
        return self.ws.clock.now_ms()

    def deliver_due(self, *, wait: bool = False) -> None:
        """Deliver the logs of every cluster whose (simulated) delivery time has come (with `wait`, return
        once they are written)."""
        now = self.now()
        with self.ws.lock:
            due = [
                c
                for c in self.ws.clusters.values()
                if c.get("deliver_ms") is not None
                and c.get("delivered_ms") is None
                and c["deliver_ms"] <= now
                and c["cluster_id"] not in self._delivering
            ]
            for c in due:
                self._delivering.add(c["cluster_id"])
        futures = [self._pool.submit(self._deliver_one, cl, now) for cl in due]
        if wait:
            for f in futures:
                f.result()

    def _deliver_one(self, cl: dict, now: int) -> None:
        """Deliver one cluster's logs; a bad destination fails that delivery only (retried, then reported)."""
        try:
            self._deliver(cl, now)
        except Exception as exc:  # noqa: BLE001 - recorded as the cluster's last_exception
            log.warning("log delivery for cluster %s failed: %s", cl["cluster_id"], exc)
            with self.ws.lock:
                cl["delivery_attempts"] = cl.get("delivery_attempts", 0) + 1
                cl["delivery_error"] = f"{type(exc).__name__}: {exc}"
                # retry five simulated minutes later, twice, then give up (clusters/get shows last_exception)
                cl["deliver_ms"] = now + 300_000 if cl["delivery_attempts"] < 3 else None
                self.ws.save()
        finally:
            self._delivering.discard(cl["cluster_id"])

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _deliver(self, cl: dict, now: int) -> None:
        run = self.ws.runs.get(cl["run_id"])
        if run is None:
            return
        files: dict[str, bytes] = {}
        # the cluster as the collector saw it while running
        view = cluster_view(self.ws, cl, (cl.get("ready_ms") or cl["create_ms"]) + 1)
        for t in run["tasks"]:
            if t.get("cluster_id") != cl["cluster_id"] or "truth" not in t:
                continue  # another cluster's task, or one whose simulation crashed (no Spark ran)
            if cl.get("log_dest"):
                files.update(build_files(self.ws.simulation(t), cl, t, view, t.get("cut_ms"), t["ready_ms"]))
        by_dest: dict[str, dict[str, bytes]] = {}
        if cl.get("log_dest"):
            by_dest[cl["log_dest"]] = files
        collector = collector_destination(cl)
        if collector:
            for t in run["tasks"]:
                if t.get("cluster_id") == cl["cluster_id"] and "truth" in t:
                    by_dest.setdefault(collector, {}).update(
                        collector_records(self.ws.simulation(t), cl, t["ready_ms"])
                    )
                    break
        for dest, dest_files in by_dest.items():
            if dest.startswith(("s3://", "s3a://")):
                self.s3.write(dest.replace("s3a://", "s3://", 1), dest_files)
            else:
                write_dbfs(self.ws.data_dir / "dbfs", dest, dest_files)
        with self.ws.lock:
            cl["delivered_ms"] = cl["deliver_ms"]
            for t in run["tasks"]:
                if t.get("cluster_id") == cl["cluster_id"]:
                    self.ws.sims.pop(t["run_id"], None)  # delivered: the task-level detail is no longer needed
            self.ws.save()


async def _body(request: Request) -> dict:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "MALFORMED_REQUEST", f"Malformed request: invalid JSON in request body: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "MALFORMED_REQUEST", "Malformed request: the request body must be a JSON object")
    return data


def _params(request: Request) -> dict:
    return dict(request.query_params)


async def _args(request: Request) -> dict:
    """Parameters from the query string and the JSON body: as Databricks does, GET accepts a body too (the
    provider's async hook, used by deferrable operators and triggers, sends its GET parameters that way)."""
    args = await _body(request)
    args.update(_params(request))
    return args


def _mkdirs(target: Path, exists_as_file: str) -> dict:
    if target.is_file():
        raise ApiError(400, "RESOURCE_ALREADY_EXISTS", exists_as_file)
    target.mkdir(parents=True, exist_ok=True)
    return {}


def _delete(target: Path, recursive: bool, not_empty: ApiError) -> dict:
    if target.is_dir():
        if any(target.iterdir()) and not recursive:
            raise not_empty
        shutil.rmtree(target)
    elif target.exists():
        target.unlink()
    return {}


def _require(args: dict, field: str) -> Any:
    if args.get(field) in (None, ""):
        raise invalid(f"Missing required field: {field}")
    return args[field]


def create_app(emulator: Emulator) -> FastAPI:
    app = FastAPI(title="Databricks workspace emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(_Gate, emulator=emulator)
    ws = emulator.ws

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(
            {"error_code": "INTERNAL_ERROR", "message": f"{type(exc).__name__}: {exc}"}, status_code=500
        )

    def route(method: str, path: str, versions: tuple[str, ...] = VERSIONS):
        def deco(fn):
            for v in versions:
                app.add_api_route(f"/api/{v}/{path}", fn, methods=[method])
            return fn

        return deco

    # ------------------------------------------------------------------ jobs and runs
    @route("POST", "jobs/runs/submit")
    async def runs_submit(request: Request):
        body = await _body(request)
        token = body.get("idempotency_token")
        if token:
            with ws.lock:
                for r in ws.runs.values():
                    if r.get("idempotency_token") == token:
                        return {"run_id": r["run_id"]}
        return {"run_id": ws.submit(body)}

    @route("GET", "jobs/runs/get")
    async def runs_get(request: Request):
        args = await _args(request)
        run, idx = ws.get_run(_require(args, "run_id"))
        with ws.lock:
            return run_view(ws, run, emulator.now(), idx)

    @route("GET", "jobs/runs/get-output")
    async def runs_get_output(request: Request):
        args = await _args(request)
        run, idx = ws.get_run(_require(args, "run_id"))
        if idx is None and len(run["tasks"]) > 1:
            raise invalid(
                "Retrieving the output of runs with multiple tasks is not supported. Please retrieve the "
                "output of each individual task run instead."
            )
        with ws.lock:
            view = run_view(ws, run, emulator.now(), idx if idx is not None else 0)
        out: dict[str, Any] = {"metadata": view}
        state = view["state"]
        if state.get("result_state") in ("FAILED", "TIMEDOUT", "CANCELED"):
            out["error"] = state.get("state_message") or state["result_state"]
            out["error_trace"] = state.get("state_message", "")
        elif state.get("result_state") == "SUCCESS":
            out["notebook_output"] = {"result": "", "truncated": False}
        return out

    @route("GET", "jobs/runs/list")
    async def runs_list(request: Request):
        args = await _args(request)
        limit = min(as_int(args.get("limit", 25), "limit"), 1000)
        offset = as_int(args.get("offset", 0), "offset")
        job_id = as_int(args["job_id"], "job_id") if args.get("job_id") else None
        now = emulator.now()
        with ws.lock:
            views = [
                run_view(ws, r, now)
                for r in sorted(ws.runs.values(), key=lambda r: -r["run_id"])
                if job_id is None or r.get("job_id") == job_id
            ]
        if str(args.get("active_only", "")).lower() == "true":
            views = [v for v in views if "result_state" not in v["state"]]
        if str(args.get("completed_only", "")).lower() == "true":
            views = [v for v in views if "result_state" in v["state"]]
        page = views[offset : offset + limit]
        return {"runs": page, "has_more": offset + limit < len(views)} if page else {"has_more": False}

    @route("POST", "jobs/runs/cancel")
    async def runs_cancel(request: Request):
        body = await _body(request)
        ws.cancel(_require(body, "run_id"))
        return {}

    @route("POST", "jobs/create")
    async def jobs_create(request: Request):
        body = await _body(request)
        _validate_settings(ws, body)
        with ws.lock:
            jid = ws._id()
            ws.jobs[jid] = {
                "job_id": jid,
                "settings": body,
                "created_time": emulator.now(),
                "creator_user_name": "emulator@example.com",
            }
            ws.save()
        return {"job_id": jid}

    @route("GET", "jobs/get")
    async def jobs_get(request: Request):
        job = ws.job(_require(await _args(request), "job_id"))
        return dict(job, run_as_user_name="emulator@example.com")

    @route("GET", "jobs/list")
    async def jobs_list(request: Request):
        args = await _args(request)
        limit = min(as_int(args.get("limit", 20), "limit"), 100)
        offset = as_int(args.get("offset", 0), "offset")
        name = args.get("name")
        with ws.lock:
            jobs = [
                j
                for j in sorted(ws.jobs.values(), key=lambda j: j["job_id"])
                if not name or j["settings"].get("name") == name
            ]
        page = jobs[offset : offset + limit]
        return {"jobs": page, "has_more": offset + limit < len(jobs)} if page else {"has_more": False}

    @route("POST", "jobs/update")
    async def jobs_update(request: Request):
        body = await _body(request)
        job = ws.job(_require(body, "job_id"))
        new = body.get("new_settings") or {}
        settings = json.loads(json.dumps(job["settings"]))
        for key, value in new.items():
            if key in ("tasks", "job_clusters") and isinstance(value, list):
                kf = "task_key" if key == "tasks" else "job_cluster_key"
                merged = {x.get(kf): x for x in settings.get(key, [])}
                for item in value:
                    merged[item.get(kf)] = item
                settings[key] = list(merged.values())
            else:
                settings[key] = value
        for field in body.get("fields_to_remove") or []:
            settings.pop(field, None)
        _validate_settings(ws, settings)
        with ws.lock:
            job["settings"] = settings
            ws.save()
        return {}

    @route("POST", "jobs/reset")
    async def jobs_reset(request: Request):
        body = await _body(request)
        job = ws.job(_require(body, "job_id"))
        settings = body.get("new_settings")
        if not isinstance(settings, dict):
            raise invalid("Missing required field: new_settings")
        _validate_settings(ws, settings)
        with ws.lock:
            job["settings"] = settings
            ws.save()
        return {}

    @route("POST", "jobs/delete")
    async def jobs_delete(request: Request):
        body = await _body(request)
        job = ws.job(_require(body, "job_id"))
        with ws.lock:
            ws.jobs.pop(job["job_id"], None)
            ws.save()
        return {}

    @route("POST", "jobs/run-now")
    async def jobs_run_now(request: Request):
        body = await _body(request)
        job = ws.job(_require(body, "job_id"))
        settings = dict(job["settings"])
        settings["run_name"] = settings.get("name") or f"job-{job['job_id']}"
        run_id = ws.submit(settings, job_id=job["job_id"], run_type="JOB_RUN")
        return {"run_id": run_id, "number_in_job": ws.runs[run_id]["number_in_job"]}

    # ------------------------------------------------------------------ clusters
    @route("GET", "clusters/get")
    async def clusters_get(request: Request):
        cl = ws.cluster(str(_require(await _args(request), "cluster_id")))
        with ws.lock:
            return cluster_view(ws, cl, emulator.now())

    @route("GET", "clusters/list")
    async def clusters_list(request: Request):
        now = emulator.now()
        with ws.lock:
            return {"clusters": [cluster_view(ws, c, now) for c in ws.clusters.values()]}

    @route("POST", "clusters/events")
    async def clusters_events(request: Request):
        body = await _body(request)
        cl = ws.cluster(str(_require(body, "cluster_id")))
        with ws.lock:
            events = cluster_events(cl, emulator.now())
        if body.get("start_time"):
            events = [e for e in events if e["timestamp"] >= as_int(body["start_time"], "start_time")]
        if body.get("end_time"):
            events = [e for e in events if e["timestamp"] <= as_int(body["end_time"], "end_time")]
        if body.get("event_types"):
            events = [e for e in events if e["type"] in set(body["event_types"])]
        if str(body.get("order", "DESC")).upper() == "DESC":
            events = events[::-1]
        limit = as_int(body.get("limit", 50), "limit")
        if not 1 <= limit <= 500:
            raise invalid(f"limit must be between 1 and 500, got {limit}")
        offset = as_int(body.get("offset", 0), "offset")
        page = events[offset : offset + limit]
        out: dict[str, Any] = {"events": page, "total_count": len(events)}
        if offset + limit < len(events):
            out["next_page"] = {k: v for k, v in body.items() if k not in ("offset", "page_token")}
            out["next_page"].update(cluster_id=cl["cluster_id"], offset=offset + limit, limit=limit)
        return out

    @route("GET", "clusters/list-node-types")
    async def list_node_types(request: Request):
        categories = {
            "m": "General Purpose",
            "c": "Compute Optimized",
            "r": "Memory Optimized",
            "i": "Storage Optimized",
        }
        out = []
        for it in catalog():
            n = node(it.instance_type)
            out.append(
                {
                    "node_type_id": it.instance_type,
                    "instance_type_id": it.instance_type,
                    "memory_mb": int(it.memory_gib * 1024),
                    "num_cores": float(it.vcpus),
                    "description": it.instance_type,
                    "category": categories.get(it.family[0], "General Purpose"),
                    "is_graviton": it.arch == "arm64",
                    "photon_worker_capable": True,
                    "photon_driver_capable": True,
                    "support_ebs_volumes": True,
                    "is_deprecated": False,
                    "is_hidden": False,
                    "node_instance_type": {
                        "instance_type_id": it.instance_type,
                        "local_disks": 1 if n.local_nvme else 0,
                        "local_disk_size_gb": int(it.local_disk_gib),
                    },
                }
            )
        return {"node_types": out}

    @route("GET", "clusters/spark-versions")
    async def spark_versions(request: Request):
        return {
            "versions": [
                {"key": k, "name": n}
                for k, n in (
                    ("13.3.x-scala2.12", "13.3 LTS (includes Apache Spark 3.4.1, Scala 2.12)"),
                    ("14.3.x-scala2.12", "14.3 LTS (includes Apache Spark 3.5.0, Scala 2.12)"),
                    ("15.4.x-scala2.12", "15.4 LTS (includes Apache Spark 3.5.0, Scala 2.12)"),
                )
            ]
        }

    # ------------------------------------------------------------------ workspace files
    @route("POST", "workspace/import")
    async def workspace_import(request: Request):
        body = await _body(request)
        path = str(_require(body, "path"))
        if not path.startswith("/"):
            raise invalid(f"Path ({path}) must be absolute")
        target = ws.workspace_file(path)
        if target.exists() and not body.get("overwrite"):
            raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Path ({path}) already exists.")
        try:
            content = base64.b64decode(body.get("content") or "", validate=True)
        except ValueError:
            raise invalid("content must be base64-encoded") from None
        if path.endswith((".yaml", ".yml", ".json")):
            try:
                from sync_provider.emulator.workloads import parse_workload

                parse_workload(content, path)
            except WorkloadError as exc:
                raise invalid(str(exc)) from None
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        return {}

    @route("GET", "workspace/get-status")
    async def workspace_status(request: Request):
        path = str(_require(await _args(request), "path"))
        target = ws.workspace_file(path)
        if not target.exists():
            raise not_found(f"Path ({path}) doesn't exist.")
        kind = "DIRECTORY" if target.is_dir() else "FILE"
        return {
            "path": path,
            "object_type": kind,
            "object_id": abs(hash(path)) % 10**15,
            **({"size": target.stat().st_size} if kind == "FILE" else {}),
        }

    @route("POST", "workspace/mkdirs")
    async def workspace_mkdirs(request: Request):
        body = await _body(request)
        return _mkdirs(
            ws.workspace_file(str(_require(body, "path"))), f"Path ({body['path']}) already exists as a file."
        )

    @route("GET", "workspace/list")
    async def workspace_list(request: Request):
        path = str(_require(await _args(request), "path"))
        target = ws.workspace_file(path)
        if not target.is_dir():
            raise not_found(f"Path ({path}) doesn't exist.")
        base = "/" + path.strip("/")
        objects = [
            {"path": f"{base.rstrip('/')}/{c.name}", "object_type": "DIRECTORY" if c.is_dir() else "FILE"}
            for c in sorted(target.iterdir())
        ]
        return {"objects": objects} if objects else {}

    @route("POST", "workspace/delete")
    async def workspace_delete(request: Request):
        body = await _body(request)
        path = str(_require(body, "path"))
        target = ws.workspace_file(path)
        if not target.exists():
            raise not_found(f"Path ({path}) doesn't exist.")
        not_empty = ApiError(400, "DIRECTORY_NOT_EMPTY", f"Folder ({path}) is not empty; pass recursive=true")
        return _delete(target, bool(body.get("recursive")), not_empty)

    @route("GET", "workspace/export")
    async def workspace_export(request: Request):
        path = str(_require(await _args(request), "path"))
        target = ws.workspace_file(path)
        if not target.is_file():
            raise not_found(f"Path ({path}) doesn't exist.")
        return {"content": base64.b64encode(target.read_bytes()).decode(), "file_type": "yaml"}

    # ------------------------------------------------------------------ DBFS
    def _dbfs_status(path: str) -> dict:
        path = "/" + path.removeprefix("dbfs:").strip("/")  # the API answers with absolute paths, no scheme
        target = ws.dbfs_file(path)
        if not target.exists() or target.name.endswith(".part"):
            raise not_found(f"No file or directory exists on path {path}.")
        st = target.stat()
        return {
            "path": path,
            "is_dir": target.is_dir(),
            "file_size": 0 if target.is_dir() else st.st_size,
            "modification_time": int(st.st_mtime * 1000),
        }

    @route("GET", "dbfs/get-status")
    async def dbfs_get_status(request: Request):
        return _dbfs_status(str(_require(await _args(request), "path")))

    @route("GET", "dbfs/list")
    async def dbfs_list(request: Request):
        path = str(_require(await _args(request), "path"))
        st = _dbfs_status(path)
        if not st["is_dir"]:
            return {"files": [st]}
        base = st["path"].rstrip("/")
        target = ws.dbfs_file(path)
        files = [
            _dbfs_status(f"{base}/{child.name}")
            for child in sorted(target.iterdir())
            if not child.name.endswith(".part")
        ]
        return {"files": files} if files else {}

    @route("GET", "dbfs/read")
    async def dbfs_read(request: Request):
        args = await _args(request)
        path = str(_require(args, "path"))
        st = _dbfs_status(path)
        if st["is_dir"]:
            raise ApiError(400, "NOT_A_FILE", f"{path} is a directory")
        offset = as_int(args.get("offset", 0), "offset")
        length = as_int(args.get("length", 512 * 1024), "length")
        if offset < 0 or length < 0:
            raise invalid("offset and length must be >= 0")
        if length > DBFS_READ_MAX:
            raise ApiError(400, "MAX_READ_SIZE_EXCEEDED", f"Cannot read more than {DBFS_READ_MAX} bytes at once")
        with open(ws.dbfs_file(path), "rb") as fh:
            fh.seek(offset)
            data = fh.read(length)
        return {"bytes_read": len(data), "data": base64.b64encode(data).decode()}

    @route("POST", "dbfs/mkdirs")
    async def dbfs_mkdirs(request: Request):
        body = await _body(request)
        return _mkdirs(ws.dbfs_file(str(_require(body, "path"))), f"A file already exists at {body['path']}.")

    @route("POST", "dbfs/delete")
    async def dbfs_delete(request: Request):
        body = await _body(request)
        target = ws.dbfs_file(str(_require(body, "path")))
        not_empty = ApiError(400, "IO_ERROR", f"{body['path']} is a non-empty directory; pass recursive=true")
        return _delete(target, bool(body.get("recursive")), not_empty)  # a missing path succeeds, as on Databricks

    @route("POST", "dbfs/put")
    async def dbfs_put(request: Request):
        body = await _body(request)
        path = str(_require(body, "path"))
        target = ws.dbfs_file(path)
        if target.exists() and not body.get("overwrite"):
            raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"A file or directory already exists at {path}.")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(body.get("contents") or ""))
        return {}

    # ------------------------------------------------------------------ admin (ground truth, faults)
    @app.get("/emulator/v1/health")
    async def health():
        return {"status": "ok", "time_scale": ws.clock.time_scale, "now_ms": emulator.now()}

    @app.get("/emulator/v1/workloads")
    async def workloads():
        out = []
        for name in BUILTIN_WORKLOADS:
            wl = load_workload(name)
            out.append(
                {
                    "name": name,
                    "description": wl.description,
                    "runs_so_far": ws.workload_runs.get(name, 0),
                    "definition": wl.model_dump(mode="json"),
                }
            )
        return {"workloads": out}

    @app.get("/emulator/v1/runs/{run_id}")
    async def run_truth(run_id: str):
        run, idx = ws.get_run(run_id)
        with ws.lock:
            tasks = [run["tasks"][idx]] if idx is not None else run["tasks"]
            out_tasks = []
            for t in tasks:
                out_tasks.append(
                    {
                        "task_key": t["task_key"],
                        "run_id": t["run_id"],
                        "workload": t["workload"],
                        "workload_source": t["workload_source"],
                        "run_index": t["run_index"],
                        "seed": t["seed"],
                        "config": {
                            "instance_type": t["cluster"]["instance_type"],
                            "num_workers": t["cluster"]["num_workers"],
                            "driver_instance_type": t["cluster"]["driver_instance_type"]
                            or t["cluster"]["instance_type"],
                            "photon": t["cluster"]["photon"],
                            "spot": t["cluster"]["spot"],
                            "autoscale": (
                                {
                                    "min_workers": t["cluster"]["autoscale_min"],
                                    "max_workers": t["cluster"]["autoscale_max"],
                                }
                                if t["cluster"]["autoscale_min"] is not None
                                else None
                            ),
                        },
                        "cluster_id": t.get("cluster_id"),
                        "result_state": t.get("result_state"),
                        "life_cycle_state": t.get("life_terminal"),
                        "planned": "exec_end_ms" in t,
                        **(t.get("truth") or {}),
                        "failure_reason": (t.get("truth") or {}).get("failure")
                        or (t.get("state_message") if t.get("result_state") not in (None, "SUCCESS") else None),
                    }
                )
        first = out_tasks[0] if out_tasks else {}
        return {
            "run_id": run["run_id"],
            "job_id": run.get("job_id"),
            "tasks": out_tasks,
            **{
                k: first.get(k)
                for k in (
                    "workload",
                    "config",
                    "run_index",
                    "runtime_s",
                    "cost_usd",
                    "cloud_usd",
                    "dbu_usd",
                    "spot_nodes_lost",
                    "failure_reason",
                    "succeeded",
                    "startup_s",
                    "num_tasks",
                    "input_bytes",
                )
            },
        }

    @app.post("/emulator/v1/truth")
    async def truth(request: Request):
        body = await _body(request)
        try:
            wl = load_workload(str(_require(body, "workload")))
        except WorkloadError as exc:
            raise invalid(str(exc)) from None
        spec = ClusterSpec(
            instance_type=str(_require(body, "instance_type")),
            num_workers=as_int(body.get("num_workers", 1), "num_workers"),
            driver_instance_type=body.get("driver_instance_type"),
            photon=bool(body.get("photon", False)),
            spot=bool(body.get("spot", False)),
        )
        try:
            spec.validate()
        except KeyError as exc:
            raise invalid(f"Node type {exc.args[0]} is not supported") from None
        except ValueError as exc:
            raise invalid(str(exc)) from None
        sim = expected(wl, spec, as_int(body.get("run_index", 0), "run_index"))
        return {
            "workload": wl.name,
            "runtime_s": sim.runtime_s,
            "startup_s": sim.startup_s,
            "cost_usd": sim.cost.total_usd,
            "cloud_usd": sim.cost.cloud_usd,
            "dbu_usd": sim.cost.dbu_usd,
            "succeeded": sim.succeeded,
            "failure": sim.failure,
            "num_tasks": sim.num_tasks,
        }

    @app.post("/emulator/v1/faults")
    async def faults(request: Request):
        body = await _body(request)
        kind = str(body.get("kind", ""))
        if kind == "crash_run":
            ws.crash_next += as_int(body.get("count", 1), "count")
            return {"ok": True}
        if kind not in ("429", "500", "slow"):
            raise invalid("kind must be one of 429, 500, slow, crash_run")
        count = as_int(body.get("count", 1), "count")
        if count < 1:
            raise invalid("count must be >= 1")
        emulator.faults.add(
            {
                "kind": kind,
                "path_prefix": str(body.get("path_prefix") or "/api/"),
                "remaining": count,
                "retry_after": as_int(body.get("retry_after", 1), "retry_after"),
                "delay_s": float(body.get("delay_s", 1.0)),
            }
        )
        return {"ok": True}

    @app.post("/emulator/v1/reset")
    async def reset():
        emulator.faults.clear()
        ws.reset()
        return {"ok": True}

    @app.post("/emulator/v1/deliver")
    async def deliver_now():
        """Deliver whatever is due now and answer once it is written (tests use it to avoid polling)."""
        await asyncio.to_thread(emulator.deliver_due, wait=True)
        return {"ok": True}

    return app


def _validate_settings(ws: Workspace, settings: dict) -> None:
    """jobs/create, reset and update validate the clusters and tasks like runs/submit does."""
    from sync_provider.emulator.specs import cluster_spec

    for jc in settings.get("job_clusters") or []:
        cluster_spec(jc.get("new_cluster") or {}, f"job_clusters[{jc.get('job_cluster_key')}]")
    for i, task in enumerate(settings.get("tasks") or []):
        if task.get("new_cluster") is not None:
            cluster_spec(task["new_cluster"], f"tasks[{i}]")
        ws.resolve_workload(task)
