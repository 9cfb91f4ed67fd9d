"""The checks behind `sync-cli aws-databricks access-report`: every read the provider makes, tried once.

Each check names the call, whether it worked and, when not, the permission to grant. Nothing is written: the
only write the provider makes (jobs/update) cannot be tried without changing a job, so it is listed as skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from sync_provider.cli.context import CliContext


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    status: str  # ok | failed | skipped
    detail: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class _Skip(Exception):
    """A check that does not apply (nothing to test it with)."""


# What to grant when a workspace call is refused, per check.
_FIXES = {
    "token": "create a personal access token (User settings > Developer > Access tokens) and run `sync-cli configure`",
    "jobs/list": "the token's user needs CAN VIEW on the jobs Sync manages",
    "jobs/get": "grant the token's user CAN VIEW (and CAN MANAGE to apply predictions) on this job",
    "jobs/runs/list": "the token's user needs CAN VIEW on the jobs whose runs Sync reads",
    "clusters/list": "the token's user needs cluster access (CAN ATTACH TO) or workspace admin",
    "clusters/events": "the token's user needs CAN ATTACH TO on job clusters to read their events",
    "clusters/list-node-types": "the token must be allowed to call the Clusters API",
    "workspace/get-status": "grant the token's user read access to the init script's workspace folder",
}


def _status_of(exc: BaseException) -> int | None:
    for attr in ("http_status_code", "status"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    response = getattr(exc, "response", None)
    if isinstance(response, dict):  # botocore ClientError
        return response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return None


def _describe(exc: BaseException) -> str:
    text = str(exc).replace("\n", " ")
    return text if len(text) <= 240 else text[:237] + "..."


def run_checks(ctx: CliContext) -> list[Check]:
    """Run every check in order; a refused token skips the workspace calls that would fail the same way."""
    checks: list[Check] = []
    api = None
    try:
        api = ctx.databricks
    except Exception as exc:  # noqa: BLE001 - no workspace configured
        checks.append(Check("token", "failed", _describe(exc)))

    def run(name: str, fn: Callable[[], str], fix_key: str | None = None) -> Check:
        try:
            check = Check(name, "ok", fn())
        except _Skip as skip:
            check = Check(name, "skipped", str(skip))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a line of the report
            status = _status_of(exc)
            fix = _FIXES.get(fix_key or name, "")
            prefix = f"HTTP {status}: " if status else ""
            detail = f"{prefix}{_describe(exc)}"
            if status in (401, 403) and fix:
                detail = f"refused ({status}); {fix}"
            check = Check(name, "failed", detail)
        checks.append(check)
        return check

    if api is not None:
        token = run("token", lambda: _token(api, ctx))
        if token.status == "ok":
            run("jobs/list", lambda: _count(api("GET", "api/2.1/jobs/list", {"limit": 1}), "jobs", "job(s) visible"))
            run("jobs/get", lambda: _project_jobs(api, ctx))
            run(
                "jobs/runs/list",
                lambda: _count(api("GET", "api/2.1/jobs/runs/list", {"limit": 1}), "runs", "run(s) visible"),
            )
            clusters = run("clusters/list", lambda: _clusters(api))
            run("clusters/events", lambda: _cluster_events(api, clusters))
            run("clusters/list-node-types", lambda: _node_types(api))
            run("workspace/get-status", lambda: _init_script(api, ctx))
        else:
            for name in (
                "jobs/list",
                "jobs/get",
                "jobs/runs/list",
                "clusters/list",
                "clusters/events",
                "clusters/list-node-types",
                "workspace/get-status",
            ):
                checks.append(Check(name, "skipped", "the token was refused"))
    checks.append(run_log_check(ctx))
    checks.append(Check("jobs/update", "skipped", "not tried: it would change a job (needs CAN MANAGE on the job)"))
    run("sync store", lambda: _store(ctx))
    return checks


def _token(api: Any, ctx: CliContext) -> str:
    versions = api("GET", "api/2.0/clusters/spark-versions", None).get("versions") or []
    return f"accepted by {ctx.workspace_label()} ({len(versions)} Spark versions)"


def _count(answer: dict, key: str, what: str) -> str:
    items = answer.get(key) or []
    more = " or more" if answer.get("has_more") else ""
    return f"{len(items)}{more} {what}"


def _project_jobs(api: Any, ctx: CliContext) -> str:
    jobs = sorted({p.job_id for p in ctx.store.list_projects() if p.job_id})
    if not jobs:
        raise _Skip("no project is linked to a Databricks job (projects create --job-id)")
    for job_id in jobs:
        api("GET", "api/2.1/jobs/get", {"job_id": int(job_id) if job_id.isdigit() else job_id})
    return f"read {len(jobs)} project job(s): {', '.join(jobs)}"


def _clusters(api: Any) -> str:
    clusters = api("GET", "api/2.0/clusters/list", None).get("clusters") or []
    return f"{len(clusters)} cluster(s) visible" + (f"; first: {clusters[0].get('cluster_id')}" if clusters else "")


def _cluster_events(api: Any, clusters_check: Check) -> str:
    if clusters_check.status != "ok" or "first: " not in clusters_check.detail:
        raise _Skip("no cluster to read events of yet (run a job first)")
    cluster_id = clusters_check.detail.split("first: ", 1)[1]
    events = api("POST", "api/2.0/clusters/events", {"cluster_id": cluster_id, "limit": 1}).get("events") or []
    return f"read events of cluster {cluster_id} ({len(events)} on the first page)"


def _node_types(api: Any) -> str:
    types = api("GET", "api/2.0/clusters/list-node-types", None).get("node_types") or []
    return f"{len(types)} node types"


def _init_script(api: Any, ctx: CliContext) -> str:
    path = ctx.settings.init_script_path or "workspace:/Shared/sync/collector_init.sh"
    if not path.startswith(("workspace:", "/Workspace/", "/Shared/", "/Users/")):
        raise _Skip(f"the init script lives at {path}, not in the workspace")
    ws_path = "/" + path.removeprefix("workspace:").removeprefix("/Workspace").lstrip("/")
    try:
        api("GET", "api/2.0/workspace/get-status", {"path": ws_path})
    except Exception as exc:
        if _status_of(exc) == 404 or "RESOURCE_DOES_NOT_EXIST" in str(exc):
            raise _Skip(f"{ws_path} is not uploaded yet: run `sync-cli aws-databricks upload-init-script`") from None
        raise
    return f"collector init script present at {ws_path}"


def run_log_check(ctx: CliContext) -> Check:
    """Can the CLI list (and read) the configured cluster log destination?"""
    dest = ctx.settings.log_destination
    name = "log destination"
    if not dest:
        return Check(name, "skipped", "no log destination configured: `sync-cli configure --log-destination s3://...`")
    try:
        if dest.startswith("s3://"):
            return Check(name, "ok", _s3(ctx, dest))
        return Check(name, "ok", _dbfs(ctx, dest))
    except Exception as exc:  # noqa: BLE001 - a line of the report
        status = _status_of(exc)
        if dest.startswith("s3://") and "NoSuchBucket" in str(exc):
            bucket = dest.removeprefix("s3://").split("/", 1)[0]
            fix = f"the bucket {bucket} does not exist: create it or fix the destination (`sync-cli configure`)"
        elif dest.startswith("s3://"):
            bucket = dest.removeprefix("s3://").split("/", 1)[0]
            fix = (
                f"grant s3:ListBucket on arn:aws:s3:::{bucket} and s3:GetObject on arn:aws:s3:::{bucket}/* to the "
                "AWS credentials the CLI uses"
            )
        else:
            fix = "grant the token's user read access to that DBFS path"
        return Check(
            name, "failed", f"cannot read {dest} ({f'HTTP {status}: ' if status else ''}{_describe(exc)}); {fix}"
        )


def _s3(ctx: CliContext, dest: str) -> str:
    bucket, _, prefix = dest.removeprefix("s3://").partition("/")
    s3 = ctx.s3
    answer = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
    contents = answer.get("Contents") or []
    if not contents:
        return f"s3://{bucket}/{prefix} is listable; nothing delivered yet"
    key = contents[0]["Key"]
    s3.head_object(Bucket=bucket, Key=key)
    return f"listed and read s3://{bucket}/{key}"


def _dbfs(ctx: CliContext, dest: str) -> str:
    """One level of dbfs/list (not the whole tree: a busy destination holds many files)."""
    path = "/" + dest.removeprefix("dbfs:").lstrip("/")
    try:
        entries = ctx.databricks("GET", "api/2.0/dbfs/list", {"path": path}).get("files") or []
    except Exception as exc:
        if _status_of(exc) == 404 or "RESOURCE_DOES_NOT_EXIST" in str(exc):
            return f"{dest} is reachable; nothing delivered yet"
        raise
    return f"listed {dest} ({len(entries)} entries)"


def _store(ctx: CliContext) -> str:
    from sync_provider.settings import redact_url

    n = len(ctx.store.list_projects())
    return f"{redact_url(ctx.settings.resolved_store_url())} ({n} project(s))"
