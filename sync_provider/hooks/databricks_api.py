"""Adapters from Airflow provider hooks to the engine's plain interfaces.

The engine's evidence code talks to Databricks through a `DatabricksApi` callable and to S3 through a boto3
client, so it never imports Airflow. These adapters build both from Airflow connections: the Databricks
provider's hook (its auth, retries and user agent) and the Amazon provider's S3Hook (its credential chain).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    from airflow.providers.databricks.hooks.databricks import DatabricksHook

from sync_provider.engine.evidence.databricks_api import DatabricksApi

AsyncDatabricksApi = Callable[[str, str, "dict | None"], Awaitable[dict]]


def _endpoint(path: str) -> str:
    """The hook prepends `api/` itself: accept "api/2.1/jobs/get", "/api/2.1/jobs/get" or "2.1/jobs/get"."""
    return path.lstrip("/").removeprefix("api/")


def databricks_api(hook: DatabricksHook) -> DatabricksApi:
    """A `DatabricksApi` (method, path, params-or-body) -> JSON on top of the hook's `_do_api_call`.

    GET params go in the query string, POST/PATCH bodies as JSON: the hook does both. Errors are the hook's
    (`DatabricksApiError` with `http_status_code`, or `AirflowException` after its retries).
    """

    def call(method: str, path: str, params: dict | None = None) -> dict:
        try:
            result = hook._do_api_call((method.upper(), _endpoint(path)), dict(params or {}))
        except Exception as exc:
            raise _engine_error(method, path, exc) from exc
        return result if isinstance(result, dict) else {}

    return call


def _engine_error(method: str, path: str, exc: Exception) -> Exception:
    """The hook's errors as the evidence code's `DatabricksApiError` (with the HTTP status: 404 = not there)."""
    from sync_provider.engine.evidence.databricks_api import DatabricksApiError

    status = getattr(exc, "http_status_code", None)
    return DatabricksApiError(f"{method.upper()} {path}: {exc}", status)


def async_databricks_api(hook: DatabricksHook) -> AsyncDatabricksApi:
    """The same as `databricks_api` for triggers, on the hook's `_a_do_api_call` (use inside `async with hook`).

    The async hook sends GET parameters as a JSON body; we put them in the query string instead, as the REST API
    documents them.
    """

    async def call(method: str, path: str, params: dict | None = None) -> dict:
        method = method.upper()
        endpoint = _endpoint(path)
        body: dict | None = dict(params or {})
        if method == "GET":
            if body:
                endpoint = f"{endpoint}?{urlencode(_query(body))}"
            body = None
        try:
            result = await hook._a_do_api_call((method, endpoint), body)
        except Exception as exc:
            raise _engine_error(method, path, exc) from exc
        return result if isinstance(result, dict) else {}

    return call


def _query(params: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in params.items():
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif value is not None:
            out[key] = str(value)
    return out


def s3_client(aws_conn_id: str | None, endpoint_url: str | None = None, region_name: str | None = None) -> Any:
    """A boto3 S3 client from an Airflow AWS connection (None: boto3's default credential chain).

    `endpoint_url` overrides the connection's endpoint (an S3-compatible store such as the emulator's).
    """
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    hook = S3Hook(aws_conn_id=aws_conn_id, region_name=region_name)
    if not endpoint_url:
        return hook.get_conn()
    session = hook.get_session(region_name=region_name)
    return session.client("s3", endpoint_url=endpoint_url, config=hook.config, verify=hook.verify)
