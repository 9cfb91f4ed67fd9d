"""The collector init script shipped in the package, and its upload to a Databricks workspace.

Pure (no Airflow): the upload goes through any `DatabricksApi` callable, so the Airflow hook (SyncHook) and the
CLI share it. The script itself is sync_provider/resources/collector_init.sh; its output format is described in
docs/provider.md.
"""

from __future__ import annotations

import base64
import posixpath
from importlib import resources

from sync_provider.engine.evidence.databricks_api import DatabricksApi

COLLECTOR_SCRIPT = "collector_init.sh"
DEFAULT_INIT_SCRIPT_PATH = "workspace:/Shared/sync/collector_init.sh"


def collector_script() -> bytes:
    """The collector init script's bytes."""
    return (resources.files("sync_provider") / "resources" / COLLECTOR_SCRIPT).read_bytes()


def upload_collector_script(api: DatabricksApi, path: str = DEFAULT_INIT_SCRIPT_PATH) -> str:
    """Upload the script to a workspace path (workspace:/..., /Shared/..., /Users/...; workspace/import) or to
    dbfs:/... (dbfs/put) and return the location to put in the `sync` connection's `init_script_path`."""
    encoded = base64.b64encode(collector_script()).decode()
    if path.startswith("dbfs:/"):
        api("POST", "api/2.0/dbfs/put", {"path": path.removeprefix("dbfs:"), "contents": encoded, "overwrite": True})
        return path
    if path.startswith(("s3://", "/Volumes/")):
        raise ValueError(
            f"cannot upload the collector to {path} through the Databricks API; use a workspace path "
            "(workspace:/Shared/sync/collector_init.sh) or dbfs:/..., or copy it to S3 yourself"
        )
    ws_path = _workspace_path(path)
    api("POST", "api/2.0/workspace/mkdirs", {"path": posixpath.dirname(ws_path)})
    api("POST", "api/2.0/workspace/import", {"path": ws_path, "format": "AUTO", "content": encoded, "overwrite": True})
    return f"workspace:{ws_path}"


def ensure_collector_script(api: DatabricksApi, path: str) -> str:
    """Upload the script when it is missing from a workspace or DBFS path; returns its location.

    A cluster whose init script does not exist fails to start, so the submit operator calls this before it injects
    the script. s3:// and /Volumes/ locations are outside the Databricks API and are taken as given.
    """
    from sync_provider.engine.evidence.databricks_api import DatabricksApiError

    if path.startswith(("s3://", "/Volumes/")):
        return path
    if path.startswith("dbfs:/"):
        endpoint, status_path = "api/2.0/dbfs/get-status", path.removeprefix("dbfs:")
    else:
        endpoint, status_path = "api/2.0/workspace/get-status", _workspace_path(path)
    try:
        api("GET", endpoint, {"path": status_path})
        return path
    except DatabricksApiError as exc:
        if exc.status != 404:
            raise
    return upload_collector_script(api, path)


def _workspace_path(path: str) -> str:
    return "/" + path.removeprefix("workspace:").removeprefix("/Workspace").lstrip("/")
