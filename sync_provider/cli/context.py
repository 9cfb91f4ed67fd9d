"""What a command talks to, built from the CLI configuration: the store, the Databricks REST API, S3 and the
event-log readers. Each piece is built on first use, so commands that need only the store never touch Databricks.

Databricks is reached through the Databricks provider's own hook (its auth, retries and user agent) via the
`databricks_api` adapter. When the CLI is configured with a host and token, the connection is handed to the hook
the way Airflow itself would: an `AIRFLOW_CONN_<ID>` JSON variable set in this process only. Otherwise the hook
reads the Airflow connection named by `databricks_conn_id` (env var, secrets backend or metadata database).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sync_provider.cli._common import CliError, quiet_library_logs
from sync_provider.cli.config_file import CliConfig, load_config
from sync_provider.engine.models import ComputeType, Plan
from sync_provider.settings import redact_url

if TYPE_CHECKING:
    from sync_provider.engine.evidence.cost import CostModel
    from sync_provider.hooks.databricks_api import DatabricksApi
    from sync_provider.store import SyncStore

CLI_CONN_ID = "sync_cli_databricks"
CONFIGURE_HINT = (
    "run `sync-cli configure --databricks-host URL` (the token is prompted), set DATABRICKS_HOST and "
    "DATABRICKS_TOKEN, or name an Airflow connection with `sync-cli configure --conn-id ID`"
)


class CliContext:
    """The configuration and the clients built from it, for one command invocation."""

    def __init__(self, config: CliConfig | None = None, *, retry_limit: int = 3, retry_delay: float = 1.0):
        self._config = config
        self.retry_limit = retry_limit
        self.retry_delay = retry_delay

    @cached_property
    def config(self) -> CliConfig:
        return self._config or load_config()

    @property
    def settings(self):  # -> SyncSettings
        return self.config.settings

    # ------------------------------------------------------------------ store

    @cached_property
    def store(self) -> SyncStore:
        from sync_provider.store import SyncStore, SyncStoreError

        url = self.settings.resolved_store_url()
        try:
            return SyncStore(url)
        except SyncStoreError:
            raise
        except Exception as exc:  # noqa: BLE001 - bad driver, unreachable server, unreadable file
            raise CliError(
                f"cannot open the Sync store at {redact_url(url)}: {exc}",
                hint="check the store URL with `sync-cli configure --show` (or $SYNC_STORE_URL)",
            ) from None

    # ------------------------------------------------------------------ money

    def cost_model(self, plan: Plan | None = None, compute_type: ComputeType | None = None) -> CostModel:
        """The installation's cost model, with the plan / compute type overridden for this command if given."""
        changes: dict[str, Any] = {}
        if plan is not None:
            changes["plan"] = plan
        if compute_type is not None:
            changes["compute_type"] = compute_type
        settings = self.settings.model_copy(update=changes) if changes else self.settings
        return settings.cost_model()

    # ------------------------------------------------------------------ Databricks

    def databricks_conn_id(self) -> str:
        """The Airflow connection id the Databricks hook reads; registers the CLI's own when host/token are set."""
        cfg = self.config
        if cfg.databricks_host:
            if cfg.databricks_token is None:
                raise CliError(f"a Databricks host ({cfg.databricks_host}) is configured but no token", CONFIGURE_HINT)
            parts = urlsplit(cfg.databricks_host)
            conn = {
                "conn_type": "databricks",
                "host": parts.hostname,
                "schema": parts.scheme,
                "password": cfg.databricks_token.get_secret_value(),
            }
            if parts.port:
                conn["port"] = parts.port
            os.environ[f"AIRFLOW_CONN_{CLI_CONN_ID.upper()}"] = json.dumps(conn)
            return CLI_CONN_ID
        conn_id = self.settings.databricks_conn_id
        if "databricks_conn_id" in cfg.sources or cfg.sync_conn_id or f"AIRFLOW_CONN_{conn_id.upper()}" in os.environ:
            return conn_id
        raise CliError("no Databricks workspace is configured", CONFIGURE_HINT)

    @cached_property
    def databricks_hook(self) -> Any:
        from airflow.providers.databricks.hooks.databricks import DatabricksHook

        quiet_library_logs()
        return DatabricksHook(
            self.databricks_conn_id(),
            retry_limit=self.retry_limit,
            retry_delay=self.retry_delay,
            caller="sync-cli",
        )

    @cached_property
    def databricks(self) -> DatabricksApi:
        """`(method, path, params) -> JSON` on the Databricks REST API."""
        from sync_provider.hooks.databricks_api import databricks_api

        return databricks_api(self.databricks_hook)

    def workspace_label(self) -> str:
        """Where the commands go, for messages (never the token)."""
        cfg = self.config
        if cfg.databricks_host:
            return cfg.databricks_host
        return f"Airflow connection {self.settings.databricks_conn_id!r}"

    # ------------------------------------------------------------------ S3 and event logs

    @cached_property
    def s3(self) -> Any:
        """A boto3 S3 client: the standard AWS credential chain, the configured region and endpoint."""
        import boto3

        return boto3.client(
            "s3",
            region_name=self.settings.log_region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            endpoint_url=self.settings.aws_endpoint_url or None,
        )

    def log_reader(self, location: str) -> Any:
        """The evidence parser's reader for an s3://, dbfs:/ or local location."""
        from sync_provider.engine.evidence.eventlog import reader_for

        s3 = self.s3 if location.startswith("s3://") else None
        api = self.databricks if location.startswith("dbfs:") else None
        return reader_for(location, s3_client=s3, databricks_api=api)


@contextmanager
def databricks_errors(ctx: CliContext, what: str) -> Iterator[None]:
    """Turn the hook's failures into one readable error that names the workspace and the likely fix."""
    try:
        yield
    except CliError:
        raise
    except Exception as exc:
        from airflow.exceptions import AirflowException

        from sync_provider.engine.evidence.databricks_api import DatabricksApiError

        if not isinstance(exc, AirflowException | DatabricksApiError | ConnectionError):
            raise
        status = getattr(exc, "status", None) or getattr(exc, "http_status_code", None)
        message = str(exc)
        if status in (401, 403) or "401" in message or "403" in message:
            hint = "the token was refused: check it with `sync-cli aws-databricks access-report`"
        elif status in (400, 404) and ("does not exist" in message or "NOT_FOUND" in message or status == 404):
            hint = "check the id: it does not exist in this workspace (or the token may not see it)"
        elif "Connection refused" in message or "Max retries" in message or "Failed to establish" in message:
            hint = f"is the workspace reachable? {CONFIGURE_HINT}"
        else:
            hint = "run `sync-cli aws-databricks access-report` to see which calls the token may make"
        raise CliError(f"{what} failed on {ctx.workspace_label()}: {message}", hint) from None


_current: CliContext | None = None


def get_context() -> CliContext:
    """The context of the running command (one per process; tests reset it with `reset_context`)."""
    global _current
    if _current is None:
        _current = CliContext()
    return _current


def reset_context(ctx: CliContext | None = None) -> None:
    global _current
    _current = ctx
