"""SyncHook: the Airflow side's one way into the Sync store and settings, through a `sync` connection.

Airflow 3 tasks may not use Airflow's metadata database; the store is Sync's own database, found through the
connection's `store_url` (default: a SQLite file under $AIRFLOW_HOME). The store password may live in the
connection's password field so it never appears in the extra.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from airflow.sdk import BaseHook
from sqlalchemy.engine import make_url

from sync_provider.collector import DEFAULT_INIT_SCRIPT_PATH, collector_script, upload_collector_script
from sync_provider.settings import SyncSettings
from sync_provider.store import SyncStore

# Store methods callable directly on the hook (hook.get_project(...), hook.append_config(...), ...).
_DELEGATED = frozenset(
    {
        "create_project",
        "get_project",
        "find_project",
        "get_or_create_project",
        "list_projects",
        "update_project",
        "delete_project",
        "record_run",
        "get_run",
        "list_runs",
        "history",
        "save_prediction",
        "get_prediction",
        "list_predictions",
        "set_prediction_status",
        "active_config",
        "latest_config",
        "get_config",
        "config_history",
        "append_config",
        "approve",
        "rollback",
        "last_good_version",
    }
)


#: Executors whose tasks run on several machines, where a SQLite file per worker is not one store.
DISTRIBUTED_EXECUTORS = ("CeleryExecutor", "KubernetesExecutor", "CeleryKubernetesExecutor", "EcsExecutor",
                         "BatchExecutor", "EdgeExecutor", "LambdaExecutor")  # fmt: skip


def _distributed_executor() -> str | None:
    """The configured executor when it runs tasks on several machines (any of a comma-separated list)."""
    try:
        from airflow.sdk import conf

        configured = conf.get("core", "executor", fallback="") or ""
    except Exception:  # noqa: BLE001 - a missing or unreadable config only means no warning
        return None
    names = [part.strip().split(":")[-1].rsplit(".", 1)[-1] for part in configured.split(",")]
    return next((n for n in names if n in DISTRIBUTED_EXECUTORS), None)


class SyncHook(BaseHook):
    """Reads a `sync` connection (Connections UI, `AIRFLOW_CONN_<ID>` env var or secrets backend) and opens the
    store it names. A missing `sync_default` connection means "all defaults"; any other missing id is an error."""

    conn_name_attr = "sync_conn_id"
    default_conn_name = "sync_default"
    conn_type = "sync"
    hook_name = "Sync"

    def __init__(self, sync_conn_id: str = default_conn_name, *, settings: SyncSettings | None = None) -> None:
        super().__init__()
        self.sync_conn_id = sync_conn_id
        self._settings = settings

    # ------------------------------------------------------------------ connection

    @cached_property
    def _connection_fields(self) -> tuple[SyncSettings, str | None]:
        """(settings, store password) read once from the connection."""
        if self._settings is not None:
            return self._settings, None
        from airflow.sdk.exceptions import AirflowNotFoundException

        try:
            conn = self.get_connection(self.sync_conn_id)
        except AirflowNotFoundException:
            if self.sync_conn_id != self.default_conn_name:
                raise
            self.log.info("No %r connection: using the default Sync settings", self.sync_conn_id)
            return SyncSettings(), None
        if conn.conn_type and conn.conn_type != self.conn_type:
            self.log.warning("Connection %r has type %r, expected %r", self.sync_conn_id, conn.conn_type, "sync")
        return SyncSettings.from_extras(conn.extra or {}), conn.password or None

    @property
    def settings(self) -> SyncSettings:
        """The validated settings of the connection (raises SettingsError naming a bad field)."""
        return self._connection_fields[0]

    def store_url(self) -> str:
        """The store URL with the connection's password filled in when the URL has none."""
        url = self.settings.resolved_store_url()
        password = self._connection_fields[1]
        if password:
            u = make_url(url)
            if u.password is None and u.username:
                url = u.set(password=password).render_as_string(hide_password=False)
        return url

    @cached_property
    def store(self) -> SyncStore:
        url = self.store_url()
        if url.startswith("sqlite:") and (executor := _distributed_executor()):
            self.log.warning(
                "The Sync store is a SQLite file on this worker (%s) but Airflow runs the %s: every worker then "
                "keeps its own projects and runs, and a project created on one is unknown on the others. Point "
                "the %r connection's store_url at PostgreSQL (docs/provider.md, 'Several workers')",
                make_url(url).database,
                executor,
                self.sync_conn_id,
            )
        return SyncStore(url)

    def get_conn(self) -> SyncStore:
        return self.store

    def test_connection(self) -> tuple[bool, str]:
        """Used by the Connections UI's Test button: settings valid and store reachable."""
        try:
            n = len(self.store.list_projects())
        except Exception as exc:  # noqa: BLE001 - the UI shows the message
            return False, str(exc)
        return True, f"Sync store reachable ({n} projects)"

    def __getattr__(self, name: str) -> Any:
        if name in _DELEGATED:
            return getattr(self.store, name)
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    # ------------------------------------------------------------------ collector init script

    def upload_init_script(self, databricks_conn_id: str | None = None, path: str | None = None) -> str:
        """Upload the collector init script and return its location, ready for a cluster's `init_scripts`.

        `path` (default: the connection's `init_script_path`, else workspace:/Shared/sync/collector_init.sh) may be
        a workspace path (workspace:/..., /Shared/..., /Users/...) uploaded with workspace/import, a dbfs:/ path
        (dbfs/put) or an s3:// URL (through the connection's AWS connection).
        """
        target = path or self.settings.init_script_path or DEFAULT_INIT_SCRIPT_PATH
        if target.startswith("s3://"):
            return self._upload_s3(target, collector_script())
        from airflow.providers.databricks.hooks.databricks import DatabricksHook

        from sync_provider.hooks.databricks_api import databricks_api

        api = databricks_api(DatabricksHook(databricks_conn_id or self.settings.databricks_conn_id))
        location = upload_collector_script(api, target)
        self.log.info("Uploaded the Sync collector init script to %s", location)
        return location

    def _upload_s3(self, target: str, content: bytes) -> str:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        bucket, _, key = target.removeprefix("s3://").partition("/")
        s3 = S3Hook(aws_conn_id=self.settings.aws_conn_id)
        endpoint = self.settings.aws_endpoint_url
        client = s3.get_session().client("s3", endpoint_url=endpoint) if endpoint else s3.get_conn()
        client.put_object(Bucket=bucket, Key=key, Body=content)
        self.log.info("Uploaded the Sync collector init script to %s", target)
        return target
